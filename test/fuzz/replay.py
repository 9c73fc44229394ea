#!/usr/bin/python3
"""Replays the fuzzers' regression corpus (test/fuzz/regressions/TARGET/*)
through fuzz-replay-TARGET, the fuzz harness built without libFuzzer.

usage: replay.py REGRESSIONS_DIR

Every file must be accepted, or rejected with a one-line error message:
exit status 0, no signal, nothing on stderr (a sanitizer report in the
sanitizer build, an internal error).  Prints one line per target."""
import os
import subprocess
import sys

root = sys.argv[1]
failed = 0
for target in sorted(os.listdir(root)):
    d = os.path.join(root, target)
    files = sorted(os.path.join(d, f) for f in os.listdir(d))
    if not files:
        continue
    counts = {"accepted": 0, "rejected": 0}
    for f in files:
        p = subprocess.run(["fuzz-replay-" + target, f], capture_output=True, text=True, errors="replace")
        out = p.stdout.strip()
        kind = out[len(f) + 2:].split(":")[0] if out.startswith(f + ": ") else ""
        if p.returncode != 0 or p.stderr or "\n" in out or kind not in counts:
            failed += 1
            print("FAIL %s: exit status %d\nstdout: %s\nstderr: %s" % (f, p.returncode, out, p.stderr[-4000:]))
            continue
        counts[kind] += 1
    print("%s: %d files, %d accepted, %d rejected" % (target, len(files), counts["accepted"], counts["rejected"]))
sys.exit(1 if failed else 0)
