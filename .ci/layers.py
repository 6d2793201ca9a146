#!/usr/bin/env python3
"""Lists every `crate::` import between top-level modules of src/ and fails
when one points upward (is not in ALLOWED below, which follows the layers
listed in src/lib.rs) or the module graph has a cycle. Run from the
repository root: `python3 .ci/layers.py`."""
import os
import re
import sys

# Each module, with the modules it may use (directly). Keep in step with
# the top-of-file comments and lib.rs.
ALLOWED = {
    "view": {"reader", "request", "options", "plan", "profile", "levels", "source", "error", "resample", "geo",
             "tiff", "raster"},
    "reader": {"options", "decode", "plan", "request", "profile", "levels", "source", "error",
               "resample", "geo", "codec", "tiff", "raster", "validate"},
    "validate": {"tiff"},
    "options": {"source", "error", "tiff"},
    "decode": {"plan", "levels", "error", "codec", "tiff", "raster"},
    "plan": {"request", "profile", "levels", "error", "resample", "geo", "tiff", "raster"},
    "request": {"geo", "raster", "resample"},
    "profile": {"levels", "gdal_tags", "error", "geo", "tiff", "raster"},
    "levels": {"error", "geo", "tiff", "raster"},
    "gdal_tags": {"raster"},
    "source": {"error", "tiff", "raster"},
    "error": {"codec", "tiff"},
    "resample": set(),
    "geo": {"tiff"},
    "codec": {"tiff", "raster"},
    "tiff": {"raster"},
    "raster": set(),
    "internals": {"codec", "tiff"},
}

USE = re.compile(r"crate::([a-z_]+)")


def module_of(path):
    rel = os.path.relpath(path, "src")
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def main():
    edges = {}
    bad = []
    for root, _, files in os.walk("src"):
        if root.startswith(os.path.join("src", "bin")):
            continue
        for f in files:
            if not f.endswith(".rs") or (root == "src" and f == "lib.rs"):
                continue
            path = os.path.join(root, f)
            mod = module_of(path)
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                code = line.split("//")[0]
                for target in USE.findall(code):
                    if target == mod or target not in ALLOWED:
                        continue
                    edges.setdefault(mod, set()).add(target)
                    if target not in ALLOWED.get(mod, set()):
                        bad.append(f"{path}:{n}: {mod} -> {target}: {line.strip()}")
    for mod in sorted(edges):
        print(f"{mod:10} -> {', '.join(sorted(edges[mod]))}")
    # Cycle check (depth-first search over the import graph).
    state = {}

    def visit(m, stack):
        state[m] = 1
        for t in edges.get(m, ()):
            if state.get(t) == 1:
                bad.append("cycle: " + " -> ".join(stack + [m, t]))
            elif t not in state:
                visit(t, stack + [m])
        state[m] = 2

    for m in edges:
        if m not in state:
            visit(m, [])
    if bad:
        print("\n".join(["", "layering violations:"] + bad))
        sys.exit(1)
    print("no upward imports, no cycles")


if __name__ == "__main__":
    main()
