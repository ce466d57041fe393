//===- SpecTest.cpp - Load, override, validate, round trip ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

using namespace ftc::spec;

namespace {

const char *kMinimal = R"([model]
family = "mlp"

[dataset]
type = "idx"
)";

struct Checked {
  std::optional<Spec> spec;
  DiagnosticEngine diags;
  bool valid = false;
  std::string text() const { return diags.str(); }
};

/// Parses `text` as "job.toml" with `overrides`, then validates.
Checked check(const std::string &text,
              const std::vector<std::string> &overrides = {},
              const Schema &schema = Schema::core(),
              const std::string &name = "job.toml") {
  Checked c;
  c.spec = Spec::parse(text, name, overrides, c.diags);
  if (c.spec)
    c.valid = c.spec->validate(schema, c.diags);
  return c;
}

/// The only diagnostic's printed form.
std::string only(const Checked &c) {
  EXPECT_EQ(c.diags.diagnostics().size(), 1u) << c.text();
  if (c.diags.diagnostics().empty())
    return "";
  return c.diags.diagnostics().front().str();
}

std::string withMinimal(const std::string &extra) {
  return std::string(kMinimal) + extra;
}

} // namespace

//===--- Parsing and loading ----------------------------------------------===//

TEST(SpecLoad, MinimalSpecValidates) {
  Checked c = check(kMinimal);
  ASSERT_TRUE(c.spec);
  EXPECT_TRUE(c.valid) << c.text();
  EXPECT_FALSE(c.diags.hasErrors());
  EXPECT_EQ(c.spec->file(), "job.toml");
  EXPECT_EQ(c.spec->getString("model.family"), "mlp");
}

TEST(SpecLoad, SyntaxErrorIsLocatedAndStops) {
  Checked c = check("[train]\nepochs = 3\nbatch_size = = 4\n[bogus]\n");
  EXPECT_FALSE(c.spec);
  std::string d = only(c);
  EXPECT_EQ(d.rfind("job.toml:3:", 0), 0u) << d;
  EXPECT_NE(d.find(": error: "), std::string::npos);
  EXPECT_EQ(c.diags.diagnostics()[0].loc.line, 3);
  EXPECT_GT(c.diags.diagnostics()[0].loc.column, 0);
}

TEST(SpecLoad, DuplicateKeyIsASyntaxError) {
  Checked c = check("[train]\nepochs = 3\nepochs = 4\n");
  EXPECT_FALSE(c.spec);
  EXPECT_EQ(c.diags.diagnostics().at(0).loc.line, 3);
}

TEST(SpecLoad, MissingFileSaysWhy) {
  DiagnosticEngine diags;
  auto spec = Spec::load("/nonexistent/dir/job.toml", {}, diags);
  EXPECT_FALSE(spec);
  EXPECT_EQ(diags.str(), "/nonexistent/dir/job.toml: error: cannot open "
                         "spec: No such file or directory\n");
}

TEST(SpecLoad, LoadsAFileAndNamesThePipelineAfterIt) {
  char dir[] = "/tmp/ftc-spec-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/fine-tune.toml";
  {
    std::ofstream out(path);
    out << kMinimal;
  }
  DiagnosticEngine diags;
  auto spec = Spec::load(path, {"train.epochs=2"}, diags);
  ASSERT_TRUE(spec) << diags.str();
  EXPECT_TRUE(spec->validate(Schema::core(), diags)) << diags.str();
  EXPECT_EQ(spec->file(), path);
  EXPECT_EQ(spec->getString("pipeline.name"), "fine-tune");
  EXPECT_EQ(spec->getString("pipeline.output_dir"), "runs/fine-tune");
  EXPECT_EQ(spec->getInt("train.epochs"), 2);
  EXPECT_EQ(spec->locate("model.family").file, path);
  std::remove(path.c_str());
  rmdir(dir);
}

//===--- Unknown sections and keys ----------------------------------------===//

TEST(SpecValidate, UnknownKeySuggestsTheClosest) {
  Checked c = check(withMinimal("\n[train]\nepocs = 3\n"));
  EXPECT_FALSE(c.valid);
  EXPECT_EQ(only(c), "job.toml:8:1: error: unknown key 'epocs' in [train]\n"
                     "job.toml:8:1: note: did you mean 'epochs'?");
}

TEST(SpecValidate, UnknownKeyFarFromAnyHasNoNote) {
  Checked c = check(withMinimal("\n[train]\n  learning_rate = 3\n"));
  EXPECT_EQ(only(c),
            "job.toml:8:3: error: unknown key 'learning_rate' in [train]");
}

