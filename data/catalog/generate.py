#!/usr/bin/env python3
"""Deterministic generator for the labelled product-search dev dataset.

Writes, next to this file:
  dev-catalog.json    JSON array of products
  dev-queries.jsonl   one {"query", "kind", "lang", "split", "relevant": {external_id: grade}} per line
  sample-import.csv   10 catalog rows in the CSV import format

Standard library only.  Run:  python3 data/catalog/generate.py
The same seed always produces byte-identical files.
"""

import csv
import json
import os
import random
import re
import sys
from collections import Counter

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
CDN = "https://cdn.example-store.test/img/"
SHOP = "https://example-store.test/products/"

# base colour -> (SKU code, words that may appear in titles/descriptions)
COLORS = {
    "black": ("BLK", ["Black", "Onyx", "Midnight", "Jet Black"]),
    "white": ("WHT", ["White", "Glacier", "Chalk"]),
    "grey": ("GRY", ["Grey", "Slate", "Heather Grey", "Ash"]),
    "charcoal": ("CHR", ["Charcoal", "Graphite"]),
    "navy": ("NVY", ["Navy", "Deep Navy"]),
    "blue": ("BLU", ["Blue", "Cobalt", "Ocean Blue", "Sky Blue"]),
    "red": ("RED", ["Red", "Crimson", "Scarlet", "Cherry"]),
    "burgundy": ("BRG", ["Burgundy", "Wine"]),
    "green": ("GRN", ["Green", "Forest Green", "Sage", "Emerald"]),
    "olive": ("OLV", ["Olive", "Moss"]),
    "beige": ("BEI", ["Beige", "Sand", "Oatmeal"]),
    "brown": ("BRN", ["Brown", "Cognac", "Chestnut", "Mocha"]),
    "pink": ("PNK", ["Pink", "Blush", "Rose"]),
    "purple": ("PRP", ["Purple", "Plum", "Lavender"]),
    "yellow": ("YLW", ["Yellow", "Mustard", "Sunflower"]),
    "orange": ("ORG", ["Orange", "Tangerine", "Burnt Orange"]),
    "teal": ("TEL", ["Teal", "Lagoon"]),
    "cream": ("CRM", ["Cream", "Ivory"]),
    "silver": ("SLV", ["Silver", "Brushed Silver"]),
}

SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45", "46"]
APPAREL_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
WAIST_SIZES = ["28", "30", "32", "34", "36", "38"]

CLOSERS = {
    "Shoes": [
        "Runs true to size, so order your usual fit.",
        "Free returns within 30 days if the fit isn't right.",
        "Pair them with moisture-wicking socks for the most comfortable ride.",
    ],
    "Apparel": [
        "Machine wash cold and tumble dry low.",
        "Relaxed through the body; size down for a closer fit.",
        "Model is 6'1\" and wears a size M.",
        "Made in a Fair Trade Certified factory.",
    ],
    "Bags": [
        "Backed by a lifetime warranty against manufacturing defects.",
        "Designed to meet most airline carry-on and under-seat limits.",
        "Every piece is inspected by hand before it ships.",
    ],
    "Electronics": [
        "A USB-C charging cable is included in the box.",
        "Covered by a two-year limited warranty.",
        "Firmware updates arrive through the companion app.",
    ],
    "Home & Kitchen": [
        "Backed by a two-year warranty.",
        "Makes a thoughtful housewarming or wedding gift.",
        "Easy to clean and built to last for years of daily use.",
    ],
    "Outdoor": [
        "Field-tested by our team from desert trails to alpine lakes.",
        "Backed by a lifetime warranty against defects.",
        "Leave-no-trace friendly and built to be repaired, not replaced.",
    ],
    "Beauty": [
        "Cruelty-free and never tested on animals.",
        "Packaged in recyclable materials.",
        "Dermatologist tested for sensitive skin.",
    ],
    "Toys & Games": [
        "Makes a great birthday or holiday gift.",
        "Meets all applicable toy safety standards.",
        "Screen-free fun for the whole family.",
    ],
    "Furniture": [
        "Ships in two boxes with all hardware included.",
        "White-glove delivery is available in select areas.",
        "Most customers finish assembly in under 30 minutes.",
    ],
}


def yn(r, p):
    return "yes" if r.random() < p else "no"


def num_in(s, default=0):
    m = re.search(r"-?\d+", s or "")
    return int(m.group()) if m else default


# ---------------------------------------------------------------------------
# attribute generators: (rng, ctx) -> dict of string attributes (no colour)
# ctx has keys model, gen, noun
# ---------------------------------------------------------------------------

def a_running(r, c):
    return {"material": r.choice(["engineered mesh", "knit", "mesh", "synthetic mesh"]),
            "drop": f"{r.choice([4, 6, 8, 10])} mm",
            "cushioning": r.choice(["neutral", "max", "responsive"]),
            "waterproof": yn(r, 0.08)}


def a_trail(r, c):
    wp = yn(r, 0.45)
    mat = "mesh with waterproof membrane" if wp == "yes" else r.choice(["mesh", "ripstop synthetic", "knit"])
    return {"material": mat, "lug_depth": f"{r.choice([4, 5, 6])} mm", "waterproof": wp}


def a_casual(r, c):
    n = c["noun"]
    mat = "canvas" if "Canvas" in n else ("leather" if "Leather" in n else r.choice(["canvas", "leather", "suede", "knit"]))
    return {"material": mat, "sole": r.choice(["rubber", "gum rubber", "EVA foam"])}


def a_boot(r, c):
    return {"material": r.choice(["full-grain leather", "suede", "nubuck", "synthetic"]),
            "waterproof": yn(r, 0.6), "height": r.choice(["mid", "high"])}


def a_tee(r, c):
    return {"material": r.choice(["cotton", "organic cotton", "cotton blend", "merino wool", "polyester", "linen"]),
            "fit": r.choice(["regular", "slim", "relaxed"])}


def a_hoodie(r, c):
    return {"material": r.choice(["cotton fleece", "organic cotton", "French terry", "polyester fleece", "cotton blend"]),
            "fit": r.choice(["regular", "relaxed", "oversized"]),
            "closure": "zip" if "Zip" in c["noun"] else "pullover"}


def a_rain(r, c):
    return {"material": r.choice(["nylon", "recycled nylon", "polyester ripstop", "3-layer nylon"]),
            "waterproof": "yes", "packable": yn(r, 0.5), "hood": "yes"}


def a_insulated(r, c):
    mat = r.choice(["down", "synthetic insulation", "recycled polyester insulation"])
    a = {"material": mat, "waterproof": yn(r, 0.4)}
    if mat == "down":
        a["fill_power"] = r.choice(["650", "700", "800"])
    return a


def a_light_jacket(r, c):
    n = c["noun"]
    mat = {"Windbreaker": "nylon", "Denim Jacket": "denim", "Bomber Jacket": "polyester twill",
           "Softshell Jacket": "softshell polyester"}[n]
    return {"material": mat, "waterproof": "no"}


def a_dress(r, c):
    return {"material": r.choice(["linen", "cotton", "viscose", "satin", "jersey"]), "gender": "women"}


def a_jeans(r, c):
    return {"material": r.choice(["denim", "stretch denim", "organic cotton denim", "selvedge denim"]),
            "fit": c["model"].lower()}


def a_backpack(r, c):
    cap = c["gen"] if c["gen"].isdigit() else str(r.choice([18, 20, 24, 26, 30, 32, 40]))
    return {"capacity": f"{cap} L",
            "material": r.choice(["nylon", "recycled polyester", "canvas", "waxed canvas", "leather", "ripstop nylon"]),
            "waterproof": "yes" if "Roll-Top" in c["noun"] or "Roll-Top" in c["model"] else yn(r, 0.3),
            "laptop_sleeve": yn(r, 0.7)}


def a_wallet(r, c):
    return {"material": r.choice(["full-grain leather", "leather", "leather", "vegan leather", "canvas", "nylon"]),
            "rfid_blocking": "yes" if "RFID" in c["noun"] else yn(r, 0.5)}


def a_duffel(r, c):
    return {"capacity": f"{r.choice([35, 40, 45, 50, 60, 70, 90])} L",
            "material": r.choice(["canvas", "waxed canvas", "nylon", "leather", "recycled polyester"]),
            "waterproof": yn(r, 0.3)}


def a_headphones(r, c):
    n = c["noun"]
    if "Wireless" in n or "Noise" in n:
        conn = "wireless"
    elif "Studio" in n:
        conn = "wired"
    else:
        conn = r.choice(["wireless", "wireless", "wired"])
    anc = "yes" if "Noise" in n or "ANC" in c["model"] else ("no" if conn == "wired" else yn(r, 0.4))
    a = {"connectivity": conn, "noise_cancelling": anc, "form_factor": "on-ear" if "On-Ear" in n else "over-ear"}
    if conn == "wireless":
        a["battery_life"] = f"{r.choice([20, 30, 40, 50, 60])} h"
    return a


def p_headphones(r, a, c=None):
    if a["connectivity"] == "wired":
        return r.uniform(19, 89)
    if a["noise_cancelling"] == "yes":
        return r.uniform(99, 399)
    return r.uniform(35, 149)


def a_earbuds(r, c):
    conn = "wireless" if "Wireless" in c["noun"] or "Buds" in c["model"] else r.choice(["wireless", "wired"])
    a = {"connectivity": conn, "noise_cancelling": "no" if conn == "wired" else yn(r, 0.45),
         "water_resistance": r.choice(["IPX4", "IPX5", "IPX7", "none"])}
    if conn == "wireless":
        a["battery_life"] = f"{r.choice([5, 6, 8, 10])} h (+{r.choice([18, 24, 30])} h case)"
    return a


def p_earbuds(r, a, c=None):
    if a["connectivity"] == "wired":
        return r.uniform(9, 35)
    return r.uniform(79, 279) if a["noise_cancelling"] == "yes" else r.uniform(25, 119)


def a_speaker(r, c):
    wp = yn(r, 0.5)
    a = {"wattage": f"{r.choice([5, 10, 16, 20, 30, 40, 60, 120])} W", "waterproof": wp,
         "connectivity": "Bluetooth 5.3" if "Smart" not in c["noun"] else "Wi-Fi and Bluetooth"}
    if wp == "yes":
        a["water_resistance"] = r.choice(["IP67", "IPX7"])
    return a


def p_speaker(r, a, c=None):
    return 19 + num_in(a["wattage"]) * r.uniform(1.5, 3.0)


def p_fragrance(r, a, c):
    return r.uniform(12, 29) if c["noun"] == "Body Mist" else r.uniform(39, 129)


def p_knife(r, a, c):
    lo, hi = {"paring knife": (12, 39), "bread knife": (19, 59), "utility knife": (19, 69)}.get(a["type"], (29, 189))
    return r.uniform(lo, hi)


def p_pan(r, a, c):
    m = a["material"]
    return r.uniform(24, 79) if m == "cast iron" else r.uniform(19, 69) if "nonstick" in m else r.uniform(39, 149)


def p_pot(r, a, c):
    return r.uniform(79, 299) if "cast iron" in a["material"] else r.uniform(29, 129)


def a_wall_charger(r, c):
    w = num_in(c["gen"])
    return {"wattage": f"{w} W", "connector": "USB-C", "ports": str(1 if w <= 30 else r.choice([2, 3]))}


def p_wall_charger(r, a, c=None):
    return 9 + num_in(a["wattage"]) * r.uniform(0.45, 0.7)


def a_power_bank(r, c):
    mah = num_in(c["gen"]) * 1000
    return {"capacity": f"{mah} mAh", "wattage": f"{r.choice([20, 22, 30, 45, 65])} W", "connector": "USB-C"}


def p_power_bank(r, a, c=None):
    return 12 + num_in(a["capacity"]) / 1000 * r.uniform(1.6, 2.4)


def a_drip(r, c):
    cups = c["gen"] if c["gen"].isdigit() else str(r.choice([8, 10, 12]))
    return {"type": "drip", "capacity": f"{cups} cups", "wattage": f"{r.choice([800, 900, 1000, 1100])} W",
            "material": r.choice(["stainless steel", "plastic", "stainless steel and glass"])}


def a_espresso(r, c):
    return {"type": "espresso", "wattage": f"{r.choice([1200, 1350, 1450, 1500])} W",
            "pressure": r.choice(["9 bar", "15 bar", "19 bar"]), "material": r.choice(["stainless steel", "brushed aluminium"]),
            "milk_frother": yn(r, 0.7)}


def a_manual_coffee(r, c):
    t = {"French Press": "french press", "Pour-Over Coffee Dripper": "pour-over", "Cold Brew Maker": "cold brew"}[c["noun"]]
    return {"type": t, "capacity": r.choice(["0.6 L", "1 L", "1.5 L"]),
            "material": r.choice(["borosilicate glass", "stainless steel", "ceramic"])}


def a_kettle(r, c):
    n = c["noun"]
    t = "stovetop" if "Stovetop" in n else ("electric" if "Electric" in n else r.choice(["electric", "electric", "stovetop"]))
    a = {"type": t, "capacity": r.choice(["0.8 L", "1 L", "1.2 L", "1.5 L", "1.7 L"])}
    if t == "electric":
        a["material"] = "glass" if "Glass" in n else r.choice(["stainless steel", "glass", "plastic"])
        a["wattage"] = f"{r.choice([1200, 1500, 1800, 2200])} W"
        a["temperature_control"] = "yes" if "Gooseneck" in n else yn(r, 0.4)
    else:
        a["material"] = r.choice(["stainless steel", "enamel-coated steel"])
    return a


def a_blender(r, c):
    w = c["gen"] if c["gen"].isdigit() else str(r.choice([300, 500, 700]))
    return {"wattage": f"{w} W", "capacity": "0.6 L" if "Personal" in c["noun"] or c["gen"] == "Mini" else r.choice(["1.5 L", "1.8 L", "2 L"]),
            "material": r.choice(["BPA-free Tritan", "glass", "plastic"])}


def p_blender(r, a, c=None):
    return 20 + num_in(a["wattage"]) * r.uniform(0.06, 0.22)


def a_knife(r, c):
    n = c["noun"]
    t = ("santoku" if "Santoku" in n else "bread knife" if "Bread" in n else "paring knife" if "Paring" in n
         else "utility knife" if "Utility" in n else "chef's knife")
    return {"type": t, "material": r.choice(["high-carbon stainless steel", "Damascus steel", "German stainless steel", "ceramic"]),
            "blade_length": {"paring knife": "9 cm", "utility knife": "13 cm"}.get(t, r.choice(["18 cm", "20 cm", "21 cm"]))}


def a_knife_set(r, c):
    return {"type": "knife set", "pieces": r.choice(["5-piece", "7-piece", "12-piece", "15-piece"]),
            "material": r.choice(["high-carbon stainless steel", "German stainless steel", "Damascus steel"])}


def a_pan(r, c):
    n = c["noun"]
    if "Cast Iron" in n:
        m = "cast iron"
    elif "Nonstick" in n:
        m = r.choice(["nonstick aluminium", "ceramic nonstick"])
    else:
        m = r.choice(["stainless steel", "carbon steel", "nonstick aluminium", "ceramic nonstick", "cast iron"])
    return {"material": m, "size": f"{r.choice([20, 24, 26, 28, 30])} cm", "induction": yn(r, 0.7),
            "oven_safe": "yes" if m in ("cast iron", "carbon steel", "stainless steel") else yn(r, 0.5)}


def a_pot(r, c):
    return {"material": "enameled cast iron" if "Dutch" in c["noun"] or "Casserole" in c["noun"] else r.choice(["stainless steel", "tri-ply stainless steel"]),
            "capacity": r.choice(["2 L", "3.5 L", "5 L", "6.5 L", "8 L"])}


def a_cookware_set(r, c):
    return {"material": "nonstick aluminium" if "Nonstick" in c["noun"] else r.choice(["stainless steel", "tri-ply stainless steel", "ceramic nonstick", "nonstick aluminium"]),
            "pieces": r.choice(["5-piece", "8-piece", "10-piece", "12-piece"])}


def a_mug(r, c):
    return {"material": "stoneware" if "Stoneware" in c["noun"] else r.choice(["ceramic", "stoneware", "porcelain", "enamel steel"]),
            "capacity": f"{r.choice([300, 350, 400, 450])} ml", "insulated": "no"}


def a_tumbler(r, c):
    cap = c["gen"] if "oz" in c["gen"] else f"{r.choice([12, 16, 20])} oz"
    return {"material": "stainless steel", "capacity": cap, "insulated": "yes",
            "lid": r.choice(["slide lid", "flip lid", "leak-proof lid", "straw lid"])}


def a_tent(r, c):
    cap = int(c["gen"]) if c["gen"].isdigit() else (1 if c["gen"] == "UL" else r.choice([2, 3]))
    return {"capacity": f"{cap}-person", "season": r.choice(["3-season", "3-season", "4-season"]),
            "material": r.choice(["ripstop nylon", "polyester", "silnylon"]), "waterproof": "yes",
            "weight": f"{round(0.9 + cap * r.uniform(0.5, 0.9), 1)} kg"}


def p_tent(r, a, c=None):
    cap = num_in(a["capacity"])
    base = r.uniform(60, 140) + cap * r.uniform(25, 70)
    return base * (1.4 if a["season"] == "4-season" else 1.0)


def a_sleeping_bag(r, c):
    fill = "down" if "Down" in c["noun"] else r.choice(["down", "synthetic", "synthetic"])
    return {"material": fill, "temperature_rating": f"{r.choice([-15, -10, -7, -5, -2, 0, 4, 7, 10])} °C",
            "shape": "mummy" if "Mummy" in c["noun"] else ("rectangular" if "Rectangular" in c["noun"] else r.choice(["mummy", "rectangular"]))}


def p_sleeping_bag(r, a, c=None):
    warmth = 12 - num_in(a["temperature_rating"])
    return (40 + warmth * r.uniform(4, 9)) * (1.6 if a["material"] == "down" else 1.0)


def a_headlamp(r, c):
    lm = c["gen"] if c["gen"].isdigit() else str(r.choice([250, 300, 400]))
    return {"brightness": f"{lm} lumens", "rechargeable": "yes" if "Rechargeable" in c["noun"] or c["gen"] == "R" else yn(r, 0.6),
            "waterproof": yn(r, 0.7)}


