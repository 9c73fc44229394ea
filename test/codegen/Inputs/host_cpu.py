"""Checks what `qnnc -mcpu=native -v` says it chose against two other
views of this machine: the CPU name against `llc --version`'s "Host CPU"
(LLVM's own tool), and the x86 features the int8 kernels pick between
against the kernel's /proc/cpuinfo flags.  Prints one line per check,
"ok" or "MISMATCH", then the summary line FileCheck looks for.

usage: host_cpu.py LLC QNNC_ARGS...
"""
import re
import subprocess
import sys

# LLVM feature name -> /proc/cpuinfo flag.
X86 = {"sse4.2": "sse4_2", "avx2": "avx2", "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl",
       "avx512vnni": "avx512_vnni", "avxvnni": "avx_vnni"}


def main():
    llc, qnnc_args = sys.argv[1], sys.argv[2:]
    r = subprocess.run(["qnnc"] + qnnc_args + ["-v"], capture_output=True, text=True)
    m = re.search(r"^qnnc: -mcpu=(native|host): ([\w.-]+), (\S+)$", r.stderr, re.M)
    if r.returncode != 0 or not m:
        print(f"FAIL: qnnc exited {r.returncode}, no -mcpu line: {r.stderr.strip()[:300]}")
        return 1
    cpu, feats = m.group(2), m.group(3).split(",")
    sign = {f[1:]: f[0] for f in feats}
    host = re.search(r"Host CPU: *(\S+)", subprocess.run([llc, "--version"], capture_output=True, text=True).stdout)
    bad = 0
    ok = host and host.group(1) == cpu
    bad += not ok
    print(f"cpu {cpu} llc {host.group(1) if host else '?'}: {'ok' if ok else 'MISMATCH'}")
    flags = set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if "sse2" in flags:  # x86
        for f, flag in X86.items():
            want = "+" if flag in flags else "-"
            got = sign.get(f, "-")
            bad += got != want
            print(f"{f}: qnnc {got} cpuinfo {want}: {'ok' if got == want else 'MISMATCH'}")
    print("all match" if not bad else f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
