//===- DocsTest.cpp - docs/spec.md documents every core key -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

using namespace ftc::spec;

TEST(Docs, SpecReferenceNamesEveryCoreKey) {
  std::string path = std::string(FTC_SOURCE_DIR) + "/docs/spec.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  ASSERT_FALSE(doc.empty());

  // Each section has a "## [section]" heading; its keys are documented as
  // `key` before the next heading.
  Schema s = Schema::core();
  for (const std::string &section : s.sections()) {
    size_t begin = doc.find("\n## [" + section + "]\n");
    ASSERT_NE(begin, std::string::npos)
        << "docs/spec.md has no heading '## [" << section << "]'";
    size_t end = doc.find("\n## ", begin + 1);
    std::string body = doc.substr(begin, end - begin);
    for (const KeyDecl &d : *s.keys(section))
      EXPECT_NE(body.find("`" + d.name + "`"), std::string::npos)
          << "docs/spec.md does not document `" << d.name << "` under ["
          << section << "]";
  }
}