def a_bottle(r, c):
    n = c["noun"]
    if "Insulated" in n or "Stainless" in n:
        m = "stainless steel"
    elif "Glass" in n:
        m = "glass"
    elif "Squeeze" in n or "Sports" in n:
        m = "BPA-free plastic"
    else:
        m = r.choice(["stainless steel", "stainless steel", "Tritan plastic", "aluminium", "glass"])
    ins = "yes" if "Insulated" in n else ("no" if m != "stainless steel" else yn(r, 0.6))
    g = c["gen"]
    cap = f"{g} ml" if g.isdigit() else (g.replace("L", " L") if g.endswith("L") else (g if "oz" in g else r.choice(["500 ml", "750 ml", "1 L"])))
    return {"material": m, "insulated": ins, "capacity": cap}


def a_flask(r, c):
    return {"material": "stainless steel", "insulated": "yes", "capacity": r.choice(["0.5 L", "0.75 L", "1 L", "1.2 L"])}


def a_serum(r, c):
    return {"size": r.choice(["30 ml", "50 ml"]), "skin_type": r.choice(["all", "dry", "oily", "combination", "sensitive"])}


def a_moisturizer(r, c):
    a = {"size": r.choice(["50 ml", "75 ml", "100 ml"]), "skin_type": r.choice(["all", "dry", "oily", "sensitive"])}
    if "SPF" in c["noun"]:
        a["spf"] = "30"
    return a


def a_sunscreen(r, c):
    return {"size": r.choice(["50 ml", "100 ml", "150 ml"]), "spf": str(num_in(c["noun"].split("SPF")[1])),
            "water_resistant": yn(r, 0.6)}


def a_hair(r, c):
    return {"size": r.choice(["250 ml", "300 ml", "500 ml"]) if "Bar" not in c["noun"] else "90 g",
            "hair_type": r.choice(["all", "curly", "fine", "dry", "color-treated"])}


def a_dryer(r, c):
    return {"wattage": f"{r.choice([1200, 1600, 1800, 2000, 2200])} W", "ionic": "yes" if "Ionic" in c["noun"] else yn(r, 0.5),
            "foldable": "yes" if "Travel" in c["noun"] else "no"}


def a_fragrance(r, c):
    return {"size": r.choice(["30 ml", "50 ml", "100 ml"]), "scent_family": r.choice(["citrus", "woody", "floral", "fresh", "amber"])}


def a_board_game(r, c):
    lo = r.choice([1, 2, 2, 3])
    return {"players": f"{lo}-{lo + r.choice([2, 3, 4])}", "age": f"{r.choice([5, 6, 8, 10, 12, 14])}+",
            "play_time": f"{r.choice([15, 20, 30, 45, 60, 90])} min"}


def a_building(r, c):
    pieces = r.choice([60, 120, 250, 480, 750, 1200])
    age = 3 if pieces < 100 else (6 if pieces < 300 else (9 if pieces < 800 else 12))
    return {"pieces": str(pieces), "age": f"{age}+"}


def p_building(r, a, c=None):
    return 12 + int(a["pieces"]) * r.uniform(0.06, 0.11)


def a_plush(r, c):
    return {"material": "recycled polyester plush", "size": f"{r.choice([20, 25, 30, 40, 60])} cm", "age": r.choice(["0+", "3+"])}


def a_puzzle(r, c):
    n = c["noun"]
    age = "3+" if "Floor" in n else ("8+" if "3D" in n else ("12+" if "1000" in n else "9+"))
    return {"age": age, "pieces": {"1000-Piece Jigsaw Puzzle": "1000", "500-Piece Puzzle": "500", "Floor Puzzle": "24", "3D Puzzle": "120"}[n]}


def a_sofa(r, c):
    seats = {"Loveseat": "2-seater", "Two-Seat Sofa": "2-seater", "Sectional Sofa": "5-seater"}.get(c["noun"], "3-seater")
    return {"material": r.choice(["linen", "velvet", "leather", "boucle", "performance fabric", "cotton twill"]),
            "size": seats, "legs": r.choice(["oak", "walnut", "black metal", "brass"])}


def a_sofa_bed(r, c):
    return {"material": r.choice(["linen", "velvet", "performance fabric", "cotton twill", "microfiber"]),
            "bed_size": r.choice(["full", "queen"]), "size": "3-seater"}


def a_desk(r, c):
    return {"material": r.choice(["solid oak", "walnut veneer", "pine", "steel and oak", "bamboo", "MDF"]),
            "size": f"{r.choice([100, 120, 140, 160])} x {r.choice([50, 60, 70])} cm"}


def a_standing_desk(r, c):
    return {"material": r.choice(["bamboo", "laminate", "solid oak", "walnut veneer"]), "height_range": "72-121 cm",
            "motor": r.choice(["single", "dual"]), "size": f"{r.choice([120, 140, 160])} x {r.choice([60, 70, 80])} cm"}


def a_office_chair(r, c):
    return {"material": "mesh" if "Mesh" in c["noun"] else r.choice(["mesh", "fabric", "leather", "vegan leather"]),
            "lumbar_support": "yes" if "Ergonomic" in c["noun"] else yn(r, 0.6), "adjustable_arms": yn(r, 0.7)}


def a_dining_chair(r, c):
    return {"material": r.choice(["solid oak", "walnut", "rattan", "powder-coated steel", "beech"])}


def a_armchair(r, c):
    return {"material": r.choice(["velvet", "boucle", "leather", "linen", "wool blend"])}


def a_lamp(kind):
    def f(r, c):
        mat = "ceramic" if "Ceramic" in c["noun"] else r.choice(["aluminium", "brass", "ceramic", "steel", "linen shade", "oak"])
        watts = [5, 8, 10, 12] if kind == "desk" else [8, 10, 40, 60]
        a = {"lamp_type": kind, "material": mat, "wattage": f"{r.choice(watts)} W"}
        if kind != "floor":
            a["dimmable"] = yn(r, 0.6)
        return a
    return f


# ---------------------------------------------------------------------------
# product type specs
# ---------------------------------------------------------------------------

def spec(**kw):
    kw.setdefault("gens", [""])
    kw.setdefault("ctitles", [])
    kw.setdefault("genders", None)
    kw.setdefault("variants", None)
    kw.setdefault("pins", [])
    kw.setdefault("tag_pool", [])
    kw.setdefault("closers", None)
    kw.setdefault("unique_model", False)
    kw.setdefault("noun_ok", None)
    return kw


W = lambda pred, text: (pred, text)  # conditional feature sentence
WP = lambda a: a.get("waterproof") == "yes"
NOT_WP = lambda a: a.get("waterproof") == "no"

