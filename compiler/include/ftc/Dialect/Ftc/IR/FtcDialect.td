//===- FtcDialect.td - The ftc training dialect ------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT
#define FTC_DIALECT

include "mlir/IR/OpBase.td"
include "ftc/Dialect/Ftc/IR/FtcInterfaces.td"

def Ftc_Dialect : Dialect {
  let name = "ftc";
  let summary = "Tensor-level training ops: forward, backward and optimizer.";
  let description = [{
    The `ftc` dialect holds a fine-tuning job as one graph. A model plugin
    builds `@forward` from `ftc.param` (named, persistent parameters),
    `ftc.input` (dataset features and runtime scalars) and compute ops, and
    marks results with `ftc.output`. The training pipeline then annotates
    trainability (`ftc-apply-freeze`), derives `@train_step` and
    `@eval_step` (`ftc-autodiff`), replaces gradient outputs with in-place
    optimizer updates (`ftc-lower-optimizer`) and assigns arena offsets
    (`ftc-plan-memory`) before conversion to the runtime plan.

    Shapes are static; compute is f32, class labels are i32. Under mixed
    precision (`ftc-mixed-precision`) the multiplicands of matrix products
    are bf16 copies made by `ftc.cast`; the products still return f32.
  }];
  let cppNamespace = "::mlir::ftc";
  // Attributes stay in the attribute dictionary so that plugins can build any
  // op generically (OperationState + InferTypeOpInterface) by name.
  let usePropertiesForAttributes = 0;
}

// Every op is part of the runtime contract and says how it lowers to the
// plan (each op family's Ftc*Ops.cpp).
class Ftc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ftc_Dialect, mnemonic,
         !listconcat(traits,
                     [DeclareOpInterfaceMethods<Ftc_PlanLowerableOpInterface>])>;

#endif // FTC_DIALECT
