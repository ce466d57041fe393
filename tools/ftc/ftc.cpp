//===- ftc.cpp - The ftc command line
//---------------------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Exit codes: 0 success, 1 user error (spec, data, checkpoint, plugin),
// 2 usage error (unknown command or option, missing argument).
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "CompileJob.h"
#include "Job.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using namespace ftc::tool;

namespace {

const char *const kOverview = R"(ftc - the fine-tuning pipeline compiler

Usage: ftc <command> [options]

Commands:
  run SPEC          compile the job's training step and train it
  check SPEC        validate the spec, its plugins and its data; the data report
  compile SPEC      print the IR or plan after a compilation stage
  plan SPEC         print the memory plan and the cost before running anything
  eval SPEC         evaluate a saved model (--checkpoint DIR) on the eval split
  predict SPEC      predict the examples of --input FILE with a saved model
  generate SPEC     continue --prompt TEXT with a saved causal language model
  plugins           list the model and dataset plugins ftc can load
  info              the machine as ftc sees it: CPU, oneDNN's ISA, bf16, CUDA
  help [COMMAND]    show help for a command

Options:
  --version         print the version
  -h, --help        show this help

Run 'ftc help <command>' for a command's options and examples.
)";

const char *const kSpecOptions = R"(
Spec options:
  --set KEY=VALUE   override a spec key (repeatable), validated like the file;
                    VALUE is a TOML value, a bare word is a string
  --output-dir DIR  write outputs to DIR (same as --set pipeline.output_dir=DIR)
)";

const std::map<std::string, std::string> kCommandHelp = {
    {"run", R"(Usage: ftc run SPEC [options]

Compiles forward, backward and optimizer update into one plan, then trains:
progress on the terminal, metrics.jsonl, and model.safetensors + config.json
in the output directory.
)"},
    {"check", R"(Usage: ftc check SPEC [--resolved] [options]

Validates the spec (unknown keys, types, ranges, required keys), loads the
plugins it names, opens its data files and builds the model (nothing is
trained), then prints the data report: per split the label distribution,
input lengths and the share truncated at max_length, unknown tokens and
duplicates; the majority-class baseline; train/eval overlap (leakage).

  --resolved        print the fully resolved spec (every default filled in)
                    instead of the report
)"},
    {"compile", R"(Usage: ftc compile SPEC --emit=STAGE [-o FILE] [options]

Prints the result of one compilation stage:
  ftc      the model as built by its plugin (@forward)
  freeze   after ftc-apply-freeze: every parameter trainable or frozen
  train    after ftc-autodiff: @train_step (forward + pruned backward), @eval_step
  optim    after ftc-lower-optimizer: gradients replaced by in-place updates
  fused    after ftc-cache-frozen-prefix and ftc-fuse: the split step
           functions and the fused kernels the runtime will run
  plan     the executable plan: buffers, arena slices and kernel calls
  report   the trainable-set report: each parameter, its size, its state

  --emit=STAGE      the stage to print (required)
  -o FILE           write to FILE instead of standard output
)"},
    {"eval", R"(Usage: ftc eval SPEC --checkpoint DIR [options]

Compiles the job, loads the weights from DIR (a run's output directory, a
checkpoint-<step> or best/ directory, or a .safetensors file) and evaluates
them on the spec's eval split with eval.metrics. Prints one JSON object:
{"checkpoint":...,"split":"eval","examples":N,"metrics":{...}}.

  --checkpoint DIR  the weights to evaluate (required)
)"},
    {"predict",
     R"(Usage: ftc predict SPEC --checkpoint DIR --input FILE [-o OUT] [options]

Compiles the job, loads the weights from DIR (as ftc eval does; a LoRA run's
adapter over the spec's base checkpoint) and predicts every example of FILE,
read by the spec's dataset plugin like its train file but with labels
optional (a CSV/JSONL without the label column, an IDX images file, ...).
Writes one JSON object per example, in input order:
{"index":0,"label":"great","label_id":0,"probabilities":{"great":0.93,"other":0.07}}
Class names come from DIR's config.json id2label (else the train split).

  --checkpoint DIR  the weights to predict with (required)
  --input FILE      the examples (required)
  -o, --output OUT  write the JSON lines to OUT (atomically) instead of stdout
)"},
    {"generate",
     R"(Usage: ftc generate SPEC --checkpoint DIR --prompt TEXT [options]

Compiles the job (a causal-lm model) for one sequence, loads the weights from
DIR and continues TEXT token by token: each token reruns the model over the
last block_size tokens and takes the most likely next token, or with
--temperature draws one (from the --top-k most likely, if set) with a seeded
generator: the same seed gives the same text. Stops after --max-new-tokens or
at <|endoftext|>. The prompt is encoded and the text decoded with the spec's
dataset.tokenizer (a byte-level BPE). Prints the prompt and its continuation.

  --checkpoint DIR       the weights (required)
  --prompt TEXT          the text to continue (required)
  --max-new-tokens N     at most N new tokens (default 64)
  --temperature T        0 (default): greedy; > 0: sample from softmax(logits/T)
  --top-k K              sample among the K most likely tokens (default: all)
  --seed S               the sampling seed (default 0)
)"},
    {"plan", R"(Usage: ftc plan SPEC [options]

Compiles the job and prints its memory plan: parameters (and how much of them
trains), optimizer state, inputs, gradients and each step's arena peak, with
the total. Set train.memory_limit to make `ftc run` refuse a plan that needs
more. Then the cost: each program's matrix-product FLOPs and other kernels'
bytes, this machine's calibrated rates (measured once, about a second, and
cached in ~/.cache/ftc/calibration.json), and the estimated time of a step,
an epoch and the whole job, with what the frozen-prefix cache saves.
)"},
    {"plugins", R"(Usage: ftc plugins [--keys]

Lists every plugin found on the search path: the built-in plugin directory,
then the ':'-separated entries of FTC_PLUGIN_PATH. Plugins that fail to load
are reported as errors (exit 1).

  --keys            also list the keys each plugin adds to [model] or
                    [dataset], with types, defaults and ranges
)"},
    {"info", R"(Usage: ftc info

Prints ftc's version, the CPU, the oneDNN version and the instruction set
its kernels dispatch to (ONEDNN_MAX_CPU_ISA can lower it), whether the CPU
computes bf16 products natively (AVX512-BF16 or AMX: train.precision =
"bf16" needs it on the CPU) and whether a CUDA device is usable.
)"},
    {"help", "Usage: ftc help [COMMAND]\n"},
};