SPECS = [
    # ------------------------------------------------------------------ shoes
    spec(code="SHOE-RUN", kind="running_shoe", cat="Shoes > Running", n=22,
         brands=["Stridewell", "Northpeak", "Ridgeback", "Tidewater"],
         models=["Stride Pro", "Tempo Glide", "AeroRun", "Pacer", "Velocity", "Cloudstep", "Swift", "Road Rebel", "Hyperlite"],
         gens=["2", "3", "4", "5", "X", "Elite", "Lite"],
         nouns=["Running Shoe", "Running Shoes", "Road Running Shoe", "Daily Trainer", "Road Runner"],
         titles=["{model} {gen} {noun}", "{gender}{model} {gen} {noun}", "{brand} {model} {gen}", "{model} {gen} {gender}{noun}"],
         ctitles=["{model} {gen} {noun} - {Color}", "{gender}{model} {gen} in {Color}", "{model} {gen} {Color} {noun}"],
         price=(59, 179), colors=["black", "white", "blue", "red", "grey", "navy", "pink", "orange", "yellow", "green"],
         genders=["men", "women", "unisex"], variants="shoe", attrs=a_running,
         tags=["running", "road"], tag_pool=["breathable", "lightweight", "cushioned", "daily trainer", "marathon", "neutral"],
         openers=["The {model_full} is a lightweight daily trainer built for easy miles and tempo days on the road.",
                  "Built for runners who log serious mileage, the {model_full} pairs its {material} upper with a springy foam midsole.",
                  "{brand}'s {model_full} is a neutral road shoe that feels soft on recovery runs yet snappy when you pick up the pace.",
                  "Whether you're training for your first 5K or a marathon, the {model_full} keeps every stride smooth.",
                  "A go-to shoe for pavement and treadmill sessions, the {model_full} balances plush cushioning with ground feel."],
         features=["A {drop} heel-to-toe drop encourages a natural midfoot landing.",
                   "The breathable {material} upper keeps feet cool on hot summer runs.",
                   "Reflective details on the heel add visibility on early-morning and evening jogs.",
                   "Durable rubber is placed exactly where road runners wear their soles down fastest.",
                   "A padded tongue and heel collar lock the foot in without pressure points.",
                   "At roughly {r:220-290} grams per shoe, it practically disappears on your foot.",
                   W(lambda a: a["cushioning"] == "max", "Max-stack foam soaks up impact on long runs and recovery days.")],
         pins=[dict(model="Stride Pro", gen="3", brand="Stridewell", noun="Running Shoe", title="{model} {gen} {noun}",
                    colors=["black", "white", "blue"], prices=[129.99, 129.99, 134.99], gender="unisex"),
               dict(model="Stride Pro", gen="2", brand="Stridewell", noun="Running Shoe", title="{model} {gen} {noun}",
                    colors=["grey"], prices=[89.99], gender="unisex", compare=119.99)]),
    spec(code="SHOE-TRL", kind="trail_shoe", cat="Shoes > Trail", n=14,
         brands=["Trailborne", "Northpeak", "Ridgeback"],
         models=["Ridgeline", "Summit Trek", "Crag Runner", "Talus", "Switchback", "Mudguard", "Scree"],
         gens=["2", "3", "Pro", "XT", "GT"],
         nouns=["Trail Running Shoe", "Trail Runner", "Trail Shoe", "All-Terrain Running Shoe"],
         titles=["{model} {gen} {noun}", "{gender}{model} {gen} {noun}", "{brand} {model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}", "{gender}{model} {gen} {Color}"],
         price=(79, 189), colors=["black", "olive", "orange", "blue", "grey", "green", "red", "yellow"],
         genders=["men", "women", "unisex"], variants="shoe", attrs=a_trail,
         tags=["trail", "running"], tag_pool=["grip", "off-road", "mountain", "rock plate", "ultra"],
         openers=["The {model_full} is made for technical singletrack, muddy climbs and rocky descents.",
                  "Take the {model_full} off the pavement: aggressive {lug_depth} lugs bite into loose dirt and wet roots.",
                  "Designed with mountain runners, the {model_full} pairs a protective upper with a grippy outsole.",
                  "From fire roads to scree fields, {brand}'s {model_full} gives you confident footing on any surface."],
         features=[W(WP, "A waterproof membrane keeps your socks dry through puddles, stream crossings and rain."),
                   W(WP, "Seam-sealed construction means wet grass and sudden downpours won't soak through."),
                   W(NOT_WP, "The quick-draining {material} upper dries fast after creek crossings."),
                   "A flexible rock plate shields the forefoot from sharp stones.",
                   "A gusseted tongue keeps grit and trail debris out.",
                   "The sticky rubber compound grips on wet rock as well as dry."],
         pins=[dict(model="Ridgeline", gen="WP", brand="Trailborne", noun="Trail Running Shoe", title="{model} {gen} {noun}",
                    colors=["black", "olive"], attrs={"waterproof": "yes", "material": "mesh with waterproof membrane"},
                    prices=[149.99, 149.99], gender="unisex"),
               dict(model="Ridgeline", gen="2", brand="Trailborne", noun="Trail Running Shoe", title="{model} {gen} {noun}",
                    colors=["orange"], attrs={"waterproof": "no", "material": "mesh"}, prices=[119.99], gender="unisex")]),
    spec(code="SHOE-CAS", kind="casual_shoe", cat="Shoes > Casual", n=16,
         brands=["Tidewater", "Wrenfield", "Stridewell", "Fieldcraft"],
         models=["Court Classic", "Metro", "Daybreak", "Harbor", "Retro 78", "Cityline", "Boardwalk", "Heritage"],
         nouns=["Sneaker", "Low-Top", "Casual Shoe", "Leather Trainer", "Canvas Shoe", "Slip-On", "Everyday Shoe"],
         titles=["{model} {noun}", "{gender}{model} {noun}", "{brand} {model} {noun}"],
         ctitles=["{model} {noun} - {Color}", "{gender}{model} {Color} {noun}"],
         price=(39, 139), colors=["white", "black", "navy", "beige", "grey", "green", "brown", "red", "pink"],
         genders=["men", "women", "unisex"], variants="shoe", attrs=a_casual,
         tags=["casual", "everyday"], tag_pool=["lifestyle", "streetwear", "classic", "minimalist", "sneakers"],
         openers=["The {model} is a clean, low-profile sneaker that goes with jeans, chinos or a summer dress.",
                  "A wardrobe staple, the {model} {noun_l} is cut from {material} and built for all-day wear around town.",
                  "Inspired by vintage court styles, the {model} brings retro looks with modern comfort.",
                  "Slip into the {model} for weekend errands, office days and everything in between."],
         features=["A cushioned footbed and {sole} cupsole keep you comfortable from morning to night.",
                   "The {material} upper softens and molds to your foot over time.",
                   "Tonal stitching and a minimalist profile keep the look understated.",
                   "A padded collar prevents rubbing on bare ankles.",
                   "Easy to clean with a damp cloth."]),
    spec(code="SHOE-BOT", kind="boot", cat="Shoes > Boots", n=8,
         brands=["Ridgeback", "Northpeak", "Fieldcraft"],
         models=["Timberline", "Ranger", "Basecamp", "Highland", "Crestwood", "Stonefield"],
         nouns=["Hiking Boot", "Hiking Boots", "Mid Hiker", "Trekking Boot", "Backpacking Boot"],
         titles=["{model} {noun}", "{gender}{model} {noun}", "{brand} {model} {noun}"],
         ctitles=["{model} {noun} - {Color}"],
         price=(89, 239), colors=["brown", "black", "grey", "olive", "beige"],
         genders=["men", "women"], variants="shoe", attrs=a_boot,
         tags=["hiking", "boots"], tag_pool=["trekking", "backpacking", "outdoor", "ankle support"],
         openers=["The {model} is a supportive {height}-cut boot for long days on the trail with a loaded pack.",
                  "With a {material} upper and a stiff midsole, the {model} {noun_l} is ready for multi-day treks and rough terrain.",
                  "Stable, protective and broken-in from day one, the {model} is our most versatile hiker."],
         features=[W(WP, "A waterproof, breathable liner keeps feet dry in rain, snow and boggy ground."),
                   W(NOT_WP, "The unlined upper breathes well on hot, dry hikes."),
                   "The {height}-cut collar gives extra ankle support on uneven ground.",
                   "Deep multidirectional lugs grip on mud, gravel and wet rock.",
                   "A rubber toe cap protects against stubbed toes and rocks."]),
    # --------------------------------------------------------------- apparel
    spec(code="APP-TEE", kind="tee", cat="Apparel > T-Shirts", n=14,
         brands=["Aurelle", "Tidewater", "Wrenfield", "Northpeak", "Solstice"],
         models=["Essential", "Everyday", "Heritage", "Trailhead", "Cloudsoft", "Daylight", "Basecamp"],
         nouns=["T-Shirt", "Tee", "Crew Neck Tee", "V-Neck T-Shirt", "Pocket Tee"],
         titles=["{gender}{model} {noun}", "{brand} {model} {noun}", "{model} {Material} {noun}"],
         ctitles=["{gender}{model} {noun} - {Color}", "{model} {noun} in {Color}"],
         price=(14, 49), colors=["white", "black", "grey", "navy", "green", "red", "blue", "beige", "yellow", "pink"],
         genders=["men", "women", "unisex"], variants="apparel", attrs=a_tee,
         tags=["t-shirt", "tops"], tag_pool=["basics", "summer", "layering", "soft", "sustainable"],
         openers=["The {model} {noun_l} is a soft, breathable everyday essential in {material}.",
                  "Our {model} tee is the one you'll reach for first: lightweight {material}, a {fit} fit and a neckline that keeps its shape.",
                  "A wardrobe basic done right, the {model} is pre-shrunk and garment-dyed for a lived-in feel.",
                  "Wear the {model} on its own in summer or as a base layer when it turns cold."],
         features=["Side-seamed construction means no twisting after washing.",
                   "A {fit} cut sits comfortably without clinging.",
                   W(lambda a: "merino" in a["material"], "Merino wool naturally resists odour, so it can go days between washes."),
                   W(lambda a: "organic" in a["material"], "Made with GOTS-certified organic cotton."),
                   "Shoulder taping keeps the seams strong wash after wash.",
                   "Shown here in {color}."]),
    spec(code="APP-HOD", kind="hoodie", cat="Apparel > Hoodies & Sweatshirts", n=14,
         brands=["Northpeak", "Tidewater", "Wrenfield", "Solstice"],
         models=["Cozy Fleece", "Campus", "Weekend", "Harbor", "Loft", "Driftwood", "Basecamp"],
         nouns=["Hoodie", "Pullover Hoodie", "Zip Hoodie", "Hooded Sweatshirt", "Fleece Hoodie"],
         titles=["{gender}{model} {noun}", "{brand} {model} {noun}", "{model} {noun}"],
         ctitles=["{model} {noun} - {Color}", "{gender}{model} {Color} {noun}"],
         price=(35, 95), colors=["grey", "black", "navy", "red", "green", "burgundy", "beige", "blue", "purple"],
         genders=["men", "women", "unisex"], variants="apparel", attrs=a_hoodie,
         tags=["hoodie", "sweatshirt"], tag_pool=["cozy", "layering", "loungewear", "fleece", "casual"],
         openers=["The {model} {noun_l} is brushed on the inside for a soft, warm feel on chilly mornings.",
                  "Heavyweight {material} and a {fit} fit make the {model} the hoodie you'll live in all autumn.",
                  "Cozy enough for the couch and tough enough for the campsite, the {model} is built from {material}.",
                  "A classic {closure} hoodie with a lined hood, kangaroo pocket and ribbed cuffs."],
         features=["Ribbed cuffs and hem hold their shape after many washes.",
                   "A double-layer hood with flat drawcords keeps the wind off.",
                   W(lambda a: a["closure"] == "zip", "A full-length zip makes it easy to layer over a tee."),
                   W(lambda a: a["closure"] == "pullover", "The roomy kangaroo pocket keeps hands warm."),
                   "Pre-washed to minimise shrinkage.",
                   "This colourway is {color}."],
         pins=[dict(model="Campus", brand="Northpeak", noun="Pullover Hoodie", colored_title=True,
                    title="{model} {noun} - {Color}", colors=["red", "black"], color_words=["Crimson", "Black"],
                    prices=[59.99, 54.99], gender="unisex"),
               dict(model="Weekend", brand="Tidewater", noun="Zip Hoodie", colored_title=False,
                    title="{gender}{model} {noun}", colors=["red"], prices=[44.99], gender="women")]),
    spec(code="APP-JKT", kind="rain_jacket", cat="Apparel > Jackets", n=8,
         brands=["Northpeak", "Trailborne", "Fieldcraft"],
         models=["Storm Shell", "Drizzle", "Cloudburst", "Monsoon", "Tempest", "Squall"],
         gens=["", "2.0", "Pro", "Lite"],
         nouns=["Rain Jacket", "Waterproof Jacket", "Shell Jacket", "Rain Shell"],
         titles=["{gender}{model} {gen} {noun}", "{brand} {model} {gen} {noun}", "{model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=(79, 249), colors=["yellow", "black", "navy", "red", "green", "orange", "blue"],
         genders=["men", "women", "unisex"], variants="apparel", attrs=a_rain,
         tags=["jacket", "rain"], tag_pool=["waterproof", "hiking", "commuting", "packable", "outerwear"],
         openers=["The {model_full} keeps you dry in steady rain without turning into a sauna on the climbs.",
                  "A fully seam-taped {material} shell for hiking, cycling and the daily commute when the forecast looks grim.",
                  "When the clouds open up, the {model_full} has your back with a storm-ready hood and taped seams.",
                  "Light enough to forget in your pack, the {model_full} is the jacket for sudden showers."],
         features=["Pit zips dump heat fast on uphill sections.",
                   "The adjustable hood fits over a helmet or a cap.",
                   W(lambda a: a["packable"] == "yes", "It stuffs into its own chest pocket for easy packing."),
                   "A durable water-repellent finish makes water bead and roll off.",
                   "Rated to a {r:10-30},000 mm hydrostatic head."]),
    spec(code="APP-JKT", kind="insulated_jacket", cat="Apparel > Jackets", n=6,
         brands=["Northpeak", "Aurelle", "Pinecrest"],
         models=["Summit Down", "Nimbus", "Thermal Loft", "Polar", "Basecamp"],
         nouns=["Down Jacket", "Puffer Jacket", "Insulated Jacket", "Parka", "Winter Jacket"],
         titles=["{gender}{model} {noun}", "{brand} {model} {noun}"],
         ctitles=["{model} {noun} - {Color}"],
         price=(119, 329), colors=["black", "navy", "olive", "red", "beige", "silver"],
         genders=["men", "women"], variants="apparel", attrs=a_insulated,
         tags=["jacket", "winter"], tag_pool=["warm", "insulated", "outerwear", "snow", "cold weather"],
         openers=["The {model} {noun_l} traps heat without the bulk, so you stay warm on frosty commutes and snowy trails.",
                  "Built for sub-zero days, the {model} is packed with {material} and finished with a wind-blocking shell.",
                  "Stay toasty from the first snow to the spring thaw in the {model}."],
         features=[W(lambda a: a["material"] == "down", "Responsibly sourced {fill_power}-fill down offers exceptional warmth for its weight."),
                   W(lambda a: a["material"] != "down", "Synthetic fill stays warm even when damp."),
                   W(WP, "A waterproof, seam-sealed outer fabric keeps sleet and wet snow out."),
                   "Zippered hand pockets are lined with soft fleece.",
                   "An adjustable hem and cuffs seal in warmth."]),
    spec(code="APP-JKT", kind="light_jacket", cat="Apparel > Jackets", n=4,
         brands=["Tidewater", "Wrenfield"],
         models=["Breeze", "Commuter", "Trucker", "Coastline"],
         nouns=["Windbreaker", "Denim Jacket", "Bomber Jacket", "Softshell Jacket"],
         titles=["{gender}{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(49, 139), colors=["blue", "black", "olive", "beige", "navy"], genders=["men", "women", "unisex"],
         variants="apparel", attrs=a_light_jacket, tags=["jacket"], tag_pool=["spring", "layering", "casual"],
         openers=["The {model} {noun_l} is an easy layer for breezy spring evenings.",
                  "A lightweight {material} jacket that throws on over anything."],
         features=["It is wind-resistant but not waterproof, so save it for dry days.",
                   "Two hand pockets and an inner pocket hold phone and keys.",
                   "Cut with a little room to layer a sweater underneath."]),
    spec(code="APP-DRS", kind="dress", cat="Apparel > Dresses", n=10,
         brands=["Aurelle", "Solstice", "Wrenfield"],
         models=["Sundown", "Meadow", "Riviera", "Willow", "Coastal", "Juniper", "Evening"],
         nouns=["Midi Dress", "Wrap Dress", "Maxi Dress", "Shirt Dress", "Slip Dress", "Sundress"],
         titles=["{model} {noun}", "{brand} {model} {noun}", "{model} {Material} {noun}"],
         ctitles=["{model} {noun} - {Color}", "{model} {Color} {noun}"],
         price=(39, 149), colors=["black", "blue", "navy", "red", "green", "white", "pink", "yellow", "beige"],
         variants="apparel", attrs=a_dress, tags=["dress", "women"], tag_pool=["summer", "party", "office", "wedding guest", "vacation"],
         openers=["The {model} {noun_l} drapes beautifully in {material}, taking you from brunch to dinner.",
                  "Effortless and flattering, the {model} is a {material} dress with a relaxed silhouette.",
                  "Pack the {model} for holidays: it barely wrinkles and works with sandals or heels.",
                  "A modern take on a timeless shape, the {model} {noun_l} has a defined waist and a flowing skirt."],
         features=["Hidden side pockets, because every dress needs them.",
                   "Adjustable straps give a custom fit.",
                   "Fully lined so it's never see-through.",
                   "Shown in {color}.",
                   W(lambda a: a["material"] == "linen", "Breathable linen keeps you cool on the hottest days.")],
         pins=[dict(model="Riviera", brand="Solstice", noun="Wrap Dress", colored_title=False, title="{model} {noun}",
                    colors=["blue", "black"], prices=[54.99, 54.99])]),
    spec(code="APP-JNS", kind="jeans", cat="Apparel > Jeans", n=10,
         brands=["Wrenfield", "Tidewater", "Fieldcraft"],
         models=["Classic Straight", "Slim Taper", "Relaxed", "High-Rise Skinny", "Bootcut", "Wide Leg", "Carpenter"],
         nouns=["Jeans", "Denim Jeans", "Jean"],
         titles=["{gender}{model} {noun}", "{brand} {model} {noun}"],
         ctitles=["{gender}{model} {noun} - {Color} Wash"],
         price=(39, 129), colors=["blue", "black", "grey", "navy", "white"], genders=["men", "women"],
         variants="jeans", attrs=a_jeans, tags=["jeans", "denim"], tag_pool=["stretch", "everyday", "workwear", "classic"],
         openers=["The {model} cut in {material} is the pair you'll wear until they fall apart.",
                  "Our {model} jeans sit comfortably at the waist and hold their shape all day.",
                  "Five-pocket styling, {material} and a {fit} leg make these an everyday favourite."],
         features=["Reinforced rivets at stress points add durability.",
                   "Just enough stretch for comfort without bagging out at the knees.",
                   "Rinse-washed for a deep, even colour.",
                   "Inseam available in short, regular and long."]),
    # ------------------------------------------------------------------ bags
    spec(code="BAG-BPK", kind="backpack", cat="Bags > Backpacks", n=16,
         brands=["Kestrel Supply", "Fieldcraft", "Trailborne", "Cobaltline"],
         models=["Commuter", "Trailhead", "Urban Roll-Top", "Voyager", "Campus", "Metro", "Summit"],
         gens=["", "22", "28", "30", "35", "Pro"],
         nouns=["Backpack", "Daypack", "Laptop Backpack", "Travel Backpack", "Hiking Pack"],
         titles=["{brand} {model} {gen} {noun}", "{model} {gen} {noun}", "{model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=(39, 189), colors=["black", "grey", "navy", "green", "olive", "blue", "red", "brown", "beige"],
         attrs=a_backpack, tags=["backpack", "bags"], tag_pool=["laptop", "travel", "school", "hiking", "commuter", "daypack"],
         openers=["The {model_full} is a {capacity} backpack that handles the commute during the week and trails at the weekend.",
                  "Organised, comfortable and tough, this {material} pack carries everything from a laptop to a rain jacket.",
                  "A streamlined {capacity} rucksack with a clamshell opening, so nothing gets lost at the bottom.",
                  "Built from {material} with padded straps, the {model_full} is the backpack you'll take everywhere."],
         features=[W(lambda a: a["laptop_sleeve"] == "yes", "A padded sleeve fits up to a 16\" laptop."),
                   W(WP, "Welded seams and a roll-top closure keep gear dry in a downpour."),
                   "Side pockets hold a water bottle or an umbrella.",
                   "A luggage pass-through slides over a suitcase handle.",
                   "Breathable back panel and a sternum strap for long carries.",
                   "This one comes in {color}."],
         pins=[dict(model="Nomad Daypack", gen="22", brand="Kestrel Supply", noun="Daypack", title="{model} {gen}",
                    colors=["black", "olive"], prices=[79.99, 79.99], attrs={"capacity": "22 L"}),
               dict(model="Metro", gen="", brand="Cobaltline", noun="Laptop Backpack", title="{brand} {model} {noun}",
                    colors=["black", "grey"], prices=[64.99, 64.99], colored_title=False)]),
    spec(code="BAG-WAL", kind="wallet", cat="Bags > Wallets", n=8,
         brands=["Kestrel Supply", "Wrenfield", "Fieldcraft"],
         models=["Slim", "Heritage", "Minimalist", "Traveler", "Fold"],
         nouns=["Wallet", "Bifold Wallet", "Card Holder", "Zip Wallet", "RFID Wallet"],
         titles=["{model} {noun}", "{brand} {model} {noun}", "{model} {Material} {noun}"],
         ctitles=["{model} {noun} - {Color}"],
         price=(19, 89), colors=["black", "brown", "navy", "green", "grey"], attrs=a_wallet,
         tags=["wallet", "accessories"], tag_pool=["gift", "slim", "everyday carry", "minimalist"],
         openers=["The {model} {noun_l} is cut from {material} and slim enough for a front pocket.",
                  "Carry less: the {model} holds up to {r:6-12} cards and a few folded notes.",
                  "A classic {material} wallet that gets better with age."],
         features=[W(lambda a: a["rfid_blocking"] == "yes", "RFID-blocking lining protects contactless cards."),
                   W(lambda a: "leather" in a["material"] and "vegan" not in a["material"], "The leather develops a rich patina over time."),
                   "Hand-stitched edges for long-lasting durability.",
                   "Arrives in a gift box."],
         pins=[dict(model="Heritage", brand="Kestrel Supply", noun="Bifold Wallet", title="{model} {noun}",
                    colors=["brown", "black"], prices=[59.99, 59.99], attrs={"material": "full-grain leather"})]),
    spec(code="BAG-DUF", kind="duffel", cat="Bags > Duffels & Travel", n=6,
         brands=["Kestrel Supply", "Fieldcraft", "Trailborne"],
         models=["Weekender", "Getaway", "Expedition", "Voyager", "Overnighter"],
         nouns=["Duffel Bag", "Weekender Bag", "Travel Duffel", "Gym Bag"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(49, 249), colors=["black", "brown", "olive", "navy", "grey"], attrs=a_duffel,
         tags=["duffel", "travel"], tag_pool=["weekend", "gym", "carry-on", "luggage"],
         openers=["Sized for a long weekend away, the {model} {noun_l} swallows {capacity} of clothes and shoes.",
                  "The {model} is a rugged {material} holdall for road trips, gym sessions and last-minute getaways.",
                  "Throw it in the boot or the overhead bin: this {capacity} bag has a wide U-shaped opening for easy packing."],
         features=["A separate shoe compartment keeps dirty gear away from clean clothes.",
                   "Padded shoulder strap and grab handles.",
                   W(WP, "Waterproof fabric and a storm flap over the zip protect your things in the rain."),
                   "Fits most airline carry-on sizers."],
         pins=[dict(model="Getaway", brand="Fieldcraft", noun="Weekender Bag", title="{model} {noun}",
                    colors=["brown"], prices=[129.99], sku_query=True)]),
    # ----------------------------------------------------------- electronics
    spec(code="ELEC-HPH", kind="headphones", cat="Electronics > Audio > Headphones", n=12,
         brands=["Sonora Audio", "Voltic", "Cobaltline"],
         models=["Aria", "Studio", "Nova", "Echo", "Vibe", "Halo"],
         gens=["2", "Max", "Lite", "300", "500"],
         nouns=["Wireless Headphones", "Over-Ear Headphones", "Noise Cancelling Headphones", "On-Ear Headphones", "Headphones", "Studio Headphones"],
         titles=["{brand} {model} {gen} {noun}", "{model} {gen} {noun}", "{brand} {model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_headphones, colors=["black", "white", "silver", "navy", "beige", "green"], attrs=a_headphones,
         tags=["headphones", "audio"], tag_pool=["music", "travel", "bluetooth", "work from home", "gaming"],
         openers=["The {model_full} delivers rich, balanced sound with deep bass and crisp highs.",
                  "Lose yourself in your playlists: {brand}'s {model_full} headphones pair plush ear cushions with big, detailed sound.",
                  "Comfortable for hours, the {model_full} is built for music, podcasts and long calls.",
                  "Tuned by audio engineers, these {form_factor} headphones sound great at any volume."],
         features=[W(lambda a: a["noise_cancelling"] == "yes", "Active noise cancellation quiets plane engines, trains and busy offices."),
                   W(lambda a: a["connectivity"] == "wireless", "Up to {battery_life} of playback on a single charge, with quick charging."),
                   W(lambda a: a["connectivity"] == "wired", "A detachable 3.5 mm cable means no batteries and no pairing."),
                   "Memory-foam cushions and a padded headband keep them comfortable all day.",
                   "Folds flat into the included travel case.",
                   "Built-in microphones for clear voice calls."],
         pins=[dict(model="Pulse ANC", gen="700", brand="Sonora Audio", noun="Wireless Headphones", title="{brand} {model} {gen} {noun}",
                    colors=["black", "silver"], prices=[299.99, 299.99], attrs={"noise_cancelling": "yes", "connectivity": "wireless", "battery_life": "40 h"}),
               dict(model="Pulse ANC", gen="500", brand="Sonora Audio", noun="Wireless Headphones", title="{brand} {model} {gen} {noun}",
                    colors=["black"], prices=[199.99], attrs={"noise_cancelling": "yes", "connectivity": "wireless", "battery_life": "30 h"}),
               dict(model="Studio", gen="300", brand="Cobaltline", noun="Studio Headphones", title="{brand} {model} {gen} {noun}",
                    colors=["black"], prices=[44.99], attrs={"connectivity": "wired", "noise_cancelling": "no"}),
               dict(model="Echo", gen="Lite", brand="Voltic", noun="On-Ear Headphones", title="{model} {gen} {noun}",
                    colors=["blue"], prices=[34.99], attrs={"connectivity": "wireless", "noise_cancelling": "no", "battery_life": "20 h"})]),
    spec(code="ELEC-EAR", kind="earbuds", cat="Electronics > Audio > Earbuds", n=12,
         brands=["Sonora Audio", "Voltic", "Cobaltline", "Nordvik"],
         models=["Aria Buds", "Nova Pods", "Echo Mini", "FitBeat", "Halo Buds", "Pulse Buds"],
         gens=["", "2", "3", "Pro", "Sport"],
         nouns=["Wireless Earbuds", "True Wireless Earbuds", "Earbuds", "In-Ear Headphones", "Sport Earbuds"],
         titles=["{brand} {model} {gen} {noun}", "{model} {gen} {noun}", "{model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_earbuds, colors=["black", "white", "navy", "pink", "green", "grey"], attrs=a_earbuds,
         tags=["earbuds", "audio"], tag_pool=["bluetooth", "workout", "commute", "calls", "compact"],
         pins=[dict(model="Echo Mini", gen="", brand="Voltic", noun="In-Ear Headphones", title="{model} {noun}",
                    colors=["white"], prices=[14.99], attrs={"connectivity": "wired", "noise_cancelling": "no", "water_resistance": "none"})],
         openers=["The {model_full} tucks into your ears and delivers punchy sound for workouts and commutes.",
                  "Tiny, light and secure, {brand}'s {model_full} are in-ear buds you forget you're wearing.",
                  "Pop them in and go: the {model_full} pairs instantly and sounds far bigger than its size.",
                  "Designed for everyday listening, these earbuds combine a snug fit with clear calls."],
         features=[W(lambda a: a["noise_cancelling"] == "yes", "Active noise cancelling blocks out traffic, chatter and engine hum."),
                   W(lambda a: a["connectivity"] == "wireless", "Battery life: {battery_life}."),
                   W(lambda a: a["connectivity"] == "wired", "A tangle-free flat cable with an inline mic and remote."),
                   W(lambda a: a["water_resistance"] != "none", "{water_resistance} sweat and splash resistance for the gym."),
                   "Three sizes of silicone tips are included for a secure seal."]),
    spec(code="ELEC-SPK", kind="speaker", cat="Electronics > Audio > Speakers", n=10,
         brands=["Sonora Audio", "Voltic", "Nordvik"],
         models=["Boom", "Pebble", "Waveform", "Tidal", "Rumble", "Orbit"],
         gens=["", "2", "Mini", "Max", "XL"],
         nouns=["Bluetooth Speaker", "Portable Speaker", "Wireless Speaker", "Smart Speaker", "Party Speaker"],
         titles=["{brand} {model} {gen} {noun}", "{model} {gen} {noun}", "{model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_speaker, colors=["black", "blue", "red", "grey", "green", "teal", "orange"], attrs=a_speaker,
         tags=["speaker", "audio"], tag_pool=["bluetooth", "outdoor", "party", "portable", "beach"],
         openers=["The {model_full} fills the room with {wattage} of room-filling sound and surprisingly deep bass.",
                  "Take the party anywhere: the {model_full} is a {wattage} speaker with a grab-and-go strap.",
                  "Small enough for a backpack, loud enough for the backyard.",
                  "{brand}'s {model_full} streams from any phone in seconds and sounds clean even at full volume."],
         features=[W(WP, "Rated {water_resistance}, so it survives rain, sand and the occasional dunk in the pool."),
                   "Pair two for true stereo sound.",
                   "Up to {r:10-24} hours of playtime per charge.",
                   "A built-in speakerphone handles hands-free calls."]),
    spec(code="ELEC-CHG", kind="wall_charger", cat="Electronics > Chargers", n=6,
         brands=["Voltic", "Cobaltline", "Nordvik"],
         models=["VoltCube", "Nano", "GaN Pro", "DualPort", "Swift Charge"],
         gens=["20W", "30W", "45W", "65W", "100W"],
         nouns=["USB-C Charger", "Wall Charger", "Fast Charger", "Power Adapter"],
         titles=["{brand} {model} {gen} {noun}", "{model} {gen} {noun}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_wall_charger, colors=["black", "white"], attrs=a_wall_charger,
         tags=["charger", "usb-c"], tag_pool=["fast charging", "travel", "laptop", "phone"],
         openers=["The {model_full} is a compact {wattage} wall charger that tops up phones, tablets and laptops.",
                  "One small brick for all your devices: {wattage} of USB-C Power Delivery.",
                  "Gallium-nitride tech squeezes {wattage} into a plug barely bigger than a phone charger."],
         features=["Charges a typical phone to 50% in about 30 minutes.",
                   "Foldable prongs for travel.",
                   "Built-in protection against overheating and short circuits.",
                   W(lambda a: num_in(a["wattage"]) >= 65, "Enough power for most USB-C laptops.")],
         pins=[dict(model="VoltCube", gen="65W", brand="Voltic", noun="USB-C Charger", title="{brand} {model} {gen} {noun}",
                    colors=["white"], prices=[44.99])]),
    spec(code="ELEC-PWR", kind="power_bank", cat="Electronics > Power Banks", n=6,
         brands=["Voltic", "Cobaltline", "Nordvik"],
         models=["Juice Brick", "PowerStack", "Pocket Cell", "Roadtrip"],
         gens=["5K", "10K", "20K", "26K"],
         nouns=["Power Bank", "Portable Battery", "Battery Pack"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_power_bank, colors=["black", "white", "blue", "pink"], attrs=a_power_bank,
         tags=["power bank", "charger"], tag_pool=["travel", "portable", "usb-c", "camping"],
         openers=["Never hunt for an outlet again: the {model_full} stores {capacity} for several phone charges.",
                  "A pocket-sized {capacity} battery pack for travel days, festivals and long commutes.",
                  "The {model_full} keeps your phone, earbuds and tablet topped up on the go."],
         features=["{wattage} USB-C fast charging in and out.",
                   "A digital display shows exactly how much charge is left.",
                   "Airline-safe capacity for carry-on luggage."],
         pins=[dict(model="Juice Brick", gen="20K", brand="Voltic", noun="Power Bank", title="{model} {gen}",
                    colors=["black"], prices=[49.99]),
               dict(model="Juice Brick", gen="10K", brand="Voltic", noun="Power Bank", title="{model} {gen}",
                    colors=["white"], prices=[29.99])]),
    # -------------------------------------------------------- home & kitchen
    spec(code="HOME-COF", kind="drip_coffee", cat="Home & Kitchen > Coffee Makers", n=5,
         brands=["Hearth & Hollow", "Halcyon Home", "Nordvik"],
         models=["BrewMaster", "Morning Ritual", "Percola", "Daybreak Brew"],
         gens=["8", "10", "12", "Plus"],
         nouns=["Drip Coffee Maker", "Coffee Maker", "Programmable Coffee Maker", "Filter Coffee Machine"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=(29, 149), colors=["black", "silver", "white", "red"], attrs=a_drip,
         tags=["coffee", "kitchen appliances"], tag_pool=["breakfast", "programmable", "filter coffee"],
         openers=["Wake up to a fresh pot: the {model_full} brews up to {capacity} of smooth filter coffee.",
                  "The {model_full} makes a full carafe of coffee at the touch of a button.",
                  "A dependable drip machine for busy households, the {model_full} brews hot and fast."],
         features=["A 24-hour programmable timer starts brewing before your alarm goes off.",
                   "Pause-and-serve lets you sneak a cup mid-brew.",
                   "The warming plate keeps coffee hot for up to two hours.",
                   "A reusable mesh filter saves on paper filters."],
         pins=[dict(model="BrewMaster", gen="12", brand="Hearth & Hollow", noun="Programmable Coffee Maker",
                    title="{model} {gen} {noun}", colors=["black"], prices=[49.99], attrs={"capacity": "12 cups"}),
               dict(model="Daybreak Brew", gen="8", brand="Halcyon Home", noun="Coffee Maker",
                    title="{model} {gen} {noun}", colors=["white"], prices=[34.99], attrs={"capacity": "8 cups"})]),
    spec(code="HOME-COF", kind="espresso", cat="Home & Kitchen > Coffee Makers", n=4,
         brands=["Ferro Kitchen", "Hearth & Hollow", "Nordvik"],
         models=["Barista", "Crema", "Ristretto", "Milano"], gens=["One", "Pro", "Duo", "II"],
         nouns=["Espresso Machine", "Espresso Maker", "Semi-Automatic Espresso Machine", "Bean-to-Cup Coffee Machine"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=(149, 799), colors=["silver", "black", "cream", "red"], attrs=a_espresso,
         tags=["espresso", "coffee"], tag_pool=["latte", "cappuccino", "barista", "kitchen appliances"],
         openers=["Pull café-quality shots at home with the {model_full} and its {pressure} pump.",
                  "The {model_full} brings barista-style espresso, lattes and flat whites to your countertop.",
                  "From beans to crema in under a minute, the {model_full} makes rich espresso easy."],
         features=[W(lambda a: a["milk_frother"] == "yes", "A steam wand textures silky milk for cappuccinos and latte art."),
                   "A thermoblock heater is ready to brew in about 30 seconds.",
                   "The removable water tank and drip tray make cleanup simple.",
                   "Built from {material} for years of daily shots."]),
    spec(code="HOME-COF", kind="manual_coffee", cat="Home & Kitchen > Coffee Makers", n=3,
         brands=["Ferro Kitchen", "Maple & Moss"],
         models=["Press", "Pour", "Bloom"],
         nouns=["French Press", "Pour-Over Coffee Dripper", "Cold Brew Maker"],
         titles=["{brand} {noun}", "{model} {noun}"], ctitles=[],
         price=(19, 59), colors=["black", "silver", "white"], attrs=a_manual_coffee,
         tags=["coffee"], tag_pool=["manual", "camping", "slow coffee"],
         openers=["No plugs, no pods: just hot water, ground coffee and a few minutes of patience.",
                  "A simple, beautiful way to brew a fuller-bodied cup by hand."],
         features=["The {material} carafe holds {capacity}.",
                   "Everything comes apart for easy cleaning.",
                   "Great for camping trips and tiny kitchens."]),
    spec(code="HOME-KTL", kind="kettle", cat="Home & Kitchen > Kettles", n=8,
         brands=["Hearth & Hollow", "Halcyon Home", "Nordvik", "Ferro Kitchen"],
         models=["Rapid Boil", "Whistler", "Quickpour", "Alpine", "Steep"],
         nouns=["Electric Kettle", "Kettle", "Gooseneck Kettle", "Stovetop Kettle", "Glass Electric Kettle"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(24, 129), colors=["silver", "black", "white", "cream", "red", "green"], attrs=a_kettle,
         tags=["kettle", "tea"], tag_pool=["kitchen", "pour-over", "fast boil"],
         openers=["The {model} {noun_l} brings {capacity} of water to a rolling boil for tea, coffee and instant noodles.",
                  "Tea time, sorted: the {model} is a {capacity} kettle in {material}.",
                  "A countertop classic that's as good-looking as it is practical."],
         features=[W(lambda a: a["type"] == "electric", "A {wattage} element boils a full kettle in about four minutes."),
                   W(lambda a: a.get("temperature_control") == "yes", "Variable temperature presets for green tea, oolong and pour-over coffee."),
                   W(lambda a: a["type"] == "stovetop", "Works on gas, electric and induction hobs, and whistles when it's ready."),
                   "Auto shut-off and boil-dry protection for peace of mind.",
                   "A cool-touch handle and a drip-free spout."]),
    spec(code="HOME-BLN", kind="blender", cat="Home & Kitchen > Blenders", n=8,
         brands=["Ferro Kitchen", "Halcyon Home", "Nordvik"],
         models=["NutriBlend", "PowerMix", "Cyclone", "Frost"],
         gens=["600", "900", "1200", "Mini", "Pro"],
         nouns=["Blender", "High-Speed Blender", "Personal Blender", "Countertop Blender", "Smoothie Blender"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}", "{model} {gen}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_blender, colors=["black", "silver", "white", "red", "green"], attrs=a_blender,
         tags=["blender", "kitchen appliances"], tag_pool=["smoothies", "soup", "crushed ice", "meal prep"],
         openers=["The {model_full} pulverises frozen fruit, ice and leafy greens into silky smoothies in seconds.",
                  "From morning smoothies to hot soups and nut butters, the {wattage} {model_full} does it all.",
                  "A {capacity} jar and a {wattage} motor make quick work of shakes, salsas and frozen cocktails."],
         features=["Stainless steel blades crush ice without breaking a sweat.",
                   "Preset programs for smoothies, ice crush and self-cleaning.",
                   "The {material} jar is dishwasher safe.",
                   "Variable speed control for everything from chunky salsa to purée."],
         pins=[dict(model="Vortex", gen="900", brand="Ferro Kitchen", noun="High-Speed Blender", title="{model} {gen} {noun}",
                    colors=["black"], prices=[129.99]),
               dict(model="Vortex", gen="600", brand="Ferro Kitchen", noun="Blender", title="{model} {gen} {noun}",
                    colors=["red"], prices=[79.99])]),
    spec(code="HOME-KNF", kind="knife", cat="Home & Kitchen > Knives", n=5,
         brands=["Ferro Kitchen", "Hearth & Hollow"],
         models=["Artisan", "Professional", "Forged", "Takumi", "Classic"],
         nouns=["Chef's Knife", "Santoku Knife", "Bread Knife", "Utility Knife", "Paring Knife"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=[],
         price=p_knife, colors=["black", "brown", "grey"], attrs=a_knife,
         tags=["knives", "kitchen"], tag_pool=["cutlery", "cooking", "gift"],
         openers=["The {model} {noun_l} glides through onions, tomatoes and herbs with a razor-sharp {blade_length} edge.",
                  "Forged from {material}, this {noun_l} holds its edge through months of daily prep.",
                  "Perfectly balanced and comfortable in the hand, the {model} makes chopping and slicing a pleasure."],
         features=["Hand-sharpened to a 15-degree angle.",
                   "The ergonomic handle comes in {color}.",
                   "Hand wash and dry to keep the edge keen."]),
    spec(code="HOME-KNF", kind="knife_set", cat="Home & Kitchen > Knives", n=3,
         brands=["Ferro Kitchen", "Hearth & Hollow"], models=["Artisan", "Forged", "Takumi"],
         nouns=["Knife Block Set", "Kitchen Knife Set"],
         titles=["{model} {pieces_t} {noun}"], ctitles=[],
         price=(59, 299), colors=["black", "brown"], attrs=a_knife_set,
         tags=["knives", "kitchen"], tag_pool=["cutlery", "gift", "wedding registry"],
         openers=["Everything a home cook needs: this {pieces} set covers chopping, slicing and paring.",
                  "Upgrade the whole drawer with a matched {pieces} set in {material}."],
         features=["Includes a chef's knife, bread knife, utility knife and paring knife.",
                   "A hardwood block keeps blades safe and within reach."]),
    spec(code="HOME-CKW", kind="frying_pan", cat="Home & Kitchen > Cookware", n=5,
         brands=["Ferro Kitchen", "Hearth & Hollow", "Maple & Moss"],
         models=["Everyday", "Heritage", "ProSear", "Iron Forge", "Ceramica"],
         nouns=["Frying Pan", "Skillet", "Nonstick Frying Pan", "Cast Iron Skillet", "Fry Pan"],
         titles=["{model} {size} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=p_pan, colors=["black", "silver", "red", "blue", "cream"], attrs=a_pan,
         tags=["cookware", "pan"], tag_pool=["searing", "eggs", "induction", "kitchen"],
         openers=["The {model} {size} {noun_l} is the pan you'll reach for every morning, from eggs to stir-fries.",
                  "Sear steaks, crisp potatoes and flip pancakes in this {material} pan.",
                  "A do-it-all {size} pan made from {material}."],
         features=[W(lambda a: "nonstick" in a["material"], "A PFOA-free nonstick coating releases eggs and fish effortlessly."),
                   W(lambda a: a["material"] == "cast iron", "Pre-seasoned cast iron that only gets better with use."),
                   W(lambda a: a["induction"] == "yes", "Works on all hobs, including induction."),
                   W(lambda a: a["oven_safe"] == "yes", "Oven safe, so you can finish dishes under the grill.")],
         pins=[dict(model="Iron Forge", brand="Hearth & Hollow", noun="Cast Iron Skillet", title="{model} {size} {noun}",
                    colors=["black"], prices=[39.99], attrs={"material": "cast iron", "oven_safe": "yes"}),
               dict(model="Ceramica", brand="Maple & Moss", noun="Nonstick Frying Pan", title="{model} {size} {noun}",
                    colors=["cream"], prices=[44.99], attrs={"material": "ceramic nonstick"})]),
    spec(code="HOME-CKW", kind="pot", cat="Home & Kitchen > Cookware", n=3,
         brands=["Ferro Kitchen", "Hearth & Hollow"], models=["Heritage", "Everyday", "Provence"],
         nouns=["Dutch Oven", "Stock Pot", "Casserole Pot"],
         titles=["{model} {capacity} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=p_pot, colors=["red", "blue", "green", "black", "cream"], attrs=a_pot,
         tags=["cookware", "pot"], tag_pool=["braising", "soup", "oven safe"],
         openers=["Slow-cook stews, bake bread and simmer soups in the {capacity} {model} {noun_l}.",
                  "A {material} pot for braises, chilli and big-batch cooking."],
         features=["A tight-fitting lid locks in moisture.", "Oven safe up to 260 °C.", "Shown in {color}."]),
    spec(code="HOME-CKW", kind="cookware_set", cat="Home & Kitchen > Cookware", n=3,
         brands=["Ferro Kitchen", "Hearth & Hollow", "Maple & Moss"], models=["Everyday", "Chef's Choice", "Ceramica"],
         nouns=["Cookware Set", "Pots and Pans Set", "Nonstick Cookware Set"],
         titles=["{model} {pieces_t} {noun}"], ctitles=[],
         price=(89, 449), colors=["black", "silver", "cream"], attrs=a_cookware_set,
         tags=["cookware", "set"], tag_pool=["kitchen", "wedding registry", "induction"],
         openers=["Kit out a new kitchen in one go with this {pieces} set in {material}.",
                  "Saucepans, a stockpot and two frying pans: the {model} set covers everyday cooking."],
         features=["Glass lids let you check on dinner without losing heat.", "Stay-cool riveted handles.",
                   "Dishwasher safe and induction compatible."]),
    spec(code="HOME-MUG", kind="mug", cat="Home & Kitchen > Mugs & Drinkware", n=6,
         brands=["Maple & Moss", "Halcyon Home", "Hearth & Hollow"],
         models=["Morning", "Studio", "Speckled", "Campfire", "Diner", "Pottery"],
         nouns=["Mug", "Coffee Mug", "Ceramic Mug", "Stoneware Mug", "Mug Set"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {Color} {noun}"],
         price=(8, 34), colors=["white", "cream", "blue", "green", "black", "pink", "yellow"], attrs=a_mug,
         tags=["mug", "drinkware"], tag_pool=["tea", "gift", "handmade", "dishwasher safe"],
         openers=["The {model} {noun_l} holds {capacity} of your favourite brew.",
                  "A hand-glazed {material} mug with a comfortable, chunky handle.",
                  "Start the day right with a generous {capacity} mug that feels great in the hand."],
         features=["Microwave and dishwasher safe.", "Each glaze is slightly different, so no two are alike.",
                   "Stackable for small cupboards."]),
    spec(code="HOME-MUG", kind="travel_mug", cat="Home & Kitchen > Mugs & Drinkware", n=7,
         brands=["Tidewater", "Halcyon Home", "Pinecrest", "Nordvik"],
         models=["Commuter", "Roam", "Glide", "Drift", "Daily"],
         gens=["", "12 oz", "16 oz", "20 oz"],
         nouns=["Travel Mug", "Tumbler", "Insulated Tumbler", "Commuter Cup", "Travel Tumbler"],
         titles=["{model} {gen} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=(14, 44), colors=["black", "white", "teal", "blue", "pink", "green", "silver", "red"], attrs=a_tumbler,
         tags=["drinkware", "travel"], tag_pool=["commute", "leak-proof", "stainless steel", "insulated"],
         openers=["Double-wall vacuum insulation keeps drinks hot for {r:6-12} hours and cold for {r:18-24}.",
                  "The {model} is a {capacity} stainless steel cup that rides along on the commute, in the car or at your desk.",
                  "Your morning brew stays hot all the way to the office in the {model}.",
                  "A sweat-free, {capacity} {noun_l} that fits most car cup holders."],
         features=["The {lid} seals tight, so it can ride in a bag.", "Powder-coated for a grippy finish.",
                   "Fits under most coffee machines.", "This colour is {color}."],
         pins=[dict(model="Everheat", gen="", brand="Halcyon Home", noun="Travel Tumbler", title="{model} {noun}",
                    colors=["black", "teal"], prices=[29.99, 29.99], attrs={"capacity": "16 oz", "lid": "slide lid"},
                    desc="Fill it before the school run and your coffee will still be piping hot 12 hours later, or iced drinks cold "
                         "for a full day. Double-wall vacuum stainless steel, a leak-proof slide lid and a slim 16 oz body that fits "
                         "most car cup holders.")]),
    # --------------------------------------------------------------- outdoor
    spec(code="OUT-TNT", kind="tent", cat="Outdoor > Camping > Tents", n=10,
         brands=["Northpeak", "Trailborne", "Pinecrest", "Ridgeback"],
         models=["Trail Hut", "Backcountry", "Basecamp", "Skyline", "Meadow", "Ridge"],
         gens=["1", "2", "3", "4", "6", "UL"],
         nouns=["Tent", "Backpacking Tent", "Camping Tent", "Dome Tent", "Family Tent"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}", "{model} {gen} {noun} ({capacity})"],
         noun_ok=lambda g, n: not ((n == "Family Tent" and (not g.isdigit() or int(g) < 4))
                                   or (n == "Backpacking Tent" and g.isdigit() and int(g) > 3)),
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_tent, colors=["green", "orange", "grey", "yellow", "blue", "olive"], attrs=a_tent,
         tags=["tent", "camping"], tag_pool=["backpacking", "festival", "family camping", "lightweight"],
         openers=["The {model_full} is a {capacity}, {season} shelter that pitches in under five minutes.",
                  "Sleep {capacity_n} in comfort: the {model_full} has two doors, two vestibules and plenty of headroom.",
                  "Weighing {weight}, the {model_full} is light enough for backpacking and roomy enough for a weekend at the lake.",
                  "A {season} dome tent with a fully taped rainfly in {material}."],
         features=["Colour-coded poles and clips make setup foolproof, even in the dark.",
                   "A bathtub floor and taped seams keep you dry in heavy rain.",
                   "Mesh panels cut condensation on warm nights.",
                   W(lambda a: a["season"] == "4-season", "Extra guy-out points and a low profile shrug off snow and strong wind."),
                   "Internal pockets keep headlamps and phones close at hand."],
         pins=[dict(model="Summit Dome", gen="2", brand="Northpeak", noun="Backpacking Tent", title="{model} {gen} {noun}",
                    colors=["green"], prices=[249.99], attrs={"capacity": "2-person", "season": "3-season"}),
               dict(model="Basecamp", gen="4", brand="Pinecrest", noun="Family Tent", title="{brand} {model} {gen} {noun}",
                    colors=["orange", "blue"], prices=[329.99, 329.99], attrs={"capacity": "4-person"})]),
    spec(code="OUT-SLP", kind="sleeping_bag", cat="Outdoor > Camping > Sleeping Bags", n=8,
         brands=["Northpeak", "Pinecrest", "Trailborne"],
         models=["Cocoon", "Nightfall", "Alpine", "Drift", "Campfire", "Hibernate"],
         gens=["", "Lite", "Pro", "2"],
         nouns=["Sleeping Bag", "Mummy Sleeping Bag", "Down Sleeping Bag", "Rectangular Sleeping Bag"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}", "{model} {gen} {temperature_rating} {noun}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=p_sleeping_bag, colors=["blue", "red", "green", "orange", "black", "yellow"], attrs=a_sleeping_bag,
         tags=["sleeping bag", "camping"], tag_pool=["backpacking", "winter", "car camping", "compressible"],
         openers=["Rated to {temperature_rating}, the {model_full} keeps you warm on cold nights under the stars.",
                  "The {model_full} is a {shape} bag filled with {material} insulation for cosy nights outside.",
                  "Compresses to the size of a loaf of bread yet lofts up warm and fluffy at camp."],
         features=["A draft collar and insulated zip baffle stop cold air sneaking in.",
                   "Comes with a compression sack and a storage bag.",
                   W(lambda a: num_in(a["temperature_rating"]) <= -5, "Built for winter camping and shoulder-season mountain trips."),
                   W(lambda a: a["material"] == "down", "Water-resistant down stays lofty in damp conditions.")]),
    spec(code="OUT-HLP", kind="headlamp", cat="Outdoor > Lighting", n=8,
         brands=["Northpeak", "Ridgeback", "Lumen & Co", "Trailborne"],
         models=["Beam", "Nightowl", "Trail Glow", "Spark", "Lighthouse"],
         gens=["200", "350", "500", "900", "R"],
         nouns=["Headlamp", "Rechargeable Headlamp", "LED Headlamp", "Head Torch"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen} {noun}"], ctitles=["{model} {gen} {noun} - {Color}"],
         price=(14, 89), colors=["black", "orange", "blue", "red", "green"], attrs=a_headlamp,
         tags=["headlamp", "lighting"], tag_pool=["camping", "running", "hiking", "emergency"],
         openers=["Light up the trail with {brightness} of hands-free light from the {model_full}.",
                  "The {model_full} is a {brightness} light for night hikes, early runs and rummaging in the tent.",
                  "Hands-free light that weighs next to nothing."],
         features=[W(lambda a: a["rechargeable"] == "yes", "Recharges over USB-C, no batteries required."),
                   W(lambda a: a["rechargeable"] == "no", "Runs on three AAA batteries for easy swaps on long trips."),
                   W(WP, "Waterproof to IPX7, so rain and river crossings are no problem."),
                   "A red-light mode preserves your night vision.", "Tilts 90 degrees to point the beam where you need it."]),
    spec(code="OUT-BTL", kind="water_bottle", cat="Outdoor > Water Bottles", n=10,
         brands=["Pinecrest", "Trailborne", "Tidewater", "Nordvik"],
         models=["HydroPeak", "Trailmate", "Aqua", "Canteen", "Hydra", "Summit"],
         gens=["", "500", "750", "1L", "32 oz"],
         nouns=["Water Bottle", "Insulated Water Bottle", "Sports Bottle", "Stainless Steel Bottle", "Glass Water Bottle", "Squeeze Bottle"],
         titles=["{model} {gen} {noun}", "{brand} {model} {gen}", "{model} {capacity} {noun}"],
         ctitles=["{model} {gen} {noun} - {Color}"],
         price=(9, 49), colors=["black", "white", "blue", "green", "teal", "pink", "red", "silver", "purple"], attrs=a_bottle,
         tags=["water bottle", "hydration"], tag_pool=["gym", "hiking", "school", "leak-proof", "reusable"],
         openers=["Stay hydrated on hikes, at the gym or at your desk with this {capacity} {material} bottle.",
                  "The {model} is a reusable {capacity} bottle that replaces hundreds of single-use plastics.",
                  "Leak-proof, tough and easy to clean, the {model} goes wherever you go."],
         features=[W(lambda a: a["insulated"] == "yes", "Vacuum insulation keeps water ice-cold for 24 hours and tea hot for 12."),
                   W(lambda a: a["material"] == "glass", "A silicone sleeve protects the glass from knocks."),
                   W(lambda a: "plastic" in a["material"], "Lightweight and BPA-free."),
                   "A wide mouth fits ice cubes and cleaning brushes.", "A carry loop clips to your pack."],
         pins=[dict(model="HydroPeak", gen="750", brand="Pinecrest", noun="Insulated Water Bottle", title="{model} {gen} {noun}",
                    colors=["black", "teal", "red"], prices=[32.99, 32.99, 34.99],
                    attrs={"material": "stainless steel", "insulated": "yes", "capacity": "750 ml"})]),
    spec(code="OUT-BTL", kind="vacuum_flask", cat="Outdoor > Water Bottles", n=3,
         brands=["Pinecrest", "Nordvik"], models=["Thermo", "Expedition", "Classic"],
         nouns=["Vacuum Flask", "Thermal Flask", "Insulated Flask"],
         titles=["{model} {capacity} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(24, 59), colors=["green", "black", "silver", "red"], attrs=a_flask,
         tags=["flask", "camping"], tag_pool=["thermos", "hot drinks", "winter", "picnic"],
         openers=["Hot soup at the summit or coffee on the ice: the {model} {noun_l} keeps drinks steaming for up to 24 hours.",
                  "A {capacity} stainless steel flask with a cup lid for picnics, fishing trips and long drives."],
         features=["The stopper pours without unscrewing.", "Unbreakable 18/8 stainless steel."]),
    # ---------------------------------------------------------------- beauty
    spec(code="BEA-SKN", kind="serum", unique_model=True, cat="Beauty > Skincare", n=4, brands=["Glimmer", "Aurelle", "Maple & Moss"],
         models=["Radiance", "Clarity", "Renew", "Dewdrop"],
         nouns=["Vitamin C Serum", "Hyaluronic Acid Serum", "Niacinamide Serum", "Retinol Night Serum"],
         titles=["{brand} {model} {noun}", "{model} {noun}"], price=(14, 68), colors=None, attrs=a_serum,
         tags=["skincare", "serum"], tag_pool=["face", "hydrating", "brightening", "anti-aging"],
         openers=["A lightweight {noun_l} that sinks in quickly and leaves skin looking brighter and plumper.",
                  "The {model} {noun_l} targets dullness and uneven tone with a concentrated formula."],
         features=["Suitable for {skin_type} skin types.", "Fragrance-free.", "Apply two or three drops morning and night."]),
    spec(code="BEA-SKN", kind="moisturizer", unique_model=True, cat="Beauty > Skincare", n=4, brands=["Glimmer", "Aurelle", "Maple & Moss"],
         models=["Cloud", "Barrier", "Velvet", "Oat Milk"],
         nouns=["Daily Moisturizer", "Face Cream", "Gel Moisturizer", "Night Cream", "SPF 30 Moisturizer"],
         titles=["{brand} {model} {noun}", "{model} {noun}"], price=(12, 58), colors=None, attrs=a_moisturizer,
         tags=["skincare", "moisturizer"], tag_pool=["face", "hydrating", "sensitive skin"],
         openers=["The {model} {noun_l} hydrates for 48 hours without feeling greasy.",
                  "Rich but never heavy, this cream restores the skin barrier overnight."],
         features=["Made with ceramides and squalane.", "Suitable for {skin_type} skin.",
                   W(lambda a: "spf" in a, "Broad-spectrum SPF {spf} protects against daily UV exposure.")]),
    spec(code="BEA-SUN", kind="sunscreen", unique_model=True, cat="Beauty > Sun Care", n=4, brands=["Solstice", "Glimmer"],
         models=["Daily Shield", "Beach Day", "Sheer", "Active"],
         nouns=["Mineral Sunscreen SPF 50", "Sunscreen Lotion SPF 30", "Sport Sunscreen SPF 50", "Tinted Sunscreen SPF 30"],
         titles=["{brand} {model} {noun}", "{model} {noun}"], price=(9, 34), colors=None, attrs=a_sunscreen,
         tags=["sun care", "spf"], tag_pool=["beach", "summer", "reef-friendly", "face and body"],
         openers=["Broad-spectrum SPF {spf} protection that rubs in clear with no white cast.",
                  "The {model} formula shields face and body from UVA and UVB rays during long days outdoors."],
         features=[W(lambda a: a["water_resistant"] == "yes", "Water resistant for 80 minutes of swimming or sweating."),
                   "Reef-friendly and fragrance-free.", "Reapply every two hours in the sun."]),
    spec(code="BEA-HAR", kind="hair_care", unique_model=True, cat="Beauty > Hair Care", n=4, brands=["Glimmer", "Maple & Moss"],
         models=["Silk", "Rosemary", "Coconut", "Volume"],
         nouns=["Shampoo", "Conditioner", "Shampoo Bar", "Hair Mask"],
         titles=["{brand} {model} {noun}", "{model} {noun}"], price=(8, 32), colors=None, attrs=a_hair,
         tags=["hair care"], tag_pool=["sulfate-free", "vegan", "natural"],
         openers=["Our {model} {noun_l} cleanses gently and leaves hair soft and shiny.",
                  "A salon-quality {noun_l} for {hair_type} hair."],
         features=["Sulfate- and silicone-free.", "Smells lightly of botanicals.", "Size: {size}."]),
    spec(code="BEA-HRT", kind="hair_dryer", unique_model=True, cat="Beauty > Hair Tools", n=4, brands=["Glimmer", "Voltic"],
         models=["AirLuxe", "Breeze", "Salon", "Jetstream"],
         nouns=["Hair Dryer", "Ionic Hair Dryer", "Travel Hair Dryer", "Blow Dryer"],
         titles=["{brand} {model} {noun}", "{model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(29, 299), colors=["black", "pink", "white", "purple"], attrs=a_dryer,
         tags=["hair tools"], tag_pool=["styling", "travel", "salon"],
         openers=["The {model} {noun_l} dries hair fast with a {wattage} motor and less frizz.",
                  "Salon-smooth blowouts at home, with three heat settings and a cool shot."],
         features=[W(lambda a: a["ionic"] == "yes", "Ionic technology cuts frizz and static."),
                   W(lambda a: a["foldable"] == "yes", "A folding handle packs neatly into a suitcase."),
                   "Includes a concentrator and a diffuser."],
         closers=["Covered by a two-year warranty.", "Dual voltage for travel abroad."]),
    spec(code="BEA-FRG", kind="fragrance", cat="Beauty > Fragrance", n=4, brands=["Aurelle", "Solstice", "Glimmer"],
         models=["Nuit", "Citrine", "Cedar & Sea", "Petal"],
         nouns=["Eau de Parfum", "Eau de Toilette", "Body Mist"],
         titles=["{brand} {model} {noun}", "{model} {noun} {size}"], price=p_fragrance, colors=None, attrs=a_fragrance, unique_model=True,
         tags=["fragrance"], tag_pool=["gift", "perfume", "unisex"],
         openers=["{model} is a {scent_family} fragrance that lingers softly from morning to night.",
                  "Bright and modern, {model} opens with citrus and settles into warm, {scent_family} notes."],
         features=["Comes in a refillable glass bottle.", "Size: {size}."],
         closers=["Cruelty-free and never tested on animals.", "Gift-wrapped on request."]),
    # ------------------------------------------------------------------ toys
    spec(code="TOY-BRD", kind="board_game", unique_model=True, cat="Toys & Games > Board Games", n=8, brands=["Quillby", "Pebblebrook"],
         models=["Harbor Traders", "Dragon Keep", "Star Cartographers", "Pickle Panic", "Lost Temple", "Castle Siege",
                 "Orchard Race", "Word Wizard", "Galaxy Drift"],
         nouns=["Board Game", "Strategy Game", "Family Board Game", "Card Game", "Party Game"],
         titles=["{model}: {noun}", "{model} {noun}", "{brand} {model}"], price=(14, 69), colors=None, attrs=a_board_game,
         tags=["games", "board games"], tag_pool=["family", "strategy", "party", "gift", "co-op"],
         openers=["{model} is a {noun_l} for {players} players ages {age}, with games lasting about {play_time}.",
                  "Gather the family for {model}, a fast-paced game that's easy to learn and hard to master.",
                  "In {model}, players race to outwit each other in about {play_time}."],
         features=["Includes a quick-start guide so you can play in minutes.", "Great for game night with friends.",
                   "Components are made from FSC-certified cardboard."]),
    spec(code="TOY-BLD", kind="building_set", unique_model=True, cat="Toys & Games > Building Sets", n=6, brands=["Quillby", "Pebblebrook", "Oakhaven"],
         models=["Space Station", "Fire Rescue", "Castle", "Race Car", "Treehouse", "Robot"],
         nouns=["Building Set", "Construction Kit", "Magnetic Tiles Set", "Brick Set"],
         titles=["{model} {noun} ({pieces} pcs)", "{brand} {model} {noun}"], price=p_building, colors=None, attrs=a_building,
         tags=["toys", "building"], tag_pool=["stem", "creative", "gift", "kids"],
         openers=["Build a {model_l} from {pieces} pieces, then take it apart and invent your own creation.",
                  "The {model} {noun_l} sparks creativity and fine-motor skills for builders aged {age}."],
         features=["Compatible with other major brick brands.", "Illustrated step-by-step instructions included.",
                   "A sturdy storage box keeps pieces together."]),
    spec(code="TOY-PLU", kind="plush", unique_model=True, cat="Toys & Games > Plush", n=6, brands=["Pebblebrook", "Quillby"],
         models=["Bramble Bear", "Sir Hops", "Luna the Llama", "Otis Otter", "Pip the Penguin", "Dozy Dino"],
         nouns=["Plush", "Plush Toy", "Stuffed Animal", "Soft Toy"],
         titles=["{model} {noun}", "{model} {size} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(12, 39), colors=["brown", "grey", "pink", "blue", "green", "white"], attrs=a_plush,
         tags=["toys", "plush"], tag_pool=["baby", "gift", "cuddly", "bedtime"],
         openers=["{model} is a super-soft {size} cuddle buddy for naps, car rides and bedtime stories.",
                  "Meet {model}: huggable, washable and ready for adventures."],
         features=["Filled with recycled fibres.", "Surface washable.", "Embroidered eyes make it safe for little ones."]),
    spec(code="TOY-PZL", kind="puzzle", unique_model=True, cat="Toys & Games > Puzzles", n=4, brands=["Quillby", "Oakhaven"],
         models=["Mountain Lake", "Night Market", "Ocean Friends", "World Map"],
         nouns=["1000-Piece Jigsaw Puzzle", "500-Piece Puzzle", "Floor Puzzle", "3D Puzzle"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], price=(12, 39), colors=None, attrs=a_puzzle,
         tags=["puzzle", "games"], tag_pool=["family", "rainy day", "gift"],
         openers=["{model} is a {pieces}-piece puzzle with vivid, detailed artwork for ages {age}.",
                  "Settle in for a cosy afternoon with this {pieces}-piece puzzle."],
         features=["Thick, snug-fitting pieces.", "A poster of the finished image is included."]),
    # ------------------------------------------------------------- furniture
    spec(code="FUR-SOF", kind="sofa", cat="Furniture > Sofas", n=7, brands=["Oakhaven", "Halcyon Home", "Nordvik"],
         models=["Oslo", "Camden", "Sierra", "Milo", "Brooklyn", "Aalto"],
         nouns=["3-Seater Sofa", "Sofa", "Loveseat", "Sectional Sofa", "Two-Seat Sofa", "Chesterfield Sofa"],
         titles=["{model} {noun}", "{model} {Material} {noun}", "{brand} {model} {noun}"],
         ctitles=["{model} {noun} in {Color} {Material}"],
         price=(499, 2399), colors=["grey", "beige", "green", "blue", "navy", "brown", "cream", "charcoal", "pink"], attrs=a_sofa,
         tags=["sofa", "living room"], tag_pool=["modern", "mid-century", "couch", "seating"],
         openers=["Sink into the {model}: deep seats, feather-wrapped cushions and {material} upholstery.",
                  "The {model} {noun_l} brings clean, mid-century lines to your living room.",
                  "A {size} couch that's comfortable enough for movie marathons and smart enough for guests."],
         features=["Solid {legs} legs.", "Removable, washable cushion covers.", "Kiln-dried hardwood frame with a 10-year warranty.",
                   W(lambda a: a["material"] == "performance fabric", "Stain-resistant performance fabric shrugs off spills and pet hair."),
                   "Upholstered in {color}."],
         pins=[dict(model="Harbor", brand="Oakhaven", noun="3-Seater Sofa", title="{model} {noun}", colors=["green", "grey"],
                    prices=[1299.0, 1249.0], attrs={"material": "velvet"})]),
    spec(code="FUR-SOF", kind="sofa_bed", cat="Furniture > Sofas", n=3, brands=["Oakhaven", "Halcyon Home", "Nordvik"],
         models=["Dormi", "Guestroom", "Studio"],
         nouns=["Sofa Bed", "Sleeper Sofa", "Pull-Out Sofa"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(399, 1499), colors=["grey", "blue", "beige", "green", "charcoal"], attrs=a_sofa_bed,
         tags=["sofa", "guest room"], tag_pool=["small spaces", "convertible", "living room"],
         openers=["By day a comfy {size} sofa, by night a {bed_size}-size bed for overnight guests.",
                  "The {model} converts from couch to bed in seconds, perfect for studio flats and spare rooms."],
         features=["A memory-foam mattress is built in.", "Upholstered in {material}.", "Storage under the seat for bedding."],
         pins=[dict(model="Loft", brand="Halcyon Home", noun="Convertible Sleeper", title="{model} {noun}", colors=["grey"],
                    prices=[899.0], attrs={"material": "linen", "bed_size": "queen"},
                    desc="A tailored three-seat couch that pulls out into a queen-size bed with a memory-foam mattress. "
                         "Upholstered in washed linen, with a hidden storage drawer for pillows and blankets.")]),
    spec(code="FUR-DSK", kind="desk", cat="Furniture > Desks", n=5, brands=["Oakhaven", "Nordvik", "Brightloom"],
         models=["Atelier", "Nook", "Workshop", "Scandi", "Haven"],
         nouns=["Writing Desk", "Computer Desk", "Desk", "Home Office Desk", "Corner Desk"],
         titles=["{model} {noun}", "{model} {Material} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(129, 699), colors=["brown", "white", "black", "beige"], attrs=a_desk,
         tags=["desk", "home office"], tag_pool=["work from home", "study", "minimalist"],
         openers=["The {model} is a {size} {material} desk with room for a monitor, laptop and a plant or two.",
                  "Create a calm home office with the {model} {noun_l}."],
         features=["Cable management keeps cords out of sight.", "A slim drawer for stationery.", "Levelling feet for uneven floors."]),
    spec(code="FUR-DSK", kind="standing_desk", cat="Furniture > Desks", n=3, brands=["Nordvik", "Oakhaven"],
         models=["Rise", "Elevate", "Flow"],
         nouns=["Standing Desk", "Sit-Stand Desk", "Electric Height-Adjustable Desk"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(249, 899), colors=["black", "white", "brown"], attrs=a_standing_desk,
         tags=["desk", "standing desk"], tag_pool=["ergonomic", "home office"],
         openers=["Switch between sitting and standing at the touch of a button with the {model}.",
                  "A {motor}-motor desk that glides from {height_range} quietly and smoothly."],
         features=["Four memory presets.", "Anti-collision sensor.", "Desktop in {material}."]),
    spec(code="FUR-CHR", kind="office_chair", cat="Furniture > Chairs", n=5, brands=["Nordvik", "Oakhaven", "Halcyon Home"],
         models=["ErgoFlex", "Posture", "Atlas", "Meridian", "Task Pro"],
         nouns=["Office Chair", "Ergonomic Office Chair", "Mesh Desk Chair", "Task Chair", "Executive Chair"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(99, 699), colors=["black", "grey", "white", "blue"], attrs=a_office_chair,
         tags=["chair", "home office"], tag_pool=["ergonomic", "work from home", "gaming"],
         pins=[dict(model="Posture", brand="Nordvik", noun="Mesh Desk Chair", title="{model} {noun}", colors=["black", "grey"],
                    prices=[149.99, 149.99], attrs={"material": "mesh", "lumbar_support": "yes"})],
         openers=["Sit comfortably through long workdays in the {model}, with a breathable {material} back.",
                  "The {model} {noun_l} supports good posture from the first meeting to the last email.",
                  "Designed for eight-hour days at the desk, the {model} adjusts to fit your body."],
         features=[W(lambda a: a["lumbar_support"] == "yes", "Adjustable lumbar support eases lower-back strain."),
                   W(lambda a: a["adjustable_arms"] == "yes", "4D armrests move up, down, in and out."),
                   "Smooth-rolling casters protect hard floors.", "Supports up to 136 kg."]),
    spec(code="FUR-CHR", kind="dining_chair", cat="Furniture > Chairs", n=3, brands=["Oakhaven", "Halcyon Home"],
         models=["Bistro", "Windsor", "Nordic"],
         nouns=["Dining Chair", "Dining Chairs (Set of 2)", "Side Chair"],
         titles=["{model} {noun}", "{model} {Material} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(79, 349), colors=["brown", "black", "white", "green"], attrs=a_dining_chair,
         tags=["chair", "dining room"], tag_pool=["kitchen", "mid-century"],
         openers=["A {material} dining chair with a gently curved back for long dinners.",
                  "The {model} brings timeless style to the kitchen table."],
         features=["Felt pads protect floors.", "Stackable for easy storage."]),
    spec(code="FUR-CHR", kind="armchair", cat="Furniture > Chairs", n=3, brands=["Oakhaven", "Halcyon Home", "Nordvik"],
         models=["Nest", "Cocoon", "Reader"],
         nouns=["Armchair", "Accent Chair", "Lounge Chair"],
         titles=["{model} {noun}", "{model} {Material} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(249, 999), colors=["green", "beige", "cream", "blue", "brown", "pink"], attrs=a_armchair,
         tags=["chair", "living room"], tag_pool=["reading nook", "accent", "cosy"],
         openers=["Curl up with a book in the {model}, a deep {material} {noun_l} with a high back.",
                  "A sculptural accent chair that makes any corner feel inviting."],
         features=["Solid wood legs.", "High-resilience foam seat.", "Upholstered in {color} {material}."]),
    spec(code="FUR-LMP", kind="desk_lamp", cat="Furniture > Lighting", n=4, brands=["Brightloom", "Lumen & Co"],
         models=["Beam", "Atelier", "Pivot", "Halo"],
         nouns=["Desk Lamp", "LED Desk Lamp", "Task Lamp", "Architect Lamp"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(24, 179), colors=["black", "white", "silver", "green", "yellow", "blue"], attrs=a_lamp("desk"),
         tags=["lamp", "lighting"], tag_pool=["home office", "study", "reading", "led"],
         openers=["The {model} puts bright, even light exactly where you need it on your desk.",
                  "An adjustable {material} task light for late-night study sessions and detailed work."],
         features=[W(lambda a: a.get("dimmable") == "yes", "Stepless dimming and three colour temperatures."),
                   "A weighted base keeps it steady.", "A fully articulated arm swings into position."],
         pins=[dict(model="Lumo Arc", brand="Brightloom", noun="LED Desk Lamp", title="{model} {noun}",
                    colors=["black", "white"], prices=[89.0, 89.0], attrs={"dimmable": "yes"})]),
    spec(code="FUR-LMP", kind="floor_lamp", cat="Furniture > Lighting", n=3, brands=["Brightloom", "Lumen & Co", "Oakhaven"],
         models=["Tall Oak", "Arc", "Tripod"],
         nouns=["Floor Lamp", "Arc Floor Lamp", "Tripod Floor Lamp"],
         titles=["{model} {noun}", "{brand} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(69, 349), colors=["black", "white", "brown", "silver"], attrs=a_lamp("floor"),
         tags=["lamp", "lighting"], tag_pool=["living room", "reading", "ambient"],
         openers=["A {material} floor lamp that casts a warm glow over the sofa.",
                  "Tall, slim and sculptural, the {model} lights a whole corner."],
         features=["A foot switch turns it on and off.", "Takes a standard E27 bulb."]),
    spec(code="FUR-LMP", kind="table_lamp", cat="Furniture > Lighting", n=3, brands=["Brightloom", "Lumen & Co"],
         models=["Dome", "Mushroom", "Glow"],
         nouns=["Table Lamp", "Bedside Lamp", "Ceramic Table Lamp"],
         titles=["{model} {noun}", "{brand} {model} {noun}"], ctitles=["{model} {noun} - {Color}"],
         price=(29, 199), colors=["white", "cream", "green", "blue", "pink", "black"], attrs=a_lamp("table"),
         tags=["lamp", "lighting"], tag_pool=["bedroom", "nightstand", "cosy"],
         openers=["A soft, diffused light for the nightstand or a side table.",
                  "The {model} {noun_l} adds a cosy glow for reading in bed."],
         features=[W(lambda a: a.get("dimmable") == "yes", "A touch dimmer with three brightness levels."),
                   "Handmade {material} body.", "Finished in {color}."]),
]


# ---------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------

NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


class StrictMap(dict):
    def __missing__(self, key):
        raise KeyError(f"missing placeholder {{{key}}}")


def fill(r, text, values):
    text = re.sub(r"\{r:(\d+)-(\d+)\}", lambda m: str(r.randint(int(m.group(1)), int(m.group(2)))), text)
    out = text.format_map(StrictMap(values))
    out = re.sub(r"\s+", " ", out).strip()
    out = re.sub(r"\s+([,:.)])", r"\1", out)
    out = re.sub(r"\(\s+", "(", out)
    out = re.sub(r"\b([Aa]) (?=[aeioAEIO]|8\d*\b|1[18]\b|1[18]\d\d\b)", r"\1n ", out)  # a -> an
    return out.replace(" - ", " - ").rstrip(" -")


def to_cents(r, dollars):
    d = max(1, int(dollars))
    end = r.choice([99, 0, 0]) if d >= 300 else r.choice([99, 99, 99, 99, 95, 49, 0])
    if end == 0:
        d = max(5, int(round(d / 5.0)) * 5)
    return d * 100 + end


def title_case(text):
    small = {"and", "with", "of"}
    return " ".join(w if w in small else w[:1].upper() + w[1:] for w in text.split())


def lower_noun(noun):
    keep = {"French"}
    return " ".join(w if w in keep or any(c.isupper() for c in w[1:]) else w.lower() for w in noun.split())


def fixed_cents(dollars):
    return int(round(dollars * 100))


def pick_contiguous(r, seq, lo, hi):
    k = r.randint(lo, min(hi, len(seq)))
    start = r.randint(0, len(seq) - k)
    return seq[start:start + k]


def make_variants(r, eid, sizes_kind, color, price, oos):
    sizes = {"shoe": (SHOE_SIZES, 5, 9), "apparel": (APPAREL_SIZES, 4, 6), "jeans": (WAIST_SIZES, 4, 6)}[sizes_kind]
    chosen = pick_contiguous(r, *sizes)
    code = COLORS[color][0]
    out = []
    for i, s in enumerate(chosen):
        v = {"sku": f"{eid}-{s}-{code}", "attributes": {"size": s, "color": color}}
        if i == len(chosen) - 1 and r.random() < 0.15:
            v["price"] = price + 500  # largest size costs a little more
        v["stock"] = 0 if oos else r.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 12])
        out.append(v)
    if not oos and all(v["stock"] == 0 for v in out):
        out[len(out) // 2]["stock"] = 3
    return out


def build_catalog():
    r = random.Random(SEED)
    counters = Counter()
    products = []
    for sp in SPECS:
        top = sp["cat"].split(" > ")[0]
        pinned = set((pin.get("model"), pin.get("gen", "")) for pin in sp["pins"])
        model_brand = {pin["model"]: pin["brand"] for pin in sp["pins"]}
        used = set()
        pins = list(sp["pins"])
        made = 0
        while made < sp["n"]:
            pin = pins.pop(0) if pins else None
            pn = pin or {}
            if pin:
                model, gen = pin["model"], pin.get("gen", "")
            else:
                for _ in range(500):
                    model, gen, noun = r.choice(sp["models"]), r.choice(sp["gens"]), r.choice(sp["nouns"])
                    key = model if sp["unique_model"] else (model, gen, noun)
                    if (model, gen) not in pinned and key not in used and (not sp["noun_ok"] or sp["noun_ok"](gen, noun)):
                        break
                else:
                    raise RuntimeError(f"ran out of model names for {sp['kind']}")
                used.add(key)
            if pin:
                noun = pn["noun"]
            # a model name always belongs to one brand
            brand = pn.get("brand") or model_brand.get(model) or r.choice(sp["brands"])
            model_brand.setdefault(model, brand)
            ctx = {"model": model, "gen": gen, "noun": noun}
            attrs = sp["attrs"](r, ctx)
            attrs.update(pn.get("attrs", {}))
            if attrs.get("connectivity") == "wired":
                attrs.pop("battery_life", None)
            gender = None
            if sp["genders"]:
                gender = pn.get("gender") or r.choice(sp["genders"])
                attrs["gender"] = gender
            if sp["colors"]:
                if "colors" in pn:
                    colors = pn["colors"]
                else:
                    size = r.choices([1, 2, 3], [70, 20, 10])[0]
                    colors = r.sample(sp["colors"], min(size, sp["n"] - made, len(sp["colors"])))
            else:
                colors = [None]
            if "prices" in pn:
                prices = [fixed_cents(x) for x in pn["prices"]]
            else:
                base = sp["price"](r, attrs, ctx) if callable(sp["price"]) else r.uniform(*sp["price"])
                base_c = to_cents(r, base)
                prices = []
                for _ in colors:
                    if r.random() < 0.6 or not prices:
                        prices.append(base_c)
                    else:
                        prices.append(max(499, base_c + r.choice([-1000, -500, 500, 1000, 1500])))
            colored_title = pn.get("colored_title", bool(sp["ctitles"]) and r.random() < 0.35)
            pattern = pn.get("title") or r.choice(sp["ctitles"] if colored_title else sp["titles"])
            family_desc = None
            for i, color in enumerate(colors):
                counters[sp["code"]] += 1
                eid = f"{sp['code']}-{counters[sp['code']]:04d}"
                slug = eid.lower()
                a = {}
                cword = None
                if color:
                    a["color"] = color
                    cword = (pn.get("color_words") or [None] * len(colors))[i] or r.choice(COLORS[color][1])
                a.update(attrs)
                gword = {"men": "Men's ", "women": "Women's "}.get(gender, "") if gender else ""
                values = dict(a)
                values.update({
                    "model": model, "gen": gen, "model_full": f"{model} {gen}".strip(), "model_l": model.lower(),
                    "brand": brand, "noun": noun, "noun_l": lower_noun(noun),
                    "Color": cword or "", "color": (cword or "").lower(), "gender": gword,
                    "Material": title_case(a.get("material", "")),
                    "pieces_t": a.get("pieces", "").title(),
                    "capacity_n": NUM_WORDS.get(num_in(a.get("capacity", "")), "") if sp["kind"] == "tent" else "",
                })
                title = fill(r, pattern, values)
                # description: siblings usually share the family copy (realistic near-duplicates)
                if "desc" in pn:
                    desc = pn["desc"]
                elif family_desc is not None and r.random() < 0.6:
                    desc = family_desc
                else:
                    sentences = [fill(r, r.choice(sp["openers"]), values)]
                    # attribute-specific sentences are preferred but not guaranteed, so some
                    # attributes (e.g. waterproof) only show up in the structured data
                    cond = [f[1] for f in sp["features"] if isinstance(f, tuple) and f[0](a)]
                    plain = [f for f in sp["features"] if not isinstance(f, tuple) and (color or "{color}" not in f)]
                    k = r.choice([1, 1, 2, 2, 2])
                    chosen = []
                    if cond and r.random() < 0.6:
                        chosen.append(r.choice(cond))
                    rest = [f for f in cond + plain if f not in chosen]
                    chosen += r.sample(rest, max(0, min(k - len(chosen), len(rest))))
                    r.shuffle(chosen)
                    for f in chosen:
                        sentences.append(fill(r, f, values))
                    closers = sp["closers"] or CLOSERS[top]
                    if r.random() < 0.5 or len(sentences) < 2:
                        sentences.append(r.choice(closers))
                    desc = " ".join(sentences)
                    if family_desc is None:
                        family_desc = desc
                price = prices[i]
                tags = list(sp["tags"])
                if "material" in a and r.random() < 0.4:
                    tags.append(a["material"].lower())
                if a.get("waterproof") == "yes":
                    tags.append("waterproof")
                for t in r.sample(sp["tag_pool"], min(len(sp["tag_pool"]), r.choice([1, 1, 2]))):
                    tags.append(t)
                tags = list(dict.fromkeys(t.lower() for t in tags))
                oos = (pn.get("stock") is None and not pin and r.random() < 0.10)
                p = {"external_id": eid, "title": title}
                if pin or r.random() > 0.02:
                    p["description"] = desc
                p["brand"] = brand
                p["category"] = sp["cat"]
                if pin or r.random() > 0.04:
                    p["tags"] = tags
                p["price"] = price
                p["currency"] = "USD"
                if "compare" in pn:
                    p["compare_at_price"] = fixed_cents(pn["compare"])
                elif not pin and r.random() < 0.2:
                    p["compare_at_price"] = (int(price / 100 * r.uniform(1.15, 1.45)) * 100) + 99
                    assert p["compare_at_price"] > price
                if sp["variants"] and color and r.random() < 0.85:
                    p["variants"] = make_variants(r, eid, sp["variants"], color, price, oos)
                if pin or r.random() > 0.03:
                    p["image_urls"] = [f"{CDN}{slug}.jpg"] + [f"{CDN}{slug}-{j}.jpg" for j in range(2, 1 + r.choice([1, 1, 2, 3]))]
                p["url"] = f"{SHOP}{slug}"
                if "variants" in p:
                    p["stock"] = sum(v["stock"] for v in p["variants"])
                else:
                    p["stock"] = 0 if oos else r.choice([1, 2, 3, 5, 8, 12, 15, 20, 25, 40, 60, 120])
                p["attributes"] = a
                p["active"] = True if pin else r.random() > 0.03
                # hidden fields used for labelling only (stripped on output)
                p["_kind"] = sp["kind"]
                p["_model"] = model
                p["_gen"] = gen
                p["_top"] = top
                p["_sku_query"] = bool(pn.get("sku_query"))
                products.append(p)
                made += 1
    return products


# ---------------------------------------------------------------------------
# queries: labels are computed from predicates over the generated products
# ---------------------------------------------------------------------------

def kind(*ks):
    return lambda p: p["_kind"] in ks


def at(key, *vals):
    return lambda p: p["attributes"].get(key) in vals


def contains(key, sub):
    return lambda p: sub in p["attributes"].get(key, "").lower()


def attr_num(key, test):
    return lambda p: key in p["attributes"] and test(num_in(p["attributes"][key]))


def AND(*fs):
    return lambda p: all(f(p) for f in fs)


def OR(*fs):
    return lambda p: any(f(p) for f in fs)


def NOT(f):
    return lambda p: not f(p)


def under(dollars):  # strictly below, price in cents
    return lambda p: p["price"] < dollars * 100


def over(dollars):  # strictly above
    return lambda p: p["price"] > dollars * 100


def at_most(dollars):  # "up to", "bis", "até": the amount itself included
    return lambda p: p["price"] <= dollars * 100


def at_least(dollars):  # "at least", "mindestens": the amount itself included
    return lambda p: p["price"] >= dollars * 100


def model(k, m, g=None):
    return lambda p: p["_kind"] == k and p["_model"] == m and (g is None or p["_gen"] == g)


def age_between(lo, hi):  # toys whose age rating ("6+") is between lo and hi
    return attr_num("age", lambda a: lo <= a <= hi)


WATERPROOF = at("waterproof", "yes")
WIRELESS = at("connectivity", "wireless")
INSULATED = at("insulated", "yes")
STAINLESS = contains("material", "stainless steel")
JACKETS = kind("rain_jacket", "insulated_jacket", "light_jacket")
COFFEE_MACHINES = kind("drip_coffee", "espresso")
TOYS = kind("board_game", "building_set", "plush", "puzzle")
REAL_LEATHER = AND(contains("material", "leather"), NOT(contains("material", "vegan")))
NOISE_CANCELLING = at("noise_cancelling", "yes")
CAST_IRON = contains("material", "cast iron")
NOT_WOMENS = lambda p: p["attributes"].get("gender") != "women"  # men's, unisex or ungendered
# a pack big enough for a day hike's water, food and layers
HIKING_PACK = AND(kind("backpack"), attr_num("capacity", lambda c: c >= 25))
HIKING_GEAR = OR(kind("boot", "trail_shoe", "headlamp", "vacuum_flask"), HIKING_PACK, AND(kind("water_bottle"), INSULATED))
RUNNING_GEAR = OR(kind("running_shoe", "trail_shoe", "headlamp"),
                  AND(kind("water_bottle"), NOT(at("material", "glass"))),
                  AND(kind("earbuds"), WIRELESS, NOT(at("water_resistance", "none"))))
COFFEE_GIFT = kind("drip_coffee", "espresso", "manual_coffee")
COFFEE_GIFT_LOOSE = OR(kind("mug", "travel_mug"), AND(kind("kettle"), at("temperature_control", "yes")))
SMALL_GIFT = kind("mug", "travel_mug", "plush", "puzzle", "board_game", "headlamp", "fragrance", "wallet",
                  "earbuds", "power_bank", "hair_care", "serum")
KIDS_GAMES = kind("board_game", "building_set", "puzzle")


def max_players(test):  # board games: "2-5" players
    return lambda p: "players" in p["attributes"] and test(int(p["attributes"]["players"].split("-")[1]))


KINDS = ("exact", "descriptive", "synonym", "misspelling", "attribute", "gift", "multilingual")
LANGS = ("en", "es", "fr", "de", "pt")
# minimum number of queries per kind, and of non-English queries per language (checked at the end)
MIN_PER_KIND = {"exact": 14, "descriptive": 22, "synonym": 20, "misspelling": 16, "attribute": 18, "gift": 14,
                "multilingual": 48}
MIN_PER_LANG = {"es": 10, "fr": 10, "de": 10, "pt": 10}
MIN_QUERIES = 170
HOLDOUT_EVERY = 3  # the 3rd, 6th, 9th ... query of each kind (and language) is "holdout", the rest "tune"


def build_queries(products):
    sku_target = next(p for p in products if p["_sku_query"])
    silver_anc = next(p for p in products if model("headphones", "Pulse ANC", "700")(p) and p["attributes"].get("color") == "silver")
    Q = lambda text, g3, g2=None, g1=None, lang="en": (text, lang, g3, g2, g1)
    groups = {
        "exact": [
            Q("Stride Pro 3", model("running_shoe", "Stride Pro", "3"), model("running_shoe", "Stride Pro"), kind("running_shoe")),
            Q("Everheat Travel Tumbler", model("travel_mug", "Everheat"), kind("travel_mug"), AND(kind("water_bottle", "vacuum_flask"), INSULATED)),
            Q("Pulse ANC 700", model("headphones", "Pulse ANC", "700"), model("headphones", "Pulse ANC"),
              AND(kind("headphones", "earbuds"), at("noise_cancelling", "yes"))),
            Q("Summit Dome 2 tent", model("tent", "Summit Dome", "2"), None, kind("tent")),
            Q("BrewMaster 12", model("drip_coffee", "BrewMaster", "12"), model("drip_coffee", "BrewMaster"), kind("drip_coffee")),
            Q("Harbor sofa", model("sofa", "Harbor"), None, kind("sofa", "sofa_bed")),
            Q("vortex 900 blender", model("blender", "Vortex", "900"), model("blender", "Vortex"), kind("blender")),
            Q("Ridgeline WP", model("trail_shoe", "Ridgeline", "WP"), model("trail_shoe", "Ridgeline"), AND(kind("trail_shoe"), WATERPROOF)),
            Q("Juice Brick 20K", model("power_bank", "Juice Brick", "20K"), model("power_bank", "Juice Brick"), kind("power_bank")),
            Q("Lumo Arc lamp", model("desk_lamp", "Lumo Arc"), None, kind("desk_lamp")),
            Q("Nomad Daypack 22", model("backpack", "Nomad Daypack", "22"), None, kind("backpack")),
            Q("Heritage Bifold Wallet", model("wallet", "Heritage"), None, kind("wallet")),
            Q(sku_target["external_id"], lambda p: p["external_id"] == sku_target["external_id"],
              model(sku_target["_kind"], sku_target["_model"], sku_target["_gen"]), None),
            Q("Posture Mesh Desk Chair", model("office_chair", "Posture"), None, kind("office_chair")),
            Q("Iron Forge skillet", model("frying_pan", "Iron Forge"), None, AND(kind("frying_pan"), CAST_IRON)),
            Q("VoltCube 65W", model("wall_charger", "VoltCube", "65W"), model("wall_charger", "VoltCube"),
              AND(kind("wall_charger"), attr_num("wattage", lambda w: w >= 65))),
            Q("Loft Convertible Sleeper", model("sofa_bed", "Loft"), None, kind("sofa_bed")),
            Q("HydroPeak 750", model("water_bottle", "HydroPeak", "750"), model("water_bottle", "HydroPeak"),
              AND(kind("water_bottle"), INSULATED)),
            Q(silver_anc["external_id"], lambda p: p["external_id"] == silver_anc["external_id"],
              model("headphones", "Pulse ANC", "700"), model("headphones", "Pulse ANC")),
        ],
        "descriptive": [
            Q("something to keep my coffee hot on the go", kind("travel_mug"), AND(kind("water_bottle", "vacuum_flask"), INSULATED), kind("mug")),
            Q("shoes for trail running in the rain", AND(kind("trail_shoe"), WATERPROOF), kind("trail_shoe"), AND(kind("boot"), WATERPROOF)),
            Q("make smoothies at home", kind("blender")),
            Q("keep my phone charged while travelling", kind("power_bank"), kind("wall_charger")),
            Q("comfortable chair for working from home", kind("office_chair"), None, kind("armchair", "dining_chair", "desk", "standing_desk")),
            Q("stay warm sleeping outdoors in freezing weather", AND(kind("sleeping_bag"), attr_num("temperature_rating", lambda t: t <= -5)),
              kind("sleeping_bag"), OR(kind("insulated_jacket"), AND(kind("tent"), at("season", "4-season")))),
            Q("block out engine noise on long flights", AND(kind("headphones", "earbuds"), at("noise_cancelling", "yes")), kind("headphones", "earbuds")),
            Q("protect my face from the sun", kind("sunscreen"), AND(kind("moisturizer"), lambda p: "spf" in p["attributes"])),
            Q("light for hiking at night", kind("headlamp")),
            Q("boil water for tea quickly", AND(kind("kettle"), at("type", "electric")), kind("kettle")),
            Q("bag for a weekend getaway", kind("duffel"), None, AND(kind("backpack"), attr_num("capacity", lambda c: c >= 30))),
            Q("reading light next to my bed", kind("table_lamp"), kind("desk_lamp", "floor_lamp")),
            Q("warm coat for snowy winters", kind("insulated_jacket"), None, kind("rain_jacket")),
            Q("keep soup hot for lunch on the ski slopes", kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED), kind("travel_mug")),
            Q("shoes for running on muddy trails", AND(kind("trail_shoe"), attr_num("lug_depth", lambda d: d >= 5)), kind("trail_shoe"),
              AND(kind("boot"), WATERPROOF)),
            Q("a speaker I can take in the pool", AND(kind("speaker"), WATERPROOF), kind("speaker")),
            Q("my lower back hurts after a day at my desk", AND(kind("office_chair"), at("lumbar_support", "yes")), kind("office_chair"),
              kind("standing_desk")),
            Q("sear a steak at home", AND(kind("frying_pan"), at("material", "cast iron", "carbon steel", "stainless steel")),
              kind("frying_pan"), kind("cookware_set")),
            Q("slow-cook a stew in the oven", AND(kind("pot"), CAST_IRON), kind("pot"), kind("cookware_set")),
            Q("make lattes at home", AND(kind("espresso"), at("milk_frother", "yes")), kind("espresso"), kind("drip_coffee", "manual_coffee")),
            Q("stay dry walking the dog in the rain", kind("rain_jacket"), AND(JACKETS, WATERPROOF), AND(kind("boot"), WATERPROOF)),
            Q("somewhere for guests to sleep in a small flat", kind("sofa_bed"), None, kind("sofa")),
            Q("dry my hair quickly when I travel", AND(kind("hair_dryer"), at("foldable", "yes")), kind("hair_dryer")),
            Q("game night with a big group of friends", AND(kind("board_game"), max_players(lambda n: n >= 5)), kind("board_game"), kind("puzzle")),
            Q("carry water, snacks and a jacket on a day hike", HIKING_PACK, kind("backpack")),
            Q("work standing up", kind("standing_desk"), None, kind("desk")),
        ],
        "synonym": [
            Q("sneakers", kind("casual_shoe"), kind("running_shoe"), kind("trail_shoe")),
            Q("couch", kind("sofa", "sofa_bed"), None, kind("armchair")),
            Q("earphones", kind("earbuds"), None, kind("headphones")),
            Q("rucksack", kind("backpack"), None, kind("duffel")),
            Q("flask", OR(kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED)), kind("water_bottle"), kind("travel_mug")),
            Q("trainers", kind("running_shoe", "casual_shoe"), kind("trail_shoe")),
            Q("torch for camping", kind("headlamp")),
            Q("portable phone charger", kind("power_bank"), kind("wall_charger")),
            Q("skillet", kind("frying_pan"), kind("cookware_set"), kind("pot")),
            Q("sweatshirt", kind("hoodie"), None, kind("tee")),
            Q("boombox", kind("speaker")),
            Q("denim pants", kind("jeans")),
            Q("thermos", kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED), kind("travel_mug")),
            Q("raincoat", kind("rain_jacket"), AND(JACKETS, WATERPROOF), JACKETS),
            Q("settee", kind("sofa"), kind("sofa_bed"), kind("armchair")),
            Q("liquidiser", kind("blender")),
            Q("flashlight", kind("headlamp")),
            Q("sunblock", kind("sunscreen"), AND(kind("moisturizer"), lambda p: "spf" in p["attributes"])),
            Q("billfold", kind("wallet")),
            Q("teddy bear", model("plush", "Bramble Bear"), kind("plush")),
            Q("standard lamp", kind("floor_lamp"), None, kind("table_lamp")),
            Q("swivel chair", kind("office_chair")),
            Q("futon", kind("sofa_bed"), None, kind("sofa")),
            Q("cologne", kind("fragrance")),
            Q("jogging shoes", kind("running_shoe"), kind("trail_shoe"), kind("casual_shoe")),
        ],
        "misspelling": [
            Q("hedphones", kind("headphones"), None, kind("earbuds")),
            Q("blendr", kind("blender")),
            Q("backpak", kind("backpack"), None, kind("duffel")),
            Q("sofa bedd", kind("sofa_bed"), None, kind("sofa")),
            Q("waterprof jacket", AND(JACKETS, WATERPROOF), JACKETS),
            Q("expresso machine", kind("espresso"), None, kind("drip_coffee", "manual_coffee")),
            Q("sleping bag", kind("sleeping_bag")),
            Q("wireles earbuds", AND(kind("earbuds"), WIRELESS), kind("earbuds"), AND(kind("headphones"), WIRELESS)),
            Q("bluetooth speeker", kind("speaker")),
            Q("cofee mug", kind("mug"), kind("travel_mug")),
            Q("runing shoes", kind("running_shoe"), kind("trail_shoe"), kind("casual_shoe")),
            Q("stanless steel water botle", AND(kind("water_bottle"), STAINLESS), kind("water_bottle", "vacuum_flask")),
            Q("hoddie", kind("hoodie"), None, kind("tee")),
            Q("rain jaket", kind("rain_jacket"), None, JACKETS),
            Q("ofice chair", kind("office_chair"), None, kind("dining_chair", "armchair")),
            Q("noise cancelling headphons", AND(kind("headphones"), NOISE_CANCELLING), kind("headphones"), AND(kind("earbuds"), NOISE_CANCELLING)),
            Q("jigsaw puzzel", kind("puzzle"), None, kind("board_game")),
            Q("electric kettel", AND(kind("kettle"), at("type", "electric")), kind("kettle")),
            Q("sunscren", kind("sunscreen"), AND(kind("moisturizer"), lambda p: "spf" in p["attributes"])),
        ],
        "attribute": [
            Q("running shoes under $100", AND(kind("running_shoe"), under(100)), kind("running_shoe"), AND(kind("trail_shoe"), under(100))),
            Q("headphones below 50 dollars", AND(kind("headphones"), under(50)), kind("headphones"), AND(kind("earbuds"), under(50))),
            Q("tent over $200", AND(kind("tent"), over(200)), kind("tent")),
            Q("hoodie in red", AND(kind("hoodie"), at("color", "red")), kind("hoodie")),
            Q("black backpack", AND(kind("backpack"), at("color", "black")), kind("backpack"), AND(kind("duffel"), at("color", "black"))),
            Q("leather wallet", AND(kind("wallet"), REAL_LEATHER), kind("wallet")),
            Q("stainless steel water bottle", AND(kind("water_bottle"), STAINLESS), kind("water_bottle", "vacuum_flask"), kind("travel_mug")),
            Q("waterproof hiking boots", AND(kind("boot"), WATERPROOF), kind("boot"), AND(kind("trail_shoe"), WATERPROOF)),
            Q("coffee maker under $50", AND(COFFEE_MACHINES, under(50)), OR(COFFEE_MACHINES, kind("manual_coffee"))),
            Q("2 person tent", AND(kind("tent"), at("capacity", "2-person")), kind("tent")),
            Q("cast iron skillet", AND(kind("frying_pan"), at("material", "cast iron")), kind("frying_pan"),
              AND(kind("pot"), contains("material", "cast iron"))),
            Q("women's jeans", AND(kind("jeans"), at("gender", "women")), kind("jeans")),
            Q("blue dress under $60", AND(kind("dress"), at("color", "blue"), under(60)), kind("dress")),
            Q("65W USB-C charger", AND(kind("wall_charger"), attr_num("wattage", lambda w: w >= 65)), kind("wall_charger"), kind("power_bank")),
            Q("office chair under $200", AND(kind("office_chair"), under(200)), kind("office_chair")),
            Q("pink running shoes", AND(kind("running_shoe"), at("color", "pink")), kind("running_shoe"),
              AND(kind("trail_shoe", "casual_shoe"), at("color", "pink"))),
            Q("waterproof bluetooth speaker under $100", AND(kind("speaker"), WATERPROOF, under(100)), kind("speaker")),
            Q("down sleeping bag", AND(kind("sleeping_bag"), at("material", "down")), kind("sleeping_bag")),
            Q("merino wool t-shirt", AND(kind("tee"), contains("material", "merino")), kind("tee")),
            Q("wired headphones", AND(kind("headphones"), at("connectivity", "wired")), kind("headphones"),
              AND(kind("earbuds"), at("connectivity", "wired"))),
            Q("velvet sofa", AND(kind("sofa", "sofa_bed"), at("material", "velvet")), kind("sofa", "sofa_bed"),
              AND(kind("armchair"), at("material", "velvet"))),
            Q("women's hiking boots", AND(kind("boot"), at("gender", "women")), kind("boot")),
            Q("20000mAh power bank", AND(kind("power_bank"), attr_num("capacity", lambda c: c >= 20000)), kind("power_bank")),
        ],
        # grade 3: a clearly fitting gift that meets every stated constraint (age, budget, who it is for);
        # grade 2: a fitting gift that misses a stated constraint; grade 1: a loosely fitting one
        "gift": [
            Q("gift for a 5 year old", AND(TOYS, attr_num("age", lambda a: a <= 5)), None, TOYS),
            Q("gift for a coffee lover", COFFEE_GIFT, None, COFFEE_GIFT_LOOSE),
            Q("present for a 6 year old who likes building things", AND(kind("building_set"), attr_num("age", lambda a: a <= 6)),
              kind("building_set"), AND(TOYS, attr_num("age", lambda a: a <= 6))),
            Q("something for my dad who hikes", AND(HIKING_GEAR, NOT_WOMENS), HIKING_GEAR,
              OR(kind("tent", "sleeping_bag", "backpack"), AND(kind("rain_jacket"), NOT_WOMENS))),
            Q("gift for a runner under $50", AND(RUNNING_GEAR, under(50)), RUNNING_GEAR),
            Q("housewarming gift", kind("mug", "manual_coffee", "kettle", "knife_set", "pot", "frying_pan", "cookware_set", "table_lamp"),
              None, kind("drip_coffee", "blender", "knife", "travel_mug", "floor_lamp")),
            Q("gift for a tea drinker", kind("kettle", "mug"), None, kind("travel_mug", "vacuum_flask")),
            Q("gift for someone who loves camping", kind("tent", "sleeping_bag", "headlamp", "vacuum_flask"), None,
              OR(kind("manual_coffee", "power_bank", "water_bottle"), AND(kind("speaker"), WATERPROOF))),
            Q("birthday present for a teenager",
              OR(AND(KIDS_GAMES, attr_num("age", lambda a: a >= 10)), AND(kind("earbuds"), WIRELESS),
                 AND(kind("speaker"), at("connectivity", "Bluetooth 5.3"))),
              None, OR(AND(kind("headphones"), WIRELESS), kind("hoodie"))),
            Q("gift for a newborn baby", AND(kind("plush"), at("age", "0+")), None, AND(KIDS_GAMES, attr_num("age", lambda a: a <= 3))),
            Q("stocking stuffer under $25", AND(SMALL_GIFT, under(25)), SMALL_GIFT),
            Q("gift for someone who works from home", OR(kind("desk_lamp"), AND(kind("headphones", "earbuds"), NOISE_CANCELLING)), None,
              kind("office_chair", "standing_desk", "desk", "headphones", "mug")),
            Q("gift for a home cook", kind("knife", "knife_set", "frying_pan", "pot", "cookware_set"), None, kind("blender", "kettle")),
            Q("gift for a music lover", kind("headphones", "earbuds", "speaker")),
            Q("present for my boyfriend who travels a lot",
              OR(kind("duffel", "power_bank"), AND(kind("headphones", "earbuds"), NOISE_CANCELLING), AND(kind("wallet"), at("rfid_blocking", "yes"))),
              None, kind("backpack", "wall_charger", "headphones", "earbuds", "travel_mug", "wallet")),
            Q("gift for a 10 year old under $30", AND(KIDS_GAMES, age_between(6, 10), under(30)), AND(KIDS_GAMES, age_between(6, 10)),
              AND(TOYS, attr_num("age", lambda a: a <= 10))),
            Q("gift for someone who is always cold", kind("insulated_jacket", "hoodie"), None, kind("travel_mug", "vacuum_flask")),
            Q("wedding gift", kind("knife_set", "cookware_set", "pot", "espresso"), None,
              kind("kettle", "blender", "drip_coffee", "frying_pan", "knife", "mug", "manual_coffee")),
        ],
        # Spanish, French, German and Portuguese, whatever else they are (names, needs, gifts, constraints);
        # prices are read in the catalog's currency whatever the symbol
        "multilingual": [
            Q("zapatillas para correr", kind("running_shoe"), kind("trail_shoe"), kind("casual_shoe"), lang="es"),
            Q("casque sans fil", AND(kind("headphones"), WIRELESS), kind("headphones"), AND(kind("earbuds"), WIRELESS), lang="fr"),
            Q("Kaffeemaschine", COFFEE_MACHINES, kind("manual_coffee"), lang="de"),
            Q("mochila negra", AND(kind("backpack"), at("color", "black")), kind("backpack"), lang="es"),
            Q("chaussures de randonnée imperméables", AND(kind("boot", "trail_shoe"), WATERPROOF), kind("boot", "trail_shoe"), lang="fr"),
            Q("Edelstahl Trinkflasche", AND(kind("water_bottle"), STAINLESS), kind("water_bottle", "vacuum_flask"), lang="de"),
            Q("sudadera con capucha roja", AND(kind("hoodie"), at("color", "red")), kind("hoodie"), lang="es"),
            Q("lampe de bureau", kind("desk_lamp"), kind("floor_lamp", "table_lamp"), lang="fr"),
            Q("Schlafsack", kind("sleeping_bag"), lang="de"),
            Q("Zelt für 4 Personen", AND(kind("tent"), at("capacity", "4-person")), kind("tent"), lang="de"),
            Q("auriculares inalámbricos", AND(kind("headphones", "earbuds"), WIRELESS), kind("headphones", "earbuds"), lang="es"),
            Q("robe noire", AND(kind("dress"), at("color", "black")), kind("dress"), lang="fr"),
            Q("sartén antiadherente", AND(kind("frying_pan"), contains("material", "nonstick")), kind("frying_pan"),
              AND(kind("cookware_set"), contains("material", "nonstick")), lang="es"),
            Q("Rucksack wasserdicht", AND(kind("backpack"), WATERPROOF), kind("backpack"), lang="de"),
            Q("bouilloire électrique", AND(kind("kettle"), at("type", "electric")), kind("kettle"), lang="fr"),
            # Spanish
            Q("chaqueta impermeable para la lluvia", kind("rain_jacket"), AND(JACKETS, WATERPROOF), JACKETS, lang="es"),
            Q("zapatillas de montaña por menos de 100", AND(kind("trail_shoe"), under(100)), kind("trail_shoe"),
              AND(kind("boot"), under(100)), lang="es"),
            Q("cafetera por menos de 50", AND(COFFEE_MACHINES, under(50)), OR(COFFEE_MACHINES, kind("manual_coffee")), lang="es"),
            Q("tienda de campaña para 2 personas", AND(kind("tent"), at("capacity", "2-person")), kind("tent"), lang="es"),
            Q("termo de acero inoxidable", kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED), kind("travel_mug"), lang="es"),
            Q("regalo para un niño de 6 años", AND(TOYS, attr_num("age", lambda a: a <= 6)), None, TOYS, lang="es"),
            Q("algo para que el café no se enfríe en el trabajo", kind("travel_mug"), AND(kind("water_bottle", "vacuum_flask"), INSULATED),
              kind("mug"), lang="es"),
            Q("sofá cama gris", AND(kind("sofa_bed"), at("color", "grey", "charcoal")), kind("sofa_bed"), kind("sofa"), lang="es"),
            Q("auriculares con cancelación de ruido de más de 200 dólares", AND(kind("headphones", "earbuds"), NOISE_CANCELLING, over(200)),
              AND(kind("headphones", "earbuds"), NOISE_CANCELLING), kind("headphones", "earbuds"), lang="es"),
            # French
            Q("sac à dos pour randonnée", HIKING_PACK, kind("backpack"), lang="fr"),
            Q("veste imperméable rouge", AND(JACKETS, WATERPROOF, at("color", "red")), AND(JACKETS, WATERPROOF),
              AND(JACKETS, at("color", "red")), lang="fr"),
            Q("poêle en fonte", AND(kind("frying_pan"), CAST_IRON), kind("frying_pan"), AND(kind("pot"), CAST_IRON), lang="fr"),
            Q("écouteurs sans fil à moins de 80", AND(kind("earbuds"), WIRELESS, under(80)), AND(kind("earbuds"), WIRELESS),
              AND(kind("headphones"), WIRELESS, under(80)), lang="fr"),
            Q("cadeau pour un amateur de café", COFFEE_GIFT, None, COFFEE_GIFT_LOOSE, lang="fr"),
            Q("lampe de chevet", kind("table_lamp"), kind("desk_lamp", "floor_lamp"), lang="fr"),
            Q("sac de couchage en duvet plus de 200", AND(kind("sleeping_bag"), at("material", "down"), over(200)),
              AND(kind("sleeping_bag"), at("material", "down")), kind("sleeping_bag"), lang="fr"),
            Q("pour dormir au chaud en camping l'hiver", AND(kind("sleeping_bag"), attr_num("temperature_rating", lambda t: t <= -5)),
              kind("sleeping_bag"), OR(kind("insulated_jacket"), AND(kind("tent"), at("season", "4-season"))), lang="fr"),
            Q("t-shirt en lin", AND(kind("tee"), at("material", "linen")), kind("tee"), lang="fr"),
            Q("bouteille isotherme moins de 30", AND(OR(kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED)), under(30)),
              OR(kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED)), kind("water_bottle", "travel_mug"), lang="fr"),
            # German
            Q("Rucksack für Wanderungen", HIKING_PACK, kind("backpack"), lang="de"),
            Q("Laufschuhe unter 100 €", AND(kind("running_shoe"), under(100)), kind("running_shoe"), AND(kind("trail_shoe"), under(100)), lang="de"),
            Q("Regenjacke bis 100", AND(kind("rain_jacket"), at_most(100)), kind("rain_jacket"), lang="de"),
            Q("Kopfhörer mit Geräuschunterdrückung", AND(kind("headphones"), NOISE_CANCELLING), AND(kind("earbuds"), NOISE_CANCELLING),
              kind("headphones"), lang="de"),
            Q("Geschenk für Kaffeeliebhaber", COFFEE_GIFT, None, COFFEE_GIFT_LOOSE, lang="de"),
            Q("Wasserkocher aus Glas", AND(kind("kettle"), at("type", "electric"), at("material", "glass")),
              AND(kind("kettle"), at("type", "electric")), kind("kettle"), lang="de"),
            Q("Daunenjacke über 200", AND(kind("insulated_jacket"), at("material", "down"), over(200)),
              AND(kind("insulated_jacket"), at("material", "down")), kind("insulated_jacket"), lang="de"),
            Q("Espressomaschine mindestens 300 €", AND(kind("espresso"), at_least(300)), kind("espresso"), kind("drip_coffee"), lang="de"),
            Q("damit mein Handy unterwegs nicht leer wird", kind("power_bank"), kind("wall_charger"), lang="de"),
            Q("rote Trinkflasche", AND(kind("water_bottle"), at("color", "red")), kind("water_bottle"),
              AND(kind("vacuum_flask"), at("color", "red")), lang="de"),
            Q("Geldbörse aus Leder", AND(kind("wallet"), REAL_LEATHER), kind("wallet"), lang="de"),
            # Portuguese (Brazil)
            Q("tênis de corrida", kind("running_shoe"), kind("trail_shoe"), kind("casual_shoe"), lang="pt"),
            Q("fone de ouvido sem fio", AND(kind("headphones", "earbuds"), WIRELESS), kind("headphones", "earbuds"), lang="pt"),
            Q("mochila para trilha", HIKING_PACK, kind("backpack"), lang="pt"),
            Q("jaqueta impermeável", AND(JACKETS, WATERPROOF), JACKETS, lang="pt"),
            Q("tênis de corrida até 100", AND(kind("running_shoe"), at_most(100)), kind("running_shoe"),
              AND(kind("trail_shoe"), at_most(100)), lang="pt"),
            Q("garrafa térmica abaixo de 40", AND(OR(kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED)), under(40)),
              OR(kind("vacuum_flask"), AND(kind("water_bottle"), INSULATED)), kind("travel_mug"), lang="pt"),
            Q("cafeteira elétrica por menos de 50", AND(COFFEE_MACHINES, under(50)), COFFEE_MACHINES, kind("manual_coffee"), lang="pt"),
            Q("barraca para 4 pessoas", AND(kind("tent"), at("capacity", "4-person")), kind("tent"), lang="pt"),
            Q("cadeira de escritório mais de 300", AND(kind("office_chair"), over(300)), kind("office_chair"), lang="pt"),
            Q("moletom com capuz vermelho", AND(kind("hoodie"), at("color", "red")), kind("hoodie"), lang="pt"),
            Q("panela de ferro fundido", AND(kind("pot", "frying_pan"), CAST_IRON), kind("pot", "frying_pan"), kind("cookware_set"), lang="pt"),
            Q("presente para quem ama café", COFFEE_GIFT, None, COFFEE_GIFT_LOOSE, lang="pt"),
            Q("algo para manter a água gelada na academia", AND(kind("water_bottle"), INSULATED), kind("water_bottle"),
              kind("vacuum_flask", "travel_mug"), lang="pt"),
            Q("sofá de veludo verde", AND(kind("sofa", "sofa_bed"), at("material", "velvet"), at("color", "green")),
              kind("sofa", "sofa_bed"), AND(kind("armchair"), at("material", "velvet")), lang="pt"),
            Q("presente para criança de 8 anos", AND(TOYS, age_between(5, 8)), None, TOYS, lang="pt"),
            Q("carregador portátil para celular", kind("power_bank"), kind("wall_charger"), lang="pt"),
        ],
    }
    out = []
    seen = Counter()  # queries so far per (kind, language), for the split
    for qkind, qs in groups.items():
        for text, lang, g3, g2, g1 in qs:
            rel = {}
            for p in products:
                if not p["active"]:
                    continue  # inactive products should never be returned, so they are never relevant
                g = 3 if g3(p) else 2 if g2 and g2(p) else 1 if g1 and g1(p) else 0
                if g:
                    rel[p["external_id"]] = g
            rel = dict(sorted(rel.items(), key=lambda kv: (-kv[1], kv[0])))
            seen[qkind, lang] += 1
            split = "holdout" if seen[qkind, lang] % HOLDOUT_EVERY == 0 else "tune"
            out.append({"query": text, "kind": qkind, "lang": lang, "split": split, "relevant": rel})
    return out


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def public(p):
    return {k: v for k, v in p.items() if not k.startswith("_")}


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


CSV_HEADER = ["external_id", "title", "description", "brand", "category", "tags", "price", "currency",
              "compare_at_price", "stock", "image_urls", "url", "active", "attr.color", "attr.material"]


def csv_rows(products):
    chosen = []
    for top in dict.fromkeys(p["_top"] for p in products):
        cands = [p for p in products if p["_top"] == top and p["active"]]
        cands.sort(key=lambda p: (not ('"' in p.get("description", "") or "compare_at_price" in p), p["external_id"]))
        chosen.append(cands[0])
    chosen.append(next(p for p in products if not p["active"]))
    for p in products:  # top up to 10 with a product lacking a description, if any
        if len(chosen) >= 10:
            break
        if p not in chosen and "description" not in p:
            chosen.append(p)
    for p in products:
        if len(chosen) >= 10:
            break
        if p not in chosen:
            chosen.append(p)
    rows = []
    for p in chosen[:10]:
        a = p.get("attributes", {})
        rows.append([p["external_id"], p["title"], p.get("description", ""), p.get("brand", ""), p["category"],
                     "|".join(p.get("tags", [])), money(p["price"]), p["currency"],
                     money(p["compare_at_price"]) if "compare_at_price" in p else "", str(p["stock"]),
                     "|".join(p.get("image_urls", [])), p["url"], "true" if p["active"] else "false",
                     a.get("color", ""), a.get("material", "")])
    return rows


def main():
    products = build_catalog()
    queries = build_queries(products)

    with open(os.path.join(HERE, "dev-catalog.json"), "w", encoding="utf-8") as f:
        json.dump([public(p) for p in products], f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(HERE, "dev-queries.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "sample-import.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        w.writerow(CSV_HEADER)
        w.writerows(csv_rows(products))

    check(products, queries)


def check(products, queries):
    # re-read everything from disk so the checks cover the written files
    with open(os.path.join(HERE, "dev-catalog.json"), encoding="utf-8") as f:
        catalog = json.load(f)
    with open(os.path.join(HERE, "dev-queries.jsonl"), encoding="utf-8") as f:
        qlines = [json.loads(line) for line in f]
    with open(os.path.join(HERE, "sample-import.csv"), encoding="utf-8", newline="") as f:
        csv_data = list(csv.reader(f))

    ids = [p["external_id"] for p in catalog]
    assert len(ids) == len(set(ids)), "duplicate external_id"
    assert 300 <= len(catalog) <= 400, len(catalog)
    byid = {p["external_id"]: p for p in catalog}
    skus = set()
    for p in catalog:
        assert re.fullmatch(r"[A-Z]+-[A-Z]+-\d{4}", p["external_id"]), p["external_id"]
        assert isinstance(p["price"], int) and p["price"] > 0
        assert "compare_at_price" not in p or p["compare_at_price"] > p["price"]
        assert all(isinstance(v, str) for v in p["attributes"].values()), p["external_id"]
        for v in p.get("variants", []):
            assert v["sku"] not in skus
            skus.add(v["sku"])
        assert "{" not in p["title"] + p.get("description", ""), p["external_id"]
    assert qlines == queries
    assert len(qlines) >= MIN_QUERIES, len(qlines)
    assert len(set(q["query"] for q in qlines)) == len(qlines), "duplicate query text"
    for q in qlines:
        assert list(q) == ["query", "kind", "lang", "split", "relevant"], list(q)
        assert q["kind"] in KINDS and q["lang"] in LANGS and q["split"] in ("tune", "holdout"), q
        assert (q["kind"] == "multilingual") == (q["lang"] != "en"), f"kind/lang mismatch for {q['query']!r}"
        assert all(i in byid for i in q["relevant"]), q["query"]
        assert all(byid[i]["active"] for i in q["relevant"]), f"inactive product labelled for {q['query']!r}"
        assert all(g in (1, 2, 3) for g in q["relevant"].values())
        assert any(g == 3 for g in q["relevant"].values()), f"no grade-3 product for {q['query']!r}"
    per_kind = Counter(q["kind"] for q in qlines)
    per_lang = Counter(q["lang"] for q in qlines)
    for k, n in MIN_PER_KIND.items():
        assert per_kind[k] >= n, f"{k}: {per_kind[k]} queries, at least {n} wanted"
    for lang, n in MIN_PER_LANG.items():
        assert per_lang[lang] >= n, f"{lang}: {per_lang[lang]} queries, at least {n} wanted"
    per_kind_lang = Counter((q["kind"], q["lang"]) for q in qlines)
    for (k, lang), n in per_kind_lang.items():  # a third of each kind, and of each language within it, is held out
        held = sum(q["split"] == "holdout" for q in qlines if q["kind"] == k and q["lang"] == lang)
        assert held == n // HOLDOUT_EVERY, (k, lang, held, n)
    assert csv_data[0] == CSV_HEADER and len(csv_data) == 11

    n = len(catalog)
    print(f"products: {n}  (inactive {sum(not p['active'] for p in catalog)}, stock 0: "
          f"{sum(p['stock'] == 0 for p in catalog)}, compare_at: {sum('compare_at_price' in p for p in catalog)}, "
          f"with variants: {sum('variants' in p for p in catalog)}, brands: {len(set(p['brand'] for p in catalog))})")
    print("per top-level category:")
    for top, c in Counter(p["category"].split(" > ")[0] for p in catalog).most_common():
        print(f"  {top:16s} {c}")
    print("per category path:")
    for cat, c in sorted(Counter(p["category"] for p in catalog).items()):
        print(f"  {cat:40s} {c}")
    print(f"queries: {len(qlines)}  (tune {sum(q['split'] == 'tune' for q in qlines)}, "
          f"holdout {sum(q['split'] == 'holdout' for q in qlines)})")
    print("per kind:")
    for k in KINDS:
        held = sum(q["split"] == "holdout" for q in qlines if q["kind"] == k)
        print(f"  {k:14s} {per_kind[k]:3d}  (holdout {held})")
    print("per language:")
    for lang in LANGS:
        held = sum(q["split"] == "holdout" for q in qlines if q["lang"] == lang)
        print(f"  {lang:14s} {per_lang[lang]:3d}  (holdout {held})")
    grades = Counter(g for q in qlines for g in q["relevant"].values())
    print(f"  labels: grade3={grades[3]} grade2={grades[2]} grade1={grades[1]}")
    print("samples:")
    for q in qlines[::7]:
        top = [i for i, g in q["relevant"].items() if g == 3][:3]
        print(f"  {q['query']!r}: {len(q['relevant'])} relevant, grade 3 e.g. "
              + ", ".join(f"{i} ({byid[i]['title']})" for i in top))


if __name__ == "__main__":
    main()
