//===- Plan.cpp - Plan format: verifier, JSON form, dump --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The plan crosses a trust boundary (it is a file a user may hand to the
// runtime on another machine), so deserialize() checks every field it reads
// and verify() checks every id, size and kernel signature before any backend
// computes an address from them.
//===----------------------------------------------------------------------===//

#include "ftc/plan/Plan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace ftc::plan {

//===----------------------------------------------------------------------===//
// Basic helpers
//===----------------------------------------------------------------------===//

const char *toString(BufferKind kind) {
  switch (kind) {
  case BufferKind::Param:
    return "param";
  case BufferKind::OptState:
    return "opt_state";
  case BufferKind::Input:
    return "input";
  case BufferKind::GradAccum:
    return "grad_accum";
  case BufferKind::Temp:
    return "temp";
  }
  return "?";
}

bool isTrainerScalar(const std::string &inputName) {
  return inputName == "lr" || inputName == "step" ||
         inputName == "loss_weight" || inputName == "accum_keep";
}

bool isCachedValueInput(const std::string &inputName) {
  return inputName.rfind(programs::kCacheInput, 0) == 0 ||
         inputName.rfind(programs::kEvalCacheInput, 0) == 0;
}

const char *toString(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "?";
}

size_t elementSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  }
  return 0;
}

int64_t Buffer::numElements() const {
  // Unsigned so that an unverified, hostile shape wraps instead of being UB;
  // verify() rejects such shapes before anything relies on the value.
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return int64_t(n);
}

int64_t Step::getInt(const std::string &name, int64_t dflt) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || it->second.kind != Attr::Int)
    return dflt;
  return it->second.i;
}

double Step::getFloat(const std::string &name, double dflt) const {
  auto it = attrs.find(name);
  if (it == attrs.end())
    return dflt;
  if (it->second.kind == Attr::Float)
    return it->second.f;
  if (it->second.kind == Attr::Int)
    return double(it->second.i);
  return dflt;
}

std::vector<int64_t> Step::getInts(const std::string &name) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || it->second.kind != Attr::Ints)
    return {};
  return it->second.ints;
}

int32_t Plan::findBuffer(const std::string &name) const {
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].name == name)
      return int32_t(i);
  return -1;
}

const Program *Plan::findProgram(const std::string &name) const {
  for (const Program &p : programs)
    if (p.name == name)
      return &p;
  return nullptr;
}

namespace {

std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

std::string fmtDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

const char *toString(InitKind init) {
  switch (init) {
  case InitKind::Zeros:
    return "zeros";
  case InitKind::Ones:
    return "ones";
  case InitKind::Normal:
    return "normal";
  case InitKind::Uniform:
    return "uniform";
  }
  return "?";
}

// Upper bounds that keep every size computation far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 40;
constexpr int64_t kMaxBytes = int64_t(1) << 48;
constexpr size_t kMaxRank = 12; // oneDNN's DNNL_MAX_NDIMS

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
};

