//===- LoraRewrite.cpp - The LoRA freeze policy's graph rewrite -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// LoRA (Hu et al., 2021) as PEFT implements it: a targeted linear layer
// y = x·Wᵀ + b becomes y + (alpha/r)·(dropout(x)·Aᵀ)·Bᵀ with A [r, in] and
// B [out, r]; B starts at zero, so the rewritten model computes exactly the
// original function until training moves B. The rewrite happens before
// autodiff, so the backward pass and the optimizer see ordinary ops and
// parameters: W stays frozen, A and B train.
//===----------------------------------------------------------------------===//
#include "LoraRewrite.h"

#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Support/Glob.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <optional>
#include <set>

using namespace mlir;
using namespace mlir::ftc;

namespace {

constexpr llvm::StringLiteral kWeightSuffix = ".weight";

/// A target matches a module by its last dotted component (PEFT's rule for
/// plain names such as "query") or, when it has a dot or a wildcard, as a
/// glob over the whole module name.
struct Target {
  std::string text;
  std::optional<::ftc::GlobPattern> glob; // unset: last-component rule

  bool matches(StringRef module) const {
    if (glob)
      return glob->match(module.str());
    size_t dot = module.rfind('.');
    StringRef last = dot == StringRef::npos ? module : module.substr(dot + 1);
    return last == text;
  }
};

/// The module a linear layer belongs to: its weight's name without
/// ".weight", or "" when the weight is not a named parameter.
StringRef moduleOf(LinearOp linear) {
  auto param = linear.getWeight().getDefiningOp<ParamOp>();
  if (!param || !param.getName().ends_with(kWeightSuffix))
    return "";
  return param.getName().drop_back(kWeightSuffix.size());
}

} // namespace

LogicalResult
mlir::ftc::applyLoraRewrite(ModuleOp module, const LoraOptions &options,
                            std::vector<std::string> &loraParams) {
  if (options.rank < 1)
    return module.emitError("lora_rank must be at least 1");
  if (options.targets.empty())
    return module.emitError("freeze policy 'lora' needs lora_targets");
  std::vector<Target> targets;
  for (const std::string &text : options.targets) {
    Target t{text, std::nullopt};
    if (text.find_first_of(".*{?[") != std::string::npos) {
      std::string error;
      t.glob = ::ftc::GlobPattern::compile(text, error);
      if (!t.glob)
        return module.emitError("invalid lora target '")
               << text << "': " << error;
    }
    targets.push_back(std::move(t));
  }

  SmallVector<LinearOp> linears;
  module.walk([&](LinearOp l) {
    if (!moduleOf(l).empty())
      linears.push_back(l);
  });
  // A target that selects nothing is a typo, not a request for no LoRA.
  for (const Target &t : targets)
    if (llvm::none_of(linears,
                      [&](LinearOp l) { return t.matches(moduleOf(l)); })) {
      std::string known;
      std::set<std::string> names;
      for (LinearOp l : linears)
        names.insert(moduleOf(l).str());
      size_t shown = 0;
      for (const std::string &n : names) {
        if (shown++ == 6) {
          known += ", ...";
          break;
        }
        known += (shown > 1 ? ", " : "") + n;
      }
      return module.emitError("lora target '")
             << t.text << "' matches no linear layer of the model (its "
             << "linear layers: " << known << ")";
    }

  // Dropout streams must stay unique in the module.
  int64_t nextStream = 0;
  module.walk([&](DropoutOp d) {
    nextStream = std::max(nextStream, int64_t(d.getStream()) + 1);
  });

  std::set<std::string> created;
  double scale = options.alpha / double(options.rank);
  for (LinearOp linear : linears) {
    StringRef name = moduleOf(linear);
    if (llvm::none_of(targets,
                      [&](const Target &t) { return t.matches(name); }))
      continue;
    OpBuilder b(linear->getNextNode());
    Location loc = linear.getLoc();
    auto weightType = cast<RankedTensorType>(linear.getWeight().getType());
    int64_t out = weightType.getDimSize(0), in = weightType.getDimSize(1);
    Type f32 = weightType.getElementType();
    std::string aName = (name + ".lora_A.weight").str(),
                bName = (name + ".lora_B.weight").str();
    // PEFT: kaiming_uniform_(A, a=sqrt(5)), i.e. uniform(±1/sqrt(in)); B = 0.
    double bound = 1.0 / std::sqrt(double(in));
    // The adapter sits in the adapted weight's block (layer-wise lr decay).
    auto weightParam = linear.getWeight().getDefiningOp<ParamOp>();
    IntegerAttr layer = weightParam ? weightParam.getLayerAttr() : nullptr;
    Value a =
        ParamOp::create(b, loc, RankedTensorType::get({options.rank, in}, f32),
                        b.getStringAttr(aName), b.getStringAttr("uniform"),
                        b.getF64FloatAttr(-bound), b.getF64FloatAttr(bound),
                        UnitAttr(), b.getBoolAttr(true), layer);
    Value bw = ParamOp::create(
        b, loc, RankedTensorType::get({out, options.rank}, f32),
        b.getStringAttr(bName), b.getStringAttr("zeros"), b.getF64FloatAttr(0),
        b.getF64FloatAttr(0), UnitAttr(), b.getBoolAttr(true), layer);
    Value x = linear.getInput();
    if (options.dropout > 0)
      x = DropoutOp::create(b, loc, x.getType(), x,
                            b.getF64FloatAttr(options.dropout),
                            b.getI64IntegerAttr(nextStream++));
    auto xType = cast<RankedTensorType>(x.getType());
    Value down = LinearOp::create(
        b, loc, RankedTensorType::get({xType.getDimSize(0), options.rank}, f32),
        x, a, Value());
    Value up = LinearOp::create(b, loc, linear.getType(), down, bw, Value());
    Value scaled =
        ScaleOp::create(b, loc, linear.getType(), up, b.getF64FloatAttr(scale));
    Value sum =
        AddOp::create(b, loc, linear.getType(), linear.getResult(), scaled);
    linear.getResult().replaceAllUsesExcept(sum, sum.getDefiningOp());
    for (const std::string &n : {aName, bName})
      if (created.insert(n).second)
        loraParams.push_back(n);
  }
  return success();
}
