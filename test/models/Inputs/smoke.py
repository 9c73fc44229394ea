"""One real model through every tool the sanitizer stage checks, on very
little data: the float build compiled from the model and run on one
sample, against qnnc-run on the same float IR (relative RMS error); the
int8 build calibrated on two samples, compiled, and run on one, bit-exact
with qnnc-run.  For the sanitizer build, where the real-model tests are
UNSUPPORTED (docs/testing.md): what it needs is the compiler, the
calibration, the interpreter and the harness run on each real model under
AddressSanitizer and UndefinedBehaviorSanitizer; the numerics on many
samples are the plain build's job.

  smoke.py --work DIR --calib DATASET [--calib-scale S] --eval DIR
           --outputs N --run-target RT MODEL [QNNC_FLAG]...

Prints `NAME: float 1 sample within 1e-4 of qnnc-run; int8 1 sample
bit-exact`; fails at the first command that fails.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"smoke: error: {' '.join(argv)}: exit status {r.returncode}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--calib", required=True, help="[calibration] dataset: a folder or an IDX file")
    ap.add_argument("--calib-scale", help="[calibration] scale (IDX bytes)")
    ap.add_argument("--eval", required=True)
    ap.add_argument("--outputs", type=int, required=True)
    ap.add_argument("--run-target", required=True)
    ap.add_argument("model")
    a, a.flags = ap.parse_known_args()  # the rest goes to qnnc
    name = os.path.splitext(os.path.basename(a.model))[0]
    w = os.path.join(a.work, name)
    os.makedirs(w, exist_ok=True)
    none_toml, int8_toml = os.path.join(w, "none.toml"), os.path.join(w, "int8.toml")
    with open(none_toml, "w") as f:
        f.write('[quantization]\nscheme = "none"\n')
    with open(int8_toml, "w") as f:
        f.write(f'[calibration]\ndataset = "{os.path.abspath(a.calib)}"\nsamples = 2\n')
        if a.calib_scale:
            f.write(f"scale = {a.calib_scale}\n")
    each = [sys.executable, os.path.join(HERE, "each.py"), "--samples", "1"]
    npycmp = [sys.executable, os.path.join(HERE, "npycmp.py")]
    native = [a.run_target, "x86_64-linux-gnu"]
    p = lambda *parts: os.path.join(w, *parts)

    run(["qnnc", a.model, "--config", none_toml, *a.flags, "--emit=qir", "-o", p("f32.qir")])
    run(["qnnc", a.model, "--config", none_toml, *a.flags, "--emit=exe", "-o", p("f32.exe")])
    run(each + [a.eval, p("f32-ref"), str(a.outputs), "qnnc-run", p("f32.qir")])
    run(each + [a.eval, p("f32"), str(a.outputs)] + native + [p("f32.exe")])
    out = run(npycmp + [p("f32-ref"), p("f32"), "--label", name, "--max-rel-rms", "1e-4"])
    if "FAIL" in out:
        sys.exit(f"smoke: {name}: float build differs from qnnc-run:\n{out}")

    run(["qnnc", a.model, "--config", int8_toml, *a.flags, "--emit=qir", "-o", p("int8.qir")])
    run(["qnnc", p("int8.qir"), "--stop-after=import", "--emit=exe", "-o", p("int8.exe")])
    run(each + [a.eval, p("int8-ref"), str(a.outputs), "qnnc-run", p("int8.qir")])
    run(each + [a.eval, p("int8"), str(a.outputs)] + native + [p("int8.exe")])
    out = run(npycmp + [p("int8-ref"), p("int8"), "--exact", "--label", name])
    exact = out.count("samples bit-exact")
    if exact != a.outputs:
        sys.exit(f"smoke: {name}: int8 build not bit-exact with qnnc-run:\n{out}")
    print(f"{name}: float 1 sample within 1e-4 of qnnc-run; int8 1 sample bit-exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
