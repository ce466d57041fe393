"""Runs the commands that README.md and docs/ show, so the docs cannot drift.

    doctest.py [--repo DIR] [--keep] FILE.md...

A fenced code block runs when the line just before its opening fence is an
HTML comment `<!-- doctest: DIRECTIVES -->` (invisible in rendered
Markdown). DIRECTIVES, separated by `;`:

  run              a shell block: every command (comment lines skipped,
                   backslash continuations joined) must exit 0.
  fails            like run, but every command must exit non-zero.
  output           a console block: `$ command` lines, each followed by the
                   output it must print (stdout and stderr together),
                   compared line by line after trailing spaces are removed.
                   A line `...` in the expected output matches any lines.
  file NAME        write the block's text to NAME in the work directory.
  set K=V          append `--set K=V` to every `ftc run|eval|predict`
                   command of the block (to run a shown job small).
  setup COMMAND    run COMMAND (must exit 0) before the block.
  then COMMAND     run COMMAND (must exit 0) after it: a check of what the
                   block's commands made that the doc states in prose.
  replace A => B   output blocks: replace A by B in what the commands print
                   before comparing (`{repo}` is the repository).
  cd DIR           run the block's commands in DIR (made if missing).

Each FILE runs in a fresh work directory holding symlinks to the
repository's build/, data/, docs/, pipelines/, plugins/, test/ and tools/
(so the docs' relative paths work and runs/ starts empty), with build/bin
first on PATH. In commands, `/tmp/` becomes `<work>/tmp/` and
`/path/to/ftc` the repository. Prints one line per block and a summary
`N blocks, M commands, K failures`; exits 1 on any failure.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!--\s*doctest:(.*?)-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)")
FTC_JOB = re.compile(r"^((?:\S*/)?ftc (?:run|eval|predict)\s)")
LINKED = ("build", "data", "docs", "pipelines", "plugins", "test", "tools")


def blocks(path):
    """(line, directives, text) of every marked block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i, found = 0, []
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m and i + 1 < len(lines) and FENCE.match(lines[i + 1]):
            fence = FENCE.match(lines[i + 1]).group(1)
            j = i + 2
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            found.append((i + 2, parse_directives(m.group(1)), "\n".join(lines[i + 2:j])))
            i = j
        i += 1
    return found


def parse_directives(text):
    out = {"sets": [], "setup": [], "then": [], "replace": []}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        word, _, rest = part.partition(" ")
        if word in ("run", "fails", "output"):
            out["mode"] = word
        elif word == "file":
            out["file"] = rest.strip()
        elif word == "set":
            out["sets"].append(rest.strip())
        elif word in ("setup", "then"):
            out[word].append(rest.strip())
        elif word == "replace":
            a, sep, b = rest.partition("=>")
            if not sep:
                raise SystemExit(f"doctest: replace needs 'A => B': {rest}")
            out["replace"].append((a.strip(), b.strip()))
        elif word == "cd":
            out["cd"] = rest.strip()
        else:
            raise SystemExit(f"doctest: unknown directive '{word}'")
    return out


def commands(text):
    """Shell commands of a block: comments dropped, continuations joined."""
    out, current = [], ""
    for line in text.split("\n"):
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return out


class Session:
    def __init__(self, repo, work):
        self.repo, self.work = repo, work
        for name in LINKED:
            os.symlink(os.path.join(repo, name), os.path.join(work, name))
        os.makedirs(os.path.join(work, "tmp"))
        self.env = dict(os.environ)
        self.env["PATH"] = os.path.join(repo, "build", "bin") + os.pathsep + self.env["PATH"]
        self.env.pop("FTC_PLUGIN_PATH", None)

    def rewrite(self, cmd, sets):
        # /tmp/ first: the repository itself may live under /tmp.
        cmd = re.sub(r"(?<![\w.])/tmp/", self.work + "/tmp/", cmd)
        cmd = cmd.replace("/path/to/ftc", self.repo)
        if sets and FTC_JOB.match(cmd.lstrip()):
            # Before a trailing comment or redirection-free end.
            body, hash_, comment = cmd.partition("  #")
            cmd = body.rstrip() + "".join(f" --set {s}" for s in sets)
            if hash_:
                cmd += "  #" + comment
        return cmd

    def run(self, cmd, cwd):
        r = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return r.returncode, r.stdout


def matches(expected, got):
    """Line-by-line match; a `...` line matches any run of lines."""
    exp = [l.rstrip() for l in expected]
    out = [l.rstrip() for l in got]

    def at(i, j):
        if i == len(exp):
            return j == len(out)
        if exp[i] == "...":
            return any(at(i + 1, k) for k in range(j, len(out) + 1))
        return j < len(out) and exp[i] == out[j] and at(i + 1, j + 1)

    return at(0, 0)


def run_block(session, path, line, d, text):
    """Returns (commands run, failure messages)."""
    cwd = os.path.join(session.work, d.get("cd", "."))
    os.makedirs(cwd, exist_ok=True)
    where = f"{path}:{line}"
    for cmd in d["setup"]:
        rc, out = session.run(session.rewrite(cmd, []), cwd)
        if rc:
            return 0, [f"{where}: setup `{cmd}` exited {rc}:\n{out}"]
    if "file" in d:
        with open(os.path.join(cwd, d["file"]), "w", encoding="utf-8") as f:
            f.write(text + "\n")
    mode = d.get("mode")
    failures, count = [], 0
    if mode in ("run", "fails"):
        for cmd in commands(text):
            count += 1
            rc, out = session.run(session.rewrite(cmd, d["sets"]), cwd)
            if (rc == 0) != (mode == "run"):
                failures.append(f"{where}: `{cmd}` exited {rc}:\n{out[-3000:]}")
                break
    elif mode == "output":
        steps, current = [], None
        for l in text.split("\n"):
            if l.startswith("$ "):
                current = [l[2:], []]
                steps.append(current)
            elif current is not None:
                current[1].append(l)
        for cmd, expected in steps:
            count += 1
            while expected and not expected[-1].strip():
                expected.pop()
            rc, out = session.run(session.rewrite(cmd, d["sets"]), cwd)
            for a, b in d["replace"]:
                out = out.replace(a.replace("{repo}", session.repo), b)
            got = out.rstrip("\n").split("\n") if out.strip() else []
            if not matches(expected, got):
                failures.append(f"{where}: `{cmd}` printed (exit {rc}):\n" + "\n".join(got)
                                + "\n--- but the doc shows:\n" + "\n".join(expected))
    for cmd in d["then"] if not failures else []:
        count += 1
        rc, out = session.run(session.rewrite(cmd, []), cwd)
        if rc:
            failures.append(f"{where}: then `{cmd}` exited {rc}:\n{out[-3000:]}")
    return count, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    total_blocks = total_cmds = 0
    failures = []
    for path in a.files:
        work = tempfile.mkdtemp(prefix="ftc-doctest-")
        session = Session(repo, work)
        try:
            for line, d, text in blocks(path):
                n, bad = run_block(session, os.path.relpath(path, repo), line, d, text)
                total_blocks += 1
                total_cmds += n
                failures += bad
                print(f"{'FAIL' if bad else 'ok'} {os.path.relpath(path, repo)}:{line} "
                      f"({d.get('mode', 'file')}, {n} commands)", flush=True)
        finally:
            if a.keep:
                print(f"kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("\n" + f)
    print(f"{total_blocks} blocks, {total_cmds} commands, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
