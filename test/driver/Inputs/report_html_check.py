"""Checks the HTML report as Chromium rendered it against the JSON report
of the same compile (test/driver/report-html.test).

report_html_check.py REPORT.json DOM.html SHOT.png WIDTH HEIGHT

DOM.html is `chromium --headless --dump-dom` of the page (the DOM after
rendering and any script), SHOT.png its screenshot at WIDTH x HEIGHT.
Checks, printing one line each and exiting 1 on any failure:
  - the layer table has one row per JSON layer, in order, with its name,
    precision (dtype) and SQNR (JSON's to 2 decimals, "-" for null);
  - the chart has one bar per JSON layer, each naming its layer and SQNR;
  - a histogram per layer that has one in the JSON;
  - the output SQNR and each technique's without/with SQNR as the JSON's;
  - the flash table (an object was compiled) has a row per JSON flash row
    with the same numbers, and the layer rows' flash code and constant
    bytes are the JSON's;
  - with mixed precision (the JSON has `mixed_precision`): the page's
    mixed-precision section has one row per candidate layer with the
    precision the JSON says was chosen, each output's int8 and chosen
    SQNR as the JSON's, and the techniques paragraph says how many layers
    are raised and how many search evaluations the technique runs made,
    as the JSON's `techniques_precision`;
  - the page loads nothing from elsewhere (no src= or href= at all);
  - the PNG has the size asked for, more than a few colours (not blank),
    and the chart's bar colour (#3a7bd5) covers some pixels.
"""
import json
import sys
from html.parser import HTMLParser

from PIL import Image

rep_path, dom_path, png_path, W, H = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rep = json.load(open(rep_path))
dom = open(dom_path, encoding="utf-8").read()


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bars, self.rows, self.techs, self.hists, self.external = [], [], [], 0, []
        self.flash = []
        self.row = None  # cells of the table row being read
        self.cell = None
        self.out_sqnr = None
        self.in_out = False
        self.mixed = None  # the text of <pre id="mixed">
        self.in_mixed = False
        self.tech_prec = {}  # <p id="techniques-precision">: span class -> text
        self.span = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        for k in ("src", "href"):
            if k in a:
                self.external.append(f"{tag} {k}={a[k]}")
        if tag == "rect" and "bar" in cls:
            self.bars.append((a.get("data-layer"), a.get("data-sqnr")))
        if tag == "svg" and "hist" in cls:
            self.hists += 1
        if tag == "tr" and ("layer" in cls or "technique" in cls):
            self.row = ("layer" if "layer" in cls else "technique", [])
        if tag == "tr" and ("flash-node" in cls or "flash-shared" in cls):
            self.row = ("flash", [])
        if tag == "td" and self.row is not None and self.cell is None:
            self.cell = ""
        if tag == "td" and a.get("id") == "output-sqnr":
            self.in_out = True
        if tag == "pre" and a.get("id") == "mixed":
            self.in_mixed, self.mixed = True, ""
        if tag == "p" and a.get("id") == "techniques-precision":
            self.tech_prec = {"": True}
        if tag == "span" and self.tech_prec.get("") is True and cls:
            self.span = cls[0]
            self.tech_prec[self.span] = ""

    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row[1].append(self.cell.strip())
            self.cell = None
        if tag == "tr" and self.row is not None:
            {"layer": self.rows, "technique": self.techs, "flash": self.flash}[self.row[0]].append(self.row[1])
            self.row = None
        if tag == "td":
            self.in_out = False
        if tag == "pre":
            self.in_mixed = False
        if tag == "span":
            self.span = None
        if tag == "p" and self.tech_prec.get("") is True:
            self.tech_prec[""] = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_out:
            self.out_sqnr = (self.out_sqnr or "") + data.strip()
        if self.in_mixed:
            self.mixed += data
        if self.span is not None:
            self.tech_prec[self.span] += data.strip()


def db(v):
    return "-" if v is None else f"{v:.2f}"


p = Page()
p.feed(dom)
bad = 0


def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok


