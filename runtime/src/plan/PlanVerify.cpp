//===- PlanVerify.cpp - Plan format: the kernel signatures and the verifier *-
// C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The plan crosses a trust boundary (it is a file a user may hand to the
// runtime on another machine), so verify() checks every id, size and kernel
// signature before any backend computes an address from them. The
// signature table is the runtime contract (docs/runtime-contract.md).
//===----------------------------------------------------------------------===//

#include "PlanInternal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace ftc::plan {
using namespace detail;

namespace {

//===----------------------------------------------------------------------===//
// Kernel signatures (docs/runtime-contract.md)
//===----------------------------------------------------------------------===//

class StepChecker;
using CheckFn = bool (*)(StepChecker &);

struct KernelSig {
  const char *name;
  std::vector<const char *> ins;
  size_t optionalIns; // trailing inputs that may be absent
  std::vector<const char *> outs;
  size_t optionalOuts; // trailing outputs that may be absent
  CheckFn check;
  bool variadicIns = false; // one or more inputs, all like ins[0]
  // A group update over `tensors` parameters: inputs ins[0] per tensor then
  // the rest of ins; outputs each of outs per tensor. `check` checks arity.
  bool grouped = false;
  // A matrix product: the length of the dimension it sums over (its cost is
  // 2·M·N·K with M·N the first output); null for other kernels.
  int64_t (*contracted)(const Plan &, const Step &) = nullptr;
  // Where the kernel takes the blocked nChw16c layout; null: nowhere.
  LayoutFn layout = nullptr;
};

class StepChecker {
public:
  StepChecker(const Plan &plan, const Program &prog, size_t stepIdx,
              const KernelSig &sig, std::string &err)
      : plan(plan), prog(prog), step(prog.steps[stepIdx]), stepIdx(stepIdx),
        sig(sig), err(err) {}

  const Plan &plan;
  const Program &prog;
  const Step &step;
  size_t stepIdx;
  const KernelSig &sig;
  std::string &err;

  size_t numIns() const { return size_t(step.numInputs); }
  size_t numOuts() const { return step.args.size() - numIns(); }
  const Buffer &in(size_t i) const { return plan.buffers[step.args[i]]; }
  const Buffer &out(size_t i) const {
    return plan.buffers[step.args[numIns() + i]];
  }
  std::string role(size_t argIdx) const {
    bool isIn = argIdx < numIns();
    size_t k = isIn ? argIdx : argIdx - numIns();
    std::string r;
    if (size_t t = sig.grouped ? groupSize(step) : 0) {
      if (isIn)
        r = k < t ? std::string(sig.ins[0]) + "[" + std::to_string(k) + "]"
                  : sig.ins[std::min(k - t + 1, sig.ins.size() - 1)];
      else
        r = std::string(sig.outs[std::min(k / t, sig.outs.size() - 1)]) + "[" +
            std::to_string(k % t) + "]";
    } else {
      r = isIn ? sig.ins[std::min(k, sig.ins.size() - 1)]
               : sig.outs[std::min(k, sig.outs.size() - 1)];
    }
    int32_t id = step.args[argIdx];
    return std::string(isIn ? "input '" : "output '") + r + "' (%" +
           std::to_string(id) + " " + quoted(plan.buffers[id].name) + ")";
  }
  std::string inRole(size_t i) const { return role(i); }
  std::string outRole(size_t i) const { return role(numIns() + i); }

