#!/usr/bin/env python3
"""The structure of a results file, values left out: the CSV's header and, for the JSON beside it,
every key path (array elements as []), one per line, sorted. Two runs of the same command give the
same structure whatever they measured; tests/golden_structure.sh compares it with a recorded one."""
import csv
import json
import sys


def paths(node, prefix, out):
    if isinstance(node, dict):
        for k, v in node.items():
            # Maps keyed by data (engine versions, candidate names) are one entry: their keys vary.
            key = "*" if prefix.endswith(("versions", "engines")) else k
            out.add(f"{prefix}.{key}")
            paths(v, f"{prefix}.{key}", out)
    elif isinstance(node, list):
        for v in node:
            paths(v, prefix + "[]", out)


def main():
    csv_path = sys.argv[1]
    with open(csv_path, newline="") as f:
        header = next(csv.reader(f))
    print("csv: " + ",".join(header))
    with open(csv_path[: -len(".csv")] + ".json") as f:
        doc = json.load(f)
    out = set()
    paths(doc, "json", out)
    for p in sorted(out):
        print(p)


if __name__ == "__main__":
    main()
