//===- ContractTest.cpp - One runtime contract: verifier, docs, backend ---===//
// SPDX-License-Identifier: Apache-2.0
//
// The plan verifier's kernel signatures are the contract. The kernel index
// of docs/runtime-contract.md must list exactly them, and the CPU backend
// must implement exactly them: a kernel added in one place and not the
// others fails here, naming it.
//===----------------------------------------------------------------------===//
#include "Kernels.h"

#include "ftc/plan/Plan.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

using ftc::plan::KernelSignature;

namespace {

/// The index row of `k`, as docs/runtime-contract.md writes it.
std::string indexRow(const KernelSignature &k) {
  auto list = [&](const std::vector<std::string> &names, size_t optional,
                  bool inputs) {
    std::string s;
    for (size_t i = 0; i < names.size(); ++i) {
      s += (i ? ", `" : "`") + names[i] + "`";
      if (i >= names.size() - optional)
        s += "?";
      if (inputs && i == 0 && k.variadicInputs)
        s += "…";
      if (k.grouped && (!inputs || i == 0))
        s += "×N";
    }
    return s.empty() ? std::string("—") : s;
  };
  return "| `" + k.name + "` | " + list(k.inputs, k.optionalInputs, true) +
         " | " + list(k.outputs, k.optionalOutputs, false) + " |";
}

/// The rows of the "## Kernel index" table.
std::set<std::string> documentedRows() {
  std::ifstream in(std::string(FTC_SOURCE_DIR) + "/docs/runtime-contract.md");
  std::set<std::string> rows;
  bool inIndex = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0)
      inIndex = line == "## Kernel index";
    else if (inIndex && line.rfind("| `", 0) == 0)
      rows.insert(line);
  }
  return rows;
}

} // namespace

TEST(Contract, DocsKernelIndexIsTheVerifiersTable) {
  std::set<std::string> documented = documentedRows();
  ASSERT_FALSE(documented.empty())
      << "docs/runtime-contract.md has no '## Kernel index' table";
  std::set<std::string> expected;
  for (const KernelSignature &k : ftc::plan::kernelSignatures())
    expected.insert(indexRow(k));
  for (const std::string &row : expected)
    EXPECT_TRUE(documented.count(row))
        << "docs/runtime-contract.md's kernel index lacks (or differs from) "
           "the verifier's\n"
        << row;
  for (const std::string &row : documented)
    EXPECT_TRUE(expected.count(row))
        << "docs/runtime-contract.md lists a kernel the verifier does not "
           "know, or with other arguments:\n"
        << row;
}

TEST(Contract, CpuBackendImplementsExactlyTheContract) {
  std::set<std::string> contract, implemented;
  for (const KernelSignature &k : ftc::plan::kernelSignatures())
    contract.insert(k.name);
  for (const std::string &name : ftc::rt::cpu::kernelNames())
    implemented.insert(name);
  for (const std::string &k : contract)
    EXPECT_TRUE(implemented.count(k)) << "the CPU backend lacks '" << k << "'";
  for (const std::string &k : implemented)
    EXPECT_TRUE(contract.count(k))
        << "the CPU backend registers '" << k
        << "', which the plan verifier does not know";
}