TEST(SpecValidate, UnknownSectionSuggestsTheClosest) {
  Checked c = check(withMinimal("\n[optimiser]\nlr = 0.1\n"));
  EXPECT_FALSE(c.valid);
  EXPECT_EQ(only(c), "job.toml:7:1: error: unknown section [optimiser]\n"
                     "job.toml:7:1: note: did you mean 'optimizer'?");
}

TEST(SpecValidate, TopLevelValueIsAnUnknownKey) {
  Checked c = check("epochs = 3\n" + std::string(kMinimal));
  EXPECT_EQ(only(c),
            "job.toml:1:1: error: unknown key 'epochs' outside any section\n"
            "job.toml:1:1: note: 'epochs' belongs in [train]");
}

TEST(SpecValidate, SectionThatIsNotATable) {
  Checked c = check("train = 3\n" + std::string(kMinimal));
  EXPECT_EQ(only(c), "job.toml:1:1: error: 'train' must be a section "
                     "(table), got integer");
}

TEST(SpecValidate, NestedTableInASectionIsUnknown) {
  Checked c = check(withMinimal("[train.extra]\nx = 1\n"));
  ASSERT_EQ(c.diags.diagnostics().size(), 1u) << c.text();
  EXPECT_EQ(c.diags.diagnostics()[0].message, "unknown key 'extra' in [train]");
  EXPECT_EQ(c.diags.diagnostics()[0].loc.line, 6);
}

TEST(SpecValidate, AllErrorsAreCollectedInFileOrder) {
  Checked c = check(withMinimal("[train]\nepocs = 3\nbatch_size = 0\n"
                                "[optimizer]\ntype = \"adam\"\n[foo]\n"));
  ASSERT_EQ(c.diags.diagnostics().size(), 4u) << c.text();
  std::vector<int> lines;
  for (const Diagnostic &d : c.diags.diagnostics())
    lines.push_back(d.loc.line);
  EXPECT_EQ(lines, (std::vector<int>{7, 8, 10, 11}));
}

//===--- Types, ranges, choices, required ---------------------------------===//

