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

def Ftc_PlanLowerableOpInterface : OpInterface<"PlanLowerableOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    An op of the runtime contract: it knows the kernel calls it becomes in
    the executable plan (docs/runtime-contract.md). The conversion to the
    plan (FtcToPlan) is a walk that calls this; an op without it cannot be
    converted.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the op's kernel calls through `emitter` and binds its results
        to buffers. Runs after ftc-plan-memory (arena offsets are set).
      }],
      "::mlir::LogicalResult", "lowerToPlan",
      (ins "::mlir::ftc::PlanEmitter &":$emitter)>,
  ];
}

def Ftc_PrefixCacheableOpInterface : OpInterface<"PrefixCacheableOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    A forward op that may sit in a cached frozen prefix
    (`ftc-cache-frozen-prefix`): its outputs are computed once per example
    and stored, so the op must give the same result every time and keep
    each example's part of the batch together. The analysis
    (FrozenPrefix.cpp) walks this interface; an op without it ends the
    prefix.
  }];
  let methods = [
    InterfaceMethod<[{
        Whether the result is a function of the operands alone (dropout:
        only at p = 0; it draws a new mask every step otherwise).
      }],
      "bool", "isDeterministic", (ins), [{}], [{ return true; }]>,
    InterfaceMethod<[{
        Whether the single result keeps the examples in contiguous chunks of
        rows, given that `exampleOperands` (the operands that depend on the
        example) do, with the result's leading dimension a multiple of the
        batch. The default is a row-wise op: every example operand has the
        result's number of rows.
      }],
      "bool", "keepsExamplesContiguous",
      (ins "::mlir::ArrayRef<::mlir::Value>":$exampleOperands), [{}], [{
        return ::mlir::ftc::sameLeadingDim($_op->getResult(0),
                                           exampleOperands);
      }]>,
  ];
}

def Ftc_TrainOnlyOpInterface : OpInterface<"TrainOnlyOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    An op that behaves differently in training and in evaluation (dropout,
    batch norm).
    `ftc-autodiff` builds @eval_step and @predict_step with every such op
    replaced by its evaluation form, so evaluation is deterministic.
  }];
  let methods = [
    InterfaceMethod<[{
        The value that stands for the op's result in evaluation (dropout:
        its input); the op is then erased.
      }],
      "::mlir::Value", "getEvalValue">,
    InterfaceMethod<[{
        Whether a layer whose parameters are all frozen runs in its
        evaluation form in training too (batch norm under
        `freeze.batch_norm = "eval"`: a frozen layer keeps its statistics);
        dropout keeps its training form.
      }],
      "bool", "evalWhenFrozen", (ins), [{}], [{ return false; }]>,
  ];
}

def Ftc_NormalizationOpInterface : OpInterface<"NormalizationOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    A normalisation with a learned scale and shift (layer norm). Weight
    decay leaves the parameters it reads there alone by default
    (`optimizer.no_decay`'s `@norm`), as Hugging Face's Trainer exempts every
    normalisation layer, whatever a family names it.
  }];
  let methods = [
    InterfaceMethod<[{
        The operands that scale and shift the normalised values.
      }],
      "::mlir::SmallVector<::mlir::Value>", "getAffineOperands">,
  ];
}

def Ftc_MatrixProductOpInterface : OpInterface<"MatrixProductOpInterface"> {
  let cppNamespace = "::mlir::ftc";
  let description = [{
    A matrix product (linear layers, their backward products, batched
    products): compute-bound, 2·M·N·K floating-point operations where the
    first result holds the M·N (times the batch) outputs. Costs are counted
    through it (the frozen-prefix analysis's share); any other op counts one
    operation per result element.
  }];
  let methods = [
    InterfaceMethod<[{
        The length K of the dimension the product sums over.
      }],
      "int64_t", "getContractedDim">,
    InterfaceMethod<[{
        The operands that are multiplied (not a bias): under mixed
        precision (`ftc-mixed-precision`) they may be bf16, all of them
        alike, while the product accumulates and returns f32. Empty when the
        op's kernels have no bf16 form yet (it then stays f32).
      }],
      "::llvm::SmallVector<unsigned>", "getMultiplicandOperands", (ins), [{}],
      [{ return {}; }]>,
  ];
  let verify = [{ return ::mlir::ftc::verifyMultiplicands($_op); }];
  let extraClassDeclaration = [{
    /// 2·M·N·K of this product.
    double getFlops() {
      auto out = ::llvm::cast<::mlir::RankedTensorType>(
          (*this)->getResult(0).getType());
      return 2.0 * double(out.getNumElements()) * double(getContractedDim());
    }
  }];
}

// The ops a model plugin may build by name through the graph-builder ABI
// (`op(ctx, "linear", ...)`): the forward ops. Gradient, fused and optimizer
// ops are the compiler's own; parameters, inputs and outputs have their own
// entry points.
def Ftc_PluginBuildable : NativeOpTrait<"PluginBuildable"> {
  let cppNamespace = "::mlir::ftc::OpTrait";
}

#endif // FTC_INTERFACES