const char *const kExamples = R"(
Examples:
  ftc run pipelines/fashion-mnist-mlp.toml
  ftc run pipelines/fashion-mnist-mlp.toml --set train.epochs=1 --output-dir /tmp/run
  ftc check job.toml --resolved
  ftc compile job.toml --emit=train
  ftc compile job.toml --emit=report --set freeze.policy=head-only
  ftc plan job.toml --set train.batch_size=8
  ftc eval job.toml --checkpoint runs/job/best
)";

int usage(const std::string &command, const std::string &message) {
  std::cerr << "ftc" << (command.empty() ? "" : " " + command)
            << ": error: " << message << "\n"
            << "Run 'ftc help" << (command.empty() ? "" : " " + command)
            << "' for usage.\n";
  return kUsageError;
}

void printHelp(const std::string &command) {
  auto it = kCommandHelp.find(command);
  std::cout << it->second;
  if (command != "plugins" && command != "help" && command != "info")
    std::cout << kSpecOptions;
  std::cout << kExamples;
}

} // namespace

/// OpenMP threads that wait for work spin for GOMP's default 300000 rounds:
/// on a machine whose other cores are busy they burn the time slices the
/// working threads need (MiniLM, 2 threads, one core loaded: 39.9 s against
/// 28.7 s with one thread). A short spin keeps the quiet-machine speed
/// (14.7-15.2 s against 16.0 s) and the loaded one (29.9-30.5 s); see
/// docs/user-guide.md#threads. libgomp reads its settings when it is loaded,
/// before main, so the commands that run kernels set GOMP_SPINCOUNT and
/// re-execute themselves once, unless the user chose a policy
/// (OMP_WAIT_POLICY or GOMP_SPINCOUNT).
static void setOpenMpWaitPolicy(int argc, char **argv) {
  if (argc < 2 || std::getenv("OMP_WAIT_POLICY") ||
      std::getenv("GOMP_SPINCOUNT"))
    return;
  const std::string command = argv[1];
  if (command != "run" && command != "eval" && command != "predict" &&
      command != "generate")
    return;
  setenv("GOMP_SPINCOUNT", "10000", 1);
  execv("/proc/self/exe", argv); // returns only on failure: run as is
}

