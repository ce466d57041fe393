//===- Fuse.cpp - Backend-aware fusions ----------------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Each pattern replaces ops by one the runtime runs as a single kernel and
// is the same computation, so the fused plan matches the unfused one up to
// float summation order (test/e2e/fuse.test compares them; `train.fuse =
// false` turns the pass off). Patterns: bias gradients into the weight
// gradient, GELU into the linear layer before it, residual addition into
// the layer norm after it, transposes into the batched matrix products
// around them, and per-parameter optimizer updates into one update per
// parameter group.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCFUSE
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

/// True when every user of `v` is `point` (which the fusion replaces) or
/// comes after it in its block.
bool usedOnlyAfter(Value v, Operation *point) {
  return llvm::all_of(v.getUsers(), [&](Operation *user) {
    Operation *top = point->getBlock()->findAncestorOpInBlock(*user);
    return top && (top == point || point->isBeforeInBlock(top));
  });
}

/// bias-grad: linear_grad_weight(x, dy) + reduce_sum(dy, [0]) ->
/// linear_grad_weight_bias(x, dy). One pass over dy, and oneDNN computes the
/// bias gradient inside its backward-weights primitive.
void fuseBiasGrads(func::FuncOp fn) {
  SmallVector<std::pair<LinearGradWeightOp, ReduceSumOp>> pairs;
  fn.walk([&](LinearGradWeightOp w) {
    for (Operation *user : w.getGrad().getUsers()) {
      auto r = dyn_cast<ReduceSumOp>(user);
      if (!r || r->getBlock() != w->getBlock() ||
          r.getAxes() != ArrayRef<int64_t>{0} ||
          r.getInput().getType().getRank() != 2)
        continue;
      pairs.push_back({w, r});
      return;
    }
  });
  for (auto [w, r] : pairs) {
    // At the later of the two, so both operands are defined; the earlier
    // one's users must all come after it.
    bool wFirst = w->isBeforeInBlock(r);
    Operation *later = wFirst ? r.getOperation() : w.getOperation();
    Value earlier = wFirst ? w.getResult() : r.getResult();
    if (!usedOnlyAfter(earlier, later))
      continue;
    OpBuilder b(later);
    auto fused = LinearGradWeightBiasOp::create(
        b, w.getLoc(), TypeRange{w.getType(), r.getType()}, w.getInput(),
        w.getGrad());
    w.getResult().replaceAllUsesWith(fused.getWeightGrad());
    r.getResult().replaceAllUsesWith(fused.getBiasGrad());
    w.erase();
    r.erase();
  }
}

/// linear + gelu -> linear_gelu, where the gelu is the pre-activation's only
/// reader: oneDNN applies the GELU as a post-op, so the pre-activation is
/// never stored. Training keeps the pair wherever gelu_grad reads it.
void fuseLinearGelu(func::FuncOp fn) {
  SmallVector<GeluOp> gelus;
  fn.walk([&](GeluOp g) {
    auto l = g.getInput().getDefiningOp<LinearOp>();
    // The post-op is the erf form (linear's `activation = "gelu"`).
    if (l && l->getBlock() == g->getBlock() && l.getResult().hasOneUse() &&
        g.getApproximate() == "none")
      gelus.push_back(g);
  });
  for (GeluOp g : gelus) {
    auto l = g.getInput().getDefiningOp<LinearOp>();
    OpBuilder b(g);
    auto fused = LinearGeluOp::create(b, l.getLoc(), g.getType(), l.getInput(),
                                      l.getWeight(), l.getBias());
    g.getResult().replaceAllUsesWith(fused.getResult());
    g.erase();
    l.erase();
  }
}

