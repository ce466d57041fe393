//===- MixedPrecision.cpp - bf16 products with f32 accumulation -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// A generic walk over MatrixProductOpInterface: the ops say which operands
// they multiply and whether they have a bf16 form; this pass only places the
// casts. It runs after ftc-fuse, on the step functions as they will execute,
// so the fused products (linear_gelu, linear_grad_weight_bias,
// strided_batch_matmul) get bf16 operands too.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCMIXEDPRECISION
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

/// Casts the f32 multiplicands of every product in `fn`; returns the number
/// of casts made.
int64_t castProductOperands(func::FuncOp fn) {
  SmallVector<MatrixProductOpInterface> products;
  fn.walk([&](MatrixProductOpInterface p) { products.push_back(p); });
  // One bf16 copy per value, made before its first product: the ops are in
  // execution order in the step's single block.
  DenseMap<Value, Value> copies;
  for (MatrixProductOpInterface product : products) {
    Operation *op = product.getOperation();
    for (unsigned i : product.getMultiplicandOperands()) {
      Value v = op->getOperand(i);
      auto type = cast<RankedTensorType>(v.getType());
      if (!type.getElementType().isF32())
        continue;
      Value &copy = copies[v];
      if (!copy) {
        OpBuilder b(op);
        copy = CastOp::create(
            b, v.getLoc(),
            RankedTensorType::get(type.getShape(), b.getBF16Type()), v);
      }
      op->setOperand(i, copy);
    }
  }
  return int64_t(copies.size());
}

struct MixedPrecision : mlir::ftc::impl::FtcMixedPrecisionBase<MixedPrecision> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t casts = 0;
    for (auto fn : module.getOps<func::FuncOp>())
      casts += castProductOperands(fn);
    Builder b(module.getContext());
    module->setAttr("ftc.precision", b.getStringAttr("bf16"));
    module->setAttr("ftc.bf16_casts", b.getI64IntegerAttr(casts));
  }
};

} // namespace
