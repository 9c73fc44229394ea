"""Checks that qnnc's stages depend downward only (README.md, "Layout").

usage: check_layers.py SOURCE_ROOT [LINKS_FILE]

Each top-level folder is a layer that may include the headers of the
layers listed for it in ALLOWED and its own, nothing else; a private header
(PRIVATE) only from its own folder.  A header name may exist in only one
folder, or which one a file gets would depend on the include path order.
LINKS_FILE (written by test/CMakeLists.txt) has one line per qnnc library,
"TARGET: LIB;LIB;...", its direct link libraries: a qnnc library may link
only the libraries of the layers it may include.  Prints one line per
violation and exits 1 if there is any.
"""
import os
import re
import sys

# Layer -> the layers it may use (besides itself).
ALLOWED = {
    "ir": [],
    "config": ["ir"],
    "frontend": ["config", "ir", "runtime"],  # runtime/harness/npy_format.h: one .npy reader
    "passes": ["config", "ir"],
    "codegen": ["passes", "config", "ir"],
    "tools": ["codegen", "passes", "frontend", "config", "ir", "runtime"],
    "runtime": [],
}
# Headers no other layer may include.
PRIVATE = {"ir/interp.h", "frontend/onnx_internal.h", "codegen/cg_internal.h"}
# Libraries and the layer each belongs to.
LIBRARIES = {
    "qnnc_ir": "ir",
    "qnnc_config": "config",
    "qnnc_frontend": "frontend",
    "qnnc_onnx_proto": "frontend",
    "qnnc_passes": "passes",
    "qnnc_codegen": "codegen",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def allowed_text(layer):
    return ", ".join(d + "/" for d in ALLOWED[layer]) or "nothing"


def main():
    root = sys.argv[1]
    errors = []
    headers = {}
    sources = []
    for layer in ALLOWED:
        top = os.path.join(root, layer)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in ("build", "Inputs"))
            for f in sorted(filenames):
                path = os.path.relpath(os.path.join(dirpath, f), root)
                if f.endswith((".h", ".def")):
                    headers.setdefault(f, []).append(path)
                if f.endswith((".c", ".cc", ".h", ".def")):
                    sources.append((layer, path))
    for name, paths in sorted(headers.items()):
        if len(paths) > 1:
            errors.append("%s: header name in more than one folder: %s" % (name, ", ".join(paths)))
    for layer, path in sources:
        with open(os.path.join(root, path), errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m or os.path.basename(m.group(1)) not in headers:
                    continue  # a system or generated header
                target = headers[os.path.basename(m.group(1))][0]
                tlayer = target.split(os.sep)[0]
                if tlayer == layer:
                    continue
                if tlayer not in ALLOWED[layer]:
                    errors.append("%s:%d: %s/ includes %s (%s/ may use %s)"
                                  % (path, lineno, layer, target, layer, allowed_text(layer)))
                elif target in PRIVATE:
                    errors.append("%s:%d: %s is private to %s/" % (path, lineno, target, tlayer))
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            for line in f:
                if ":" not in line:
                    continue
                target, libs = (s.strip() for s in line.split(":", 1))
                layer = LIBRARIES.get(target)
                if layer is None:
                    errors.append("%s: library not in check_layers.py's table" % target)
                    continue
                for lib in filter(None, (s.strip() for s in libs.split(";"))):
                    if not lib.startswith("qnnc_"):
                        continue  # system and third-party libraries
                    if lib not in LIBRARIES:
                        errors.append("%s links %s, a library not in check_layers.py's table" % (target, lib))
                    elif LIBRARIES[lib] != layer and LIBRARIES[lib] not in ALLOWED[layer]:
                        errors.append("%s links %s (%s/ may use %s)" % (target, lib, layer, allowed_text(layer)))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
