//===- FtcOpBase.td - What the ftc ops share ---------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_OP_BASE
#define FTC_OP_BASE

include "ftc/Dialect/Ftc/IR/FtcDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

// Ops on a path from a trainable parameter to the loss carry their VJP
// (the family's Ftc*Ops.cpp).
defvar Ftc_Vjp = DeclareOpInterfaceMethods<Ftc_DifferentiableOpInterface>;
// Forward ops that may sit in a cached frozen prefix: row-wise unless they
// say otherwise (the family's Ftc*Ops.cpp).
defvar Ftc_Cacheable = Ftc_PrefixCacheableOpInterface;
// Matrix products say what they sum over (the family's Ftc*Ops.cpp).
defvar Ftc_Product = DeclareOpInterfaceMethods<Ftc_MatrixProductOpInterface>;
// Products with a bf16 form: their multiplicands are Ftc_ProductTensor.
defvar Ftc_Bf16Product = DeclareOpInterfaceMethods<Ftc_MatrixProductOpInterface,
                                                   ["getMultiplicandOperands"]>;
class Ftc_CacheableWith<list<string> overrides>
    : DeclareOpInterfaceMethods<Ftc_PrefixCacheableOpInterface, overrides>;

// The geometry of a 2-D window op, as PyTorch's: `stride` and `dilation`
// [h, w]; `padding` [h, w] (the same on both sides) or [top, left, bottom,
// right] (TensorFlow's asymmetric "same" padding).
defvar Ftc_WindowStride = DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">;
defvar Ftc_WindowPadding = DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">;

def Ftc_F32Tensor : RankedTensorOf<[F32]>;
// A product's multiplicand: f32, or bf16 after ftc-mixed-precision.
def Ftc_ProductTensor : RankedTensorOf<[F32, BF16]>;
def Ftc_LabelTensor : RankedTensorOf<[I32]>;
def Ftc_DataTensor : RankedTensorOf<[F32, I32]>;
def Ftc_ScalarF32 : 0DTensorOf<[F32]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getF32Type())";
}

class Ftc_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Ftc_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let arguments = (ins Ftc_F32Tensor:$input);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

// Element-wise with broadcasting: operands of one rank, each axis equal or
// 1 in one of them (NumPy's rule, ranks aligned); the result has the larger
// size on every axis. Printed `: T` when all types are T, else
// `: (A, B) -> C`.
class Ftc_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Ftc_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let arguments = (ins Ftc_F32Tensor:$lhs, Ftc_F32Tensor:$rhs);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` custom<BinaryTypes>(type($lhs), type($rhs), type($result))";
}

#endif // FTC_OP_BASE
