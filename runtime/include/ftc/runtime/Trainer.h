//===- Trainer.h - The training loop around a plan --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Owns nothing compiled: it feeds batches into the plan's input buffers,
// runs train_step/eval_step on a backend, schedules the learning rate,
// evaluates, logs metrics.jsonl and writes checkpoints.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_TRAINER_H
#define FTC_RUNTIME_TRAINER_H

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Dataset.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace ftc::rt {

struct ScheduleOptions {
  std::string type = "constant"; // constant | linear | cosine
  int64_t warmupSteps = 0;
  double warmupRatio = 0;
  double minLrRatio = 0;
};

/// lr for optimizer step `step` (1-based) of `totalSteps`.
double scheduledLr(const ScheduleOptions &s, double baseLr, int64_t step,
                   int64_t totalSteps);

struct TrainerOptions {
  uint64_t seed = 0;
  int64_t epochs = 1;
  int64_t maxSteps = 0; // 0 = no limit
  int64_t logEvery = 50;
  bool shuffle = true;
  double lr = 1e-3;
  ScheduleOptions schedule;
  int64_t evalEverySteps = 0; // 0 = at each epoch end
  std::vector<std::string> evalMetrics{"loss", "accuracy"};
  std::string checkpointEvery = "end"; // "end" | "epoch" | "<steps>"
  std::string outputDir;
  std::string initCheckpoint; // model.checkpoint: dir or .safetensors, or ""
  /// The model family's base_model_prefix (e.g. "bert"): a parameter
  /// "<prefix>.<name>" missing from initCheckpoint loads from "<name>" (a
  /// base-model checkpoint into a task model), and "<name>" from
  /// "<prefix>.<name>" (a task model's checkpoint into the base model).
  std::string baseModelPrefix;
  /// Whether checkpoints store 2-D parameter `name` transposed ([in, out]:
  /// GPT-2's Conv1D; the family's stored_layout): transposed once when
  /// loaded and back when saved, so the plan keeps [out, in] and no step
  /// pays. Unset: every parameter as the plan has it.
  std::function<bool(const std::string &)> storedTransposed;
  /// ftc eval / predict: every parameter must come from the checkpoint (a
  /// missing one is an error, never a silently random weight).
  bool requireAllParams = false;
  std::string configJson; // written as config.json beside the weights
  /// More files written beside the weights in every saved model directory
  /// (the tokenizer files): {file name, contents}.
  std::vector<std::pair<std::string, std::string>> extraFiles;
  std::string labelFeature = "label";
  bool progressBar = false; // a redrawn bar on a TTY, else plain lines
  /// The compiler's estimate of the job's time (ftc plan's cost), recorded
  /// in the start event so that the report can set it beside the actual.
  double estimatedSeconds = 0;
  /// ... and of one optimizer step in the first epoch and in later ones
  /// (they differ when the frozen prefix is cached); 0 = not estimated.
  double estimatedFirstStepSeconds = 0, estimatedLaterStepSeconds = 0;

  /// checkpoint.keep: how many checkpoint-<step>/ directories to keep.
  int64_t checkpointKeep = 1;
  /// checkpoint.resume: "auto" (the newest checkpoint-<step>/ in outputDir,
  /// if any), "never", or a checkpoint directory.
  std::string resume = "never";
  /// Identifies the job (the resolved spec without keys that cannot change
  /// the result); a checkpoint of another job is refused.
  std::string specHash;
  /// eval.best: the metric whose best value keeps <outputDir>/best/; "" = off.
  std::string bestMetric;
  /// eval.patience / eval.min_delta: stop after `patience` evaluations
  /// without an improvement of more than `minDelta`; 0 = off.
  int64_t patience = 0;
  double minDelta = 0;
  /// eval.train_metrics: at each evaluation also evaluate a fixed sample of
  /// the training split as large as the eval split (eval mode), so the
  /// train/eval gap compares like with like.
  bool trainMetrics = true;
  /// eval.overfit_evals: say so (once) when eval loss has risen for this
  /// many evaluations in a row while the sample's training loss fell; 0 =
  /// off. Needs trainMetrics.
  int64_t overfitEvals = 2;
  /// Testing hooks (FTC_STOP_AFTER_STEP, FTC_CRASH_IN_CHECKPOINT): behave as
  /// if SIGINT arrived during step N; die (SIGKILL) inside the checkpoint
  /// written at step N, after its files are complete but before it is
  /// published. 0 = off.
  int64_t stopAfterStep = 0;
  int64_t crashInCheckpointAt = 0;

  /// LoRA (freeze.policy = "lora"): the final output directory holds a
  /// PEFT adapter (adapter_config.json + adapter_model.safetensors: the
  /// trainable tensors as "base_model.model.<name>") instead of the plan's
  /// tensors, and with `merge` also merged/model.safetensors with every
  /// `<m>.weight += scale · <m>.lora_B.weight · <m>.lora_A.weight` folded in.
  /// Training checkpoints keep the plan's tensors (they are for resuming).
  struct Adapter {
    bool enabled = false;
    std::string configJson;
    double scale = 1;
    bool merge = false;
  } adapter;
  /// Gradual unfreezing ([[freeze.stages]]): {first epoch, plan} per
  /// stage, the first at epoch 1 and loaded in the backend already. At each
  /// epoch boundary that starts a stage, the trainer loads that stage's
  /// plan and carries every parameter and every optimizer state it shares
  /// with the previous one over by name. Empty: one plan throughout.
  std::vector<std::pair<int64_t, const plan::Plan *>> stages;
  /// The frozen-prefix cache (train.cache_frozen_prefix), used when the
  /// plan has prefix_step and train_step_cached: budgets in bytes.
  struct PrefixCacheBudget {
    int64_t memoryBytes = int64_t(4) << 30;
    int64_t diskBytes = int64_t(16) << 30;
  } prefixCache;
  /// A PEFT adapter directory loaded over initCheckpoint (ftc eval of a
  /// LoRA run's output); "" = none.
  std::string adapterCheckpoint;
};

/// The subdirectory of a LoRA run's output with the merged model
/// (freeze.lora_merge): a complete Hugging Face model directory.
constexpr const char *kMergedDir = "merged";

/// PEFT's tensor-name prefix inside adapter_model.safetensors.
constexpr const char *kPeftPrefix = "base_model.model.";

/// How train() ended.
enum class TrainOutcome {
  Completed,    // every step ran; the final model is saved
  StoppedEarly, // eval.patience ran out; the final model is saved
  Interrupted,  // a stop was requested; a checkpoint holds the state
};

/// SIGINT and SIGTERM ask a running train() to stop after its current step
/// (a second signal kills the process). Only sets a flag.
void installStopSignalHandlers();
/// The same from code; stopRequested() is what train() polls between steps.
void requestStop();
bool stopRequested();

/// Metric names eval can compute: loss, accuracy, perplexity, precision,
/// recall, f1. Higher is better except for loss and perplexity.
bool lowerIsBetter(const std::string &metric);

/// Parameter initialisation: deterministic per (seed, name), independent of
/// parameter order, so adding a layer never changes the others' values.
void initializeParameters(const plan::Plan &plan, Backend &backend,
                          uint64_t seed);

class PrefixCache;
class OverfitWatch;

class Trainer {
public:
  Trainer(const plan::Plan &plan, Backend &backend, TrainerOptions options);
  ~Trainer();
  /// Loads `initCheckpoint` (if any) over freshly initialised parameters and
  /// reports missing/unexpected/newly initialised tensors to `log`. With
  /// `resume` set, loads the training checkpoint to resume from instead
  /// (parameters, optimizer state and trainer state) and says so in `log`.
  void initialize(std::string &log);
  /// Trains; eval may be null. Throws rt::Error.
  TrainOutcome train(const DatasetSplit &train, const DatasetSplit *eval);
  /// Streams the eval split through eval_step (never keeps all logits): a
  /// confusion matrix is accumulated batch by batch.
  std::map<std::string, double> evaluate(const DatasetSplit &eval);
  /// The same over examples `subset` of `split` (in that order).
  std::map<std::string, double> evaluate(const DatasetSplit &split,
                                         const std::vector<int64_t> &subset);
  /// Runs predict_step over every example of `split` (the last batch
  /// padded) and calls `onExample(index, logits row)` for each, in order.
  /// Needs one logits row per example (classification).
  void predict(
      const DatasetSplit &split,
      const std::function<void(int64_t, const float *, int64_t)> &onExample);
  /// The last evaluate()'s confusion matrix, row-major [true][predicted],
  /// classes x classes; empty when there are more than kMaxConfusionClasses.
  const std::vector<int64_t> &confusionMatrix() const { return confusion_; }
  static constexpr int64_t kMaxConfusionClasses = 100;
  /// Writes model.safetensors + config.json atomically into `dir`; the
  /// final output (`final`) of a LoRA run is the adapter (see
  /// TrainerOptions::Adapter).
  void saveCheckpoint(const std::string &dir, bool final = false);
  /// Writes a whole training checkpoint (weights, config.json,
  /// trainer_state.safetensors, trainer_state.json) into a temporary
  /// directory and renames it to `dir`: a crash leaves the old `dir` or the
  /// new one.
  void saveTrainingCheckpoint(const std::string &dir);
  /// Fills the plan's feature inputs with examples `indices` of `split`.
  void feed(const DatasetSplit &split, const std::vector<int64_t> &indices);
  /// Writes the per-step scalars (lr, step, dropout state) for step `step`;
  /// the dropout counter is `rngCounter` when given, else the step.
  void setStep(int64_t step, float lr, int64_t rngCounter = -1);

  /// Where training continues: what trainer_state.json records.
  struct State {
    int64_t epoch = 1;  // the epoch of the last step (1-based)
    int64_t cursor = 0; // batches of that epoch done
    int64_t totalSteps = 0, stepsPerEpoch = 0;
    double windowLoss = 0; // the train-log window in progress
    int64_t windowSteps = 0;
    int64_t lastEvalStep = -1; // the step of the last evaluation
    std::map<std::string, double> lastMetrics;
    std::vector<int64_t> lastConfusion;
    bool hasBest = false;
    double bestValue = 0;
    int64_t bestStep = 0;
    int64_t badEvals = 0;     // evaluations since the last real improvement
    int64_t metricsBytes = 0; // metrics.jsonl's size at the checkpoint
  };

private:
  void logJson(const std::string &line);
  /// Sets the trainer scalar input `name`, if the plan has it.
  void setScalar(const char *name, float value);
  /// The labels of the fed batch that the loss counts.
  int64_t countedLabels();
  /// One optimizer step over `indices` (batch x grad_accum examples): the
  /// train_step per micro-batch, then optimizer_step. Returns the loss.
  float runOptimizerStep(const DatasetSplit &train,
                         const std::vector<int64_t> &indices, float lr);
  void loadResume(const std::string &dir, std::string &log);
  void loadAdapter(const std::string &dir, std::string &log);
  /// The stage index for `epoch` (0 without stages).
  size_t stageOf(int64_t epoch) const;
  /// Loads stage `stage`'s plan if it is not the current one, keeping
  /// parameters and optimizer state by name; logs a stage event.
  void enterStage(size_t stage, int64_t epoch, bool log);
  void saveAdapter(const std::string &dir);
  /// Sets up the frozen-prefix caches of the current plan for the training
  /// and evaluation splits (none where the plan has no split prefix) and
  /// says so.
  void bindPrefixCaches();
  /// One micro-batch of the fed features through the training step
  /// (through the cache when there is one); returns the loss.
  float runTrainStep(const std::vector<int64_t> &indices);
  std::string stateJson() const;

  const plan::Plan *plan_; // the current stage's plan
  Backend &backend_;
  TrainerOptions opts_;
  int64_t step_ = 0;
  int32_t lossId_ = -1;       // train_step's loss output
  int32_t cachedLossId_ = -1; // train_step_cached's, with a prefix cache
  size_t stage_ = 0;          // index into opts_.stages
  State state_;
  std::string resumedFrom_; // the checkpoint directory, or ""
  std::vector<int64_t> confusion_;
  std::vector<std::vector<char>> staging_;
  std::unique_ptr<PrefixCache> prefixCache_, evalCache_;
  std::unique_ptr<OverfitWatch> overfit_;
  double lastLoss_ = 0; // the last evaluate()'s loss, asked for or not
  /// The body of both evaluate()s: `subset` null = every example.
  std::map<std::string, double>
  evaluateExamples(const DatasetSplit &split,
                   const std::vector<int64_t> *subset);
  int64_t trainExamples_ = 0, evalExamples_ = 0;
  const DatasetSplit *evalSplit_ = nullptr; // the split evalCache_ serves
  /// The training examples change with the epoch (the dataset's set_epoch:
  /// random augmentation), so no per-example cache outlives an epoch.
  bool trainVaries_ = false;
};

/// `values` of a [rows, cols] tensor as its [cols, rows] transpose (a
/// parameter between the plan's layout and a stored transposed one).
std::vector<float> transpose2d(const std::vector<float> &values, int64_t rows,
                               int64_t cols);

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_H
