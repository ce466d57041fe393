//===- FtcBoundaryOps.cpp - param, input, output --------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): the graph's boundary: parameters and running statistics
// (persistent buffers), feature inputs and outputs. Each op's type inference
// and verifier, its vector-Jacobian product, its other interfaces and the
// kernel calls it lowers to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty parameter name");
  StringRef init = getInit();
  if (init != "zeros" && init != "ones" && init != "normal" &&
      init != "uniform")
    return emitOpError("unknown init '")
           << init << "'; expected zeros, ones, normal or uniform";
  if (init == "normal" && getInitB().convertToDouble() < 0)
    return emitOpError("normal init needs a non-negative std (init_b)");
  if (init == "uniform" &&
      getInitA().convertToDouble() > getInitB().convertToDouble())
    return emitOpError("uniform init needs init_a <= init_b");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

LogicalResult RunningStatOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (getInit() != "zeros" && getInit() != "ones")
    return emitOpError("unknown init '")
           << getInit() << "'; expected zeros or ones";
  if (!getResult().getType().hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::lowerToPlan(PlanEmitter &e) {
  plan::Plan &p = e.plan();
  size_t before = p.buffers.size();
  if (failed(e.bindPersistent(*this, plan::BufferKind::Param, getName())))
    return failure();
  if (p.buffers.size() == before)
    return success(); // another program (or ftc.param op) declared it
  plan::ParamInfo info;
  info.buffer = e.lookup(getResult());
  info.trainable = !getTrainable().has_value() || *getTrainable();
  info.head = getHead();
  StringRef init = getInit();
  info.init = init == "ones"      ? plan::InitKind::Ones
              : init == "normal"  ? plan::InitKind::Normal
              : init == "uniform" ? plan::InitKind::Uniform
                                  : plan::InitKind::Zeros;
  info.initA = getInitA().convertToDouble();
  info.initB = getInitB().convertToDouble();
  p.params.push_back(info);
  return success();
}

// A running statistic is a parameter buffer (saved, loaded, restored and
// carried between plans with the parameters) that never trains.
LogicalResult RunningStatOp::lowerToPlan(PlanEmitter &e) {
  plan::Plan &p = e.plan();
  size_t before = p.buffers.size();
  if (failed(e.bindPersistent(*this, plan::BufferKind::Param, getName())))
    return failure();
  if (p.buffers.size() == before)
    return success();
  plan::ParamInfo info;
  info.buffer = e.lookup(getResult());
  info.trainable = false;
  info.runningStat = true;
  info.init =
      getInit() == "ones" ? plan::InitKind::Ones : plan::InitKind::Zeros;
  p.params.push_back(info);
  return success();
}

LogicalResult InputOp::lowerToPlan(PlanEmitter &e) {
  if (failed(e.bindPersistent(*this, plan::BufferKind::Input, getName())))
    return failure();
  std::string name = getName().str();
  if (!plan::isTrainerScalar(name) && !plan::isCachedValueInput(name))
    e.plan().featureInputs[name] = e.lookup(getResult());
  return success();
}

LogicalResult OutputOp::lowerToPlan(PlanEmitter &e) {
  e.program().outputs[getRole().str()] = e.lookup(getValue());
  return success();
}