/// add + layer_norm -> add_layer_norm, where the sum is read only by the
/// layer norm and by layer_norm_grads that take it as their input (the
/// fused op returns it for them).
void fuseAddLayerNorm(func::FuncOp fn) {
  SmallVector<LayerNormOp> norms;
  fn.walk([&](LayerNormOp ln) {
    auto add = ln.getInput().getDefiningOp<AddOp>();
    // The fused kernel adds rows of one shape (no broadcasting).
    if (!add || add->getBlock() != ln->getBlock() ||
        add.getLhs().getType() != add.getRhs().getType())
      return;
    for (OpOperand &use : add.getResult().getUses()) {
      Operation *user = use.getOwner();
      if (user == ln.getOperation())
        continue;
      auto grad = dyn_cast<LayerNormGradOp>(user);
      if (!grad || use.getOperandNumber() != 0 ||
          grad.getGrad() == add.getResult() ||
          grad.getGamma() == add.getResult())
        return;
    }
    // The sum will be defined at the layer norm.
    if (!usedOnlyAfter(add.getResult(), ln))
      return;
    norms.push_back(ln);
  });
  for (LayerNormOp ln : norms) {
    auto add = ln.getInput().getDefiningOp<AddOp>();
    OpBuilder b(ln);
    auto fused = AddLayerNormOp::create(
        b, ln.getLoc(), TypeRange{ln.getType(), add.getType()}, add.getLhs(),
        add.getRhs(), ln.getGamma(), ln.getBeta(), ln.getEpsAttr());
    ln.getResult().replaceAllUsesWith(fused.getResult());
    add.getResult().replaceAllUsesWith(fused.getSum());
    ln.erase();
    add.erase();
  }
}

/// How a batch_matmul reads an operand of rank `rank`: its axes in order, or
/// with the last two swapped.
SmallVector<int64_t> operandView(int64_t rank, bool transposed) {
  SmallVector<int64_t> view;
  for (int64_t k = 0; k < rank; ++k)
    view.push_back(k);
  if (transposed)
    std::swap(view[rank - 1], view[rank - 2]);
  return view;
}

/// transposes into the batch_matmuls that read them, and a batch_matmul's
/// result into the transpose that is its only reader ->
/// strided_batch_matmul: oneDNN reads and writes the permuted layouts
/// through strides, so attention's head splits and merges make no copies.
/// A transpose is folded only when every reader is a batch_matmul (it then
/// disappears).
void foldTransposesIntoMatmuls(func::FuncOp fn) {
  SmallVector<BatchMatmulOp> matmuls;
  fn.walk([&](BatchMatmulOp mm) { matmuls.push_back(mm); });
  auto onlyMatmuls = [](TransposeOp t) {
    return llvm::all_of(t.getResult().getUsers(), [](Operation *user) {
      return isa<BatchMatmulOp, StridedBatchMatmulOp>(user);
    });
  };
  for (BatchMatmulOp mm : matmuls) {
    int64_t rank = mm.getType().getRank();
    bool folded = false;
    // The operand to read and its view permutation.
    auto operand =
        [&](Value v,
            bool transposed) -> std::pair<Value, SmallVector<int64_t>> {
      SmallVector<int64_t> perm = operandView(rank, transposed);
      auto t = v.getDefiningOp<TransposeOp>();
      if (!t || t->getBlock() != mm->getBlock() || !onlyMatmuls(t))
        return {v, perm};
      for (int64_t &p : perm)
        p = t.getPerm()[p];
      folded = true;
      return {t.getInput(), perm};
    };
    auto [lhs, lhsPerm] = operand(mm.getLhs(), mm.getTransposeLhs() != 0);
    auto [rhs, rhsPerm] = operand(mm.getRhs(), mm.getTransposeRhs() != 0);
    SmallVector<int64_t> resultPerm = operandView(rank, false);
    TransposeOp out;
    if (mm.getResult().hasOneUse())
      out = dyn_cast<TransposeOp>(*mm.getResult().getUsers().begin());
    if (out && out->getBlock() == mm->getBlock())
      resultPerm.assign(out.getPerm().begin(), out.getPerm().end());
    else
      out = nullptr;
    if (!folded && !out)
      continue;
    OpBuilder b(mm);
    auto strided = StridedBatchMatmulOp::create(
        b, mm.getLoc(), out ? out.getType() : mm.getType(), lhs, rhs,
        b.getDenseI64ArrayAttr(lhsPerm), b.getDenseI64ArrayAttr(rhsPerm),
        b.getDenseI64ArrayAttr(resultPerm));
    if (out) {
      out.getResult().replaceAllUsesWith(strided.getResult());
      out.erase();
    } else {
      mm.getResult().replaceAllUsesWith(strided.getResult());
    }
    mm.erase();
  }
  SmallVector<TransposeOp> dead;
  fn.walk([&](TransposeOp t) {
    if (t.use_empty())
      dead.push_back(t);
  });
  for (TransposeOp t : dead)
    t.erase();
}

