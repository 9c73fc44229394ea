# doc_keys.py - checks that the example configuration sets every key that
# docs/config.md documents, and no key it does not: the docs, the example
# and (through example.test) the loader stay in step.
#
#   python3 doc_keys.py docs/config.md examples/qnnc.toml
import re
import sys
import tomllib

doc, example = sys.argv[1], sys.argv[2]

# Keys from the tables under "## [section]" and "### [[section.sub]]".
documented = set()
sections = set()
section = None
for line in open(doc, encoding="utf-8"):
    m = re.match(r"^#{2,3} (\[\[?)([a-z_.]+)\]\]?\s*$", line)
    if m:
        section = m.group(2)
        sections.add(section)
        continue
    if line.startswith("#"):
        section = None
        continue
    if section and line.startswith("| `"):
        first = line.split("|")[1]
        for key in re.findall(r"`([a-z_][a-z0-9_]*)`", first):
            documented.add(f"{section}.{key}")

with open(example, "rb") as f:
    data = tomllib.load(f)
present = set()
def walk(prefix, value):
    # A documented key whose value is a table of the user's names
    # (input_shapes) is one key, not a section.
    if prefix in documented and prefix not in sections:
        present.add(prefix)
    elif isinstance(value, dict):
        for k, v in value.items():
            walk(f"{prefix}.{k}" if prefix else k, v)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        present.add(prefix)
        for v in value:
            walk(prefix, v)
    else:
        present.add(prefix)
walk("", data)
# A section's own key and its sub-tables: "quantization.override" is both.
missing = sorted(documented - present)
extra = sorted(present - documented)
for k in missing:
    print(f"documented but not in the example: {k}")
for k in extra:
    print(f"in the example but not documented: {k}")
if not missing and not extra:
    print(f"all {len(documented)} documented keys are set in the example")
sys.exit(1 if missing or extra else 0)
