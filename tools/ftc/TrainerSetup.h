//===- TrainerSetup.h - The trainer options of a job ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_TRAINERSETUP_H
#define FTC_TOOLS_FTC_TRAINERSETUP_H

#include "Job.h"

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Trainer.h"

#include <cstdint>
#include <string>

namespace ftc::tool {

/// What identifies a job for resuming: the resolved spec without the keys
/// that cannot change the trained model.
std::string jobHash(const spec::Spec &s);
/// A step count from the environment (testing hooks); 0 when unset.
int64_t envSteps(const char *name);
/// The LoRA output settings, when the job's freeze policy is LoRA.
void setAdapterOptions(rt::TrainerOptions &o, Job &job, const plan::Plan &p);
/// The spec's keys as trainer options.
rt::TrainerOptions trainerOptions(Job &job);
/// Trainer options that load the saved model `checkpoint` (a weights
/// directory or file, or a LoRA run's adapter over the spec's base).
rt::TrainerOptions savedModelOptions(Job &job, const std::string &checkpoint);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_TRAINERSETUP_H
