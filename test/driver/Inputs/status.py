# status.py - runs a command and prints its exit status after its output,
# so that a test can check the exact status (lit's `not` only knows zero
# from non-zero, and qnnc's 1 and 2 mean different things).
#
#   %python status.py CMD ARGS... 2>&1 | FileCheck %s
#   CHECK: exit status 2
import subprocess
import sys

sys.stdout.flush()
status = subprocess.call(sys.argv[1:])
print(f"exit status {status}", flush=True)
