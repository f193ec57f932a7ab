#!/usr/bin/env python3
"""A large synthetic catalog for benchmarks, in the import CSV format (docs/catalog.md).

Every product is a variation of one of the development catalog's products: a new external id,
a colour, an edition word and a size in the title, a price moved by up to 30 %, and a
description put together from sentences of products of the same category. Deterministic.

    python3 data/catalog/generate-large.py 50000 > /tmp/catalog-50k.csv
"""
import csv
import json
import random
import sys
from pathlib import Path

COLOURS = ["black", "white", "red", "blue", "green", "grey", "navy", "olive", "sand", "pink",
           "orange", "yellow", "purple", "brown", "teal", "burgundy"]
EDITIONS = ["Classic", "Pro", "Lite", "Plus", "Max", "Essential", "Heritage", "Studio", "Sport",
            "Travel", "Urban", "Trail", "Everyday", "Signature", "Compact", "Deluxe"]
SIZES = ["XS", "S", "M", "L", "XL", "Mini", "Standard", "Large", "2-pack", "Family size"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    rng = random.Random(20261126)
    base = json.loads((Path(__file__).parent / "dev-catalog.json").read_text())
    sentences: dict[str, list[str]] = {}
    for p in base:
        top = p.get("category", "Misc").split(" > ")[0]
        for s in p.get("description", "").split(". "):
            if s.strip():
                sentences.setdefault(top, []).append(s.strip().rstrip(".") + ".")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["external_id", "title", "description", "brand", "category", "tags", "price",
                  "currency", "compare_at_price", "stock", "image_urls", "url", "active",
                  "attr.color", "attr.material"])
    for i in range(n):
        p = base[i % len(base)]
        top = p.get("category", "Misc").split(" > ")[0]
        colour = rng.choice(COLOURS)
        title = f"{p['title']} {rng.choice(EDITIONS)} {rng.choice(SIZES)} ({colour})"
        description = rng.choice(sentences[top])
        cents = max(100, int(p["price"] * rng.uniform(0.7, 1.3)))
        compare = cents + rng.randint(5, 50) * 100 if rng.random() < 0.2 else None
        ext = f"{p['external_id']}-{i:06d}"
        attrs = p.get("attributes", {})
        out.writerow([
            ext, title, description, p.get("brand", ""), p.get("category", ""),
            "|".join(p.get("tags", [])), f"{cents // 100}.{cents % 100:02d}", "USD",
            f"{compare // 100}.{compare % 100:02d}" if compare else "",
            rng.choice([0, 3, 12, 40, 100]),
            f"https://cdn.example-store.test/img/{ext.lower()}.jpg",
            f"https://example-store.test/products/{ext.lower()}",
            "true", colour, attrs.get("material", ""),
        ])


if __name__ == "__main__":
    main()
