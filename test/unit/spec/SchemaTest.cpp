//===- SchemaTest.cpp - The core schema and plugin keys ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <gtest/gtest.h>

using namespace ftc::spec;

TEST(Schema, CoreSectionsInOrder) {
  Schema s = Schema::core();
  std::vector<std::string> expected = {
      "pipeline", "model", "dataset", "freeze",     "optimizer",
      "schedule", "train", "eval",    "checkpoint", "plugins"};
  EXPECT_EQ(s.sections(), expected);
  for (const std::string &section : expected)
    ASSERT_NE(s.keys(section), nullptr) << section;
  EXPECT_EQ(s.keys("trian"), nullptr);
}

TEST(Schema, CoreKeysHaveTheDocumentedShape) {
  Schema s = Schema::core();
  const KeyDecl *family = s.find("model", "family");
  ASSERT_NE(family, nullptr);
  EXPECT_TRUE(family->required);
  EXPECT_EQ(family->type, KeyType::String);
  ASSERT_NE(s.find("dataset", "type"), nullptr);
  EXPECT_TRUE(s.find("dataset", "type")->required);

  const KeyDecl *epochs = s.find("train", "epochs");
  ASSERT_NE(epochs, nullptr);
  EXPECT_EQ(epochs->type, KeyType::Int);
  EXPECT_EQ(epochs->defaultToml, "1");
  EXPECT_EQ(epochs->min, 1);

  const KeyDecl *type = s.find("optimizer", "type");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->choices, (std::vector<std::string>{"sgd", "adamw"}));

  const KeyDecl *every = s.find("eval", "every");
  ASSERT_NE(every, nullptr);
  EXPECT_EQ(every->type, KeyType::StringOrInt);
  EXPECT_EQ(s.find("freeze", "frozen")->type, KeyType::StringArray);
  EXPECT_EQ(s.find("optimizer", "lr")->type, KeyType::Float);
  EXPECT_FALSE(s.find("model", "checkpoint")->defaultToml.has_value());
  EXPECT_EQ(s.find("train", "nope"), nullptr);
  EXPECT_EQ(s.find("nope", "epochs"), nullptr);

  // Only the two plugin-naming keys are required; every key has a doc line.
  for (const std::string &section : s.sections())
    for (const KeyDecl &d : *s.keys(section)) {
      EXPECT_FALSE(d.doc.empty()) << section << "." << d.name;
      bool plugin = (section == "model" && d.name == "family") ||
                    (section == "dataset" && d.name == "type");
      EXPECT_EQ(d.required, plugin) << section << "." << d.name;
    }
}

TEST(Schema, AddKeysAppendsPluginKeys) {
  Schema s = Schema::core();
  size_t before = s.keys("dataset")->size();
  KeyDecl maxLength;
  maxLength.name = "max_length";
  maxLength.type = KeyType::Int;
  maxLength.defaultToml = "128";
  s.addKeys("dataset", {maxLength});
  ASSERT_EQ(s.keys("dataset")->size(), before + 1);
  EXPECT_EQ(s.keys("dataset")->back().name, "max_length");
  ASSERT_NE(s.find("dataset", "max_length"), nullptr);
  EXPECT_EQ(s.find("dataset", "max_length")->defaultToml, "128");
}

TEST(Schema, AddKeysKeepsTheCoreDeclarationOfADuplicate) {
  Schema s = Schema::core();
  size_t before = s.keys("model")->size();
  KeyDecl family;
  family.name = "family";
  family.type = KeyType::Int; // would break every spec if it won
  KeyDecl hidden;
  hidden.name = "hidden";
  hidden.type = KeyType::IntArray;
  s.addKeys("model", {family, hidden, hidden});
  EXPECT_EQ(s.keys("model")->size(), before + 1);
  EXPECT_EQ(s.find("model", "family")->type, KeyType::String);
  EXPECT_TRUE(s.find("model", "family")->required);
  EXPECT_EQ(s.find("model", "hidden")->type, KeyType::IntArray);
}

TEST(Schema, AddKeysToANewSectionDeclaresIt) {
  Schema s = Schema::core();
  KeyDecl k;
  k.name = "rank";
  k.type = KeyType::Int;
  s.addKeys("lora", {k});
  EXPECT_EQ(s.sections().back(), "lora");
  ASSERT_NE(s.find("lora", "rank"), nullptr);
}
