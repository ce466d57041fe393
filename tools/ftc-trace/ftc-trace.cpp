//===- ftc-trace.cpp - Dump one step's tensors for numerical checks -------===//
// SPDX-License-Identifier: Apache-2.0
//
// A developer tool (like ftc-opt): compiles a job exactly as `ftc run` does
// and writes, to one safetensors file, what a reference implementation needs
// to be compared against ftc on the same weights and inputs:
//   init.<name>   every parameter before any update (checkpoint + new init)
//   loss          train_step's loss on the first batch (examples 0..B-1)
//   logits        eval_step's logits on that batch
//   grad.<name>   the gradient of that loss, for every trainable parameter
//   param.<name>  every parameter after --steps optimizer steps, each on
//                 that same batch at the constant lr optimizer.lr
// Parameters and gradients are in the checkpoint's layout (the family's
// stored_layout: GPT-2's Conv1D weights [in, out]), as a reference holds
// them.
//===----------------------------------------------------------------------===//
#include "CompileJob.h"
#include "Job.h"

#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Safetensors.h"
#include "ftc/runtime/Trainer.h"

#include <functional>
#include <iostream>
#include <numeric>

using namespace ftc;
using namespace ftc::tool;

namespace {

struct Output {
  std::vector<std::pair<std::string, std::vector<int64_t>>> meta;
  std::vector<std::vector<float>> data;
  std::function<bool(const std::string &)> storedTransposed;
  void add(const std::string &name, const std::vector<int64_t> &shape,
           std::vector<float> values) {
    // "init.", "grad." or "param." + a parameter stored transposed.
    size_t dot = name.find('.');
    if (shape.size() == 2 && dot != std::string::npos && storedTransposed &&
        storedTransposed(name.substr(dot + 1))) {
      meta.push_back({name, {shape[1], shape[0]}});
      data.push_back(rt::transpose2d(values, shape[0], shape[1]));
      return;
    }
    meta.push_back({name, shape});
    data.push_back(std::move(values));
  }
  void write(const std::string &path) {
    std::vector<
        std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>
        tensors;
    for (size_t i = 0; i < meta.size(); ++i)
      tensors.push_back({meta[i].first, {meta[i].second, data[i].data()}});
    rt::writeSafetensors(path, tensors, {{"producer", "ftc-trace"}});
  }
};

std::vector<float> readBuffer(rt::Backend &backend, const plan::Plan &p,
                              int32_t id) {
  std::vector<float> v(static_cast<size_t>(p.buffers[id].numElements()));
  backend.read(id, v.data());
  return v;
}

int usage(const std::string &message) {
  std::cerr << "ftc-trace: error: " << message
            << "\nUsage: ftc-trace SPEC [--set KEY=VALUE]... [--steps N] -o "
               "OUT.safetensors\n";
  return kUsageError;
}

int trace(const JobArgs &args, int64_t steps, const std::string &out) {
  std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
  if (!job)
    return kUserError;
  const spec::Spec &s = job->spec();
  rt::TrainerOptions opts;
  opts.seed = uint64_t(s.getInt("pipeline.seed"));
  opts.initCheckpoint =
      s.has("model.checkpoint") ? s.getString("model.checkpoint") : "";
  opts.baseModelPrefix = job->model().baseModelPrefix();
  opts.storedTransposed = [&model = job->model()](const std::string &name) {
    return model.storedTransposed(name);
  };
  int64_t batch = s.getInt("train.batch_size");
  if (job->trainSplit().size() < batch)
    throw rt::Error("the training split has fewer than one batch");
  std::vector<int64_t> first(static_cast<size_t>(batch));
  std::iota(first.begin(), first.end(), 0);
  Output result;
  result.storedTransposed = opts.storedTransposed;
  std::string unused;

  // Gradients: the plan without the optimizer outputs them.
  plan::Plan gradPlan;
  if (!compileJob(*job, std::nullopt, unused, gradPlan, false))
    return kUserError;
  auto backend = rt::createCpuBackend(int(s.getInt("train.threads")));
  backend->load(gradPlan);
  rt::Trainer trainer(gradPlan, *backend, opts);
  std::string log;
  trainer.initialize(log);
  std::cerr << log;
  for (const plan::ParamInfo &info : gradPlan.params) {
    const plan::Buffer &b = gradPlan.buffers[info.buffer];
    result.add("init." + b.name, b.shape,
               readBuffer(*backend, gradPlan, info.buffer));
  }
  trainer.feed(job->trainSplit(), first);
  trainer.setStep(1, 0.0f);
  backend->run("train_step");
  for (auto &[role, id] : gradPlan.findProgram("train_step")->outputs)
    result.add(role, gradPlan.buffers[id].shape,
               readBuffer(*backend, gradPlan, id));
  backend->run("eval_step");
  if (auto *eval = gradPlan.findProgram("eval_step");
      eval && eval->outputs.count("logits")) {
    int32_t id = eval->outputs.at("logits");
    result.add("logits", gradPlan.buffers[id].shape,
               readBuffer(*backend, gradPlan, id));
  }

  // Updates: the full plan, `steps` times on the same batch.
  plan::Plan fullPlan;
  if (!compileJob(*job, std::nullopt, unused, fullPlan, true))
    return kUserError;
  if (fullPlan.gradAccum != 1) {
    std::cerr << "ftc-trace: error: updates are traced with train.grad_accum "
                 "= 1 only (use ftc run to train with accumulation)\n";
    return kUserError;
  }
  auto backend2 = rt::createCpuBackend(int(s.getInt("train.threads")));
  backend2->load(fullPlan);
  rt::Trainer trainer2(fullPlan, *backend2, opts);
  trainer2.initialize(log);
  float lr = float(s.getFloat("optimizer.lr"));
  for (int64_t step = 1; step <= steps; ++step) {
    trainer2.feed(job->trainSplit(), first);
    trainer2.setStep(step, lr);
    backend2->run("train_step");
  }
  for (const plan::ParamInfo &info : fullPlan.params) {
    const plan::Buffer &b = fullPlan.buffers[info.buffer];
    result.add("param." + b.name, b.shape,
               readBuffer(*backend2, fullPlan, info.buffer));
  }
  result.write(out);
  std::cerr << "wrote " << result.meta.size() << " tensors to " << out << "\n";
  return kOk;
}

} // namespace

int main(int argc, char **argv) {
  JobArgs args;
  int64_t steps = 1;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::optional<std::string> {
      if (i + 1 < argc)
        return std::string(argv[++i]);
      return std::nullopt;
    };
    if (a == "--set") {
      auto v = next();
      if (!v)
        return usage("--set needs KEY=VALUE");
      args.overrides.push_back(*v);
    } else if (a == "--steps") {
      auto v = next();
      if (!v)
        return usage("--steps needs a number");
      steps = std::atoll(v->c_str());
    } else if (a == "-o") {
      auto v = next();
      if (!v)
        return usage("-o needs a file");
      out = *v;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else if (args.specPath.empty()) {
      args.specPath = a;
    } else {
      return usage("more than one SPEC");
    }
  }
  if (args.specPath.empty() || out.empty())
    return usage("SPEC and -o are required");
  try {
    return trace(args, steps, out);
  } catch (const std::exception &e) {
    std::cerr << "ftc-trace: error: " << e.what() << "\n";
    return kUserError;
  }
}