/// The `tensors` attribute of a grouped step (0 when absent or invalid).
size_t groupSize(const Step &step) {
  int64_t t = step.getInt("tensors", 0);
  return t > 0 && t < (int64_t(1) << 24) ? size_t(t) : 0;
}

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
  if (!c.allF32Except() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
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
  if (!c.allF32Except() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
    return false;
  int64_t b = c.in(0).shape[0], o = c.in(0).shape[1], i = c.in(1).shape[1];
  return c.expectIn(1, {o, i}) && c.expectOut(0, {b, i});
}

bool checkLinearBwdWeights(StepChecker &c) {
  if (!c.allF32Except() || !c.expectRank(0, 2) || !c.expectRank(1, 2))
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
  if (!c.allF32Except() || !minRank(c, 0, 2))
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

const std::vector<KernelSig> &kernelSigs() {
  static const std::vector<KernelSig> sigs = {
      {"linear", {"x", "w", "b"}, 1, {"y"}, 0, checkLinear},
      {"linear_bwd_data", {"dy", "w"}, 0, {"dx"}, 0, checkLinearBwdData},
      {"linear_bwd_weights",
       {"x", "dy"},
       0,
       {"dw", "db"},
       1,
       checkLinearBwdWeights},
      {"relu", {"x"}, 0, {"y"}, 0, checkSameShape},
      {"gelu", {"x"}, 0, {"y"}, 0, checkGelu},
      {"relu_bwd", {"x", "dy"}, 0, {"dx"}, 0, checkSameShape},
      {"gelu_bwd", {"x", "dy"}, 0, {"dx"}, 0, checkGelu},
      {"softmax_cross_entropy", {"logits", "labels"}, 0, {"loss"}, 0, checkSce},
      {"softmax_cross_entropy_bwd",
       {"logits", "labels", "dloss"},
       0,
       {"dlogits"},
       0,
       checkSce},
      {"add", {"a", "b"}, 0, {"c"}, 0, checkSameShape},
      {"sub", {"a", "b"}, 0, {"c"}, 0, checkSameShape},
      {"mul", {"a", "b"}, 0, {"c"}, 0, checkSameShape},
      {"scale", {"x"}, 0, {"y"}, 0, checkScale},
      {"reduce_sum", {"x"}, 0, {"y"}, 0, checkReduceSum},
      {"broadcast", {"x"}, 0, {"y"}, 0, checkBroadcast},
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
      {"transpose", {"x"}, 0, {"y"}, 0, checkTranspose},
      {"batch_matmul", {"a", "b"}, 0, {"c"}, 0, checkBatchMatmul},
      {"masked_softmax", {"x", "mask"}, 1, {"y"}, 0, checkMaskedSoftmax},
      {"softmax_bwd", {"y", "dy"}, 0, {"dx"}, 0, checkSoftmaxBwd},
      {"tanh", {"x"}, 0, {"y"}, 0, checkSameShape},
      {"tanh_bwd", {"y", "dy"}, 0, {"dx"}, 0, checkSameShape},
      {"dropout", {"x", "rng"}, 0, {"y"}, 0, checkDropout},
      {"dropout_bwd", {"dy", "rng"}, 0, {"dx"}, 0, checkDropout},
      {"select", {"x"}, 0, {"y"}, 0, checkSelect},
      {"select_bwd", {"dy"}, 0, {"dx"}, 0, checkSelectBwd},
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
    if (int(b.dtype) < 0 || int(b.dtype) > int(DType::I32))
      return ref + ": invalid dtype";
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
  return "";
}

//===----------------------------------------------------------------------===//
// JSON form
//===----------------------------------------------------------------------===//

namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

// JSON has no NaN/Inf: encode those as {"float": "nan"|"inf"|"-inf"}.
ojson encodeDouble(double v) {
  if (std::isfinite(v))
    return v;
  return ojson{{"float", std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")}};
}

const char *kindKey(BufferKind k) { return toString(k); }

ojson encodeAttr(const Attr &a) {
  switch (a.kind) {
  case Attr::Int:
    return a.i;
  case Attr::Float:
    return encodeDouble(a.f);
  case Attr::Ints:
    return ojson(a.ints);
  case Attr::String:
    return a.s;
  }
  return nullptr;
}

} // namespace

std::string serialize(const Plan &plan) {
  ojson j;
  j["format"] = kFormatMagic;
  j["version"] = plan.version;
  j["compiler_version"] = plan.compilerVersion;
  j["batch_size"] = plan.batchSize;
  j["optimizer"] = plan.optimizer;
  if (plan.gradAccum != 1)
    j["grad_accum"] = plan.gradAccum;
  ojson bufs = ojson::array();
  for (const Buffer &b : plan.buffers) {
    ojson jb;
    jb["name"] = b.name;
    jb["kind"] = kindKey(b.kind);
    jb["dtype"] = toString(b.dtype);
    jb["shape"] = b.shape;
    if (b.kind == BufferKind::Temp) {
      jb["program"] = b.program;
      jb["offset"] = b.offset;
    }
    bufs.push_back(std::move(jb));
  }
  j["buffers"] = std::move(bufs);
  ojson params = ojson::array();
  for (const ParamInfo &p : plan.params) {
    ojson jp;
    jp["buffer"] = p.buffer;
    jp["trainable"] = p.trainable;
    jp["head"] = p.head;
    jp["init"] = toString(p.init);
    jp["init_a"] = encodeDouble(p.initA);
    jp["init_b"] = encodeDouble(p.initB);
    params.push_back(std::move(jp));
  }
  j["params"] = std::move(params);
  j["feature_inputs"] = ojson::object();
  for (auto &[k, v] : plan.featureInputs)
    j["feature_inputs"][k] = v;
  ojson progs = ojson::array();
  for (const Program &p : plan.programs) {
    ojson jp;
    jp["name"] = p.name;
    jp["arena_bytes"] = p.arenaBytes;
    jp["outputs"] = ojson::object();
    for (auto &[k, v] : p.outputs)
      jp["outputs"][k] = v;
    ojson steps = ojson::array();
    for (const Step &s : p.steps) {
      ojson js;
      js["kernel"] = s.kernel;
      js["args"] = s.args;
      js["num_inputs"] = s.numInputs;
      if (!s.attrs.empty()) {
        ojson ja = ojson::object();
        for (auto &[k, a] : s.attrs)
          ja[k] = encodeAttr(a);
        js["attrs"] = std::move(ja);
      }
      steps.push_back(std::move(js));
    }
    jp["steps"] = std::move(steps);
    progs.push_back(std::move(jp));
  }
  j["programs"] = std::move(progs);
  j["resolved_spec"] = plan.resolvedSpec;
  return j.dump(1) + "\n";
}

namespace {

// Reads typed fields, recording the first problem with its JSON path.
class Reader {
public:
  std::string err;

  bool fail(const std::string &path, const std::string &msg) {
    if (err.empty())
      err = path + ": " + msg;
    return false;
  }

  const json *field(const json &obj, const std::string &path, const char *key,
                    bool required = true) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required)
        fail(path, std::string("missing field '") + key + "'");
      return nullptr;
    }
    return &*it;
  }

  bool object(const json &j, const std::string &path) {
    return j.is_object() || fail(path, "expected an object");
  }
  bool array(const json &j, const std::string &path) {
    return j.is_array() || fail(path, "expected an array");
  }

  bool integer(const json &j, const std::string &path, int64_t &out,
               int64_t lo = std::numeric_limits<int64_t>::min(),
               int64_t hi = std::numeric_limits<int64_t>::max()) {
    if (j.is_number_unsigned()) {
      uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(hi) || (lo > 0 && u < uint64_t(lo)))
        return fail(path, "integer " + std::to_string(u) + " is out of range");
      out = int64_t(u);
      return true;
    }
    if (!j.is_number_integer())
      return fail(path, "expected an integer");
    int64_t v = j.get<int64_t>();
    if (v < lo || v > hi)
      return fail(path, "integer " + std::to_string(v) + " is out of range");
    out = v;
    return true;
  }

  template <typename T>
  bool intField(const json &obj, const std::string &path, const char *key,
                T &out) {
    const json *f = field(obj, path, key);
    int64_t v;
    if (!f || !integer(*f, path + "." + key, v,
                       int64_t(std::numeric_limits<T>::min()),
                       int64_t(std::numeric_limits<T>::max())))
      return false;
    out = T(v);
    return true;
  }

  bool number(const json &j, const std::string &path, double &out) {
    if (j.is_number()) {
      out = j.get<double>();
      return true;
    }
    if (j.is_object() && j.size() == 1 && j.contains("float") &&
        j["float"].is_string()) {
      const std::string &s = j["float"].get_ref<const std::string &>();
      if (s == "nan")
        out = std::numeric_limits<double>::quiet_NaN();
      else if (s == "inf")
        out = std::numeric_limits<double>::infinity();
      else if (s == "-inf")
        out = -std::numeric_limits<double>::infinity();
      else
        return fail(path, "unknown special float '" + s + "'");
      return true;
    }
    return fail(path, "expected a number");
  }

  bool string(const json &j, const std::string &path, std::string &out) {
    if (!j.is_string())
      return fail(path, "expected a string");
    out = j.get<std::string>();
    return true;
  }
  bool stringField(const json &obj, const std::string &path, const char *key,
                   std::string &out) {
    const json *f = field(obj, path, key);
    return f && string(*f, path + "." + key, out);
  }
  bool boolField(const json &obj, const std::string &path, const char *key,
                 bool &out) {
    const json *f = field(obj, path, key);
    if (!f)
      return false;
    if (!f->is_boolean())
      return fail(path + "." + key, "expected true or false");
    out = f->get<bool>();
    return true;
  }

  template <typename T>
  bool intArray(const json &j, const std::string &path, std::vector<T> &out) {
    if (!array(j, path))
      return false;
    out.clear();
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      int64_t v;
      if (!integer(j[i], path + "[" + std::to_string(i) + "]", v,
                   int64_t(std::numeric_limits<T>::min()),
                   int64_t(std::numeric_limits<T>::max())))
        return false;
      out.push_back(T(v));
    }
    return true;
  }

  bool nameMap(const json &j, const std::string &path,
               std::map<std::string, int32_t> &out) {
    if (!object(j, path))
      return false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      int64_t v;
      if (!integer(it.value(), path + "." + it.key(), v, INT32_MIN, INT32_MAX))
        return false;
      out[it.key()] = int32_t(v);
    }
    return true;
  }

  template <typename E, size_t N>
  bool enumField(const json &obj, const std::string &path, const char *key,
                 const std::pair<const char *, E> (&names)[N], E &out) {
    std::string s;
    if (!stringField(obj, path, key, s))
      return false;
    for (auto &[n, e] : names)
      if (s == n) {
        out = e;
        return true;
      }
    std::string valid;
    for (auto &[n, e] : names)
      valid += std::string(valid.empty() ? "" : ", ") + n;
    return fail(path + "." + key,
                "unknown value '" + s + "' (expected one of " + valid + ")");
  }

  bool attr(const json &j, const std::string &path, Attr &a) {
    if (j.is_number_integer()) {
      a.kind = Attr::Int;
      return integer(j, path, a.i);
    }
    if (j.is_number_float() || j.is_object()) {
      a.kind = Attr::Float;
      return number(j, path, a.f);
    }
    if (j.is_array()) {
      a.kind = Attr::Ints;
      return intArray(j, path, a.ints);
    }
    if (j.is_string()) {
      a.kind = Attr::String;
      a.s = j.get<std::string>();
      return true;
    }
    return fail(path, "expected an integer, number, integer list or string");
  }

  bool buffer(const json &j, const std::string &path, Buffer &b) {
    static const std::pair<const char *, BufferKind> kinds[] = {
        {"param", BufferKind::Param},
        {"opt_state", BufferKind::OptState},
        {"input", BufferKind::Input},
        {"grad_accum", BufferKind::GradAccum},
        {"temp", BufferKind::Temp}};
    static const std::pair<const char *, DType> dtypes[] = {
        {"f32", DType::F32}, {"i32", DType::I32}};
    if (!object(j, path) || !stringField(j, path, "name", b.name) ||
        !enumField(j, path, "kind", kinds, b.kind) ||
        !enumField(j, path, "dtype", dtypes, b.dtype))
      return false;
    const json *shape = field(j, path, "shape");
    if (!shape || !intArray(*shape, path + ".shape", b.shape))
      return false;
    if (b.kind != BufferKind::Temp)
      return true;
    return intField(j, path, "program", b.program) &&
           intField(j, path, "offset", b.offset);
  }

  bool param(const json &j, const std::string &path, ParamInfo &p) {
    static const std::pair<const char *, InitKind> inits[] = {
        {"zeros", InitKind::Zeros},
        {"ones", InitKind::Ones},
        {"normal", InitKind::Normal},
        {"uniform", InitKind::Uniform}};
    if (!object(j, path) || !intField(j, path, "buffer", p.buffer) ||
        !boolField(j, path, "trainable", p.trainable) ||
        !boolField(j, path, "head", p.head) ||
        !enumField(j, path, "init", inits, p.init))
      return false;
    const json *a = field(j, path, "init_a");
    const json *b = a ? field(j, path, "init_b") : nullptr;
    return b && number(*a, path + ".init_a", p.initA) &&
           number(*b, path + ".init_b", p.initB);
  }

  bool step(const json &j, const std::string &path, Step &s) {
    if (!object(j, path) || !stringField(j, path, "kernel", s.kernel) ||
        !intField(j, path, "num_inputs", s.numInputs))
      return false;
    const json *args = field(j, path, "args");
    if (!args || !intArray(*args, path + ".args", s.args))
      return false;
    const json *attrs = field(j, path, "attrs", /*required=*/false);
    if (!attrs)
      return true;
    if (!object(*attrs, path + ".attrs"))
      return false;
    for (auto it = attrs->begin(); it != attrs->end(); ++it)
      if (!attr(it.value(), path + ".attrs." + it.key(), s.attrs[it.key()]))
        return false;
    return true;
  }

  bool program(const json &j, const std::string &path, Program &p) {
    if (!object(j, path) || !stringField(j, path, "name", p.name) ||
        !intField(j, path, "arena_bytes", p.arenaBytes))
      return false;
    const json *outs = field(j, path, "outputs");
    if (!outs || !nameMap(*outs, path + ".outputs", p.outputs))
      return false;
    const json *steps = field(j, path, "steps");
    if (!steps || !array(*steps, path + ".steps"))
      return false;
    p.steps.resize(steps->size());
    for (size_t i = 0; i < steps->size(); ++i)
      if (!step((*steps)[i], path + ".steps[" + std::to_string(i) + "]",
                p.steps[i]))
        return false;
    return true;
  }

  template <typename T, typename Fn>
  bool list(const json &top, const char *key, std::vector<T> &out, Fn fn) {
    const json *arr = field(top, "plan", key);
    if (!arr || !array(*arr, key))
      return false;
    out.resize(arr->size());
    for (size_t i = 0; i < arr->size(); ++i)
      if (!(this->*fn)((*arr)[i],
                       std::string(key) + "[" + std::to_string(i) + "]",
                       out[i]))
        return false;
    return true;
  }

  bool plan(const json &j, Plan &p) {
    if (!j.is_object())
      return fail("plan", "not an ftc plan (expected a JSON object)");
    const json *magic = field(j, "plan", "format", false);
    if (!magic || !magic->is_string() ||
        magic->get<std::string>() != kFormatMagic)
      return fail("plan", std::string("not an ftc plan (\"format\" is not \"") +
                              kFormatMagic + "\")");
    int64_t version;
    const json *v = field(j, "plan", "version");
    if (!v || !integer(*v, "version", version))
      return false;
    if (version != kFormatVersion)
      return fail("version", "plan format version " + std::to_string(version) +
                                 " is not supported (this runtime reads "
                                 "version " +
                                 std::to_string(kFormatVersion) +
                                 "); recompile the plan");
    p.version = uint32_t(version);
    const json *features = field(j, "plan", "feature_inputs");
    return stringField(j, "plan", "compiler_version", p.compilerVersion) &&
           intField(j, "plan", "batch_size", p.batchSize) &&
           stringField(j, "plan", "optimizer", p.optimizer) &&
           (!j.contains("grad_accum") ||
            intField(j, "plan", "grad_accum", p.gradAccum)) &&
           list(j, "buffers", p.buffers, &Reader::buffer) &&
           list(j, "params", p.params, &Reader::param) && features &&
           nameMap(*features, "feature_inputs", p.featureInputs) &&
           list(j, "programs", p.programs, &Reader::program) &&
           stringField(j, "plan", "resolved_spec", p.resolvedSpec);
  }
};

} // namespace

