"""The report's technique comparison under mixed precision
(test/passes/mixed-precision-techniques.test, issue 14).

  mixed_precision_techniques.py check DIR REPORT.json
      DIR as mixed_precision.py gen writes it, REPORT.json the report of a
      build with DIR/mp.toml (target_sqnr, equalize and bias_correct off).
      Independently of the report: compiles DIR/m.onnx with no target,
      the report's chosen precision set as explicit
      [[quantization.override]] tables and each technique switched on
      (and with neither, the build), runs each result and the float model
      in qnnc-run over the calibration samples, and measures the SQNR of
      all outputs together (as the report does) in NumPy.  Each figure
      must be the report's within 0.01 dB: the build's `output_sqnr_db`
      and each technique's without (the build) and with; and the
      technique runs must not have searched (`techniques_precision`).
      Prints PASS.
"""
import json
import os
import subprocess
import sys

import numpy as np


def run(d, model, tag, outs, n):
    runs = os.path.join(d, "tq_%s.runs" % tag)
    with open(runs, "w") as f:
        for i in range(n):
            f.write(" ".join([os.path.join(d, "calib", "%02d.npy" % i)] +
                             [os.path.join(d, "tq_%s_%s_%02d.npy" % (tag, o, i)) for o in outs]) + "\n")
    subprocess.run(["qnnc-run", model, "--runs", runs], check=True)
    return np.concatenate([np.load(os.path.join(d, "tq_%s_%s_%02d.npy" % (tag, o, i))).astype(np.float64).ravel()
                           for i in range(n) for o in outs])


def compile_qir(d, chosen, tag, equalize, bias_correct):
    cfg = os.path.join(d, "tq_%s.toml" % tag)
    with open(cfg, "w") as f:
        f.write('[model]\npath = "m.onnx"\n\n[quantization]\nequalize = %s\nbias_correct = %s\n\n'
                '[calibration]\ndataset = "calib/"\n' % (str(equalize).lower(), str(bias_correct).lower()))
        for node, dt in sorted(chosen.items()):
            f.write('\n[[quantization.override]]\nnode = "%s"\ndtype = "%s"\n' % (node, dt))
    qir = os.path.join(d, "tq_%s.qir" % tag)
    subprocess.run(["qnnc", "--config", cfg, "--emit=qir", "-o", qir], check=True)
    return qir


def check(d, report):
    with open(report) as f:
        rep = json.load(f)
    mp = rep["mixed_precision"]
    dt = {"int16x8": "i16", "f32": "f32"}
    chosen = {l["name"]: dt[l["precision"]] for l in mp["layers"] if l["precision"] != "int8"}
    outs = [o["name"] for o in mp["outputs"]]
    n = len(os.listdir(os.path.join(d, "calib")))
    ref = run(d, os.path.join(d, "m.onnx"), "float", outs, n)

    def sqnr(tag, **kw):
        got = run(d, compile_qir(d, chosen, tag, **kw), tag, outs, n)
        return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))

    ok = True

    def same(what, report_db, oracle_db):
        nonlocal ok
        good = report_db is not None and abs(report_db - oracle_db) < 0.01
        print("%s %s: report %s dB, qnnc-run %.2f dB" % ("ok  " if good else "FAIL", what,
                                                         "null" if report_db is None else "%.2f" % report_db,
                                                         oracle_db))
        ok = ok and good

    print("chosen set: {%s}" % ", ".join("%s %s" % kv for kv in sorted(chosen.items())))
    build = sqnr("build", equalize=False, bias_correct=False)
    same("build", rep["output_sqnr_db"], build)
    for t in rep["techniques"]:
        if t["on"]:
            print("FAIL %s is on in the build: this check expects it off" % t["name"])
            ok = False
            continue
        same("%s without" % t["name"], t["output_sqnr_db_off"], build)
        same("%s with" % t["name"], t["output_sqnr_db_on"],
             sqnr(t["name"], equalize=t["name"] == "equalize", bias_correct=t["name"] == "bias_correct"))
    tp = rep.get("techniques_precision")
    want = {"set": "chosen", "raised_layers": len(chosen), "search_evaluations": 0}
    good = tp == want
    print("%s techniques_precision: %s" % ("ok  " if good else "FAIL", tp))
    ok = ok and good
    print("PASS" if ok else "FAIL")
    return ok


if __name__ == "__main__":
    sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