TEST(SpecValidate, WrongTypeNamesBoth) {
  Checked c = check(withMinimal("[train]\nepochs = \"3\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:10: error: 'train.epochs' must be an "
                     "integer, got string");
  c = check(withMinimal("[train]\nshuffle = 1\n"));
  EXPECT_EQ(only(c), "job.toml:7:11: error: 'train.shuffle' must be a "
                     "boolean, got integer");
  c = check(withMinimal("[optimizer]\nlr = \"fast\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:6: error: 'optimizer.lr' must be a number, "
                     "got string");
  c = check(withMinimal("[model.extra]\n"));
  // [model.extra] is an unknown key rather than a wrong type.
  EXPECT_NE(only(c).find("unknown key 'extra' in [model]"), std::string::npos);
  c = check("[model]\nfamily = 3\n[dataset]\ntype = \"idx\"\n");
  EXPECT_EQ(only(c), "job.toml:2:10: error: 'model.family' must be a string, "
                     "got integer");
  c = check(withMinimal("[eval]\nevery = 1.5\n"));
  EXPECT_EQ(only(c), "job.toml:7:9: error: 'eval.every' must be a string or "
                     "an integer, got float");
  c = check(withMinimal("[plugins]\npaths = \"a.so\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:9: error: 'plugins.paths' must be an array "
                     "of strings, got string");
}

TEST(SpecValidate, FloatKeysAcceptIntegers) {
  Checked c = check(withMinimal("[optimizer]\nlr = 1\n"));
  EXPECT_TRUE(c.valid) << c.text();
  EXPECT_DOUBLE_EQ(c.spec->getFloat("optimizer.lr"), 1.0);
  EXPECT_NE(c.spec->toToml().find("lr = 1.0\n"), std::string::npos);
}

TEST(SpecValidate, ArraysMustBeHomogeneous) {
  Checked c = check(withMinimal("[eval]\nmetrics = [\"loss\", 3]\n"));
  EXPECT_EQ(only(c), "job.toml:7:20: error: 'eval.metrics[1]' must be a "
                     "string, got integer");
}

TEST(SpecValidate, OutOfRange) {
  Checked c = check(withMinimal("[train]\nepochs = 0\n"));
  EXPECT_EQ(only(c), "job.toml:7:10: error: 'train.epochs' must be >= 1, "
                     "got 0");
  c = check(withMinimal("[train]\nthreads = 2048\n"));
  EXPECT_EQ(only(c), "job.toml:7:11: error: 'train.threads' must be <= 1024, "
                     "got 2048");
  c = check(withMinimal("[optimizer]\nlr = 0.0\n"));
  EXPECT_EQ(only(c), "job.toml:7:6: error: 'optimizer.lr' must be >= 1e-12, "
                     "got 0");
  c = check(withMinimal("[optimizer]\nbeta2 = 1.5\n"));
  EXPECT_EQ(only(c), "job.toml:7:9: error: 'optimizer.beta2' must be <= "
                     "0.999999999, got 1.5");
  c = check(withMinimal("[optimizer]\nmomentum = nan\n"));
  EXPECT_NE(only(c).find("'optimizer.momentum' must be >= 0, got nan"),
            std::string::npos);
  c = check(withMinimal("[eval]\nevery = 0\n"));
  EXPECT_EQ(only(c), "job.toml:7:9: error: 'eval.every' must be >= 1, got 0");
  c = check(withMinimal("[pipeline]\nseed = -1\n"));
  EXPECT_EQ(only(c), "job.toml:7:8: error: 'pipeline.seed' must be >= 0, "
                     "got -1");
}

TEST(SpecValidate, BadChoiceListsChoicesAndSuggests) {
  Checked c = check(withMinimal("[optimizer]\ntype = \"adamx\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:8: error: 'optimizer.type' must be one of "
                     "'sgd', 'adamw'; got 'adamx'\n"
                     "job.toml:7:8: note: did you mean 'adamw'?");
  c = check(withMinimal("[freeze]\npolicy = \"qlora\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:10: error: 'freeze.policy' must be one of "
                     "'none', 'head-only', 'bitfit', 'patterns', 'lora'; got "
                     "'qlora'\n"
                     "job.toml:7:10: note: did you mean 'lora'?");
  c = check(withMinimal("[eval]\nevery = \"epoc\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:9: error: 'eval.every' must be one of "
                     "'epoch' or an integer; got 'epoc'\n"
                     "job.toml:7:9: note: did you mean 'epoch'?");
  c = check(withMinimal("[eval]\nmetrics = [\"loss\", \"acuracy\"]\n"));
  EXPECT_EQ(only(c), "job.toml:7:20: error: 'eval.metrics[1]' must be one of "
                     "'loss', 'accuracy', 'perplexity', 'precision', "
                     "'recall', 'f1'; got 'acuracy'\n"
                     "job.toml:7:20: note: did you mean 'accuracy'?");
}

TEST(SpecValidate, MissingRequiredAtTheSectionHeader) {
  Checked c = check("[dataset]\ntype = \"idx\"\n\n[model]\ncheckpoint = "
                    "\"x\"\n");
  EXPECT_EQ(only(c),
            "job.toml:4:1: error: missing required key 'model.family'");
}

TEST(SpecValidate, MissingRequiredSectionAtTheFileStart) {
  Checked c = check("[model]\nfamily = \"mlp\"\n");
  EXPECT_EQ(only(c),
            "job.toml:1:1: error: missing required key 'dataset.type'");
  c = check("");
  EXPECT_EQ(c.diags.diagnostics().size(), 2u) << c.text();
}

//===--- Overrides --------------------------------------------------------===//

TEST(SpecOverride, SetsValuesOfEveryKind) {
  Checked c =
      check(kMinimal, {"train.epochs=3", "optimizer.lr=2e-5",
                       "train.device=cuda", "train.shuffle=false",
                       "eval.metrics=[\"loss\"]", "dataset.train=/data/a=b.csv",
                       " pipeline.name = \"quoted run\" "});
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getInt("train.epochs"), 3);
  EXPECT_DOUBLE_EQ(c.spec->getFloat("optimizer.lr"), 2e-5);
  EXPECT_EQ(c.spec->getString("train.device"), "cuda");
  EXPECT_FALSE(c.spec->getBool("train.shuffle"));
  EXPECT_EQ(c.spec->getStrings("eval.metrics"),
            std::vector<std::string>{"loss"});
  EXPECT_EQ(c.spec->getString("dataset.train"), "/data/a=b.csv");
  EXPECT_EQ(c.spec->getString("pipeline.name"), "quoted run");
  EXPECT_EQ(c.spec->getString("pipeline.output_dir"), "runs/quoted run");
}

TEST(SpecOverride, ReplacesAFileValue) {
  Checked c = check(withMinimal("[train]\nepochs = 5\n"), {"train.epochs=7"});
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getInt("train.epochs"), 7);
  SourceLoc loc = c.spec->locate("train.epochs");
  EXPECT_EQ(loc.file, "<--set>");
  EXPECT_EQ(loc.line, 1);
}

TEST(SpecOverride, LaterOverrideWins) {
  Checked c = check(kMinimal, {"train.epochs=2", "train.epochs=4"});
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getInt("train.epochs"), 4);
  EXPECT_EQ(c.spec->locate("train.epochs").line, 2);
}

TEST(SpecOverride, ValidationErrorPointsIntoTheOverride) {
  Checked c = check(kMinimal, {"train.epochs=0"});
  EXPECT_FALSE(c.valid);
  EXPECT_EQ(only(c), "<--set>:1:14: error: 'train.epochs' must be >= 1, got 0");
  c = check(kMinimal, {"train.batch_size=8", "optimizer.type=adamx"});
  EXPECT_EQ(only(c), "<--set>:2:16: error: 'optimizer.type' must be one of "
                     "'sgd', 'adamw'; got 'adamx'\n"
                     "<--set>:2:16: note: did you mean 'adamw'?");
  c = check(kMinimal, {"train.epocs=3"});
  EXPECT_EQ(only(c), "<--set>:1:7: error: unknown key 'epocs' in [train]\n"
                     "<--set>:1:7: note: did you mean 'epochs'?");
  c = check(kMinimal, {"trainn.epochs=3"});
  EXPECT_EQ(only(c), "<--set>:1:1: error: unknown section [trainn]\n"
                     "<--set>:1:1: note: did you mean 'train'?");
  c = check(kMinimal, {"eval.metrics=[\"loss\", 1]"});
  EXPECT_EQ(only(c), "<--set>:1:23: error: 'eval.metrics[1]' must be a "
                     "string, got integer");
}

TEST(SpecOverride, FileErrorsComeBeforeOverrideErrors) {
  Checked c =
      check(withMinimal("[train]\nepochs = 0\n"), {"train.batch_size=0"});
  ASSERT_EQ(c.diags.diagnostics().size(), 2u) << c.text();
  EXPECT_EQ(c.diags.diagnostics()[0].loc.file, "job.toml");
  EXPECT_EQ(c.diags.diagnostics()[1].loc.file, "<--set>");
}

TEST(SpecOverride, BareWordForAStringKeyStaysAString) {
  Checked c = check(kMinimal, {"model.task=true", "dataset.eval=2024-01-01"});
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getString("model.task"), "true");
  EXPECT_EQ(c.spec->getString("dataset.eval"), "2024-01-01");
  // Quoted values are never reinterpreted.
  c = check(kMinimal, {"train.epochs=\"3\""});
  EXPECT_EQ(only(c), "<--set>:1:14: error: 'train.epochs' must be an "
                     "integer, got string");
}

TEST(SpecOverride, MalformedOverridesAreAllReported) {
  DiagnosticEngine diags;
  auto spec =
      Spec::parse(kMinimal, "job.toml",
                  {"train.epochs", "=3", "train..epochs=3", "epochs=3",
                   "train.epochs=", "train.ep och=1", "train.epochs=[1,"},
                  diags);
  EXPECT_FALSE(spec);
  ASSERT_EQ(diags.diagnostics().size(), 7u) << diags.str();
  auto at = [&](size_t i) {
    const SourceLoc &l = diags.diagnostics()[i].loc;
    return l.file + ":" + std::to_string(l.line) + ":" +
           std::to_string(l.column);
  };
  EXPECT_EQ(diags.diagnostics()[0].str(),
            "<--set>:1:1: error: malformed override 'train.epochs': "
            "expected 'section.key=value'");
  EXPECT_EQ(at(1), "<--set>:2:1");
  EXPECT_NE(diags.diagnostics()[1].message.find("missing key"),
            std::string::npos);
  EXPECT_EQ(at(2), "<--set>:3:7");
  EXPECT_NE(diags.diagnostics()[2].message.find("empty key"),
            std::string::npos);
  EXPECT_EQ(at(3), "<--set>:4:1");
  EXPECT_EQ(at(4), "<--set>:5:14");
  EXPECT_NE(diags.diagnostics()[4].message.find("missing value"),
            std::string::npos);
  EXPECT_EQ(at(5), "<--set>:6:9");
  EXPECT_NE(diags.diagnostics()[5].message.find("invalid character ' '"),
            std::string::npos);
  EXPECT_EQ(diags.diagnostics()[6].loc.line, 7);
  EXPECT_NE(diags.diagnostics()[6].message.find("invalid value"),
            std::string::npos);
}

TEST(SpecOverride, ThroughANonTableIsAnError) {
  DiagnosticEngine diags;
  auto spec = Spec::parse(withMinimal("[train]\nepochs = 2\n"), "job.toml",
                          {"train.epochs.x=1"}, diags);
  EXPECT_FALSE(spec);
  EXPECT_EQ(diags.str(), "<--set>:1:7: error: cannot override "
                         "'train.epochs.x': 'train.epochs' is not a table\n");
}

TEST(SpecOverride, DeeperPathsCreateTables) {
  Checked c = check(kMinimal, {"model.extra.depth=2"});
  EXPECT_EQ(only(c), "<--set>:1:7: error: unknown key 'extra' in [model]");
}

//===--- Cross-key checks
//--------------------------------------------------===//

TEST(SpecCrossKey, PatternsPolicyNeedsExactlyOneList) {
  Checked c = check(withMinimal("[freeze]\npolicy = \"patterns\"\n"));
  EXPECT_EQ(only(c), "job.toml:7:1: error: freeze.policy = \"patterns\" "
                     "requires 'freeze.trainable' or 'freeze.frozen'");
  c = check(withMinimal("[freeze]\npolicy = \"patterns\"\ntrainable = "
                        "[\"fc2.*\"]\nfrozen = [\"fc1.*\"]\n"));
  EXPECT_EQ(only(c), "job.toml:7:1: error: freeze.policy = \"patterns\" "
                     "takes one of 'freeze.trainable' and 'freeze.frozen', "
                     "not both");
  c = check(withMinimal("[freeze]\npolicy = \"patterns\"\nfrozen = "
                        "[\"fc1.*\", \"layer.{0..2}.**\"]\n"));
  EXPECT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getStrings("freeze.frozen").size(), 2u);
}

TEST(SpecCrossKey, PatternListsNeedThePatternsPolicy) {
  Checked c = check(withMinimal("[freeze]\ntrainable = [\"fc2.*\"]\n"));
  EXPECT_EQ(only(c),
            "job.toml:7:1: error: 'freeze.trainable' is only allowed with "
            "freeze.policy = \"patterns\"; the policy is 'none'\n"
            "job.toml:7:1: note: set freeze.policy = \"patterns\" to choose "
            "parameters by name");
  c = check(withMinimal("[freeze]\npolicy = \"bitfit\"\nfrozen = []\n"));
  ASSERT_EQ(c.diags.diagnostics().size(), 1u) << c.text();
  EXPECT_EQ(c.diags.diagnostics()[0].loc.line, 8);
}

TEST(SpecCrossKey, PatternsPolicyFromAnOverride) {
  Checked c = check(kMinimal, {"freeze.policy=patterns"});
  EXPECT_EQ(only(c), "<--set>:1:8: error: freeze.policy = \"patterns\" "
                     "requires 'freeze.trainable' or 'freeze.frozen'");
}

TEST(SpecCrossKey, PatternsMustCompile) {
  Checked c = check(withMinimal("[freeze]\npolicy = \"patterns\"\nfrozen = "
                                "[\"ok.*\", \"layer.{0..2.**\"]\n"));
  std::string d = only(c);
  EXPECT_EQ(d.rfind("job.toml:8:19: error: invalid pattern "
                    "'layer.{0..2.**' in 'freeze.frozen[1]': ",
                    0),
            0u)
      << d;
}

TEST(SpecCrossKey, EmptyTrainableTrainsNothing) {
  Checked c =
      check(withMinimal("[freeze]\npolicy = \"patterns\"\ntrainable = []\n"));
  EXPECT_EQ(only(c), "job.toml:8:13: error: 'freeze.trainable' is empty: "
                     "nothing would train");
}

TEST(SpecCrossKey, WarmupStepsAndRatioExclude) {
  Checked c = check(
      withMinimal("[schedule]\nwarmup_steps = 100\nwarmup_ratio = 0.1\n"));
  EXPECT_FALSE(c.valid);
  ASSERT_EQ(c.diags.diagnostics().size(), 1u) << c.text();
  EXPECT_EQ(c.diags.diagnostics()[0].str(),
            "job.toml:8:1: error: 'schedule.warmup_steps' and "
            "'schedule.warmup_ratio' cannot both be set\n"
            "job.toml:8:1: note: warmup is either a step count or a fraction "
            "of all steps; set only one");
  c = check(withMinimal("[schedule]\nwarmup_steps = 100\nwarmup_ratio = 0\n"));
  EXPECT_TRUE(c.valid) << c.text();
  c = check(withMinimal("[schedule]\nwarmup_ratio = 0.1\n"),
            {"schedule.warmup_steps=5"});
  EXPECT_FALSE(c.valid);
}

//===--- Defaults and access ----------------------------------------------===//

TEST(SpecDefaults, EveryDeclaredDefaultIsFilled) {
  Checked c = check(kMinimal);
  ASSERT_TRUE(c.valid) << c.text();
  Schema s = Schema::core();
  for (const std::string &section : s.sections())
    for (const KeyDecl &d : *s.keys(section)) {
      std::string path = section + "." + d.name;
      if (d.defaultToml || path == "pipeline.name" ||
          path == "pipeline.output_dir" || d.required)
        EXPECT_TRUE(c.spec->has(path)) << path;
      else
        EXPECT_FALSE(c.spec->has(path)) << path;
    }
  const Spec &spec = *c.spec;
  EXPECT_EQ(spec.getInt("pipeline.seed"), 0);
  EXPECT_EQ(spec.getString("freeze.policy"), "none");
  EXPECT_EQ(spec.getString("optimizer.type"), "adamw");
  EXPECT_DOUBLE_EQ(spec.getFloat("optimizer.lr"), 1e-3);
  EXPECT_DOUBLE_EQ(spec.getFloat("optimizer.eps"), 1e-8);
  EXPECT_DOUBLE_EQ(spec.getFloat("optimizer.beta2"), 0.999);
  EXPECT_FALSE(spec.getBool("optimizer.nesterov"));
  EXPECT_EQ(spec.getString("schedule.type"), "constant");
  EXPECT_EQ(spec.getInt("train.epochs"), 1);
  EXPECT_EQ(spec.getInt("train.batch_size"), 32);
  EXPECT_EQ(spec.getString("train.device"), "cpu");
  EXPECT_EQ(spec.getString("train.precision"), "fp32");
  EXPECT_EQ(spec.getInt("train.log_every"), 50);
  EXPECT_TRUE(spec.getBool("train.shuffle"));
  EXPECT_EQ(spec.getString("eval.every"), "epoch");
  EXPECT_FALSE(spec.isInt("eval.every"));
  EXPECT_EQ(spec.getStrings("eval.metrics"),
            (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_EQ(spec.getString("checkpoint.every"), "end");
  EXPECT_EQ(spec.getInt("checkpoint.keep"), 1);
  EXPECT_TRUE(spec.getStrings("plugins.paths").empty());
  EXPECT_EQ(spec.getString("pipeline.name"), "job");
  EXPECT_EQ(spec.getString("pipeline.output_dir"), "runs/job");
}

TEST(SpecDefaults, ResolvedFromOtherKeys) {
  Checked c = check(withMinimal("[pipeline]\nname = \"bert-ft\"\n[train]\n"
                                "batch_size = 16\n"));
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getString("pipeline.output_dir"), "runs/bert-ft");
  EXPECT_EQ(c.spec->getInt("eval.batch_size"), 16);
  c = check(withMinimal("[pipeline]\noutput_dir = \"/tmp/out\"\n[eval]\n"
                        "batch_size = 8\nevery = 100\n"),
            {}, Schema::core(), "dir/my-job.toml");
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getString("pipeline.name"), "my-job");
  EXPECT_EQ(c.spec->getString("pipeline.output_dir"), "/tmp/out");
  EXPECT_EQ(c.spec->getInt("eval.batch_size"), 8);
  EXPECT_TRUE(c.spec->isInt("eval.every"));
  EXPECT_EQ(c.spec->getInt("eval.every"), 100);
}

TEST(SpecAccess, WrongUseThrows) {
  Checked c = check(kMinimal);
  ASSERT_TRUE(c.valid);
  EXPECT_THROW(c.spec->getInt("model.checkpoint"), std::out_of_range);
  EXPECT_THROW(c.spec->getInt("model.family"), std::invalid_argument);
  EXPECT_THROW(c.spec->getString("train.epochs"), std::invalid_argument);
  EXPECT_THROW(c.spec->getStrings("train.epochs"), std::invalid_argument);
  EXPECT_FALSE(c.spec->has("model.checkpoint"));
  EXPECT_FALSE(c.spec->has("nope.nope"));
  EXPECT_FALSE(c.spec->isInt("nope.nope"));
}

TEST(SpecAccess, LocateKeysDefaultsAndMissing) {
  Checked c = check("# comment\n[model]\n  family = \"mlp\"\n\n[dataset]\n"
                    "type = \"idx\"\n");
  ASSERT_TRUE(c.valid) << c.text();
  SourceLoc key = c.spec->locate("model.family");
  EXPECT_EQ(key.file, "job.toml");
  EXPECT_EQ(key.line, 3);
  EXPECT_EQ(key.column, 3);
  SourceLoc def = c.spec->locate("dataset.train_limit");
  EXPECT_EQ(def.line, 5);
  EXPECT_EQ(def.column, 1);
  SourceLoc sec = c.spec->locate("model");
  EXPECT_EQ(sec.line, 2);
  SourceLoc absent = c.spec->locate("train.epochs");
  EXPECT_EQ(absent.file, "job.toml");
  EXPECT_EQ(absent.line, 1);
  EXPECT_EQ(absent.column, 1);
  EXPECT_EQ(c.spec->locate("model.checkpoint").line, 2);
}

//===--- Plugin keys ------------------------------------------------------===//

namespace {

Schema withPluginKeys() {
  Schema s = Schema::core();
  KeyDecl hidden;
  hidden.name = "hidden";
  hidden.type = KeyType::IntArray;
  hidden.defaultToml = "[128, 64]";
  hidden.min = 1;
  hidden.max = 65536;
  KeyDecl activation;
  activation.name = "activation";
  activation.type = KeyType::String;
  activation.defaultToml = "\"relu\"";
  activation.choices = {"relu", "gelu"};
  KeyDecl dropout;
  dropout.name = "dropout";
  dropout.type = KeyType::Float;
  dropout.defaultToml = "0.1";
  dropout.min = 0;
  dropout.max = 1;
  s.addKeys("model", {hidden, activation, dropout});
  KeyDecl normalize;
  normalize.name = "normalize";
  normalize.type = KeyType::Bool;
  normalize.required = true;
  s.addKeys("dataset", {normalize});
  return s;
}

} // namespace

TEST(SpecPlugin, PluginKeysValidateAndDefault) {
  Schema s = withPluginKeys();
  Checked c = check(withMinimal("normalize = true\n"), {}, s);
  ASSERT_TRUE(c.valid) << c.text();
  EXPECT_EQ(c.spec->getInts("model.hidden"), (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(c.spec->getString("model.activation"), "relu");
  EXPECT_DOUBLE_EQ(c.spec->getFloat("model.dropout"), 0.1);
  EXPECT_TRUE(c.spec->getBool("dataset.normalize"));
  std::string toml = c.spec->toToml();
  EXPECT_NE(toml.find("hidden = [128, 64]\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("normalize = true\n"), std::string::npos) << toml;
}

TEST(SpecPlugin, PluginKeysAreStrict) {
  Schema s = withPluginKeys();
  Checked c = check("[model]\nfamily = \"mlp\"\nhiden = [1]\nhidden = [0, "
                    "\"a\"]\nactivation = \"gelu2\"\n[dataset]\ntype = "
                    "\"idx\"\n",
                    {}, s);
  ASSERT_EQ(c.diags.diagnostics().size(), 5u) << c.text();
  EXPECT_EQ(c.diags.str(),
            "job.toml:3:1: error: unknown key 'hiden' in [model]\n"
            "job.toml:3:1: note: did you mean 'hidden'?\n"
            "job.toml:4:11: error: 'model.hidden[0]' must be >= 1, got 0\n"
            "job.toml:4:14: error: 'model.hidden[1]' must be an integer, got "
            "string\n"
            "job.toml:5:14: error: 'model.activation' must be one of 'relu', "
            "'gelu'; got 'gelu2'\n"
            "job.toml:5:14: note: did you mean 'gelu'?\n"
            "job.toml:6:1: error: missing required key 'dataset.normalize'\n");
  // Without the plugin's keys the same spec is rejected.
  c = check(withMinimal("[model.x]\n"));
  EXPECT_FALSE(c.valid);
}

TEST(SpecPlugin, FloatArraysAndScalars) {
  // Plugin keys of ABI 1.6: FTC_KEY_FLOAT_ARRAY, and FTC_KEY_SCALAR_OR_ARRAY
  // (one value or a list).
  Schema s = Schema::core();
  KeyDecl mean, stddev, size, plain;
  mean.name = "mean";
  mean.type = KeyType::FloatArray;
  mean.scalarOk = true;
  stddev.name = "std";
  stddev.type = KeyType::FloatArray;
  stddev.scalarOk = true;
  stddev.min = 0;
  stddev.max = 1e6;
  size.name = "size";
  size.type = KeyType::IntArray;
  size.scalarOk = true;
  size.min = 1;
  size.max = 65536;
  plain.name = "plain";
  plain.type = KeyType::FloatArray;
  s.addKeys("dataset", {mean, stddev, size, plain});
  Checked c = check(withMinimal("mean = 0.5\nstd = [1, 0.25]\nsize = 224\n"
                                "plain = [2]\n"),
                    {}, s);
  ASSERT_TRUE(c.valid) << c.text();
  std::string toml = c.spec->toToml();
  EXPECT_NE(toml.find("mean = 0.5\nstd = [1.0, 0.25]\nsize = 224\n"
                      "plain = [2.0]\n"),
            std::string::npos)
      << toml;
  c = check(withMinimal("mean = \"a\"\nstd = [1, -1]\nsize = [2, 0]\n"
                        "plain = 1.0\n"),
            {}, s);
  EXPECT_EQ(c.diags.str(),
            "job.toml:6:8: error: 'dataset.mean' must be a number or an "
            "array of numbers, got string\n"
            "job.toml:7:11: error: 'dataset.std[1]' must be >= 0, got -1\n"
            "job.toml:8:12: error: 'dataset.size[1]' must be >= 1, got 0\n"
            "job.toml:9:9: error: 'dataset.plain' must be an array of "
            "numbers, got float\n");
}

//===--- toToml -----------------------------------------------------------===//

namespace {

const char *kEverything = R"(# every core key, none at its default
[pipeline]
name = "say \"hi\"\tnow"
seed = 1234567890123
output_dir = "out/ü"

[model]
family = "mlp"
checkpoint = "ckpt/model.safetensors"
task = "classification"
num_labels = 10
hidden = [300, 100]
dropout = 0.30000000000000004
activation = "gelu"

[dataset]
type = "idx"
train = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
eval = "t10k.gz"
train_limit = 1000
eval_limit = 500
normalize = false

[freeze]
policy = "patterns"
frozen = ["fc1.*", "layer.{0..3}.**"]

[optimizer]
type = "sgd"
lr = 2.5e-7
weight_decay = 1e-2
momentum = 0.9
dampening = 0.1
nesterov = true
beta1 = 0.8
beta2 = 0.99
eps = 1e-300

[schedule]
type = "cosine"
warmup_steps = 0
warmup_ratio = 0.1
min_lr_ratio = 0.05

[train]
epochs = 3
batch_size = 64
device = "cuda"
precision = "bf16"
threads = 4
log_every = 10
max_steps = 1000
shuffle = false

[eval]
every = 250
metrics = ["accuracy"]
batch_size = 128

[checkpoint]
every = "epoch"
keep = 3

[plugins]
paths = ["/opt/ftc/plugins", "local.so"]
)";

} // namespace

TEST(SpecToToml, RoundTripsEveryKey) {
  Schema s = withPluginKeys();
  Checked a = check(kEverything, {"optimizer.lr=3"}, s);
  ASSERT_TRUE(a.valid) << a.text();
  std::string first = a.spec->toToml();
  Checked b = check(first, {}, s, "other.toml");
  ASSERT_TRUE(b.valid) << b.text() << first;
  EXPECT_EQ(b.spec->toToml(), first);
  EXPECT_EQ(b.spec->getString("pipeline.name"), "say \"hi\"\tnow");
  EXPECT_EQ(b.spec->getString("pipeline.output_dir"), "out/ü");
  EXPECT_EQ(b.spec->getInt("pipeline.seed"), 1234567890123);
  EXPECT_EQ(b.spec->getFloat("model.dropout"), 0.30000000000000004);
  EXPECT_EQ(b.spec->getFloat("optimizer.eps"), 1e-300);
  EXPECT_EQ(b.spec->getFloat("optimizer.weight_decay"), 0.01);
  EXPECT_EQ(b.spec->getFloat("optimizer.lr"), 3.0);
  EXPECT_EQ(b.spec->getInt("eval.every"), 250);
  EXPECT_EQ(b.spec->getString("checkpoint.every"), "epoch");
  EXPECT_EQ(b.spec->getStrings("freeze.frozen"),
            (std::vector<std::string>{"fc1.*", "layer.{0..3}.**"}));
  EXPECT_EQ(b.spec->getInts("model.hidden"), (std::vector<int64_t>{300, 100}));
}

TEST(SpecToToml, SectionsAndKeysInSchemaOrder) {
  Checked c = check("[dataset]\ntype = \"idx\"\n[train]\nshuffle = false\n"
                    "epochs = 2\n[model]\nfamily = \"mlp\"\n");
  ASSERT_TRUE(c.valid) << c.text();
  std::string t = c.spec->toToml();
  EXPECT_EQ(t.rfind("[pipeline]\nname = \"job\"\nseed = 0\n"
                    "output_dir = \"runs/job\"\n\n[model]\nfamily = \"mlp\"\n"
                    "num_labels = 0\n\n[dataset]\n",
                    0),
            0u)
      << t;
  size_t epochs = t.find("epochs = 2");
  size_t shuffle = t.find("shuffle = false");
  ASSERT_NE(epochs, std::string::npos);
  ASSERT_NE(shuffle, std::string::npos);
  EXPECT_LT(epochs, shuffle);
  EXPECT_LT(t.find("[freeze]"), t.find("[optimizer]"));
  EXPECT_LT(t.find("[checkpoint]"), t.find("[plugins]"));
  // Optional keys without a value are left out.
  EXPECT_EQ(t.find("checkpoint = "), std::string::npos);
  EXPECT_EQ(t.find("trainable"), std::string::npos);
  EXPECT_NE(t.find("eps = 1e-08\n"), std::string::npos);
  EXPECT_NE(t.find("weight_decay = 0.0\n"), std::string::npos);
}

TEST(SpecToToml, FloatsReadBackExactly) {
  for (const char *v : {"0.1", "1e-12", "0.30000000000000004", "123.456",
                        "5e-324", "10", "999.9999999999999"}) {
    Checked a = check(kMinimal, {std::string("optimizer.weight_decay=") + v});
    ASSERT_TRUE(a.valid) << v << ": " << a.text();
    double want = a.spec->getFloat("optimizer.weight_decay");
    Checked b = check(a.spec->toToml());
    ASSERT_TRUE(b.valid) << v << ": " << b.text();
    EXPECT_EQ(b.spec->getFloat("optimizer.weight_decay"), want) << v;
  }
}