bool deserialize(const std::string &text, Plan &plan, std::string &error) {
  Plan result;
  try {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/true,
                         /*ignore_comments=*/false);
    Reader r;
    if (!r.plan(j, result)) {
      error = "invalid plan: " + r.err;
      return false;
    }
  } catch (const json::parse_error &e) {
    error = std::string("invalid plan: not valid JSON (") + e.what() + ")";
    return false;
  } catch (const std::exception &e) {
    // Type errors cannot happen after the checks above; bad_alloc can.
    error = std::string("invalid plan: ") + e.what();
    return false;
  }
  if (std::string e = verify(result); !e.empty()) {
    error = "invalid plan: " + e;
    return false;
  }
  plan = std::move(result);
  return true;
}

//===----------------------------------------------------------------------===//
// Human-readable listing
//===----------------------------------------------------------------------===//

namespace {

std::string attrStr(const Attr &a) {
  switch (a.kind) {
  case Attr::Int:
    return std::to_string(a.i);
  case Attr::Float:
    return fmtDouble(a.f);
  case Attr::Ints: {
    std::string s = "[";
    for (size_t i = 0; i < a.ints.size(); ++i)
      s += (i ? ", " : "") + std::to_string(a.ints[i]);
    return s + "]";
  }
  case Attr::String:
    return quoted(a.s);
  }
  return "?";
}

std::string argStr(const Plan &plan, int32_t id) {
  std::string s = "%" + std::to_string(id);
  if (id >= 0 && size_t(id) < plan.buffers.size() &&
      !plan.buffers[id].name.empty())
    s += " " + quoted(plan.buffers[id].name);
  return s;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width)
    s.append(width - s.size(), ' ');
  return s;
}

} // namespace

