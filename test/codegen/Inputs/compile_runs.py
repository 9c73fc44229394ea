"""The sanitizer build's stand-in for the cross-target bit-exact tests
(cross-compile-sanitize.test): runs every `check.py` RUN line of the
given .test files with --compile-only, so the instrumented qnnc lowers
and emits every graph those tests compile, for the same targets and
flags, and runs nothing (the programs are not instrumented; the plain
build runs them under QEMU).  At -O0: qnnc's own code (lowering, kernel
choice, emission) is the same at every level, and LLVM's optimizer, which
the level changes, is not instrumented (2.3x shorter).

usage: compile_runs.py PYTHON TMPDIR FILE.test...

Prints one line per RUN line (`TEST: N of N graphs compiled`) and exits
non-zero when any graph did not compile or a test has no such line."""
import os
import re
import shlex
import subprocess
import sys


def main():
    python, tmp, tests = sys.argv[1], sys.argv[2], sys.argv[3:]
    status = 0
    for test in tests:
        here = os.path.dirname(os.path.abspath(test))
        name = os.path.basename(test).replace(".test", "")
        text = open(test).read()
        runs = [m.group(1) for m in re.finditer(r"^# RUN: .*?check\.py (.*?) \| FileCheck", text, re.M)]
        if not runs:
            print(f"{name}: FAIL: no check.py RUN line")
            status = 1
        # Graphs the test writes at run time (`%python %S/Inputs/gen_X.py
        # %t/FILE`), into the one %t every RUN line of the test shares.
        tdir = os.path.join(tmp, name)
        os.makedirs(tdir, exist_ok=True)
        for m in re.finditer(r"^# RUN: .*?%python %S/Inputs/(gen_\w+\.py) ([^|&;\n]*)$", text, re.M):
            gen = [python, os.path.join(here, "Inputs", m.group(1))] + shlex.split(m.group(2).replace("%t", tdir))
            r = subprocess.run(gen, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: FAIL: {m.group(1)}\n" + r.stdout + r.stderr, end="")
                status = 1
        for k, args in enumerate(runs):
            args = re.sub(r"--tmp %t(/\S*)?", "--tmp " + os.path.join(tdir, f"run.{k}"), args.replace("%S", here))
            args = args.replace("%t", tdir)
            cmd = [python, os.path.join(here, "Inputs", "check.py"), "--compile-only", "--qnnc-flag=-O0"] + shlex.split(args)
            r = subprocess.run(cmd, capture_output=True, text=True)
            last = r.stdout.strip().splitlines()[-1:] or ["(no output)"]
            print(f"{name}: {last[0]}")
            if r.returncode != 0:
                print(r.stdout + r.stderr, end="")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
