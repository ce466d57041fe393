"""Checks that tools/deps/debian-packages.txt installs everything the build reads.

usage: check-closure.py <build dir> [<debian-packages.txt>]

Collects the files under /usr that configuring and building <build dir>
read: every header in `ninja -t deps`, every file named in CMakeCache.txt
(found libraries and headers, and the programs a build rule runs), the CMake package configs in the
directories CMakeCache.txt names (*_DIR), and the /usr paths in the link
lines of build.ninja. Maps each to its Debian package with `dpkg -S`, and
fails naming each file whose package is not in the list's Depends/PreDepends
closure (`apt-cache depends --recurse`, no Recommends: tools/setup installs
with --no-install-recommends), and each file no package owns. The CUDA
toolkit in /usr/local/cuda comes with the machine image and is reported,
not checked.

This is the check that would have caught ocl-icd-opencl-dev: oneDNN's CMake
config finds OpenCL, which libdnnl-dev only Recommends.
"""
import os
import re
import subprocess
import sys

IMAGE_PROVIDED = ("/usr/local/cuda",)


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"check-closure: {' '.join(cmd[:3])} ... failed: {r.stderr.strip()}")
    return r.stdout


def build_inputs(build):
    files = set()
    for line in run("ninja", "-C", build, "-t", "deps").splitlines():
        p = line.strip()
        if p.startswith("/usr/"):
            files.add(p)
    ninja = open(os.path.join(build, "build.ninja"), encoding="utf-8").read()
    rules = ninja + open(os.path.join(build, "CMakeFiles", "rules.ninja"), encoding="utf-8").read()
    cache = open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8").read()
    for m in re.finditer(r"^([A-Za-z0-9_]+):(?:FILEPATH|PATH|STRING|UNINITIALIZED)=(.*)$",
                         cache, re.M):
        for v in m.group(2).split(";"):
            if not v.startswith("/usr/"):
                continue
            if os.path.isfile(v):
                # A program the configure found but no build rule runs
                # (xmllint, say) is an optional probe, not a dependency.
                if os.access(v, os.X_OK) and not v.endswith((".so", ".a")) and v not in rules:
                    continue
                files.add(v)
            elif m.group(1).endswith("_DIR") and os.path.isdir(v):
                for f in os.listdir(v):
                    if re.search(r"(Config|-config)(Version|-version)?\.cmake$", f):
                        files.add(os.path.join(v, f))
    for m in re.finditer(r"^\s*LINK_LIBRARIES = (.*)$", ninja, re.M):
        for tok in m.group(1).split():
            tok = tok.split("=", 1)[-1]
            if tok.startswith("/usr/") and os.path.isfile(tok):
                files.add(tok)
    return files


def owners(files):
    """file -> package, for the files dpkg knows (also via /usr-merge aliases)."""
    candidates = {}
    for f in files:
        names = {f, os.path.realpath(f)}
        for n in list(names):
            if n.startswith("/usr/lib/") or n.startswith("/usr/bin/"):
                names.add(n[len("/usr"):])
        candidates[f] = names
    every = sorted({n for ns in candidates.values() for n in ns})
    owner = {}
    for i in range(0, len(every), 500):
        out = run("dpkg", "-S", *every[i:i + 500], check=False)
        for line in out.splitlines():
            if line.startswith("diversion by"):
                continue
            pkgs, _, path = line.partition(": ")
            owner.setdefault(path.strip(), pkgs.split(",")[0].strip().split(":")[0])
    result = {}
    for f, names in candidates.items():
        for n in sorted(names):
            if n in owner:
                result[f] = owner[n]
                break
    return result


def closure(packages):
    out = run("apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
              "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
              *packages)
    names = set(packages)
    for line in out.splitlines():
        if line and not line[0].isspace():
            names.add(line.strip().strip("<>").split(":")[0])
    # Essential packages are on every Debian system.
    essential = run("dpkg-query", "-W", "-f", "${Package} ${Essential}\n")
    names |= {l.split()[0] for l in essential.splitlines() if l.endswith(" yes")}
    return names


def main():
    build = sys.argv[1]
    deps = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "debian-packages.txt")
    listed = [w for line in open(deps, encoding="utf-8")
              for w in line.split("#", 1)[0].split()]
    files = build_inputs(build)
    owner = owners(files)
    allowed = closure(listed)
    bad = []
    image = 0
    for f in sorted(files):
        if f.startswith(IMAGE_PROVIDED):
            image += 1
        elif f not in owner:
            bad.append(f"{f}: no Debian package owns it")
        elif owner[f] not in allowed:
            bad.append(f"{f}: from package {owner[f]}, which {deps} neither lists "
                       "nor pulls in through Depends")
    for b in bad:
        print(f"error: {b}")
    pkgs = sorted({owner[f] for f in files if f in owner})
    print(f"{len(files)} files read by the build, from {len(pkgs)} packages; "
          f"{len(allowed)} packages in the closure of {len(listed)} listed; "
          f"{image} files from the image's /usr/local/cuda; {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