  bool fail(const std::string &msg) {
    if (err.empty())
      err = "program '" + prog.name + "' step " + std::to_string(stepIdx) +
            " (" + step.kernel + "): " + msg;
    return false;
  }
  bool expectShape(size_t argIdx, const std::vector<int64_t> &shape) {
    const Buffer &b = plan.buffers[step.args[argIdx]];
    if (b.shape == shape)
      return true;
    return fail(role(argIdx) + " has shape " + shapeStr(b.shape) +
                ", expected " + shapeStr(shape));
  }
  bool expectIn(size_t i, const std::vector<int64_t> &s) {
    return expectShape(i, s);
  }
  bool expectOut(size_t i, const std::vector<int64_t> &s) {
    return expectShape(numIns() + i, s);
  }
  bool expectRank(size_t argIdx, size_t rank) {
    const Buffer &b = plan.buffers[step.args[argIdx]];
    if (b.shape.size() == rank)
      return true;
    return fail(role(argIdx) + " has shape " + shapeStr(b.shape) +
                ", expected rank " + std::to_string(rank));
  }
  bool expectDType(size_t argIdx, DType dt) {
    const Buffer &b = plan.buffers[step.args[argIdx]];
    if (b.dtype == dt)
      return true;
    return fail(role(argIdx) + " has dtype " + toString(b.dtype) +
                ", expected " + toString(dt));
  }
  // A matrix product: inputs 0 and 1 (what it multiplies) both f32 or both
  // bf16 (mixed precision), every other argument f32.
  bool multiplicandsThenF32() {
    DType dt = in(0).dtype;
    if (dt != DType::F32 && dt != DType::BF16)
      return fail(role(0) + " has dtype " + toString(dt) +
                  ", expected f32 or bf16");
    return expectDType(1, dt) && allF32Except({0, 1});
  }
  // Every argument f32 except those listed (by argument index).
  bool allF32Except(std::initializer_list<size_t> skip = {}) {
    for (size_t a = 0; a < step.args.size(); ++a) {
      bool skipped = false;
      for (size_t s : skip)
        skipped |= s == a;
      if (!skipped && !expectDType(a, DType::F32))
        return false;
    }
    return true;
  }
  bool numericAttr(const char *name, bool required) {
    auto it = step.attrs.find(name);
    if (it == step.attrs.end())
      return required ? fail(std::string("missing attribute '") + name + "'")
                      : true;
    if (it->second.kind != Attr::Float && it->second.kind != Attr::Int)
      return fail(std::string("attribute '") + name + "' must be a number");
    return true;
  }
  bool intsAttr(const char *name) {
    auto it = step.attrs.find(name);
    if (it == step.attrs.end() || it->second.kind != Attr::Ints)
      return fail(std::string("missing integer-list attribute '") + name + "'");
    return true;
  }
  // `axes` must be distinct and inside [0, rank).
  bool axesAttr(size_t rank, std::vector<int64_t> &axes) {
    if (!intsAttr("axes"))
      return false;
    axes = step.getInts("axes");
    std::set<int64_t> seen;
    for (int64_t a : axes) {
      if (a < 0 || a >= int64_t(rank))
        return fail("axis " + std::to_string(a) + " is outside [0, " +
                    std::to_string(rank) + ")");
      if (!seen.insert(a).second)
        return fail("axis " + std::to_string(a) + " is listed twice");
    }
    return true;
  }
};

// An optional (or required) Int attribute; when present it must lie in
// [lo, hi].
bool intAttrIn(StepChecker &c, const char *name, bool required, int64_t lo,
               int64_t hi) {
  auto it = c.step.attrs.find(name);
  if (it == c.step.attrs.end())
    return required
               ? c.fail(std::string("missing integer attribute '") + name + "'")
               : true;
  if (it->second.kind != Attr::Int)
    return c.fail(std::string("attribute '") + name + "' must be an integer");
  if (it->second.i < lo || it->second.i > hi)
    return c.fail(std::string("attribute '") + name + "' is " +
                  std::to_string(it->second.i) + ", outside [" +
                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return true;
}

bool minRank(StepChecker &c, size_t argIdx, size_t rank) {
  const Buffer &b = c.plan.buffers[c.step.args[argIdx]];
  if (b.shape.size() >= rank)
    return true;
  return c.fail(c.role(argIdx) + " has shape " + shapeStr(b.shape) +
                ", expected rank >= " + std::to_string(rank));
}

bool checkLinear(StepChecker &c) {
  if (!c.multiplicandsThenF32() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
    return false;
  // An optional post-op applied to the result (a fused activation).
  auto act = c.step.attrs.find("activation");
  if (act != c.step.attrs.end() &&
      (act->second.kind != Attr::String || act->second.s != "gelu"))
    return c.fail("attribute 'activation' must be the string \"gelu\"");
  int64_t b = c.in(0).shape[0], i = c.in(0).shape[1], o = c.in(1).shape[0];
  if (!c.expectIn(1, {o, i}))
    return false;
  if (c.numIns() == 3 && !c.expectIn(2, {o}))
    return false;
  return c.expectOut(0, {b, o});
}

bool checkLinearBwdData(StepChecker &c) {
  if (!c.multiplicandsThenF32() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
    return false;
  int64_t b = c.in(0).shape[0], o = c.in(0).shape[1], i = c.in(1).shape[1];
  return c.expectIn(1, {o, i}) && c.expectOut(0, {b, i});
}

bool checkLinearBwdWeights(StepChecker &c) {
  if (!c.multiplicandsThenF32() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
    return false;
  int64_t b = c.in(0).shape[0], i = c.in(0).shape[1], o = c.in(1).shape[1];
  if (!c.expectIn(1, {b, o}) || !c.expectOut(0, {o, i}))
    return false;
  return c.numOuts() == 1 || c.expectOut(1, {o});
}

// All arguments f32 and shaped like input 0.
bool checkSameShape(StepChecker &c) {
  if (!c.allF32Except())
    return false;
  for (size_t a = 1; a < c.step.args.size(); ++a)
    if (!c.expectShape(a, c.in(0).shape))
      return false;
  return true;
}

// Inputs [first, first + count) of one rank, each axis equal or 1 in all
// but one of them; output 0 has their broadcast shape.
bool checkBroadcastInputs(StepChecker &c, size_t first, size_t count) {
  std::vector<int64_t> out = c.in(first).shape;
  for (size_t k = first + 1; k < first + count; ++k) {
    if (!c.expectRank(k, out.size()))
      return false;
    const std::vector<int64_t> &b = c.in(k).shape;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] != b[i] && out[i] != 1 && b[i] != 1)
        return c.fail("inputs " + shapeStr(out) + " and " + shapeStr(b) +
                      " do not broadcast (axis " + std::to_string(i) + ")");
      out[i] = std::max(out[i], b[i]);
    }
  }
  return c.expectOut(0, out);
}

// a, b of one rank, each axis equal or 1 in one of them; c the broadcast.
bool checkBroadcastBinary(StepChecker &c) {
  return c.allF32Except() && checkBroadcastInputs(c, 0, 2);
}

// a, b of one dtype (f32 or i32), broadcast; y i32 of 0/1.
bool checkCompare(StepChecker &c) {
  auto p = c.step.attrs.find("predicate");
  static const std::set<std::string> predicates{"eq", "ne", "lt",
                                                "le", "gt", "ge"};
  if (p == c.step.attrs.end() || p->second.kind != Attr::String ||
      !predicates.count(p->second.s))
    return c.fail("attribute 'predicate' must be one of the strings eq, ne, "
                  "lt, le, gt, ge");
  return c.expectDType(1, c.in(0).dtype) && c.expectDType(2, DType::I32) &&
         checkBroadcastInputs(c, 0, 2);
}

// cond i32, a and b f32, all broadcast to y.
bool checkWhere(StepChecker &c) {
  return c.allF32Except({0}) && c.expectDType(0, DType::I32) &&
         checkBroadcastInputs(c, 0, 3);
}

// `full` has the axis whole, `part` the range [start, start + size) of it.
bool checkRangeShapes(StepChecker &c, size_t full, size_t part) {
  const Buffer &f = c.plan.buffers[c.step.args[full]];
  const Buffer &p = c.plan.buffers[c.step.args[part]];
  if (!c.expectDType(part, f.dtype) || !minRank(c, full, 1) ||
      !c.expectRank(part, f.shape.size()) ||
      !intAttrIn(c, "axis", true, 0, int64_t(f.shape.size()) - 1))
    return false;
  size_t axis = size_t(c.step.getInt("axis", 0));
  std::vector<int64_t> expected = f.shape;
  expected[axis] = p.shape[axis];
  return c.expectShape(part, expected) && minRank(c, part, 1) &&
         intAttrIn(c, "start", true, 0, f.shape[axis] - p.shape[axis]);
}

bool checkSlice(StepChecker &c) { return checkRangeShapes(c, 0, 1); }
bool checkSliceBwd(StepChecker &c) { return checkRangeShapes(c, 1, 0); }

// x... of one dtype and rank, equal but on `axis`; y their concatenation.
bool checkConcat(StepChecker &c) {
  const Buffer &first = c.in(0);
  if (!minRank(c, 0, 1) ||
      !intAttrIn(c, "axis", true, 0, int64_t(first.shape.size()) - 1))
    return false;
  size_t axis = size_t(c.step.getInt("axis", 0));
  std::vector<int64_t> out = first.shape;
  out[axis] = 0;
  for (size_t k = 0; k < c.numIns(); ++k) {
    std::vector<int64_t> expected = first.shape;
    expected[axis] = c.in(k).shape.size() == expected.size()
                         ? c.in(k).shape[axis]
                         : expected[axis];
    if (!c.expectDType(k, first.dtype) || !c.expectIn(k, expected))
      return false;
    out[axis] += expected[axis];
  }
  return c.expectDType(c.numIns(), first.dtype) && c.expectOut(0, out);
}

// The erf form, or with attr `approximate = "tanh"` the tanh form.
bool checkGelu(StepChecker &c) {
  if (!checkSameShape(c))
    return false;
  auto form = c.step.attrs.find("approximate");
  if (form != c.step.attrs.end() &&
      (form->second.kind != Attr::String ||
       (form->second.s != "tanh" && form->second.s != "none")))
    return c.fail("attribute 'approximate' must be the string \"none\" or "
                  "\"tanh\"");
  return true;
}

bool checkScale(StepChecker &c) {
  return checkSameShape(c) && c.numericAttr("factor", true);
}

bool checkSce(StepChecker &c) {
  if (!c.allF32Except({1}) || !c.expectDType(1, DType::I32) ||
      !c.expectRank(0, 2))
    return false;
  int64_t b = c.in(0).shape[0];
  if (!c.expectIn(1, {b}) ||
      !intAttrIn(c, "ignore_index", false, std::numeric_limits<int32_t>::min(),
                 std::numeric_limits<int32_t>::max()))
    return false;
  if (c.numIns() == 3) { // the backward kernel
    return c.expectIn(2, {}) && c.expectOut(0, c.in(0).shape);
  }
  return c.expectOut(0, {});
}

bool checkReduceSum(StepChecker &c) {
  std::vector<int64_t> axes;
  if (!c.allF32Except() || !c.axesAttr(c.in(0).shape.size(), axes))
    return false;
  std::vector<int64_t> expected;
  for (size_t d = 0; d < c.in(0).shape.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
      expected.push_back(c.in(0).shape[d]);
  return c.expectOut(0, expected);
}

bool checkBroadcast(StepChecker &c) {
  std::vector<int64_t> axes;
  if (!c.allF32Except() || !c.axesAttr(c.out(0).shape.size(), axes))
    return false;
  std::vector<int64_t> kept;
  for (size_t d = 0; d < c.out(0).shape.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
      kept.push_back(c.out(0).shape[d]);
  if (kept != c.in(0).shape)
    return c.fail(c.outRole(0) + " has shape " + shapeStr(c.out(0).shape) +
                  ", which without axes " + shapeStr(axes) + " is not " +
                  c.inRole(0) + "'s shape " + shapeStr(c.in(0).shape));
  return true;
}

bool checkCopy(StepChecker &c) {
  if (!c.expectDType(1, c.in(0).dtype))
    return false;
  if (c.in(0).numElements() != c.out(0).numElements())
    return c.fail(c.outRole(0) + " has " +
                  std::to_string(c.out(0).numElements()) + " elements, " +
                  c.inRole(0) + " has " +
                  std::to_string(c.in(0).numElements()));
  return true;
}

bool checkFill(StepChecker &c) { return c.numericAttr("value", true); }

// Shared by both optimizers: grad, lr[], step[] -> param, state...
bool checkOptimizerArgs(StepChecker &c) {
  if (!c.allF32Except() || !c.expectIn(1, {}) || !c.expectIn(2, {}))
    return false;
  // The optional 4th input is the gradient-clipping factor (a scalar).
  if (c.step.numInputs == 4 && !c.expectIn(3, {}))
    return false;
  if (!c.numericAttr("lr_scale", false))
    return false;
  // With own_step, the last output is the update's own step count.
  int64_t ownStep = c.step.getInt("own_step", 0);
  if (ownStep != 0 && ownStep != 1)
    return c.fail("attribute 'own_step' must be the integer 0 or 1");
  size_t shaped = c.numOuts() - size_t(ownStep);
  for (size_t o = 0; o < shaped; ++o)
    if (!c.expectOut(o, c.in(0).shape))
      return false;
  if (ownStep && !c.expectOut(shaped, {}))
    return false;
  return true;
}

bool checkSgdAttrs(StepChecker &c, bool hasBuf) {
  for (const char *a : {"momentum", "dampening", "weight_decay"})
    if (!c.numericAttr(a, false))
      return false;
  auto it = c.step.attrs.find("nesterov");
  if (it != c.step.attrs.end() && (it->second.kind != Attr::Int ||
                                   (it->second.i != 0 && it->second.i != 1)))
    return c.fail("attribute 'nesterov' must be the integer 0 or 1");
  double momentum = c.step.getFloat("momentum", 0);
  if ((momentum != 0) != hasBuf)
    return c.fail(momentum != 0
                      ? "momentum is non-zero but no momentum buffer output"
                      : "a momentum buffer output needs a non-zero momentum");
  if (c.step.getInt("nesterov", 0) &&
      (momentum <= 0 || c.step.getFloat("dampening", 0) != 0))
    return c.fail("nesterov needs momentum > 0 and dampening = 0");
  return true;
}

bool checkSgd(StepChecker &c) {
  return checkOptimizerArgs(c) &&
         checkSgdAttrs(c,
                       c.numOuts() - size_t(c.step.getInt("own_step", 0)) == 2);
}

/// A group update: `tensors` = T gradients, lr, step[, clip] in; T
/// parameters then `states` times T state tensors out, each shaped as its
/// parameter.
bool checkGroupArgs(StepChecker &c, size_t states) {
  size_t t = groupSize(c.step);
  if (!t)
    return c.fail("attribute 'tensors' must be an integer in [1, 2^24)");
  if ((c.numIns() != t + 2 && c.numIns() != t + 3) ||
      c.numOuts() != t * (1 + states))
    return c.fail("a group of " + std::to_string(t) + " tensors takes " +
                  std::to_string(t + 2) + " or " + std::to_string(t + 3) +
                  " inputs and " + std::to_string(t * (1 + states)) +
                  " outputs, got " + std::to_string(c.numIns()) + " and " +
                  std::to_string(c.numOuts()));
  if (!c.allF32Except())
    return false;
  for (size_t i = t; i < c.numIns(); ++i)
    if (!c.expectIn(i, {}))
      return false;
  for (size_t i = 0; i < t; ++i)
    for (size_t s = 0; s <= states; ++s)
      if (!c.expectOut(s * t + i, c.in(i).shape))
        return false;
  if (c.step.attrs.count("own_step"))
    return c.fail("a group update has no 'own_step'");
  return c.numericAttr("lr_scale", false);
}

bool checkSgdGroup(StepChecker &c) {
  size_t t = groupSize(c.step);
  bool hasBuf = t && c.numOuts() == 2 * t;
  return checkGroupArgs(c, hasBuf ? 1 : 0) && checkSgdAttrs(c, hasBuf);
}

bool checkAccumulateGrad(StepChecker &c) {
  return c.allF32Except() && c.expectIn(1, {}) && c.expectOut(0, c.in(0).shape);
}

bool checkAdamwAttrs(StepChecker &c) {
  for (const char *a : {"beta1", "beta2", "eps", "weight_decay"})
    if (!c.numericAttr(a, false))
      return false;
  for (const char *a : {"beta1", "beta2"}) {
    double b = c.step.getFloat(a, 0.9);
    if (!(b >= 0 && b < 1))
      return c.fail(std::string("attribute '") + a + "' must be in [0, 1)");
  }
  return true;
}

bool checkAdamw(StepChecker &c) {
  return checkOptimizerArgs(c) && checkAdamwAttrs(c);
}

bool checkAdamwGroup(StepChecker &c) {
  return checkGroupArgs(c, 2) && checkAdamwAttrs(c);
}

//===--- BERT's kernels ---------------------------------------------------===//

std::vector<int64_t> withLast(std::vector<int64_t> shape, int64_t last) {
  shape.push_back(last);
  return shape;
}

std::vector<int64_t> without(std::vector<int64_t> shape, size_t axis) {
  shape.erase(shape.begin() + int64_t(axis));
  return shape;
}

// table[V,H], ids i32[...] -> y[..., H]
bool checkEmbedding(StepChecker &c) {
  if (!c.allF32Except({1}) || !c.expectDType(1, DType::I32) ||
      !c.expectRank(0, 2) || !minRank(c, 1, 1))
    return false;
  return c.expectOut(0, withLast(c.in(1).shape, c.in(0).shape[1]));
}

// ids i32[...], dy[..., H] -> dtable[V,H]
bool checkEmbeddingBwd(StepChecker &c) {
  if (!c.allF32Except({0}) || !c.expectDType(0, DType::I32) ||
      !minRank(c, 0, 1) || !c.expectRank(2, 2))
    return false;
  return c.expectIn(1, withLast(c.in(0).shape, c.out(0).shape[1]));
}

bool checkIota(StepChecker &c) {
  if (!c.expectDType(0, DType::I32) || !minRank(c, 0, 1))
    return false;
  return intAttrIn(c, "axis", true, 0, int64_t(c.out(0).shape.size()) - 1);
}

bool epsAttr(StepChecker &c) {
  if (!c.numericAttr("eps", true))
    return false;
  double eps = c.step.getFloat("eps", 0);
  if (!(eps >= 0) || std::isinf(eps))
    return c.fail("attribute 'eps' must be finite and >= 0");
  return true;
}

// x[..., H], gamma[H], beta[H] -> y; or x, gamma, dy -> dx, dgamma, dbeta.
bool checkLayerNorm(StepChecker &c) {
  if (!c.allF32Except() || !minRank(c, 0, 1))
    return false;
  std::vector<int64_t> h = {c.in(0).shape.back()};
  if (!c.expectIn(1, h))
    return false;
  if (c.numOuts() == 1) // forward
    return c.expectIn(2, h) && c.expectOut(0, c.in(0).shape) && epsAttr(c);
  return c.expectIn(2, c.in(0).shape) && c.expectOut(0, c.in(0).shape) &&
         c.expectOut(1, h) && c.expectOut(2, h) && epsAttr(c);
}

// a, b, gamma[H], beta[H] -> y, sum (all shaped as a)
bool checkAddLayerNorm(StepChecker &c) {
  if (!c.allF32Except() || !minRank(c, 0, 1))
    return false;
  const std::vector<int64_t> &x = c.in(0).shape;
  std::vector<int64_t> h = {x.back()};
  return c.expectIn(1, x) && c.expectIn(2, h) && c.expectIn(3, h) &&
         c.expectOut(0, x) && c.expectOut(1, x) && epsAttr(c);
}

// The geometry attributes of a 2-D window step: `stride` [h, w] >= 1,
// `padding` [top, left, bottom, right] >= 0, and for convolutions
// `dilation` [h, w] >= 1, for pooling `kernel` [kh, kw] >= 1.
bool windowAttr(StepChecker &c, const char *name, size_t size, int64_t min) {
  if (!c.intsAttr(name))
    return false;
  std::vector<int64_t> v = c.step.getInts(name);
  bool ok = v.size() == size;
  for (int64_t x : v)
    ok &= x >= min;
  return ok ? true
            : c.fail(std::string("attribute '") + name + "' must be " +
                     std::to_string(size) +
                     " integers >= " + std::to_string(min));
}

// The output length of a window along one axis (floor mode), or 0.
int64_t windowOut(int64_t in, int64_t k, int64_t s, int64_t d, int64_t lo,
                  int64_t hi) {
  int64_t span = in + lo + hi - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

// The convolution output shape of x [N, C, H, W] and w [O, C/g, kh, kw],
// after checking the attributes and the channel counts.
bool convOutput(StepChecker &c, const std::vector<int64_t> &x,
                const std::vector<int64_t> &w, std::vector<int64_t> &y) {
  if (!windowAttr(c, "stride", 2, 1) || !windowAttr(c, "padding", 4, 0) ||
      !windowAttr(c, "dilation", 2, 1) ||
      !intAttrIn(c, "groups", true, 1, INT32_MAX))
    return false;
  if (x.size() != 4 || w.size() != 4)
    return c.fail("needs 4-D activations [N, C, H, W] and weights [O, C / "
                  "groups, kh, kw], got " +
                  shapeStr(x) + " and " + shapeStr(w));
  int64_t g = c.step.getInt("groups", 1);
  if (x[1] % g || w[0] % g || w[1] * g != x[1])
    return c.fail("weights " + shapeStr(w) + " do not fit " +
                  std::to_string(x[1]) + " input channels in " +
                  std::to_string(g) + " groups");
  std::vector<int64_t> s = c.step.getInts("stride"),
                       p = c.step.getInts("padding"),
                       d = c.step.getInts("dilation");
  y = {x[0], w[0], windowOut(x[2], w[2], s[0], d[0], p[0], p[2]),
       windowOut(x[3], w[3], s[1], d[1], p[1], p[3])};
  if (y[2] < 1 || y[3] < 1)
    return c.fail("the window does not fit the input " + shapeStr(x));
  return true;
}

// conv2d: x, w[, b] -> y.
bool checkConv2d(StepChecker &c) {
  std::vector<int64_t> y;
  if (!c.allF32Except() || !convOutput(c, c.in(0).shape, c.in(1).shape, y))
    return false;
  if (c.numIns() == 3 && !c.expectIn(2, {c.in(1).shape[0]}))
    return false;
  return c.expectOut(0, y);
}

// conv2d_bwd_data: dy, w -> dx.
bool checkConv2dBwdData(StepChecker &c) {
  std::vector<int64_t> y;
  return c.allF32Except() && convOutput(c, c.out(0).shape, c.in(1).shape, y) &&
         c.expectIn(0, y);
}

// conv2d_bwd_weights: x, dy -> dw.
bool checkConv2dBwdWeights(StepChecker &c) {
  std::vector<int64_t> y;
  return c.allF32Except() && convOutput(c, c.in(0).shape, c.out(0).shape, y) &&
         c.expectIn(1, y);
}

// The pooled shape of x [N, C, H, W]; padding at most half the window.
bool poolOutput(StepChecker &c, const std::vector<int64_t> &x,
                std::vector<int64_t> &y) {
  if (!windowAttr(c, "kernel", 2, 1) || !windowAttr(c, "stride", 2, 1) ||
      !windowAttr(c, "padding", 4, 0) ||
      !intAttrIn(c, "count_include_pad", false, 0, 1))
    return false;
  if (x.size() != 4)
    return c.fail("needs 4-D activations [N, C, H, W], got " + shapeStr(x));
  std::vector<int64_t> k = c.step.getInts("kernel"),
                       s = c.step.getInts("stride"),
                       p = c.step.getInts("padding");
  if (2 * std::max(p[0], p[2]) > k[0] || 2 * std::max(p[1], p[3]) > k[1])
    return c.fail("padding must be at most half the window");
  y = {x[0], x[1], windowOut(x[2], k[0], s[0], 1, p[0], p[2]),
       windowOut(x[3], k[1], s[1], 1, p[1], p[3])};
  if (y[2] < 1 || y[3] < 1)
    return c.fail("the window does not fit the input " + shapeStr(x));
  return true;
}

// max_pool2d / avg_pool2d: x -> y.
bool checkPool2d(StepChecker &c) {
  std::vector<int64_t> y;
  return c.allF32Except() && poolOutput(c, c.in(0).shape, y) &&
         c.expectOut(0, y);
}

// max_pool2d_bwd: x, dy -> dx.
bool checkMaxPool2dBwd(StepChecker &c) {
  std::vector<int64_t> y;
  return c.allF32Except() && poolOutput(c, c.in(0).shape, y) &&
         c.expectIn(1, y) && c.expectOut(0, c.in(0).shape);
}

// avg_pool2d_bwd: dy -> dx.
bool checkAvgPool2dBwd(StepChecker &c) {
  std::vector<int64_t> y;
  return c.allF32Except() && poolOutput(c, c.out(0).shape, y) &&
         c.expectIn(0, y);
}

// Every argument of a batch norm step is the activation x [N, C, ...]
// (input 0) or per channel [C]: `activations` lists the argument indices
// of the former.
bool checkBatchNormArgs(StepChecker &c,
                        std::initializer_list<size_t> activations) {
  if (!c.allF32Except() || !minRank(c, 0, 2) || !epsAttr(c))
    return false;
  const std::vector<int64_t> &x = c.in(0).shape;
  for (size_t a = 1; a < c.step.args.size(); ++a) {
    bool act = false;
    for (size_t i : activations)
      act |= i == a;
    if (!c.expectShape(a, act ? x : std::vector<int64_t>{x[1]}))
      return false;
  }
  return true;
}

// batch_norm_train: x, gamma, beta -> y, running_mean, running_var (the
// statistics persistent, updated in place).
bool checkBatchNormTrain(StepChecker &c) {
  if (!checkBatchNormArgs(c, {3}) || !c.numericAttr("momentum", true))
    return false;
  for (size_t o : {1u, 2u})
    if (c.out(o).kind != BufferKind::Param)
      return c.fail(c.outRole(o) + " must be a persistent running statistic");
  const std::vector<int64_t> &x = c.in(0).shape;
  if (c.in(0).numElements() / x[1] < 2)
    return c.fail("training needs more than one value per channel, got " +
                  shapeStr(x));
  return true;
}

bool checkTranspose(StepChecker &c) {
  if (!c.expectDType(1, c.in(0).dtype) || !c.intsAttr("perm"))
    return false;
  size_t rank = c.in(0).shape.size();
  if (rank > 6)
    return c.fail(c.inRole(0) + " has rank " + std::to_string(rank) +
                  ", more than transpose's maximum of 6");
  std::vector<int64_t> perm = c.step.getInts("perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool isPerm = perm.size() == rank;
  for (size_t d = 0; isPerm && d < rank; ++d)
    isPerm = sorted[d] == int64_t(d);
  if (!isPerm)
    return c.fail("attribute 'perm' " + shapeStr(perm) +
                  " is not a permutation of [0, " + std::to_string(rank) + ")");
  std::vector<int64_t> expected;
  for (int64_t a : perm)
    expected.push_back(c.in(0).shape[a]);
  return c.expectOut(0, expected);
}

// a[..., M, K], b[..., K, N] -> c[..., M, N], either operand stored
// transposed.
/// The permutation attribute `name` of a rank-`rank` operand, or false.
bool permAttr(StepChecker &c, const char *name, size_t rank,
              std::vector<int64_t> &perm) {
  if (!c.intsAttr(name))
    return false;
  perm = c.step.getInts(name);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != int64_t(i) || sorted.size() != rank)
      return c.fail(std::string("attribute '") + name +
                    "' is not a permutation of [0, " + std::to_string(rank) +
                    ")");
  return true;
}

/// With `a_perm`, `b_perm`, `c_perm`: a reads the viewed a = transpose(A,
/// a_perm) as [..., M, K], b likewise as [..., K, N], and the buffer c holds
/// transpose([..., M, N], c_perm).
bool checkStridedBatchMatmul(StepChecker &c) {
  if (c.step.getInt("transpose_a", 0) || c.step.getInt("transpose_b", 0))
    return c.fail("transpose_a / transpose_b do not combine with a_perm, "
                  "b_perm and c_perm (the permutations include them)");
  size_t r = c.in(0).shape.size();
  std::vector<int64_t> pa, pb, pc;
  if (!c.expectRank(1, r) || !c.expectRank(2, r) ||
      !permAttr(c, "a_perm", r, pa) || !permAttr(c, "b_perm", r, pb) ||
      !permAttr(c, "c_perm", r, pc))
    return false;
  auto view = [](const std::vector<int64_t> &shape,
                 const std::vector<int64_t> &perm) {
    std::vector<int64_t> v;
    for (int64_t p : perm)
      v.push_back(shape[size_t(p)]);
    return v;
  };
  std::vector<int64_t> a = view(c.in(0).shape, pa), b = view(c.in(1).shape, pb);
  if (!std::equal(a.begin(), a.end() - 2, b.begin()) || a[r - 1] != b[r - 2])
    return c.fail("the viewed operands " + shapeStr(a) + " and " + shapeStr(b) +
                  " do not multiply");
  std::vector<int64_t> product(a.begin(), a.end() - 1);
  product.push_back(b[r - 1]);
  return c.expectOut(0, view(product, pc));
}

bool checkBatchMatmul(StepChecker &c) {
  if (!c.multiplicandsThenF32() || !minRank(c, 0, 2))
    return false;
  if (c.step.attrs.count("a_perm") || c.step.attrs.count("b_perm") ||
      c.step.attrs.count("c_perm"))
    return checkStridedBatchMatmul(c);
  if (!intAttrIn(c, "transpose_a", false, 0, 1) ||
      !intAttrIn(c, "transpose_b", false, 0, 1))
    return false;
  const std::vector<int64_t> &a = c.in(0).shape;
  size_t r = a.size();
  if (!c.expectRank(1, r))
    return false;
  const std::vector<int64_t> &b = c.in(1).shape;
  bool ta = c.step.getInt("transpose_a", 0),
       tb = c.step.getInt("transpose_b", 0);
  int64_t m = a[ta ? r - 1 : r - 2], k = a[ta ? r - 2 : r - 1];
  int64_t kb = b[tb ? r - 1 : r - 2], n = b[tb ? r - 2 : r - 1];
  std::vector<int64_t> batch(a.begin(), a.end() - 2);
  if (!std::equal(batch.begin(), batch.end(), b.begin()) || k != kb) {
    std::vector<int64_t> expected = batch;
    expected.push_back(tb ? n : k);
    expected.push_back(tb ? k : n);
    return c.expectIn(1, expected);
  }
  batch.push_back(m);
  batch.push_back(n);
  return c.expectOut(0, batch);
}

// f32 to bf16 (round to nearest even) or back, shape kept.
bool checkCast(StepChecker &c) {
  DType from = c.in(0).dtype, to = c.out(0).dtype;
  bool ok = (from == DType::F32 && to == DType::BF16) ||
            (from == DType::BF16 && to == DType::F32);
  if (!ok)
    return c.fail(std::string("casts ") + toString(from) + " to " +
                  toString(to) + "; expected f32 to bf16 or bf16 to f32");
  return c.expectOut(0, c.in(0).shape);
}

bool scaleAttr(StepChecker &c) { return c.numericAttr("scale", false); }

// x[B, ..., S], mask i32[B, S] (optional) -> y
bool checkMaskedSoftmax(StepChecker &c) {
  if (!c.allF32Except({1}) || !minRank(c, 0, 1) || !scaleAttr(c) ||
      !intAttrIn(c, "causal", false, 0, 1))
    return false;
  if (c.step.getInt("causal", 0)) {
    const std::vector<int64_t> &x = c.in(0).shape;
    if (!minRank(c, 0, 2))
      return false;
    if (x.back() < x[x.size() - 2])
      return c.fail("a causal mask needs at least as many keys as queries, "
                    "got " +
                    shapeStr(x));
  }
  if (c.numIns() == 2) {
    const std::vector<int64_t> &x = c.in(0).shape;
    if (!c.expectDType(1, DType::I32) || !minRank(c, 0, 2) ||
        !c.expectIn(1, {x.front(), x.back()}))
      return false;
  }
  return c.expectOut(0, c.in(0).shape);
}

bool checkSoftmaxBwd(StepChecker &c) {
  return checkSameShape(c) && minRank(c, 0, 1) && scaleAttr(c);
}

// x, rng i32[2] -> y
bool checkDropout(StepChecker &c) {
  if (!c.allF32Except({1}) || !c.expectDType(1, DType::I32) ||
      !c.expectIn(1, {2}) || !c.expectOut(0, c.in(0).shape) ||
      !c.numericAttr("p", true) ||
      !intAttrIn(c, "stream", true, std::numeric_limits<int64_t>::min(),
                 std::numeric_limits<int64_t>::max()))
    return false;
  double p = c.step.getFloat("p", 0);
  if (!(p >= 0 && p < 1))
    return c.fail("attribute 'p' must be in [0, 1)");
  return true;
}

// The tensor `full` has the axis, `part` lacks it.
bool checkSelectShapes(StepChecker &c, size_t full, size_t part) {
  const Buffer &f = c.plan.buffers[c.step.args[full]];
  if (!c.expectDType(part, f.dtype) || !minRank(c, full, 1) ||
      !intAttrIn(c, "axis", true, 0, int64_t(f.shape.size()) - 1))
    return false;
  size_t axis = size_t(c.step.getInt("axis", 0));
  return intAttrIn(c, "index", true, 0, f.shape[axis] - 1) &&
         c.expectShape(part, without(f.shape, axis));
}

bool checkSelect(StepChecker &c) { return checkSelectShapes(c, 0, 1); }
bool checkSelectBwd(StepChecker &c) { return checkSelectShapes(c, 1, 0); }

// grads... -> scale[]: min(1, max_norm / (global L2 norm + 1e-6))
bool checkGradNormScale(StepChecker &c) {
  if (!c.allF32Except() || !c.expectOut(0, {}) ||
      !c.numericAttr("max_norm", true))
    return false;
  if (!(c.step.getFloat("max_norm", 0) > 0))
    return c.fail("attribute 'max_norm' must be positive");
  return true;
}

//===--- What the products sum over (the cost model) ---------------------===//

const std::vector<int64_t> &argShape(const Plan &plan, const Step &step,
                                     size_t i) {
  return plan.buffers[size_t(step.args[i])].shape;
}
// x [B, I] · w [O, I]ᵀ; dy [B, O] · w [O, I]: the last axis of the first.
int64_t contractLastOfFirst(const Plan &plan, const Step &step) {
  return argShape(plan, step, 0).back();
}
// dyᵀ · x over the rows B.
int64_t contractRows(const Plan &plan, const Step &step) {
  return argShape(plan, step, 0).front();
}
// A convolution output sums over C / groups · kh · kw (w [O, C/g, kh, kw]).
int64_t contractConvWindow(const Plan &plan, const Step &step) {
  const std::vector<int64_t> &w = argShape(plan, step, 1);
  return w[1] * w[2] * w[3];
}
// An input gradient sums over O / groups · kh · kw.
int64_t contractConvBwdData(const Plan &plan, const Step &step) {
  const std::vector<int64_t> &w = argShape(plan, step, 1);
  return w[0] / step.getInt("groups", 1) * w[2] * w[3];
}
// A weight gradient sums over N · Ho · Wo (dy [N, O, Ho, Wo]).
int64_t contractConvBwdWeights(const Plan &plan, const Step &step) {
  const std::vector<int64_t> &dy = argShape(plan, step, 1);
  return dy[0] * dy[2] * dy[3];
}
int64_t contractBatchMatmul(const Plan &plan, const Step &step) {
  const std::vector<int64_t> &a = argShape(plan, step, 0);
  size_t r = a.size();
  if (step.attrs.count("a_perm"))
    return a[size_t(step.getInts("a_perm")[r - 1])];
  return a[step.getInt("transpose_a", 0) ? r - 2 : r - 1];
}

const std::vector<KernelSig> &kernelSigs() {
  static const std::vector<KernelSig> sigs = {
      {"linear",
       {"x", "w", "b"},
       1,
       {"y"},
       0,
       checkLinear,
       false,
       false,
       contractLastOfFirst},
      {"linear_bwd_data",
       {"dy", "w"},
       0,
       {"dx"},
       0,
       checkLinearBwdData,
       false,
       false,
       contractLastOfFirst},
      {"linear_bwd_weights",
       {"x", "dy"},
       0,
       {"dw", "db"},
       1,
       checkLinearBwdWeights,
       false,
       false,
       contractRows},
      {"relu",
       {"x"},
       0,
       {"y"},
       0,
       checkSameShape,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"gelu", {"x"}, 0, {"y"}, 0, checkGelu},
      {"relu_bwd",
       {"x", "dy"},
       0,
       {"dx"},
       0,
       checkSameShape,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"gelu_bwd", {"x", "dy"}, 0, {"dx"}, 0, checkGelu},
      {"softmax_cross_entropy", {"logits", "labels"}, 0, {"loss"}, 0, checkSce},
      {"softmax_cross_entropy_bwd",
       {"logits", "labels", "dloss"},
       0,
       {"dlogits"},
       0,
       checkSce},
      {"add",
       {"a", "b"},
       0,
       {"c"},
       0,
       checkBroadcastBinary,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"sub", {"a", "b"}, 0, {"c"}, 0, checkBroadcastBinary},
      {"mul", {"a", "b"}, 0, {"c"}, 0, checkBroadcastBinary},
      {"scale",
       {"x"},
       0,
       {"y"},
       0,
       checkScale,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"reduce_sum",
       {"x"},
       0,
       {"y"},
       0,
       checkReduceSum,
       false,
       false,
       nullptr,
       spatialReduceLayout},
      {"broadcast",
       {"x"},
       0,
       {"y"},
       0,
       checkBroadcast,
       false,
       false,
       nullptr,
       spatialReduceLayout},
      {"copy", {"x"}, 0, {"y"}, 0, checkCopy},
      {"fill", {}, 0, {"y"}, 0, checkFill},
      {"sgd_update",
       {"grad", "lr", "step", "grad_scale"},
       1,
       {"param", "momentum_buf", "own_step"},
       2,
       checkSgd},
      {"adamw_update",
       {"grad", "lr", "step", "grad_scale"},
       1,
       {"param", "exp_avg", "exp_avg_sq", "own_step"},
       1,
       checkAdamw},
      {"sgd_group",
       {"grad", "lr", "step", "grad_scale"},
       0,
       {"param", "momentum_buf"},
       0,
       checkSgdGroup,
       false,
       /*grouped=*/true},
      {"adamw_group",
       {"grad", "lr", "step", "grad_scale"},
       0,
       {"param", "exp_avg", "exp_avg_sq"},
       0,
       checkAdamwGroup,
       false,
       /*grouped=*/true},
      {"accumulate_grad",
       {"grad", "keep"},
       0,
       {"accumulator"},
       0,
       checkAccumulateGrad},
      {"embedding", {"table", "ids"}, 0, {"y"}, 0, checkEmbedding},
      {"embedding_bwd", {"ids", "dy"}, 0, {"dtable"}, 0, checkEmbeddingBwd},
      {"iota", {}, 0, {"y"}, 0, checkIota},
      {"layer_norm", {"x", "gamma", "beta"}, 0, {"y"}, 0, checkLayerNorm},
      {"add_layer_norm",
       {"a", "b", "gamma", "beta"},
       0,
       {"y", "sum"},
       0,
       checkAddLayerNorm},
      {"layer_norm_bwd",
       {"x", "gamma", "dy"},
       0,
       {"dx", "dgamma", "dbeta"},
       0,
       checkLayerNorm},
      {"batch_norm_train",
       {"x", "gamma", "beta"},
       0,
       {"y", "running_mean", "running_var"},
       0,
       checkBatchNormTrain,
       false,
       false,
       nullptr,
       batchNormLayout},
      {"batch_norm_train_bwd",
       {"x", "gamma", "dy"},
       0,
       {"dx", "dgamma", "dbeta"},
       0,
       [](StepChecker &c) {
         return checkBatchNormArgs(c, {2, 3});
       },
       false,
       false,
       nullptr,
       batchNormLayout},
      {"batch_norm_inference",
       {"x", "gamma", "beta", "running_mean", "running_var"},
       0,
       {"y"},
       0,
       [](StepChecker &c) { return checkBatchNormArgs(c, {5}); },
       false,
       false,
       nullptr,
       batchNormLayout},
      {"batch_norm_inference_bwd",
       {"x", "gamma", "running_mean", "running_var", "dy"},
       0,
       {"dx", "dgamma", "dbeta"},
       0,
       [](StepChecker &c) {
         return checkBatchNormArgs(c, {4, 5});
       },
       false,
       false,
       nullptr,
       batchNormLayout},
      {"conv2d",
       {"x", "w", "b"},
       1,
       {"y"},
       0,
       checkConv2d,
       false,
       false,
       contractConvWindow,
       convLayout},
      {"conv2d_bwd_data",
       {"dy", "w"},
       0,
       {"dx"},
       0,
       checkConv2dBwdData,
       false,
       false,
       contractConvBwdData,
       convLayout},
      {"conv2d_bwd_weights",
       {"x", "dy"},
       0,
       {"dw"},
       0,
       checkConv2dBwdWeights,
       false,
       false,
       contractConvBwdWeights,
       convLayout},
      {"max_pool2d",
       {"x"},
       0,
       {"y"},
       0,
       checkPool2d,
       false,
       false,
       nullptr,
       poolLayout},
      {"max_pool2d_bwd",
       {"x", "dy"},
       0,
       {"dx"},
       0,
       checkMaxPool2dBwd,
       false,
       false,
       nullptr,
       poolLayout},
      {"avg_pool2d", {"x"}, 0, {"y"}, 0, checkPool2d},
      {"avg_pool2d_bwd", {"dy"}, 0, {"dx"}, 0, checkAvgPool2dBwd},
      {"relu6",
       {"x"},
       0,
       {"y"},
       0,
       checkSameShape,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"relu6_bwd",
       {"x", "dy"},
       0,
       {"dx"},
       0,
       checkSameShape,
       false,
       false,
       nullptr,
       elementwiseLayout},
      {"transpose", {"x"}, 0, {"y"}, 0, checkTranspose},
      {"cast", {"x"}, 0, {"y"}, 0, checkCast},
      {"batch_matmul",
       {"a", "b"},
       0,
       {"c"},
       0,
       checkBatchMatmul,
       false,
       false,
       contractBatchMatmul},
      {"masked_softmax", {"x", "mask"}, 1, {"y"}, 0, checkMaskedSoftmax},
      {"softmax_bwd", {"y", "dy"}, 0, {"dx"}, 0, checkSoftmaxBwd},
      {"tanh", {"x"}, 0, {"y"}, 0, checkSameShape},
      {"tanh_bwd", {"y", "dy"}, 0, {"dx"}, 0, checkSameShape},
      {"dropout", {"x", "rng"}, 0, {"y"}, 0, checkDropout},
      {"dropout_bwd", {"dy", "rng"}, 0, {"dx"}, 0, checkDropout},
      {"select", {"x"}, 0, {"y"}, 0, checkSelect},
      {"select_bwd", {"dy"}, 0, {"dx"}, 0, checkSelectBwd},
      {"compare", {"a", "b"}, 0, {"y"}, 0, checkCompare},
      {"where", {"cond", "a", "b"}, 0, {"y"}, 0, checkWhere},
      {"slice", {"x"}, 0, {"y"}, 0, checkSlice},
      {"slice_bwd", {"dy"}, 0, {"dx"}, 0, checkSliceBwd},
      {"concat", {"x"}, 0, {"y"}, 0, checkConcat, /*variadicIns=*/true},
      {"grad_norm_scale",
       {"grad"},
       0,
       {"scale"},
       0,
       checkGradNormScale,
       /*variadicIns=*/true},
  };
  return sigs;
}

const KernelSig *findSig(const std::string &name) {
  for (const KernelSig &s : kernelSigs())
    if (name == s.name)
      return &s;
  return nullptr;
}

std::string bufRef(const Plan &plan, int32_t id) {
  return "buffer %" + std::to_string(id) + " " + quoted(plan.buffers[id].name);
}

std::string verifyBuffers(const Plan &plan) {
  std::set<std::string> persistentNames;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const Buffer &b = plan.buffers[i];
    std::string ref = bufRef(plan, int32_t(i));
    if (int(b.kind) < 0 || int(b.kind) > int(BufferKind::Temp))
      return ref + ": invalid kind";
    if (int(b.dtype) < 0 || int(b.dtype) > int(DType::BF16))
      return ref + ": invalid dtype";
    if (b.dtype == DType::BF16 && b.kind != BufferKind::Temp)
      return ref + ": bf16 is only for temporaries (a product's operand "
                   "copies); parameters, state and inputs are f32 or i32";
    if (b.shape.size() > kMaxRank)
      return ref + ": rank " + std::to_string(b.shape.size()) +
             " exceeds the maximum of " + std::to_string(kMaxRank);
    int64_t elems = 1;
    for (int64_t d : b.shape) {
      if (d < 1 || d > kMaxDim)
        return ref + ": shape " + shapeStr(b.shape) +
               " has a dimension outside [1, 2^40]";
      if (elems > kMaxBytes / d)
        return ref + ": shape " + shapeStr(b.shape) + " is too large";
      elems *= d;
    }
    if (elems > kMaxBytes / int64_t(elementSize(b.dtype)))
      return ref + ": shape " + shapeStr(b.shape) + " is too large";
    if (b.kind == BufferKind::Temp) {
      if (b.program < 0 || size_t(b.program) >= plan.programs.size())
        return ref + ": temp buffer names program " +
               std::to_string(b.program) + ", but the plan has " +
               std::to_string(plan.programs.size()) + " programs";
      const Program &p = plan.programs[b.program];
      if (b.offset < 0 || b.offset % int64_t(elementSize(b.dtype)) != 0 ||
          b.bytes() > p.arenaBytes || b.offset > p.arenaBytes - b.bytes())
        return ref + ": arena slice [" + std::to_string(b.offset) + ", " +
               std::to_string(b.offset) + "+" + std::to_string(b.bytes()) +
               ") is misaligned or outside program '" + p.name + "' arena of " +
               std::to_string(p.arenaBytes) + " bytes";
    } else {
      if (b.program != -1)
        return ref + ": a " + toString(b.kind) +
               " buffer must not belong to a program (program = " +
               std::to_string(b.program) + ")";
      if (!persistentNames.insert(b.name).second)
        return ref + ": duplicate name among persistent buffers";
    }
  }
  return "";
}

std::string verifyProgram(const Plan &plan, size_t progIdx) {
  const Program &prog = plan.programs[progIdx];
  std::string where = "program '" + prog.name + "'";
  for (auto &[name, id] : prog.outputs) {
    if (id < 0 || size_t(id) >= plan.buffers.size())
      return where + ": output '" + name + "' names buffer " +
             std::to_string(id) + ", which does not exist";
    const Buffer &b = plan.buffers[id];
    if (b.kind == BufferKind::Temp && size_t(b.program) != progIdx)
      return where + ": output '" + name + "' is " + bufRef(plan, id) +
             ", a temp buffer of another program";
  }
  for (size_t s = 0; s < prog.steps.size(); ++s) {
    const Step &step = prog.steps[s];
    std::string at =
        where + " step " + std::to_string(s) + " (" + step.kernel + ")";
    for (size_t a = 0; a < step.args.size(); ++a) {
      int32_t id = step.args[a];
      if (id < 0 || size_t(id) >= plan.buffers.size())
        return at + ": argument " + std::to_string(a) + " names buffer " +
               std::to_string(id) + ", which does not exist";
      const Buffer &b = plan.buffers[id];
      if (b.kind == BufferKind::Temp && size_t(b.program) != progIdx)
        return at + ": " + bufRef(plan, id) + " is a temp buffer of program '" +
               plan.programs[b.program].name + "'";
    }
    if (step.numInputs < 0 || size_t(step.numInputs) > step.args.size())
      return at + ": numInputs " + std::to_string(step.numInputs) +
             " is outside [0, " + std::to_string(step.args.size()) + "]";
    const KernelSig *sig = findSig(step.kernel);
    if (!sig)
      return at + ": unknown kernel '" + step.kernel + "'";
    size_t nIn = size_t(step.numInputs), nOut = step.args.size() - nIn;
    auto arity = [](size_t n, size_t opt) {
      return opt ? std::to_string(n - opt) + " to " + std::to_string(n)
                 : std::to_string(n);
    };
    bool badIns =
        sig->grouped ? false
        : sig->variadicIns
            ? nIn < 1
            : nIn > sig->ins.size() || nIn < sig->ins.size() - sig->optionalIns;
    if (!sig->grouped && (badIns || nOut > sig->outs.size() ||
                          nOut < sig->outs.size() - sig->optionalOuts))
      return at + ": takes " +
             (sig->variadicIns ? std::string("1 or more")
                               : arity(sig->ins.size(), sig->optionalIns)) +
             " inputs and " + arity(sig->outs.size(), sig->optionalOuts) +
             " outputs, got " + std::to_string(nIn) + " and " +
             std::to_string(nOut);
    std::string err;
    StepChecker checker(plan, prog, s, *sig, err);
    if (!sig->check(checker))
      return err;
  }
  return "";
}

} // namespace

int64_t contractedDim(const Plan &plan, const Step &step) {
  const KernelSig *sig = findSig(step.kernel);
  return sig && sig->contracted && !step.args.empty()
             ? sig->contracted(plan, step)
             : 0;
}

std::vector<KernelSignature> kernelSignatures() {
  std::vector<KernelSignature> out;
  for (const KernelSig &k : kernelSigs()) {
    KernelSignature s;
    s.name = k.name;
    s.inputs.assign(k.ins.begin(), k.ins.end());
    s.outputs.assign(k.outs.begin(), k.outs.end());
    s.optionalInputs = k.optionalIns;
    s.optionalOutputs = k.optionalOuts;
    s.variadicInputs = k.variadicIns;
    s.grouped = k.grouped;
    out.push_back(std::move(s));
  }
  return out;
}

LayoutRule layoutRule(const Plan &plan, const Step &step, size_t arg) {
  const KernelSig *sig = findSig(step.kernel);
  return sig && sig->layout && arg < step.args.size()
             ? sig->layout(plan, step, arg)
             : LayoutRule{};
}

/// Blocked buffers are [N, C, H, W] f32 temporaries with C % 16 = 0, used
/// only where a kernel takes them, with the same layout across a kernel's
/// group.
static std::string verifyLayouts(const Plan &plan) {
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const Buffer &b = plan.buffers[i];
    if (b.layout == Layout::Plain)
      continue;
    if (b.kind != BufferKind::Temp || b.dtype != DType::F32 ||
        b.shape.size() != 4 || b.shape[1] % 16 != 0)
      return bufRef(plan, int32_t(i)) + ": layout " + toString(b.layout) +
             " needs an f32 temporary [N, C, H, W] with C a multiple of 16";
  }
  for (const Program &prog : plan.programs) {
    for (auto &[role, id] : prog.outputs)
      if (plan.buffers[size_t(id)].layout != Layout::Plain)
        return "program '" + prog.name + "': output '" + role +
               "' is not plain";
    for (size_t si = 0; si < prog.steps.size(); ++si) {
      const Step &s = prog.steps[si];
      std::map<int, Layout> groups;
      for (size_t a = 0; a < s.args.size(); ++a) {
        const Buffer &b = plan.buffers[size_t(s.args[a])];
        LayoutRule r = layoutRule(plan, s, a);
        std::string at = "program '" + prog.name + "' step " +
                         std::to_string(si) + " (" + s.kernel +
                         "): " + bufRef(plan, s.args[a]);
        if (b.layout != Layout::Plain && !r.allowed)
          return at + " is " + toString(b.layout) +
                 ", which the kernel does not take there";
        if (r.group >= 0) {
          auto [it, inserted] = groups.insert({r.group, b.layout});
          if (!inserted && it->second != b.layout)
            return at + " has another layout than the kernel's other "
                        "activations";
        }
      }
    }
  }
  return "";
}

std::string verify(const Plan &plan) {
  if (plan.version != kFormatVersion)
    return "plan format version " + std::to_string(plan.version) +
           " is not supported (this runtime reads version " +
           std::to_string(kFormatVersion) + ")";
  if (plan.batchSize < 0)
    return "batch size " + std::to_string(plan.batchSize) + " is negative";
  std::set<std::string> progNames;
  for (const Program &p : plan.programs) {
    if (!progNames.insert(p.name).second)
      return "program '" + p.name + "' appears twice";
    if (p.arenaBytes < 0 || p.arenaBytes > kMaxBytes)
      return "program '" + p.name + "': arena size " +
             std::to_string(p.arenaBytes) + " is out of range";
  }
  if (plan.gradAccum < 1)
    return "grad_accum " + std::to_string(plan.gradAccum) + " is below 1";
  if ((plan.gradAccum > 1) != progNames.count(programs::kOptimizer))
    return plan.gradAccum > 1
               ? "grad_accum " + std::to_string(plan.gradAccum) +
                     " but no optimizer_step program"
               : std::string("an optimizer_step program but grad_accum 1");
  // Buffers first: everything below relies on validated shapes.
  if (std::string e = verifyBuffers(plan); !e.empty())
    return e;
  std::set<int32_t> paramBufs;
  for (size_t i = 0; i < plan.params.size(); ++i) {
    int32_t id = plan.params[i].buffer;
    std::string at = "param " + std::to_string(i);
    if (id < 0 || size_t(id) >= plan.buffers.size())
      return at + " names buffer " + std::to_string(id) +
             ", which does not exist";
    if (plan.buffers[id].kind != BufferKind::Param)
      return at + " names " + bufRef(plan, id) +
             ", which is not a param buffer (kind " +
             toString(plan.buffers[id].kind) + ")";
    if (!paramBufs.insert(id).second)
      return at + " repeats " + bufRef(plan, id);
    if (plan.params[i].runningStat && plan.params[i].trainable)
      return at + " is a running statistic marked trainable";
  }
  for (auto &[feature, id] : plan.featureInputs) {
    if (id < 0 || size_t(id) >= plan.buffers.size())
      return "feature '" + feature + "' names buffer " + std::to_string(id) +
             ", which does not exist";
    if (plan.buffers[id].kind != BufferKind::Input)
      return "feature '" + feature + "' names " + bufRef(plan, id) +
             ", which is not an input buffer";
  }
  for (size_t p = 0; p < plan.programs.size(); ++p)
    if (std::string e = verifyProgram(plan, p); !e.empty())
      return e;
  return verifyLayouts(plan);
}

} // namespace ftc::plan
