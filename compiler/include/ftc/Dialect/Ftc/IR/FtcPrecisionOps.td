//===- FtcPrecisionOps.td - Element-type conversions -------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Made by ftc-mixed-precision, never by plugins.
//===----------------------------------------------------------------------===//
#ifndef FTC_PRECISION_OPS
#define FTC_PRECISION_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

def Ftc_CastOp : Ftc_Op<"cast", [Pure]> {
  let summary = "Element-type conversion between f32 and bf16";
  let description = [{
    f32 to bf16 rounds to nearest, ties to even (as PyTorch's
    `tensor.to(torch.bfloat16)`); bf16 to f32 is exact. The shape is kept.
    `ftc-mixed-precision` casts the multiplicands of matrix products.

    ```mlir
    %xb = ftc.cast %x : tensor<32x256xf32> to tensor<32x256xbf16>
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$input);
  let results = (outs Ftc_ProductTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

#endif // FTC_PRECISION_OPS