int main(int argc, char **argv) {
  setOpenMpWaitPolicy(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kOverview;
    return kUsageError;
  }
  const std::string command = args[0];
  if (command == "-h" || command == "--help") {
    std::cout << kOverview;
    return kOk;
  }
  if (command == "--version") {
    std::cout << "ftc " << FTC_VERSION << "\n";
    return kOk;
  }
  if (command == "help") {
    if (args.size() == 1) {
      std::cout << kOverview;
      return kOk;
    }
    if (!kCommandHelp.count(args[1]))
      return usage("help", "unknown command '" + args[1] + "'");
    printHelp(args[1]);
    return kOk;
  }
  if (!kCommandHelp.count(command))
    return usage("", "unknown command '" + command + "'");

  // Parse the command's options.
  JobArgs job;
  CommandOptions opts;
  bool hasPrompt = false;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](const std::string &flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0)
        return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < args.size())
        return args[++i];
      return std::nullopt;
    };
    auto is = [&](const std::string &flag) {
      return a == flag || a.rfind(flag + "=", 0) == 0;
    };
    if (a == "-h" || a == "--help") {
      printHelp(command);
      return kOk;
    } else if (is("--set")) {
      auto v = value("--set");
      if (!v)
        return usage(command, "--set needs KEY=VALUE");
      job.overrides.push_back(*v);
    } else if (is("--output-dir")) {
      auto v = value("--output-dir");
      if (!v || v->empty())
        return usage(command, "--output-dir needs a directory");
      job.outputDir = *v;
    } else if (command == "compile" && is("--emit")) {
      opts.emit = value("--emit");
      if (!opts.emit)
        return usage(command, "--emit needs a stage");
    } else if ((command == "compile" || command == "predict") &&
               (a == "-o" || is("--output"))) {
      auto v = a == "-o" ? value("-o") : value("--output");
      if (!v)
        return usage(command, "-o needs a file");
      opts.outputFile = *v;
    } else if (command == "check" && a == "--resolved") {
      opts.resolved = true;
    } else if (command == "generate" && is("--prompt")) {
      auto v = value("--prompt");
      if (!v)
        return usage(command, "--prompt needs a text");
      opts.prompt = *v;
      hasPrompt = true;
    } else if (command == "generate" &&
               (is("--max-new-tokens") || is("--top-k") || is("--seed") ||
                is("--temperature"))) {
      std::string flag = a.substr(0, a.find('='));
      auto v = value(flag);
      char *end = nullptr;
      double x = v ? std::strtod(v->c_str(), &end) : 0;
      bool integral = flag != "--temperature";
      if (!v || v->empty() || *end || x < 0 ||
          (integral && x != std::floor(x)) || x > 1e15)
        return usage(command, flag + " needs a non-negative " +
                                  (integral ? "integer" : "number"));
      if (flag == "--max-new-tokens")
        opts.generate.maxNewTokens = int64_t(x);
      else if (flag == "--top-k")
        opts.generate.topK = int64_t(x);
      else if (flag == "--seed")
        opts.seed = uint64_t(x);
      else
        opts.generate.temperature = x;
    } else if ((command == "eval" || command == "predict" ||
                command == "generate") &&
               is("--checkpoint")) {
      opts.checkpoint = value("--checkpoint");
      if (!opts.checkpoint)
        return usage(command, "--checkpoint needs a directory or file");
    } else if (command == "predict" && is("--input")) {
      opts.input = value("--input");
      if (!opts.input)
        return usage(command, "--input needs a file");
    } else if (command == "plugins" && a == "--keys") {
      opts.keys = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage(command, "unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }

  if (command == "plugins" || command == "info") {
    if (!positional.empty() || !job.overrides.empty() || job.outputDir)
      return usage(command, "takes no arguments");
    return command == "info" ? runInfo() : runPlugins(opts.keys);
  }
  if (positional.size() != 1)
    return usage(command, positional.empty()
                              ? "missing SPEC (a job .toml file)"
                              : "expected one SPEC, got " +
                                    std::to_string(positional.size()));
  job.specPath = positional[0];
  if (command == "compile") {
    if (!opts.emit)
      return usage(command, "missing --emit=STAGE (one of " +
                                std::string(kEmitStages) + ")");
    if (!isEmitStage(*opts.emit))
      return usage(command, "unknown stage '" + *opts.emit + "' (one of " +
                                std::string(kEmitStages) + ")");
    return runCompile(job, opts);
  }
  if (command == "check")
    return runCheck(job, opts);
  if (command == "plan")
    return runPlan(job);
  if (command == "eval") {
    if (!opts.checkpoint)
      return usage(command, "missing --checkpoint DIR");
    return runEval(job, opts);
  }
  if (command == "predict") {
    if (!opts.checkpoint)
      return usage(command, "missing --checkpoint DIR");
    if (!opts.input)
      return usage(command, "missing --input FILE");
    return runPredict(job, opts);
  }
  if (command == "generate") {
    if (!opts.checkpoint)
      return usage(command, "missing --checkpoint DIR");
    if (!hasPrompt)
      return usage(command, "missing --prompt TEXT");
    return runGenerate(job, opts);
  }
  return runTrain(job);
}
