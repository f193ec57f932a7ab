#!/usr/bin/env python3
"""Builds the intent development set from the per-language sources in src/.

Every message in src/<lang>*.jsonl is kept once (the first time its lower-cased text is seen);
within each (language, intent) group, every fifth message goes to heldout.jsonl, which the
shipped classifier never trains on, and the rest to train.jsonl. Deterministic: the same sources
give the same files.

    python3 data/intents/split.py
"""
import collections
import json
import pathlib

here = pathlib.Path(__file__).parent
seen, train, held = set(), [], []
counter = collections.Counter()
for lang in ["en", "es", "fr", "de", "pt"]:
    for path in sorted(here.glob(f"src/{lang}*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            key = d["text"].strip().lower()
            if key in seen:
                continue
            seen.add(key)
            row = {"text": d["text"], "intent": d["intent"], "lang": lang}
            counter[(lang, d["intent"])] += 1
            (held if counter[(lang, d["intent"])] % 5 == 0 else train).append(row)
for name, rows in [("train.jsonl", train), ("heldout.jsonl", held)]:
    with open(here / name, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"train {len(train)}, held out {len(held)}")
