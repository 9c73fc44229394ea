#!/usr/bin/python3
"""Compare docs/onnx.md's "Supported ops" table with `qnnc --list-ops`.

usage: doc_ops.py DOC LIST_OPS_OUTPUT

Reads the table rows between the <!-- ops: begin --> and <!-- ops: end -->
markers of DOC (| op | domain | opsets | folds |) and the lines of
`qnnc --list-ops` (op, domain, opsets, then "folds" for ops evaluated at
import time), in order.  Prints every difference and exits 1, or prints
"all N ops agree".
"""
import re
import sys


def doc_rows(path):
    text = open(path).read()
    m = re.search(r"<!-- ops: begin[^>]*-->\n(.*?)<!-- ops: end -->", text, re.S)
    if not m:
        sys.exit("%s: no <!-- ops: begin --> ... <!-- ops: end --> table" % path)
    rows = []
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("op", "") or set(cells[0]) <= set("-"):
            continue
        rows.append((cells[0], cells[1], cells[2], cells[3] == "yes"))
    return rows


def list_rows(path):
    rows = []
    for line in open(path):
        f = line.split()
        if f:
            rows.append((f[0], f[1], f[2], f[3:] == ["folds"]))
    return rows


def main():
    doc, listed = doc_rows(sys.argv[1]), list_rows(sys.argv[2])
    bad = 0
    for i in range(max(len(doc), len(listed))):
        d = doc[i] if i < len(doc) else None
        l = listed[i] if i < len(listed) else None
        if d != l:
            print("row %d: docs/onnx.md has %s, qnnc --list-ops has %s" % (i + 1, d, l))
            bad += 1
    if bad or not doc:
        return 1
    print("all %d ops agree" % len(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
