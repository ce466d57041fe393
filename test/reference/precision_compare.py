"""Checks a bf16 run against PyTorch autocast, both measured from fp32.

    precision_compare.py FTC_BF16 TORCH_AUTOCAST FP32 [--rtol 0.05]
        [--ratio 1.5] [--floor 1e-4] [--exclude GLOB]...

Three ftc-trace-layout files on the same weights and batch: ftc under
train.precision = "bf16", the reference under torch.autocast("cpu",
bfloat16), and the fp32 reference. Over `loss`, `logits` and every `grad.*`
(minus --exclude globs: tensors that are rounding noise by construction):

1. agreement: ||ftc - torch|| <= rtol * ||torch|| for each tensor. bf16
   keeps 8 significant bits (a relative rounding error up to 2^-9 = 0.2%
   per operand); a product of K such terms accumulated in f32 carries a
   relative error of order 2^-9 * sqrt(K) where terms cancel, and the two
   implementations round different intermediates (autocast returns bf16
   products, ftc f32 ones), so their gradients differ by a few 1e-3 to 1e-2
   relative: rtol 5e-2 is "the same bf16 computation", and still catches a
   wrong operand, transpose or a missing term (errors of order 1);
2. accuracy: ftc's error from fp32, summed in quadrature over the tensors,
   is at most `ratio` times autocast's (ftc should be no less accurate);
3. it ran in bf16: ftc's error from fp32 is above `floor` (an fp32 run that
   ignored the precision would be ~1e-6).
Prints one line per tensor and a summary; exits 1 when a check fails.
"""
import argparse
import fnmatch
import sys

import numpy as np

import safetensors_io


def rel(a, b):
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ftc")
    ap.add_argument("torch")
    ap.add_argument("fp32")
    ap.add_argument("--rtol", type=float, default=5e-2)
    ap.add_argument("--ratio", type=float, default=1.5)
    ap.add_argument("--floor", type=float, default=1e-4)
    ap.add_argument("--exclude", action="append", default=[])
    a = ap.parse_args()
    ftc, ref, fp32 = (safetensors_io.load(p) for p in (a.ftc, a.torch, a.fp32))
    names = [n for n in sorted(fp32)
             if (n in ("loss", "logits") or n.startswith("grad."))
             and not any(fnmatch.fnmatch(n, g) for g in a.exclude)]
    failures = []
    sq_ftc = sq_torch = 0.0
    print(f"{'ftc~torch':>10} {'ftc~fp32':>10} {'torch~fp32':>10}  tensor")
    for n in names:
        if n not in ftc or n not in ref:
            failures.append(f"{n}: missing")
            continue
        agree, e_ftc, e_torch = rel(ftc[n], ref[n]), rel(ftc[n], fp32[n]), rel(ref[n], fp32[n])
        sq_ftc += e_ftc ** 2
        sq_torch += e_torch ** 2
        flag = "  FAIL" if agree > a.rtol else ""
        print(f"{agree:10.3e} {e_ftc:10.3e} {e_torch:10.3e}  {n}{flag}")
        if agree > a.rtol:
            failures.append(f"{n}: ftc and autocast differ by {agree:.3e} > rtol {a.rtol}")
    total_ftc, total_torch = sq_ftc ** 0.5, sq_torch ** 0.5
    print(f"compared {len(names)} tensors; error from fp32 (quadrature sum): "
          f"ftc bf16 {total_ftc:.3e}, torch autocast {total_torch:.3e}")
    if total_ftc > a.ratio * total_torch:
        failures.append(f"ftc's bf16 error {total_ftc:.3e} exceeds {a.ratio} x autocast's "
                        f"{total_torch:.3e}")
    if total_ftc <= a.floor:
        failures.append(f"ftc's error from fp32 {total_ftc:.3e} is at most {a.floor}: "
                        "did the products run in bf16?")
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("bf16 parity ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