std::string dump(const Plan &plan) {
  std::ostringstream os;
  os << "ftc plan v" << plan.version << "  compiler "
     << quoted(plan.compilerVersion) << "  batch " << plan.batchSize
     << "  optimizer " << quoted(plan.optimizer) << "\n";

  os << "buffers (" << plan.buffers.size() << "):\n";
  os << "  " << pad("id", 6) << pad("kind", 10) << pad("dtype", 6)
     << pad("shape", 18) << pad("bytes", 12) << pad("arena", 22) << "name\n";
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const Buffer &b = plan.buffers[i];
    std::string arena = "-";
    if (b.kind == BufferKind::Temp) {
      std::string prog =
          b.program >= 0 && size_t(b.program) < plan.programs.size()
              ? plan.programs[b.program].name
              : "program " + std::to_string(b.program);
      arena = prog + " @" + std::to_string(b.offset);
    }
    os << "  " << pad("%" + std::to_string(i), 6) << pad(toString(b.kind), 10)
       << pad(toString(b.dtype), 6) << pad(shapeStr(b.shape), 18)
       << pad(std::to_string(b.bytes()), 12) << pad(arena, 22) << quoted(b.name)
       << "\n";
  }

  os << "params (" << plan.params.size() << "):\n";
  for (const ParamInfo &p : plan.params) {
    os << "  " << argStr(plan, p.buffer) << "  "
       << (p.trainable ? "trainable" : "frozen") << (p.head ? " head" : "")
       << "  init " << toString(p.init);
    if (p.init == InitKind::Normal || p.init == InitKind::Uniform)
      os << "(" << fmtDouble(p.initA) << ", " << fmtDouble(p.initB) << ")";
    os << "\n";
  }

  if (!plan.featureInputs.empty()) {
    os << "features:\n";
    for (auto &[name, id] : plan.featureInputs)
      os << "  " << quoted(name) << " -> " << argStr(plan, id) << "\n";
  }

  for (const Program &p : plan.programs) {
    os << "program " << p.name << " (" << p.steps.size() << " steps, arena "
       << p.arenaBytes << " bytes):\n";
    for (size_t s = 0; s < p.steps.size(); ++s) {
      const Step &st = p.steps[s];
      os << "  " << s << ": " << st.kernel << "(";
      for (size_t a = 0; a < st.args.size(); ++a) {
        if (int32_t(a) == st.numInputs)
          os << ") -> (";
        else if (a)
          os << ", ";
        os << argStr(plan, st.args[a]);
      }
      if (st.numInputs >= int32_t(st.args.size()))
        os << ") -> (";
      os << ")";
      if (!st.attrs.empty()) {
        os << " {";
        bool first = true;
        for (auto &[k, a] : st.attrs) {
          os << (first ? "" : ", ") << k << " = " << attrStr(a);
          first = false;
        }
        os << "}";
      }
      os << "\n";
    }
    if (!p.outputs.empty()) {
      os << "  outputs:";
      for (auto &[k, id] : p.outputs)
        os << " " << k << " = " << argStr(plan, id) << ";";
      os << "\n";
    }
  }
  return os.str();
}

