"""Reads `ninja -t deps` on stdin: each object file and the headers it read.
Fails when an object of the dialect (compiler/lib/Dialect) read a header of
the conversion (ftc/Conversion/), or a runtime object (runtime/src) read an
MLIR or LLVM header."""
import re
import sys

objects, current = {}, None
for line in sys.stdin:
    m = re.match(r"^(\S.*?): #deps", line)
    if m:
        current = m.group(1)
        objects[current] = []
    elif current and line.startswith("    "):
        objects[current].append(line.strip())

problems = []
dialect = [o for o in objects if "compiler/lib/Dialect/" in o]
runtime = [o for o in objects if o.startswith("runtime/src/")]
for o in dialect:
    problems += [f"{o} reads {h}" for h in objects[o] if "/ftc/Conversion/" in h]
for o in runtime:
    problems += [f"{o} reads {h}" for h in objects[o]
                 if re.search(r"/(mlir|llvm)/", h) and "llvm-" in h]
if problems:
    sys.exit("\n".join(problems))
print(f"dialect objects: {len(dialect)}, none reads a conversion header")
print(f"runtime objects: {len(runtime)}, none reads an MLIR or LLVM header")