layers = rep["layers"]
check(len(p.rows) == len(layers), f"layer rows: {len(p.rows)} rendered, {len(layers)} in the JSON")
check(len(p.bars) == len(layers), f"chart bars: {len(p.bars)} rendered, {len(layers)} in the JSON")
for i, l in enumerate(layers):
    row = p.rows[i] if i < len(p.rows) else ["?"] * 5
    bar = p.bars[i] if i < len(p.bars) else ("?", "?")
    want = db(l["sqnr_db"])
    check(row[0] == l["name"] and row[2] == l["dtype"] and row[4] == want,
          f"row {l['name']}: rendered {row[0]} {row[2]} {row[4]}, JSON {l['dtype']} {want}")
    check(bar == (l["name"], want), f"bar {l['name']}: rendered {bar[0]} {bar[1]}, JSON {want}")
nh = sum(l["histogram"] is not None for l in layers)
check(p.hists == nh, f"histograms: {p.hists} rendered, {nh} in the JSON")
check(p.out_sqnr == db(rep["output_sqnr_db"]), f"output SQNR: rendered {p.out_sqnr}, JSON {db(rep['output_sqnr_db'])}")
check(len(p.techs) == len(rep["techniques"]), f"techniques: {len(p.techs)} rendered, {len(rep['techniques'])} in the JSON")
for t, row in zip(rep["techniques"], p.techs):
    want = [t["name"], "on" if t["on"] else "off", db(t["output_sqnr_db_off"]), db(t["output_sqnr_db_on"])]
    check(row == want, f"technique {t['name']}: rendered {row}, JSON {want}")
fl = rep["flash"]
check(fl is not None and len(p.flash) == len(fl["rows"]),
      f"flash rows: {len(p.flash)} rendered, {len(fl['rows']) if fl else None} in the JSON")
kinds = ["code", "weights", "biases", "requant", "luts", "tables", "other", "total"]
for r, row in zip(fl["rows"] if fl else [], p.flash):
    want = ["" if r["node"] is None else str(r["node"]), r["name"], r["op"] or ""] + [str(r[k]) for k in kinds]
    check(row == want, f"flash row {r['name']}: rendered {row}, JSON {want}")
for i, l in enumerate(layers):
    row = p.rows[i] if i < len(p.rows) else ["?"] * 11
    want = [str(l.get("flash_code")), str(l.get("flash_const"))]
    check(row[9:11] == want, f"layer {l['name']} flash: rendered {row[9:11]}, JSON {want}")
mp = rep.get("mixed_precision")
if mp is not None:
    # mixed_report_text's rows: "  NAME OP RAISED-DB [ACC] CHOSEN MACS EXTRA" and
    # "  output NAME int8 DB dB  chosen DB dB".
    lines = [ln.split() for ln in (p.mixed or "").splitlines()]
    rows = {t[0]: t for t in lines if len(t) >= 6 and t[0] != "output"}
    check(p.mixed is not None, "mixed-precision section: " + ("rendered" if p.mixed is not None else "missing"))
    for l in mp["layers"]:
        row = rows.get(l["name"])
        got = row[-3] if row else None
        check(got == l["precision"], f"mixed layer {l['name']}: rendered {got}, JSON {l['precision']}")
    outs = {t[1]: t for t in lines if len(t) >= 8 and t[0] == "output"}
    for o in mp["outputs"]:
        t = outs.get(o["name"])
        got = (t[3], t[6]) if t else None
        want = (db(o["int8_sqnr_db"]), db(o["sqnr_db"]))
        check(got == want, f"mixed output {o['name']}: rendered {got}, JSON {want}")
    tp = rep.get("techniques_precision")
    want = {"": False, "raised": str(tp["raised_layers"]), "searched": str(tp["search_evaluations"])} if tp else {}
    check(p.tech_prec == want, f"techniques precision: rendered {p.tech_prec}, JSON {want}")
check(not p.external, f"external references: {p.external or 'none'}")

img = Image.open(png_path).convert("RGB")
check(img.size == (W, H), f"screenshot size {img.size[0]}x{img.size[1]}, asked {W}x{H}")
colours = img.getcolors(maxcolors=1 << 20) or []
check(len(colours) > 8, f"screenshot colours: {len(colours)} (a blank page has 1)")
blue = sum(n for n, c in colours if c == (0x3a, 0x7b, 0xd5))
check(blue > 100, f"pixels in the bar colour: {blue}")
print("PASS" if not bad else f"FAIL: {bad} checks")
sys.exit(1 if bad else 0)