MemorySummary summarizeMemory(const Plan &plan) {
  MemorySummary m;
  for (const Buffer &b : plan.buffers) {
    if (b.kind == BufferKind::Param)
      m.paramBytes += b.bytes();
    else if (b.kind == BufferKind::OptState)
      m.optimizerStateBytes += b.bytes();
    else if (b.kind == BufferKind::Input)
      m.inputBytes += b.bytes();
    else if (b.kind == BufferKind::GradAccum)
      m.gradAccumBytes += b.bytes();
  }
  for (const ParamInfo &p : plan.params)
    if (p.trainable)
      m.trainableParamBytes += plan.buffers[p.buffer].bytes();
  int64_t maxArena = 0;
  for (const Program &prog : plan.programs) {
    m.arenaBytes[prog.name] = prog.arenaBytes;
    maxArena = std::max(maxArena, prog.arenaBytes);
    // The gradients an update or an accumulation reads; with accumulation
    // the updates read the (persistent) accumulators instead.
    for (const Step &s : prog.steps) {
      bool group = s.kernel == "sgd_group" || s.kernel == "adamw_group";
      if (!group && s.kernel != "sgd_update" && s.kernel != "adamw_update" &&
          s.kernel != "accumulate_grad")
        continue;
      size_t grads = group ? groupSize(s) : 1;
      for (size_t i = 0; i < grads && i < s.args.size(); ++i)
        if (plan.buffers[size_t(s.args[i])].kind == BufferKind::Temp)
          m.gradientBytes += plan.buffers[size_t(s.args[i])].bytes();
    }
  }
  m.totalBytes = m.paramBytes + m.optimizerStateBytes + m.inputBytes +
                 m.gradAccumBytes + maxArena;
  return m;
}

} // namespace ftc::plan
