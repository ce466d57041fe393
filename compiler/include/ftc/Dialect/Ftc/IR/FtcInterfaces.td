//===- FtcInterfaces.td - What an ftc op knows about itself -*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The knowledge that belongs with an op, declared where the op is: the
// passes walk these interfaces instead of keeping their own lists of ops.
//===----------------------------------------------------------------------===//
#ifndef FTC_INTERFACES
#define FTC_INTERFACES

include "mlir/IR/OpBase.td"

def Ftc_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    An op that can sit on the path from a trainable parameter to the loss:
    it emits its own vector-Jacobian product. `ftc-autodiff` calls it in its
    reverse sweep; an op without it on such a path is a compile error that
    names the op and the parameter, never a silent zero gradient.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits, at the builder's insertion point, the gradient of the loss
        with respect to each operand, given `resultGrads`: one value per
        result, null for a result the loss does not depend on (at least one
        is set). Fills `operandGrads` with one value per operand, null
        where `needed[i]` is false (the operand depends on no trainable
        parameter) or where the operand has no gradient (integer labels,
        ids). Emits nothing for an operand that is not needed.
      }],
      "::mlir::LogicalResult", "buildVjp",
      (ins "::mlir::OpBuilder &":$b,
           "::mlir::ArrayRef<::mlir::Value>":$resultGrads,
           "::mlir::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // FTC_INTERFACES
