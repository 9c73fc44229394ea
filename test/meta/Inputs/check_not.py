"""Lists every RUN line under the given folders where lit's built-in `not`
stands before a qnnc tool, a program the test built (%t/...) or
scripts/run-target (folders are walked for .test and .qir files): those must use %error or %usage-error, which fail on a
crash (test/lit.cfg.py).  `not` stays fine before plain shell checks such as
`not test -e FILE` or `not grep`.  Exit status 1 and one line per offence
when there is any."""
import os
import re
import sys

BAD = re.compile(r"(?:^|[\s|;&(])not\s+(?:--crash\s+)?(qnnc(?:-opt|-run)?\b|%t/|%run_target\b|%\{?[A-Za-z_]*qnnc)")


def files(paths):
    """Folders are walked for .test and .qir files; a file is read as named."""
    for p in paths:
        if not os.path.isdir(p):
            yield p
            continue
        for dirpath, _, names in os.walk(p):
            for name in sorted(names):
                if name.endswith((".test", ".qir")):
                    yield os.path.join(dirpath, name)


found = 0
for path in files(sys.argv[1:]):
    with open(path, errors="replace") as f:
        for no, line in enumerate(f, 1):
            run = re.search(r"RUN:(.*)", line)
            if run and BAD.search(run.group(1)):
                print(f"{path}:{no}: `not` before a tool; use %error or %usage-error")
                found += 1
sys.exit(1 if found else 0)
