//===- PlanJson.cpp - Plan format: the JSON form ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// deserialize() checks every field it reads, then verify()s the plan.
//===----------------------------------------------------------------------===//

#include "PlanInternal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace ftc::plan {
using namespace detail;

//===----------------------------------------------------------------------===//
// JSON form
//===----------------------------------------------------------------------===//

namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

// JSON has no NaN/Inf: encode those as {"float": "nan"|"inf"|"-inf"}.
ojson encodeDouble(double v) {
  if (std::isfinite(v))
    return v;
  return ojson{{"float", std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")}};
}

const char *kindKey(BufferKind k) { return toString(k); }

ojson encodeAttr(const Attr &a) {
  switch (a.kind) {
  case Attr::Int:
    return a.i;
  case Attr::Float:
    return encodeDouble(a.f);
  case Attr::Ints:
    return ojson(a.ints);
  case Attr::String:
    return a.s;
  }
  return nullptr;
}

} // namespace

std::string serialize(const Plan &plan) {
  ojson j;
  j["format"] = kFormatMagic;
  j["version"] = plan.version;
  j["compiler_version"] = plan.compilerVersion;
  j["batch_size"] = plan.batchSize;
  j["optimizer"] = plan.optimizer;
  if (plan.gradAccum != 1)
    j["grad_accum"] = plan.gradAccum;
  ojson bufs = ojson::array();
  for (const Buffer &b : plan.buffers) {
    ojson jb;
    jb["name"] = b.name;
    jb["kind"] = kindKey(b.kind);
    jb["dtype"] = toString(b.dtype);
    jb["shape"] = b.shape;
    if (b.layout != Layout::Plain)
      jb["layout"] = toString(b.layout);
    if (b.kind == BufferKind::Temp) {
      jb["program"] = b.program;
      jb["offset"] = b.offset;
    }
    bufs.push_back(std::move(jb));
  }
  j["buffers"] = std::move(bufs);
  ojson params = ojson::array();
  for (const ParamInfo &p : plan.params) {
    ojson jp;
    jp["buffer"] = p.buffer;
    jp["trainable"] = p.trainable;
    jp["head"] = p.head;
    if (p.runningStat)
      jp["running_stat"] = true;
    jp["init"] = toString(p.init);
    jp["init_a"] = encodeDouble(p.initA);
    jp["init_b"] = encodeDouble(p.initB);
    params.push_back(std::move(jp));
  }
  j["params"] = std::move(params);
  j["feature_inputs"] = ojson::object();
  for (auto &[k, v] : plan.featureInputs)
    j["feature_inputs"][k] = v;
  ojson progs = ojson::array();
  for (const Program &p : plan.programs) {
    ojson jp;
    jp["name"] = p.name;
    jp["arena_bytes"] = p.arenaBytes;
    jp["outputs"] = ojson::object();
    for (auto &[k, v] : p.outputs)
      jp["outputs"][k] = v;
    ojson steps = ojson::array();
    for (const Step &s : p.steps) {
      ojson js;
      js["kernel"] = s.kernel;
      js["args"] = s.args;
      js["num_inputs"] = s.numInputs;
      if (!s.attrs.empty()) {
        ojson ja = ojson::object();
        for (auto &[k, a] : s.attrs)
          ja[k] = encodeAttr(a);
        js["attrs"] = std::move(ja);
      }
      steps.push_back(std::move(js));
    }
    jp["steps"] = std::move(steps);
    progs.push_back(std::move(jp));
  }
  j["programs"] = std::move(progs);
  j["resolved_spec"] = plan.resolvedSpec;
  return j.dump(1) + "\n";
}

namespace {

// Reads typed fields, recording the first problem with its JSON path.
class Reader {
public:
  std::string err;

  bool fail(const std::string &path, const std::string &msg) {
    if (err.empty())
      err = path + ": " + msg;
    return false;
  }

  const json *field(const json &obj, const std::string &path, const char *key,
                    bool required = true) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required)
        fail(path, std::string("missing field '") + key + "'");
      return nullptr;
    }
    return &*it;
  }

  bool object(const json &j, const std::string &path) {
    return j.is_object() || fail(path, "expected an object");
  }
  bool array(const json &j, const std::string &path) {
    return j.is_array() || fail(path, "expected an array");
  }

  bool integer(const json &j, const std::string &path, int64_t &out,
               int64_t lo = std::numeric_limits<int64_t>::min(),
               int64_t hi = std::numeric_limits<int64_t>::max()) {
    if (j.is_number_unsigned()) {
      uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(hi) || (lo > 0 && u < uint64_t(lo)))
        return fail(path, "integer " + std::to_string(u) + " is out of range");
      out = int64_t(u);
      return true;
    }
    if (!j.is_number_integer())
      return fail(path, "expected an integer");
    int64_t v = j.get<int64_t>();
    if (v < lo || v > hi)
      return fail(path, "integer " + std::to_string(v) + " is out of range");
    out = v;
    return true;
  }

  template <typename T>
  bool intField(const json &obj, const std::string &path, const char *key,
                T &out) {
    const json *f = field(obj, path, key);
    int64_t v;
    if (!f || !integer(*f, path + "." + key, v,
                       int64_t(std::numeric_limits<T>::min()),
                       int64_t(std::numeric_limits<T>::max())))
      return false;
    out = T(v);
    return true;
  }

  bool number(const json &j, const std::string &path, double &out) {
    if (j.is_number()) {
      out = j.get<double>();
      return true;
    }
    if (j.is_object() && j.size() == 1 && j.contains("float") &&
        j["float"].is_string()) {
      const std::string &s = j["float"].get_ref<const std::string &>();
      if (s == "nan")
        out = std::numeric_limits<double>::quiet_NaN();
      else if (s == "inf")
        out = std::numeric_limits<double>::infinity();
      else if (s == "-inf")
        out = -std::numeric_limits<double>::infinity();
      else
        return fail(path, "unknown special float '" + s + "'");
      return true;
    }
    return fail(path, "expected a number");
  }

  bool string(const json &j, const std::string &path, std::string &out) {
    if (!j.is_string())
      return fail(path, "expected a string");
    out = j.get<std::string>();
    return true;
  }
  bool stringField(const json &obj, const std::string &path, const char *key,
                   std::string &out) {
    const json *f = field(obj, path, key);
    return f && string(*f, path + "." + key, out);
  }
  bool boolField(const json &obj, const std::string &path, const char *key,
                 bool &out) {
    const json *f = field(obj, path, key);
    if (!f)
      return false;
    if (!f->is_boolean())
      return fail(path + "." + key, "expected true or false");
    out = f->get<bool>();
    return true;
  }

  template <typename T>
  bool intArray(const json &j, const std::string &path, std::vector<T> &out) {
    if (!array(j, path))
      return false;
    out.clear();
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      int64_t v;
      if (!integer(j[i], path + "[" + std::to_string(i) + "]", v,
                   int64_t(std::numeric_limits<T>::min()),
                   int64_t(std::numeric_limits<T>::max())))
        return false;
      out.push_back(T(v));
    }
    return true;
  }

  bool nameMap(const json &j, const std::string &path,
               std::map<std::string, int32_t> &out) {
    if (!object(j, path))
      return false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      int64_t v;
      if (!integer(it.value(), path + "." + it.key(), v, INT32_MIN, INT32_MAX))
        return false;
      out[it.key()] = int32_t(v);
    }
    return true;
  }

  template <typename E, size_t N>
  bool enumField(const json &obj, const std::string &path, const char *key,
                 const std::pair<const char *, E> (&names)[N], E &out) {
    std::string s;
    if (!stringField(obj, path, key, s))
      return false;
    for (auto &[n, e] : names)
      if (s == n) {
        out = e;
        return true;
      }
    std::string valid;
    for (auto &[n, e] : names)
      valid += std::string(valid.empty() ? "" : ", ") + n;
    return fail(path + "." + key,
                "unknown value '" + s + "' (expected one of " + valid + ")");
  }

  bool attr(const json &j, const std::string &path, Attr &a) {
    if (j.is_number_integer()) {
      a.kind = Attr::Int;
      return integer(j, path, a.i);
    }
    if (j.is_number_float() || j.is_object()) {
      a.kind = Attr::Float;
      return number(j, path, a.f);
    }
    if (j.is_array()) {
      a.kind = Attr::Ints;
      return intArray(j, path, a.ints);
    }
    if (j.is_string()) {
      a.kind = Attr::String;
      a.s = j.get<std::string>();
      return true;
    }
    return fail(path, "expected an integer, number, integer list or string");
  }

  bool buffer(const json &j, const std::string &path, Buffer &b) {
    static const std::pair<const char *, BufferKind> kinds[] = {
        {"param", BufferKind::Param},
        {"opt_state", BufferKind::OptState},
        {"input", BufferKind::Input},
        {"grad_accum", BufferKind::GradAccum},
        {"temp", BufferKind::Temp}};
    static const std::pair<const char *, DType> dtypes[] = {
        {"f32", DType::F32}, {"i32", DType::I32}, {"bf16", DType::BF16}};
    if (!object(j, path) || !stringField(j, path, "name", b.name) ||
        !enumField(j, path, "kind", kinds, b.kind) ||
        !enumField(j, path, "dtype", dtypes, b.dtype))
      return false;
    const json *shape = field(j, path, "shape");
    if (!shape || !intArray(*shape, path + ".shape", b.shape))
      return false;
    // Optional: plain unless said.
    static const std::pair<const char *, Layout> layouts[] = {
        {"plain", Layout::Plain}, {"nChw16c", Layout::Blocked16}};
    if (j.contains("layout") &&
        !enumField(j, path, "layout", layouts, b.layout))
      return false;
    if (b.kind != BufferKind::Temp)
      return true;
    return intField(j, path, "program", b.program) &&
           intField(j, path, "offset", b.offset);
  }

  bool param(const json &j, const std::string &path, ParamInfo &p) {
    static const std::pair<const char *, InitKind> inits[] = {
        {"zeros", InitKind::Zeros},
        {"ones", InitKind::Ones},
        {"normal", InitKind::Normal},
        {"uniform", InitKind::Uniform}};
    if (!object(j, path) || !intField(j, path, "buffer", p.buffer) ||
        !boolField(j, path, "trainable", p.trainable) ||
        !boolField(j, path, "head", p.head) ||
        !enumField(j, path, "init", inits, p.init))
      return false;
    // Optional: only running statistics carry it.
    if (j.contains("running_stat") &&
        !boolField(j, path, "running_stat", p.runningStat))
      return false;
    const json *a = field(j, path, "init_a");
    const json *b = a ? field(j, path, "init_b") : nullptr;
    return b && number(*a, path + ".init_a", p.initA) &&
           number(*b, path + ".init_b", p.initB);
  }

  bool step(const json &j, const std::string &path, Step &s) {
    if (!object(j, path) || !stringField(j, path, "kernel", s.kernel) ||
        !intField(j, path, "num_inputs", s.numInputs))
      return false;
    const json *args = field(j, path, "args");
    if (!args || !intArray(*args, path + ".args", s.args))
      return false;
    const json *attrs = field(j, path, "attrs", /*required=*/false);
    if (!attrs)
      return true;
    if (!object(*attrs, path + ".attrs"))
      return false;
    for (auto it = attrs->begin(); it != attrs->end(); ++it)
      if (!attr(it.value(), path + ".attrs." + it.key(), s.attrs[it.key()]))
        return false;
    return true;
  }

  bool program(const json &j, const std::string &path, Program &p) {
    if (!object(j, path) || !stringField(j, path, "name", p.name) ||
        !intField(j, path, "arena_bytes", p.arenaBytes))
      return false;
    const json *outs = field(j, path, "outputs");
    if (!outs || !nameMap(*outs, path + ".outputs", p.outputs))
      return false;
    const json *steps = field(j, path, "steps");
    if (!steps || !array(*steps, path + ".steps"))
      return false;
    p.steps.resize(steps->size());
    for (size_t i = 0; i < steps->size(); ++i)
      if (!step((*steps)[i], path + ".steps[" + std::to_string(i) + "]",
                p.steps[i]))
        return false;
    return true;
  }

  template <typename T, typename Fn>
  bool list(const json &top, const char *key, std::vector<T> &out, Fn fn) {
    const json *arr = field(top, "plan", key);
    if (!arr || !array(*arr, key))
      return false;
    out.resize(arr->size());
    for (size_t i = 0; i < arr->size(); ++i)
      if (!(this->*fn)((*arr)[i],
                       std::string(key) + "[" + std::to_string(i) + "]",
                       out[i]))
        return false;
    return true;
  }

  bool plan(const json &j, Plan &p) {
    if (!j.is_object())
      return fail("plan", "not an ftc plan (expected a JSON object)");
    const json *magic = field(j, "plan", "format", false);
    if (!magic || !magic->is_string() ||
        magic->get<std::string>() != kFormatMagic)
      return fail("plan", std::string("not an ftc plan (\"format\" is not \"") +
                              kFormatMagic + "\")");
    int64_t version;
    const json *v = field(j, "plan", "version");
    if (!v || !integer(*v, "version", version))
      return false;
    if (version != kFormatVersion)
      return fail("version", "plan format version " + std::to_string(version) +
                                 " is not supported (this runtime reads "
                                 "version " +
                                 std::to_string(kFormatVersion) +
                                 "); recompile the plan");
    p.version = uint32_t(version);
    const json *features = field(j, "plan", "feature_inputs");
    return stringField(j, "plan", "compiler_version", p.compilerVersion) &&
           intField(j, "plan", "batch_size", p.batchSize) &&
           stringField(j, "plan", "optimizer", p.optimizer) &&
           (!j.contains("grad_accum") ||
            intField(j, "plan", "grad_accum", p.gradAccum)) &&
           list(j, "buffers", p.buffers, &Reader::buffer) &&
           list(j, "params", p.params, &Reader::param) && features &&
           nameMap(*features, "feature_inputs", p.featureInputs) &&
           list(j, "programs", p.programs, &Reader::program) &&
           stringField(j, "plan", "resolved_spec", p.resolvedSpec);
  }
};

} // namespace

bool deserialize(const std::string &text, Plan &plan, std::string &error) {
  Plan result;
  try {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/true,
                         /*ignore_comments=*/false);
    Reader r;
    if (!r.plan(j, result)) {
      error = "invalid plan: " + r.err;
      return false;
    }
  } catch (const json::parse_error &e) {
    error = std::string("invalid plan: not valid JSON (") + e.what() + ")";
    return false;
  } catch (const std::exception &e) {
    // Type errors cannot happen after the checks above; bad_alloc can.
    error = std::string("invalid plan: ") + e.what();
    return false;
  }
  if (std::string e = verify(result); !e.empty()) {
    error = "invalid plan: " + e;
    return false;
  }
  plan = std::move(result);
  return true;
}

} // namespace ftc::plan
