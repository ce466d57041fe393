"""Compares two safetensors files tensor by tensor (ftc against a reference).

    compare.py A B [--rtol 1e-4] [--atol 1e-8] [--allow-missing GLOB]...
               [--abs GLOB=BOUND]... [--only PREFIX]... [--top 15]

B is the reference. Every tensor name must be in both files, except names
matching an --allow-missing glob (fnmatch syntax, e.g. 'init.*'); --only
restricts the comparison to names with one of the given prefixes. Integer
tensors must be equal. A rank-0 tensor matches a [1] one (a scalar either
way). For each float tensor the check is on the error norm,

    ||a - b||_2 <= rtol * ||b||_2 + atol * sqrt(numel)

(the table's rel.err is ||a - b|| / max(||b||, atol * sqrt(numel) / rtol),
so it fails exactly when it exceeds rtol) and the table also shows the
worst element, max|a - b| relative to max|b|.

--abs GLOB=BOUND replaces that check, for names matching GLOB, by
max|a - b| <= BOUND. It is for tensors whose value is rounding noise by
construction: in BERT the gradient of every attention key bias is exactly
zero (adding q.b_k to every score of a softmax row changes nothing), so both
sides hold ~1e-10 noise, and AdamW, which divides by sqrt(v), turns that
noise into steps of about lr in either direction.
Prints the worst tensors first, then every failure; exits 1 on any failure
(shape mismatch, missing name, relative error above rtol), else 0.
"""

import argparse
import fnmatch
import sys

import numpy as np

import safetensors_io


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="the file under test (e.g. ftc-trace output)")
    ap.add_argument("b", help="the reference (e.g. bert_torch.py output)")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-8,
                    help="absolute error allowed per element (RMS)")
    ap.add_argument("--abs", action="append", default=[], metavar="GLOB=BOUND",
                    help="check max|a-b| <= BOUND instead for these names")
    ap.add_argument("--allow-missing", action="append", default=[],
                    metavar="GLOB", help="names that may be in only one file")
    ap.add_argument("--only", action="append", default=[], metavar="PREFIX")
    ap.add_argument("--top", type=int, default=15,
                    help="rows of the worst-errors table")
    args = ap.parse_args()

    a = safetensors_io.load(args.a)
    b = safetensors_io.load(args.b)

    def selected(name):
        return not args.only or any(name.startswith(p) for p in args.only)

    def allowed(name):
        return any(fnmatch.fnmatchcase(name, g) for g in args.allow_missing)

    bounds = []
    for item in args.abs:
        glob, sep, bound = item.rpartition("=")
        if not sep:
            ap.error(f"--abs {item}: expected GLOB=BOUND")
        bounds.append((glob, float(bound)))

    def abs_bound(name):
        for glob, bound in bounds:
            if fnmatch.fnmatchcase(name, glob):
                return bound
        return None

    failures, rows = [], []
    for name in sorted(set(a) | set(b)):
        if not selected(name):
            continue
        if name not in a or name not in b:
            if not allowed(name):
                where = args.b if name not in b else args.a
                failures.append(f"{name}: missing from {where}")
            continue
        x, y = a[name], b[name]
        if x.shape != y.shape and {x.shape, y.shape} == {(), (1,)}:
            x, y = x.reshape(()), y.reshape(())
        if x.shape != y.shape:
            failures.append(f"{name}: shape {list(x.shape)} vs {list(y.shape)}")
            continue
        if x.dtype.kind in "iu" and y.dtype.kind in "iu":
            bad = int(np.count_nonzero(x != y))
            if bad:
                failures.append(f"{name}: {bad} integer elements differ")
            continue
        x = x.astype(np.float64)
        y = y.astype(np.float64)
        if not np.all(np.isfinite(x)):
            failures.append(f"{name}: non-finite values in {args.a}")
            continue
        diff = np.abs(x - y)
        floor = args.atol * np.sqrt(max(y.size, 1)) / args.rtol
        ref_norm = float(np.linalg.norm(y))
        rel = float(np.linalg.norm(x - y)) / max(ref_norm, floor)
        max_ref = float(np.max(np.abs(y))) if y.size else 0.0
        worst = float(diff.max()) if y.size else 0.0
        rel_max = worst / max(max_ref, 1e-6)
        where = np.unravel_index(int(diff.argmax()), y.shape) if y.size else ()
        where = [int(i) for i in where]
        bound = abs_bound(name)
        if bound is not None:
            ok = worst <= bound
            note = f"(max|a-b| <= {bound:g})"
            if not ok:
                failures.append(f"{name}: max|a-b| = {worst:.3e} > {bound:g}")
        else:
            ok = rel <= args.rtol
            note = ""
            if not ok:
                failures.append(
                    f"{name}: relative error {rel:.3e} > rtol {args.rtol:g}")
        rows.append((rel, name, rel_max, worst, ref_norm, where, ok, note))

    rows.sort(reverse=True)
    print(f"compared {len(rows)} tensors of {args.a} against {args.b} "
          f"(rtol {args.rtol:g})")
    if rows:
        print(f"{'rel.err':>10} {'max.rel':>10} {'max|a-b|':>10} "
              f"{'|b|':>10}  name [worst element]")
        for rel, name, rel_max, worst, ref_norm, where, ok, note in rows[:args.top]:
            mark = "" if ok else "  FAIL"
            print(f"{rel:10.3e} {rel_max:10.3e} {worst:10.3e} {ref_norm:10.3e}  "
                  f"{name} {where} {note}{mark}".rstrip())
    if failures:
        print(f"\n{len(failures)} failure(s):")
        for f in failures:
            print("  " + f)
        return 1
    print("all tensors match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