/// What makes two updates of one kind share a group: the same scalar
/// operands and the same hyperparameter attributes.
template <typename UpdateOp>
std::tuple<Value, Value, Value, DictionaryAttr> groupKey(UpdateOp u) {
  return {u.getLr(), u.getStep(), u.getGradScale(), u->getAttrDictionary()};
}

/// The group's clipping factor: the updates' own, or without clipping a
/// constant 1 (multiplying by it changes no gradient).
template <typename UpdateOp> Value clipFactor(OpBuilder &b, UpdateOp u) {
  if (Value clip = u.getGradScale())
    return clip;
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  return FillOp::create(b, u.getLoc(), scalar, b.getF64FloatAttr(1.0));
}

/// Builds the group op for `members` (all of one key) at `b`.
void createGroup(OpBuilder &b, ArrayRef<AdamWUpdateOp> members,
                 ValueRange params, ValueRange grads) {
  AdamWUpdateOp u = members.front();
  AdamWGroupUpdateOp::create(b, u.getLoc(), params, grads, u.getLr(),
                             u.getStep(), clipFactor(b, u), u.getBeta1Attr(),
                             u.getBeta2Attr(), u.getEpsAttr(),
                             u.getWeightDecayAttr(), u.getLrScaleAttr());
}
void createGroup(OpBuilder &b, ArrayRef<SgdUpdateOp> members, ValueRange params,
                 ValueRange grads) {
  SgdUpdateOp u = members.front();
  SgdGroupUpdateOp::create(b, u.getLoc(), params, grads, u.getLr(), u.getStep(),
                           clipFactor(b, u), u.getMomentumAttr(),
                           u.getDampeningAttr(), u.getWeightDecayAttr(),
                           u.getNesterovAttr(), u.getLrScaleAttr());
}

/// A run of consecutive updates -> one group update per parameter group
/// (the same hyperparameters), as PyTorch's multi-tensor optimizers: one
/// vectorised pass over all of a group's tensors instead of one small
/// kernel per tensor. Updates write only their own parameter and state, so
/// they commute within a run. Updates with their own step count (gradual
/// unfreezing) stay single.
template <typename UpdateOp> void groupUpdates(func::FuncOp fn) {
  SmallVector<SmallVector<UpdateOp>> runs;
  for (Block &block : fn.getBody()) {
    SmallVector<UpdateOp> run;
    for (Operation &op : block) {
      auto u = dyn_cast<UpdateOp>(op);
      if (u && !u.getOwnStep()) {
        run.push_back(u);
        continue;
      }
      if (run.size() > 1)
        runs.push_back(run);
      run.clear();
    }
  }
  for (ArrayRef<UpdateOp> run : runs) {
    // Groups in order of their first member; members in run order.
    SmallVector<SmallVector<UpdateOp>> groups;
    for (UpdateOp u : run) {
      auto it = llvm::find_if(groups, [&](ArrayRef<UpdateOp> g) {
        return groupKey(g.front()) == groupKey(u);
      });
      if (it == groups.end())
        groups.push_back({u});
      else
        it->push_back(u);
    }
    OpBuilder b(run.back());
    b.setInsertionPointAfter(run.back());
    for (ArrayRef<UpdateOp> group : groups) {
      if (group.size() < 2)
        continue;
      SmallVector<Value> params, grads;
      for (UpdateOp u : group) {
        params.push_back(u.getParam());
        grads.push_back(u.getGrad());
      }
      createGroup(b, group, params, grads);
      for (UpdateOp u : group)
        u.erase();
    }
  }
}

struct Fuse : mlir::ftc::impl::FtcFuseBase<Fuse> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      fuseBiasGrads(fn);
      fuseLinearGelu(fn);
      fuseAddLayerNorm(fn);
      foldTransposesIntoMatmuls(fn);
      groupUpdates<AdamWUpdateOp>(fn);
      groupUpdates<SgdUpdateOp>(fn);
    }
  }
};

} // namespace
