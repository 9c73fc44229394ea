# many_args.py N CMD ARGS... - runs CMD ARGS followed by N more arguments
# ("x"), then prints its exit status: the bare-metal harness's command-line
# limit (runtime/harness/semihost.c) seen from outside.
import subprocess
import sys

n = int(sys.argv[1])
sys.stdout.flush()
status = subprocess.call(sys.argv[2:] + ["x"] * n)
print(f"exit status {status}", flush=True)
