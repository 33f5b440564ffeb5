#!/usr/bin/env python3
"""Checks a perf dialer's stdout against the unified-testing results schema
(libp2p/unified-testing docs/write-a-perf-test-app.md "Results Schema"):
exactly the blocks upload and download (unit Gbps) and latency (unit ms),
each with iterations, min, q1, median, q3, max, outliers, samples, unit;
samples numbering `iterations`; q1 <= median <= q3; min and max within
the samples; outliers exactly the samples outside Q1 - 1.5 IQR .. Q3 +
1.5 IQR (allowing for the printed rounding).

    check_yaml.py FILE [--iterations U,D,L]

Exit 0 and one summary line, or exit 1 with the reason. Needs python3-yaml.
"""
import math
import sys

import yaml

BLOCKS = {"upload": "Gbps", "download": "Gbps", "latency": "ms"}
FIELDS = ["iterations", "min", "q1", "median", "q3", "max", "outliers", "samples", "unit"]


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_block(name, b, want_iters):
    if not isinstance(b, dict):
        return "%s is not a mapping" % name
    if sorted(b) != sorted(FIELDS):
        return "%s has fields %s, want %s" % (name, sorted(b), sorted(FIELDS))
    if b["unit"] != BLOCKS[name]:
        return "%s unit %r, want %r" % (name, b["unit"], BLOCKS[name])
    n = b["iterations"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return "%s iterations %r is not a count" % (name, n)
    if want_iters is not None and n != want_iters:
        return "%s iterations %d, want %d" % (name, n, want_iters)
    for f in ("min", "q1", "median", "q3", "max"):
        if not num(b[f]) or b[f] < 0:
            return "%s %s %r is not a non-negative number" % (name, f, b[f])
    for f in ("outliers", "samples"):
        if not isinstance(b[f], list) or not all(num(x) for x in b[f]):
            return "%s %s is not a list of numbers" % (name, f)
    s = b["samples"]
    if len(s) != n:
        return "%s has %d samples for %d iterations" % (name, len(s), n)
    if n == 0:
        return None
    unit = 0.01 if BLOCKS[name] == "Gbps" else 0.001  # printed to 2 / 3 places
    eps = unit * 0.51
    # The fences come from rounded quartiles: Q3 + 1.5 (Q3 - Q1) may be off
    # by 2 units, and the sample compared with it by half a unit more.
    feps = unit * 2.51
    if not (b["q1"] <= b["median"] + eps and b["median"] <= b["q3"] + eps):
        return "%s quartiles out of order" % name
    if not (min(s) - eps <= b["min"] <= b["max"] + eps and b["max"] <= max(s) + eps):
        return "%s min/max outside the samples" % name
    iqr = b["q3"] - b["q1"]
    lo, hi = b["q1"] - 1.5 * iqr, b["q3"] + 1.5 * iqr
    for x in b["outliers"]:
        if lo + feps < x < hi - feps:
            return "%s outlier %r lies inside the fences [%g, %g]" % (name, x, lo, hi)
    clear_out = [x for x in s if x < lo - feps or x > hi + feps]
    if len(clear_out) > len(b["outliers"]):
        return "%s: samples %r are outside the fences but not listed" % (name, clear_out)
    return None


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit("usage: check_yaml.py FILE [--iterations U,D,L]")
    want = [None] * 3
    if len(sys.argv) == 4:
        want = [int(x) for x in sys.argv[3].split(",")]
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        sys.exit("not YAML: %s" % e)
    if not isinstance(doc, dict) or sorted(doc) != sorted(BLOCKS):
        sys.exit("top level must be exactly %s, got %r" % (sorted(BLOCKS), doc if not isinstance(doc, dict) else sorted(doc)))
    for (name, _), w in zip(BLOCKS.items(), want):
        err = check_block(name, doc[name], w)
        if err:
            sys.exit(err)
    print("ok: " + ", ".join("%s median %s %s" % (k, doc[k]["median"], u) for k, u in BLOCKS.items()))


if __name__ == "__main__":
    main()
