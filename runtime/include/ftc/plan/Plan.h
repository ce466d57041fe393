//===- Plan.h - The executable training plan (format v1) --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The compiler's output and the runtime's input: a flat list of kernel calls
// per program (train_step, eval_step) on named buffers. It has no MLIR
// dependency so a plan compiled once runs on any machine with the runtime.
//
// Buffers:
//  - Param:    persistent model parameters (checkpoint names).
//  - OptState: persistent optimizer state, zero-initialised
//              ("<param>.momentum", "<param>.exp_avg", ...).
//  - Input:    persistent host buffers the trainer fills before each run
//              (dataset features and the trainer scalars: "lr", "step",
//              "loss_weight", "accum_keep").
//  - GradAccum: persistent gradient accumulators ("<param>.grad_accum"),
//              with train.grad_accum > 1 only.
//  - Temp:     a slice [offset, offset+bytes) of one program's arena, as
//              assigned by the memory planner.
//
// Steps: `args` lists input buffer ids then output buffer ids; `numInputs`
// splits them. Kernels are named as in docs/runtime-contract.md.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLAN_PLAN_H
#define FTC_PLAN_PLAN_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ftc::plan {

constexpr uint32_t kFormatVersion = 1;
constexpr const char *kFormatMagic = "ftc-plan";

enum class BufferKind { Param, OptState, Input, GradAccum, Temp };
/// Element types. BF16 (bfloat16: f32's upper half) holds the copies that
/// matrix products multiply under mixed precision; nothing else is bf16.
enum class DType { F32, I32, BF16 };

const char *toString(BufferKind kind);
const char *toString(DType dtype);
size_t elementSize(DType dtype);

/// The memory layout of a buffer. Plain is row-major in the order of the
/// shape; Blocked16 ("nChw16c", a Temp [N, C, H, W] f32 buffer with C a
/// multiple of 16) is oneDNN's layout for AVX-512 convolutions: [N, C/16,
/// H, W, 16], channels in blocks of 16 innermost. The compiler chooses it
/// (assignLayouts) for activations that only convolutions and
/// layout-agnostic kernels touch, so no reorder runs between them.
enum class Layout { Plain, Blocked16 };
const char *toString(Layout layout);

struct Buffer {
  std::string name;
  BufferKind kind = BufferKind::Temp;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  Layout layout = Layout::Plain;
  int32_t program = -1; // owning program for Temp, -1 otherwise
  int64_t offset = 0;   // arena offset for Temp
  int64_t numElements() const;
  int64_t bytes() const { return numElements() * int64_t(elementSize(dtype)); }
};

enum class InitKind { Zeros, Ones, Normal, Uniform };

struct ParamInfo {
  int32_t buffer = -1;
  bool trainable = true;
  bool head = false;
  /// Model state that is not learned (batch norm's running statistics):
  /// saved, loaded and carried like a parameter, never trainable.
  bool runningStat = false;
  InitKind init = InitKind::Zeros;
  double initA = 0, initB = 0;
};

struct Attr {
  enum Kind { Int, Float, Ints, String } kind = Int;
  int64_t i = 0;
  double f = 0;
  std::vector<int64_t> ints;
  std::string s;
};

struct Step {
  std::string kernel;
  std::vector<int32_t> args;
  int32_t numInputs = 0;
  std::map<std::string, Attr> attrs;

  int64_t getInt(const std::string &name, int64_t dflt) const;
  double getFloat(const std::string &name, double dflt) const;
  std::vector<int64_t> getInts(const std::string &name) const;
};

/// Program names, shared by the compiler (which emits them), the plan
/// conversion, the trainer and the tools.
namespace programs {
constexpr const char *kTrain = "train_step";
constexpr const char *kOptimizer = "optimizer_step";
constexpr const char *kEval = "eval_step";
constexpr const char *kPredict = "predict_step";
/// The frozen-prefix split of train_step and of eval_step.
constexpr const char *kPrefix = "prefix_step";
constexpr const char *kTrainCached = "train_step_cached";
constexpr const char *kEvalPrefix = "eval_prefix_step";
constexpr const char *kEvalCached = "eval_step_cached";
/// Name prefixes of the cached values: prefix outputs and cached inputs.
constexpr const char *kCacheInput = "cache.";
constexpr const char *kEvalCacheInput = "eval_cache.";
} // namespace programs

/// Inputs the trainer sets itself (not dataset features): the learning
/// rate, the optimizer step, and with gradient accumulation the
/// micro-batch's loss weight and whether to keep the accumulated gradient.
bool isTrainerScalar(const std::string &inputName);
/// Inputs that hold a cached frozen-prefix value ("cache.<i>",
/// "eval_cache.<i>"): filled by the trainer from its per-example cache.
bool isCachedValueInput(const std::string &inputName);

struct Program {
  // "train_step" | "eval_step" | "predict_step", with gradient accumulation
  // "optimizer_step" (train_step then only accumulates gradients), and when
  // the compiler cached a frozen prefix "prefix_step" (outputs "cache.<i>")
  // and "train_step_cached" (train_step reading inputs "cache.<i>"), and
  // likewise "eval_prefix_step" and "eval_step_cached" ("eval_cache.<i>").
  std::string name;
  std::vector<Step> steps;
  // Named results: "loss", "logits".
  std::map<std::string, int32_t> outputs;
  int64_t arenaBytes = 0;
};

struct Plan {
  uint32_t version = kFormatVersion;
  std::string compilerVersion;
  int64_t batchSize = 0;
  std::vector<Buffer> buffers;
  std::vector<ParamInfo> params;
  std::vector<Program> programs;
  // Map from a dataset feature name to its Input buffer.
  std::map<std::string, int32_t> featureInputs;
  std::string resolvedSpec; // TOML text
  std::string optimizer;    // "sgd" | "adamw"
  /// Micro-batches per optimizer step (train.grad_accum); > 1 means the
  /// plan has an optimizer_step program.
  int64_t gradAccum = 1;

  int32_t findBuffer(const std::string &name) const;
  const Program *findProgram(const std::string &name) const;
};

/// What a plan needs in memory, known before anything runs.
struct MemorySummary {
  int64_t paramBytes = 0, trainableParamBytes = 0;
  int64_t optimizerStateBytes = 0;
  int64_t inputBytes = 0;
  /// Persistent gradient accumulators (train.grad_accum > 1).
  int64_t gradAccumBytes = 0;
  /// Gradients of trainable parameters (slices of train_step's arena).
  int64_t gradientBytes = 0;
  /// Peak arena (activations, gradients, temporaries) per program.
  std::map<std::string, int64_t> arenaBytes;
  /// Persistent buffers plus the largest arena.
  int64_t totalBytes = 0;
};
MemorySummary summarizeMemory(const Plan &plan);

/// Serialises to the versioned text form (JSON).
std::string serialize(const Plan &plan);
/// Parses a serialised plan; on failure returns false and sets `error`.
bool deserialize(const std::string &text, Plan &plan, std::string &error);
/// A human-readable listing (`ftc compile --emit=plan`).
std::string dump(const Plan &plan);
/// Checks internal consistency (ids in range, arena slices inside arenas,
/// known kernels with the right arity, layouts the kernels accept).
/// Returns "" when valid.
std::string verify(const Plan &plan);
/// Gives Blocked16 to every group of activations that convolutions read or
/// write and that otherwise only kernels accepting it touch
/// (docs/runtime-contract.md, "Layouts"); everything else stays plain.
/// Returns how many buffers became blocked.
int64_t assignLayouts(Plan &plan);
/// Whether argument `arg` (inputs then outputs) of `step` may be Blocked16,
/// and with which of the step's other arguments it must share its layout.
struct LayoutRule {
  bool allowed = false;
  /// Arguments with equal non-negative group numbers must have one layout.
  int group = -1;
};
LayoutRule layoutRule(const Plan &plan, const Step &step, size_t arg);

/// A kernel of the runtime contract as the verifier checks it: argument
/// names in order, of which the last `optional*` may be absent;
/// `variadicInputs`: one or more inputs like the first; `grouped`: a
/// multi-tensor update (the first input and every output once per tensor,
/// attr `tensors`). docs/runtime-contract.md's kernel index lists the same
/// (a unit test compares them), and every backend implements them all.
struct KernelSignature {
  std::string name;
  std::vector<std::string> inputs, outputs;
  size_t optionalInputs = 0, optionalOutputs = 0;
  bool variadicInputs = false, grouped = false;
};
std::vector<KernelSignature> kernelSignatures();
/// For a matrix-product step (linear, its backward kernels, batch_matmul):
/// the length of the dimension it sums over, from the contract's table; 0
/// for any other step. Its cost is 2·M·N·K with M·N its first output.
int64_t contractedDim(const Plan &plan, const Step &step);

} // namespace ftc::plan

#endif // FTC_PLAN_PLAN_H
