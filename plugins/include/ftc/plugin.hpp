//===- plugin.hpp - C++ layer for writing ftc plugins -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Makes a plugin a few dozen lines: typed config access, a graph builder
// that returns values and throws on failure, a dataset base class, and the
// macros that export ftc_plugin_query. Depends only on plugin_api.h and the
// standard library. Exceptions never cross the C ABI: every entry point the
// macros generate catches them and turns them into an ftc_error_t.
//
//   struct MyModel {
//     static constexpr const char *kName = "my_model";
//     static constexpr const char *kVersion = "1.0.0";
//     static constexpr const char *kDescription = "what it is";
//     static constexpr ftc_key_decl_t kKeys[] = {
//         ftc::plugin::intKey("width", "64", 1, 4096, "hidden width")};
//     static void build(const ftc::plugin::Config &config,
//                       const ftc::plugin::ModelContext &context,
//                       ftc::plugin::Graph &graph);
//   };
//   FTC_DEFINE_MODEL_PLUGIN(MyModel)
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HPP
#define FTC_PLUGIN_HPP

#include "ftc/plugin_api.h"

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ftc::plugin {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Writes a printf-style message into `err` (truncated to its capacity) and
/// sets `err->key` to `key`, which must be a static string or nullptr.
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
inline void
setError(ftc_error_t *err, const char *key, const char *fmt, ...) {
  if (!err)
    return;
  err->key = key;
  if (!err->message || err->capacity == 0)
    return;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(err->message, err->capacity, fmt, args);
  va_end(args);
}

/// The exception plugin code throws; the boundary turns it into a status, a
/// message and the blamed spec key. `key` must outlive the call (use string
/// literals or the `name` of a key declaration).
class Error : public std::runtime_error {
public:
  Error(ftc_status_t status, const std::string &message,
        const char *key = nullptr)
      : std::runtime_error(message), statusCode(status), specKey(key) {}
  ftc_status_t status() const { return statusCode; }
  const char *key() const { return specKey; }

private:
  ftc_status_t statusCode;
  const char *specKey;
};

/// Runs `body`, converting any exception into a status and `err`.
template <typename F> ftc_status_t guard(ftc_error_t *err, F &&body) noexcept {
  try {
    body();
    return FTC_STATUS_OK;
  } catch (const Error &e) {
    setError(err, e.key(), "%s", e.what());
    return e.status() == FTC_STATUS_OK ? FTC_STATUS_INTERNAL : e.status();
  } catch (const std::bad_alloc &) {
    setError(err, nullptr, "out of memory");
  } catch (const std::exception &e) {
    setError(err, nullptr, "internal plugin error: %s", e.what());
  } catch (...) {
    setError(err, nullptr, "internal plugin error: unknown exception");
  }
  return FTC_STATUS_INTERNAL;
}

//===----------------------------------------------------------------------===//
// Key declarations
//===----------------------------------------------------------------------===//

constexpr double kNoMin = 1.0, kNoMax = 0.0; // min > max: no range check

constexpr ftc_key_decl_t intKey(const char *name, const char *defaultToml,
                                double min, double max, const char *doc,
                                uint32_t flags = 0) {
  return {name, FTC_KEY_INT, flags, defaultToml, min, max, nullptr, doc};
}
constexpr ftc_key_decl_t floatKey(const char *name, const char *defaultToml,
                                  double min, double max, const char *doc,
                                  uint32_t flags = 0) {
  return {name, FTC_KEY_FLOAT, flags, defaultToml, min, max, nullptr, doc};
}
constexpr ftc_key_decl_t boolKey(const char *name, const char *defaultToml,
                                 const char *doc, uint32_t flags = 0) {
  return {name, FTC_KEY_BOOL, flags, defaultToml, kNoMin, kNoMax, nullptr, doc};
}
/// `choices` is '|'-separated, or nullptr for any string.
constexpr ftc_key_decl_t stringKey(const char *name, const char *defaultToml,
                                   const char *choices, const char *doc,
                                   uint32_t flags = 0) {
  return {name,   FTC_KEY_STRING, flags,   defaultToml,
          kNoMin, kNoMax,         choices, doc};
}
constexpr ftc_key_decl_t intArrayKey(const char *name, const char *defaultToml,
                                     double min, double max, const char *doc,
                                     uint32_t flags = 0) {
  return {name, FTC_KEY_INT_ARRAY, flags, defaultToml, min, max, nullptr, doc};
}
/// Numbers (ABI 1.6); add FTC_KEY_SCALAR_OR_ARRAY to `flags` to accept a
/// single number too (read both with Config::getFloats).
constexpr ftc_key_decl_t floatArrayKey(const char *name,
                                       const char *defaultToml, double min,
                                       double max, const char *doc,
                                       uint32_t flags = 0) {
  return {name, FTC_KEY_FLOAT_ARRAY, flags, defaultToml, min, max, nullptr,
          doc};
}
constexpr ftc_key_decl_t stringArrayKey(const char *name,
                                        const char *defaultToml,
                                        const char *doc, uint32_t flags = 0) {
  return {
      name, FTC_KEY_STRING_ARRAY, flags, defaultToml, kNoMin, kNoMax, nullptr,
      doc};
}

//===----------------------------------------------------------------------===//
// Config
//===----------------------------------------------------------------------===//

/// Typed reads of the resolved spec. The host fills in every declared
/// default, so getX(key) of a declared key with a default never throws in a
/// correct host; keys without a default use findX. Failures throw Error with
/// the key set (hence `key` must be a string literal).
class Config {
public:
  explicit Config(const ftc_config_t *config) : c(config) {}

  std::optional<int64_t> findInt(const char *key) const {
    int64_t v = 0;
    if (c && c->get_int && c->get_int(c->ctx, key, &v))
      return v;
    return std::nullopt;
  }
  std::optional<double> findFloat(const char *key) const {
    double v = 0;
    if (c && c->get_float && c->get_float(c->ctx, key, &v))
      return v;
    return std::nullopt;
  }
  std::optional<bool> findBool(const char *key) const {
    int v = 0;
    if (c && c->get_bool && c->get_bool(c->ctx, key, &v))
      return v != 0;
    return std::nullopt;
  }
  std::optional<std::string> findString(const char *key) const {
    const char *s = c && c->get_string ? c->get_string(c->ctx, key) : nullptr;
    if (!s)
      return std::nullopt;
    return std::string(s);
  }

  int64_t getInt(const char *key) const {
    return required(findInt(key), key, "an integer");
  }
  double getFloat(const char *key) const {
    return required(findFloat(key), key, "a number");
  }
  bool getBool(const char *key) const {
    return required(findBool(key), key, "a boolean");
  }
  std::string getString(const char *key) const {
    return required(findString(key), key, "a string");
  }
  /// An array of integers; an absent key is an empty array, a single
  /// integer (a key with FTC_KEY_SCALAR_OR_ARRAY) one element.
  std::vector<int64_t> getInts(const char *key) const {
    if (std::optional<int64_t> one = findInt(key))
      return {*one};
    std::vector<int64_t> out(arraySize(key));
    for (size_t i = 0; i < out.size(); ++i)
      if (!c->get_int_at || !c->get_int_at(c->ctx, key, i, &out[i]))
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    std::string("'") + key + "[" + std::to_string(i) +
                        "]' is not an integer",
                    key);
    return out;
  }
  /// An array of numbers (integers widened; ABI 1.6 hosts); an absent key
  /// is an empty array, a single number one element.
  std::vector<double> getFloats(const char *key) const {
    if (std::optional<double> one = findFloat(key))
      return {*one};
    std::vector<double> out(arraySize(key));
    for (size_t i = 0; i < out.size(); ++i) {
      bool ok = false;
      int64_t asInt = 0;
      if (c->get_float_at) {
        ok = c->get_float_at(c->ctx, key, i, &out[i]);
      } else if (c->get_int_at && c->get_int_at(c->ctx, key, i, &asInt)) {
        // A host before 1.6: integers only.
        ok = true;
        out[i] = double(asInt);
      }
      if (!ok)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    std::string("'") + key + "[" + std::to_string(i) +
                        "]' is not a number",
                    key);
    }
    return out;
  }
  /// An array of strings; an absent key is an empty array.
  std::vector<std::string> getStrings(const char *key) const {
    std::vector<std::string> out(arraySize(key));
    for (size_t i = 0; i < out.size(); ++i) {
      const char *s =
          c->get_string_at ? c->get_string_at(c->ctx, key, i) : nullptr;
      if (!s)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    std::string("'") + key + "[" + std::to_string(i) +
                        "]' is not a string",
                    key);
      out[i] = s;
    }
    return out;
  }

  const ftc_config_t *raw() const { return c; }

private:
  size_t arraySize(const char *key) const {
    return c && c->get_array_size ? c->get_array_size(c->ctx, key) : 0;
  }
  template <typename T>
  static T required(std::optional<T> v, const char *key, const char *what) {
    if (!v)
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("key '") + key + "' is not set or is not " + what,
                  key);
    return *v;
  }

  const ftc_config_t *c;
};

//===----------------------------------------------------------------------===//
// Model graphs
//===----------------------------------------------------------------------===//

/// A value in the graph being built (the builder's non-negative id).
using Value = int32_t;

/// 64-bit FNV-1a over `bytes`, continuing from `h`: the hashes of
/// ftc_example_facts_t (equal hashes are duplicates; a false match among a
/// million examples has odds of about 1e-8).
inline uint64_t hashBytes(std::string_view bytes,
                          uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

/// For ftc_family_info_t.layer_of: the number that follows the dotted
/// component `container` in a parameter name ("encoder.layer.3.output",
/// "layer" -> 3), or -1 when there is none.
inline int64_t indexAfter(std::string_view name, std::string_view container) {
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = name.find('.', pos);
    if (end == std::string_view::npos)
      return -1;
    if (name.substr(pos, end - pos) == container) {
      size_t numEnd = name.find('.', end + 1);
      std::string_view digits = name.substr(
          end + 1, numEnd == std::string_view::npos ? std::string_view::npos
                                                    : numEnd - end - 1);
      if (!digits.empty() && digits.size() <= 9 &&
          digits.find_first_not_of("0123456789") == std::string_view::npos)
        return std::stoll(std::string(digits));
    }
    pos = end + 1;
  }
  return -1;
}

/// Whether `name` has the dotted component `part`.
inline bool hasComponent(std::string_view name, std::string_view part) {
  size_t pos = 0;
  for (;;) {
    size_t end = name.find('.', pos);
    if (name.substr(pos, end == std::string_view::npos ? std::string_view::npos
                                                       : end - pos) == part)
      return true;
    if (end == std::string_view::npos)
      return false;
    pos = end + 1;
  }
}

/// The core [dataset] key that names the source of `split` ("train" or
/// "eval"); any other split is an error.
inline const char *splitKey(const std::string &split) {
  if (split == "train")
    return "train";
  if (split == "eval")
    return "eval";
  if (split == "predict")
    return "predict";
  throw Error(FTC_STATUS_INVALID_ARGUMENT,
              "unknown split '" + split +
                  "' (expected train, eval or predict)");
}

/// Parameter initializers.
struct Init {
  static ftc_init_t zeros() { return {FTC_INIT_ZEROS, 0, 0}; }
  static ftc_init_t ones() { return {FTC_INIT_ONES, 0, 0}; }
  static ftc_init_t normal(double mean, double std) {
    return {FTC_INIT_NORMAL, mean, std};
  }
  static ftc_init_t uniform(double low, double high) {
    return {FTC_INIT_UNIFORM, low, high};
  }
};

/// An op attribute that owns its strings and arrays.
class Attr {
public:
  static Attr i(std::string name, int64_t v) {
    Attr a(std::move(name), FTC_ATTR_INT);
    a.intValue = v;
    return a;
  }
  static Attr f(std::string name, double v) {
    Attr a(std::move(name), FTC_ATTR_FLOAT);
    a.floatValue = v;
    return a;
  }
  static Attr str(std::string name, std::string v) {
    Attr a(std::move(name), FTC_ATTR_STRING);
    a.stringValue = std::move(v);
    return a;
  }
  static Attr ints(std::string name, std::vector<int64_t> v) {
    Attr a(std::move(name), FTC_ATTR_INTS);
    a.intsValue = std::move(v);
    return a;
  }

  /// A C view; valid while this Attr lives and is not modified.
  ftc_attr_t raw() const {
    ftc_attr_t r{};
    r.name = name.c_str();
    r.kind = kind;
    r.i = intValue;
    r.f = floatValue;
    r.s = kind == FTC_ATTR_STRING ? stringValue.c_str() : nullptr;
    r.ints = intsValue.data();
    r.num_ints = intsValue.size();
    return r;
  }

private:
  Attr(std::string name, ftc_attr_kind_t kind)
      : name(std::move(name)), kind(kind) {}
  std::string name;
  ftc_attr_kind_t kind;
  int64_t intValue = 0;
  double floatValue = 0;
  std::string stringValue;
  std::vector<int64_t> intsValue;
};

/// The graph builder the host passes to build(). Every method throws Error
/// (status INVALID_ARGUMENT, the builder's last_error as message) on failure.
class Graph {
public:
  explicit Graph(const ftc_graph_builder_t *builder) : b(builder) {}

  /// The batched value of a dataset feature: [batch, feature shape...].
  Value input(const std::string &feature) {
    return check(b->input(b->ctx, feature.c_str()), "input '" + feature + "'");
  }
  /// Declares an F32 parameter. `head` marks it part of the task head.
  Value param(const std::string &name, const std::vector<int64_t> &shape,
              ftc_init_t init, bool head = false) {
    return param(name, FTC_DTYPE_F32, shape, init, head ? FTC_PARAM_HEAD : 0);
  }
  Value param(const std::string &name, ftc_dtype_t dtype,
              const std::vector<int64_t> &shape, ftc_init_t init,
              uint32_t flags) {
    return check(b->param(b->ctx, name.c_str(), dtype,
                          static_cast<uint32_t>(shape.size()), shape.data(),
                          init, flags),
                 "param '" + name + "'");
  }
  /// A generic op; returns its results.
  std::vector<Value> op(const std::string &name,
                        const std::vector<Value> &operands,
                        const std::vector<Attr> &attrs = {},
                        size_t maxResults = 8) {
    std::vector<ftc_attr_t> raw;
    raw.reserve(attrs.size());
    for (const Attr &a : attrs)
      raw.push_back(a.raw());
    std::vector<int32_t> results(maxResults);
    int32_t n = b->op(b->ctx, name.c_str(), operands.data(), operands.size(),
                      raw.data(), raw.size(), results.data(), results.size());
    check(n, "op '" + name + "'");
    results.resize(static_cast<size_t>(n) < maxResults ? n : maxResults);
    return results;
  }
  /// An op with exactly one result.
  Value op1(const std::string &name, const std::vector<Value> &operands,
            const std::vector<Attr> &attrs = {}) {
    std::vector<Value> r = op(name, operands, attrs, 1);
    if (r.size() != 1)
      throw Error(FTC_STATUS_INTERNAL, "op '" + name + "' returned no result");
    return r[0];
  }

  Value linear(Value x, Value w, Value bias) {
    return op1("linear", {x, w, bias});
  }
  Value relu(Value x) { return op1("relu", {x}); }
  Value gelu(Value x) { return op1("gelu", {x}); }
  Value reshape(Value x, const std::vector<int64_t> &shape) {
    return op1("reshape", {x}, {Attr::ints("shape", shape)});
  }
  /// A constant tensor of `shape` (FTC_DTYPE_F32 or FTC_DTYPE_I32).
  Value fill(double value, const std::vector<int64_t> &shape,
             ftc_dtype_t dtype = FTC_DTYPE_F32) {
    return op1(
        "fill", {},
        {Attr::f("value", value), Attr::ints("result_shape", shape),
         Attr::str("result_dtype", dtype == FTC_DTYPE_I32 ? "i32" : "f32")});
  }
  Value softmaxCrossEntropy(Value logits, Value labels) {
    return op1("softmax_cross_entropy", {logits, labels});
  }
  /// A task head as torch.nn.Linear(width, classes) named `prefix`
  /// (`<prefix>.weight`, `<prefix>.bias`, both uniform(±1/sqrt(width)), as
  /// PyTorch initialises it), marked as the head: its logits for x [B, width].
  Value classifier(Value x, const std::string &prefix, int64_t classes) {
    int64_t width = dim(x, 1);
    double bound = 1.0 / std::sqrt(double(width));
    Value w = param(prefix + ".weight", {classes, width},
                    Init::uniform(-bound, bound), /*head=*/true);
    Value b = param(prefix + ".bias", {classes}, Init::uniform(-bound, bound),
                    /*head=*/true);
    return linear(x, w, b);
  }
  Value add(Value a, Value b) { return op1("add", {a, b}); }
  Value relu6(Value x) { return op1("relu6", {x}); }
  /// The mean over `axes` (which are removed): global average pooling of
  /// [N, C, H, W] is reduceMean(x, {2, 3}).
  Value reduceMean(Value x, const std::vector<int64_t> &axes) {
    return op1("reduce_mean", {x}, {Attr::ints("axes", axes)});
  }

  /// The geometry of a 2-D window op: `padding` is [h, w] (both sides) or
  /// [top, left, bottom, right].
  struct Window {
    std::vector<int64_t> stride{1, 1}, padding{0, 0}, dilation{1, 1};
    int64_t groups = 1;
  };
  /// conv2d over NCHW: x [N, C, H, W], w [O, C / groups, kh, kw].
  Value conv2d(Value x, Value w, const Window &win) {
    return op1("conv2d", {x, w}, windowAttrs(win, true));
  }
  Value conv2d(Value x, Value w, Value bias, const Window &win) {
    return op1("conv2d", {x, w, bias}, windowAttrs(win, true));
  }
  Value maxPool2d(Value x, const std::vector<int64_t> &kernel,
                  const Window &win) {
    std::vector<Attr> attrs = windowAttrs(win, false);
    attrs.push_back(Attr::ints("kernel", kernel));
    return op1("max_pool2d", {x}, attrs);
  }
  Value avgPool2d(Value x, const std::vector<int64_t> &kernel,
                  const Window &win, bool countIncludePad = true) {
    std::vector<Attr> attrs = windowAttrs(win, false);
    attrs.push_back(Attr::ints("kernel", kernel));
    attrs.push_back(Attr::i("count_include_pad", countIncludePad ? 1 : 0));
    return op1("avg_pool2d", {x}, attrs);
  }
  /// A running statistic (batch norm's mean or variance): persistent state,
  /// saved and loaded like a parameter, never trained. Starts at 0 or 1.
  Value runningStat(const std::string &name, const std::vector<int64_t> &shape,
                    bool ones) {
    return op1("running_stat", {},
               {Attr::str("name", name),
                Attr::str("init", ones ? "ones" : "zeros"),
                Attr::ints("result_shape", shape)});
  }
  /// torch.nn.BatchNorm2d (or 1d) named `prefix` over channel axis 1:
  /// `<prefix>.weight` (ones), `.bias` (zeros), `.running_mean`,
  /// `.running_var`. Training uses the batch's statistics and updates the
  /// running ones; evaluation (and a frozen layer) reads them.
  Value batchNorm(Value x, const std::string &prefix, double eps = 1e-5,
                  double momentum = 0.1) {
    int64_t c = dim(x, 1);
    Value gamma = param(prefix + ".weight", {c}, Init::ones());
    Value beta = param(prefix + ".bias", {c}, Init::zeros());
    Value mean = runningStat(prefix + ".running_mean", {c}, false);
    Value var = runningStat(prefix + ".running_var", {c}, true);
    return op1("batch_norm", {x, gamma, beta, mean, var},
               {Attr::f("eps", eps), Attr::f("momentum", momentum)});
  }

  static std::vector<Attr> windowAttrs(const Window &win, bool conv) {
    std::vector<Attr> attrs = {Attr::ints("stride", win.stride),
                               Attr::ints("padding", win.padding)};
    if (conv) {
      attrs.push_back(Attr::ints("dilation", win.dilation));
      attrs.push_back(Attr::i("groups", win.groups));
    }
    return attrs;
  }

  /// Marks a graph output: "loss" (scalar, required), "logits".
  void output(const std::string &role, Value v) {
    check(b->output(b->ctx, role.c_str(), v), "output '" + role + "'");
  }
  uint32_t rank(Value v) { return b->rank(b->ctx, v); }
  int64_t dim(Value v, uint32_t axis) {
    int64_t d = b->dim(b->ctx, v, axis);
    if (d < 0)
      fail("dim(" + std::to_string(axis) + ")");
    return d;
  }
  std::vector<int64_t> shape(Value v) {
    std::vector<int64_t> s(rank(v));
    for (uint32_t i = 0; i < s.size(); ++i)
      s[i] = dim(v, i);
    return s;
  }

  const ftc_graph_builder_t *raw() const { return b; }

private:
  int32_t check(int32_t r, const std::string &what) {
    if (r < 0)
      fail(what);
    return r;
  }
  /// The builder's last_error already names the call ("op 'relu': ..."), so
  /// it is used as is; `what` only stands in when the builder gave none.
  [[noreturn]] void fail(const std::string &what) {
    const char *msg = b->last_error ? b->last_error(b->ctx) : nullptr;
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                msg && *msg ? std::string(msg)
                            : what + ": graph builder error");
  }

  const ftc_graph_builder_t *b;
};

/// What the host knows when the model is built.
class ModelContext {
public:
  explicit ModelContext(const ftc_model_context_t *context) : c(context) {}
  int64_t batchSize() const { return c->batch_size; }
  int64_t numLabels() const { return c->num_labels; }
  /// The label feature's name, or nullptr.
  const char *labelFeature() const { return c->label_feature; }
  /// model.checkpoint, or nullptr.
  const char *checkpoint() const { return c->checkpoint; }
  size_t numFeatures() const { return c->features ? c->num_features : 0; }
  const ftc_feature_desc_t &feature(size_t i) const { return c->features[i]; }
  /// The feature called `name`, or nullptr.
  const ftc_feature_desc_t *findFeature(const std::string &name) const {
    for (size_t i = 0; i < numFeatures(); ++i)
      if (c->features[i].name && name == c->features[i].name)
        return &c->features[i];
    return nullptr;
  }
  /// The first feature that is not the label (a classifier's input), or
  /// nullptr.
  const ftc_feature_desc_t *inputFeature() const {
    const char *label = labelFeature();
    for (size_t i = 0; i < numFeatures(); ++i)
      if (!label || std::string(c->features[i].name) != label)
        return &c->features[i];
    return nullptr;
  }
  const ftc_model_context_t *raw() const { return c; }

private:
  const ftc_model_context_t *c;
};

//===----------------------------------------------------------------------===//
// Datasets
//===----------------------------------------------------------------------===//

/// Base class of an opened dataset split. The subclass declares features in
/// its constructor and implements fill(); the boundary checks indices
/// against numExamples() before fill() sees them.
class Dataset {
public:
  virtual ~Dataset() = default;

  /// Writes examples `indices[0..count)` into `buffers`, one per feature in
  /// declaration order, each a contiguous [count, shape...] array.
  virtual void fill(const int64_t *indices, size_t count,
                    void *const *buffers) = 0;
  /// The name of label class `index`, or nullptr (the host then uses "0",
  /// "1", ...). The pointer must stay valid while the dataset is open.
  virtual const char *labelName(int64_t index) const {
    (void)index;
    return nullptr;
  }

  /// Malformed records skipped instead of reported (an option such as
  /// skip_bad_rows allowed it).
  virtual int64_t skippedRecords() const { return 0; }

  /// The split's facts for the data report (ABI 1.3); false = none (the
  /// host then hashes the filled features). `out.examples` must stay valid
  /// while the dataset is open.
  virtual bool describe(ftc_split_facts_t &out) {
    (void)out;
    return false;
  }

  /// ABI 1.6: the host is about to fill examples of training epoch `epoch`
  /// (1-based) of a job seeded `seed`. Returns whether the examples depend
  /// on them (random augmentation); then each example must be a function
  /// of (seed, epoch, index) alone, so that a resumed run sees the same.
  virtual bool setEpoch(int64_t epoch, uint64_t seed) {
    (void)epoch;
    (void)seed;
    return false;
  }

  int64_t numExamples() const { return examples; }
  const std::vector<ftc_feature_desc_t> &features() const { return descs; }

  ftc_dataset_info_t info() const {
    ftc_dataset_info_t out{};
    out.num_examples = examples;
    out.features = descs.data();
    out.num_features = descs.size();
    out.label_feature = label.empty() ? nullptr : label.c_str();
    out.num_classes = classes;
    return out;
  }

protected:
  void addFeature(const std::string &name, ftc_dtype_t dtype,
                  const std::vector<int64_t> &shape) {
    if (shape.size() > FTC_MAX_RANK)
      throw Error(FTC_STATUS_INTERNAL, "feature '" + name + "' has rank " +
                                           std::to_string(shape.size()));
    names.push_back(name); // deque: earlier c_str() pointers stay valid
    ftc_feature_desc_t d{};
    d.name = names.back().c_str();
    d.dtype = dtype;
    d.rank = static_cast<uint32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i)
      d.shape[i] = shape[i];
    descs.push_back(d);
  }
  void setNumExamples(int64_t n) { examples = n; }
  void setLabel(const std::string &feature, int64_t numClasses) {
    label = feature;
    classes = numClasses;
  }

private:
  std::deque<std::string> names;
  std::vector<ftc_feature_desc_t> descs;
  std::string label;
  int64_t examples = 0;
  int64_t classes = 0;
};

//===----------------------------------------------------------------------===//
// Exported tables
//===----------------------------------------------------------------------===//

namespace detail {

template <typename T, typename = void> struct HasKeys : std::false_type {};
template <typename T>
struct HasKeys<T, std::void_t<decltype(T::kKeys)>> : std::true_type {};

template <typename T, typename = void> struct HasFamily : std::false_type {};
template <typename T>
struct HasFamily<T, std::void_t<decltype(T::kFamily)>> : std::true_type {};

template <typename T, typename = void>
struct HasBaseModelPrefix : std::false_type {};
template <typename T>
struct HasBaseModelPrefix<T, std::void_t<decltype(T::kBaseModelPrefix)>>
    : std::true_type {};

template <typename Impl> constexpr const ftc_key_decl_t *keysOf() {
  if constexpr (HasKeys<Impl>::value)
    return Impl::kKeys;
  else
    return nullptr;
}
template <typename Impl> constexpr size_t numKeysOf() {
  if constexpr (HasKeys<Impl>::value)
    return sizeof(Impl::kKeys) / sizeof(Impl::kKeys[0]);
  else
    return 0;
}

template <typename Impl>
constexpr ftc_plugin_header_t
header(ftc_plugin_kind_t kind,
       uint32_t apiVersion = FTC_PLUGIN_API_VERSION_1_0) {
  return {apiVersion,     static_cast<uint32_t>(kind), Impl::kName,
          Impl::kVersion, Impl::kDescription,          {0, 0, 0, 0}};
}

template <typename Impl> struct ModelTable {
  static ftc_status_t build(const ftc_config_t *config,
                            const ftc_model_context_t *context,
                            const ftc_graph_builder_t *builder,
                            ftc_error_t *error) noexcept {
    return guard(error, [&] {
      if (!config || !context || !builder)
        throw Error(FTC_STATUS_INTERNAL, "build() called with NULL arguments");
      Config cfg(config);
      ModelContext ctx(context);
      Graph graph(builder);
      Impl::build(cfg, ctx, graph);
    });
  }
  static constexpr const char *baseModelPrefix() {
    if constexpr (detail::HasBaseModelPrefix<Impl>::value)
      return Impl::kBaseModelPrefix;
    else
      return nullptr;
  }
  static constexpr const ftc_family_info_t *family() {
    if constexpr (detail::HasFamily<Impl>::value)
      return &Impl::kFamily;
    else
      return nullptr;
  }
  static inline const ftc_model_plugin_v1_t table = {
      header<Impl>(FTC_PLUGIN_KIND_MODEL, FTC_PLUGIN_API_VERSION_1_5),
      keysOf<Impl>(),
      numKeysOf<Impl>(),
      &build,
      baseModelPrefix(),
      family(),
      {nullptr, nullptr}};
};

template <typename Impl> struct DatasetTable {
  static ftc_status_t open(const ftc_config_t *config, const char *split,
                           void **handle, ftc_error_t *error) noexcept {
    return guard(error, [&] {
      if (!config || !split || !handle)
        throw Error(FTC_STATUS_INTERNAL, "open() called with NULL arguments");
      *handle = nullptr;
      std::unique_ptr<Dataset> d = Impl::open(Config(config), split);
      *handle = d.release();
    });
  }
  static ftc_status_t info(void *handle, ftc_dataset_info_t *out) noexcept {
    if (!handle || !out)
      return FTC_STATUS_INVALID_ARGUMENT;
    *out = static_cast<Dataset *>(handle)->info();
    return FTC_STATUS_OK;
  }
  static ftc_status_t fill(void *handle, const int64_t *indices, size_t count,
                           void *const *buffers, ftc_error_t *error) noexcept {
    return guard(error, [&] {
      if (!handle || (count && (!indices || !buffers)))
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "fill() called with NULL arguments");
      auto *d = static_cast<Dataset *>(handle);
      for (size_t i = 0; i < count; ++i)
        if (indices[i] < 0 || indices[i] >= d->numExamples())
          throw Error(FTC_STATUS_INVALID_ARGUMENT,
                      "example index " + std::to_string(indices[i]) +
                          " is out of range [0, " +
                          std::to_string(d->numExamples()) + ")");
      for (size_t f = 0; f < d->features().size(); ++f)
        if (count && !buffers[f])
          throw Error(FTC_STATUS_INVALID_ARGUMENT,
                      "fill() called with a NULL buffer for feature '" +
                          std::string(d->features()[f].name) + "'");
      d->fill(indices, count, buffers);
    });
  }
  static void close(void *handle) noexcept {
    delete static_cast<Dataset *>(handle);
  }
  static const char *labelName(void *handle, int64_t index) noexcept {
    try {
      return handle ? static_cast<Dataset *>(handle)->labelName(index)
                    : nullptr;
    } catch (...) {
      return nullptr;
    }
  }
  static int64_t skippedRecords(void *handle) noexcept {
    return handle ? static_cast<Dataset *>(handle)->skippedRecords() : 0;
  }
  static ftc_status_t describe(void *handle, ftc_split_facts_t *out,
                               ftc_error_t *error) noexcept {
    return guard(error, [&] {
      if (!handle || !out)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "describe() called with NULL arguments");
      *out = ftc_split_facts_t{};
      if (!static_cast<Dataset *>(handle)->describe(*out))
        throw Error(FTC_STATUS_NOT_FOUND, "the dataset has no facts to add");
    });
  }
  static int32_t setEpoch(void *handle, int64_t epoch, uint64_t seed) noexcept {
    try {
      return handle && static_cast<Dataset *>(handle)->setEpoch(epoch, seed)
                 ? 1
                 : 0;
    } catch (...) {
      return 0;
    }
  }
  static inline const ftc_dataset_plugin_v1_t table = {
      header<Impl>(FTC_PLUGIN_KIND_DATASET, FTC_PLUGIN_API_VERSION_1_6),
      keysOf<Impl>(),
      numKeysOf<Impl>(),
      &open,
      &info,
      &fill,
      &close,
      &labelName,
      &skippedRecords,
      &describe,
      &setEpoch};
};

inline const ftc_plugin_header_t *query(uint32_t maxApiVersion,
                                        const ftc_plugin_header_t *header) {
  // The tables declare 1.5 (models) and 1.6 (datasets) but only append to 1.0's
  // layout: a 1.0 or 1.1 host never reads past what it knows, so serve any
  // host that speaks 1.0 or later.
  if (maxApiVersion < FTC_PLUGIN_API_VERSION_1_0)
    return nullptr;
  return header;
}

} // namespace detail
} // namespace ftc::plugin

/// Exports ftc_plugin_query for a model plugin class `Impl` with static
/// kName, kVersion, kDescription, optional kKeys[], optional
/// kBaseModelPrefix (see ftc_model_plugin_v1_t.base_model_prefix), optional
/// kFamily (an ftc_family_info_t: layers, Hugging Face classes) and
///   static void build(const Config&, const ModelContext&, Graph&);
#define FTC_DEFINE_MODEL_PLUGIN(Impl)                                          \
  extern "C" FTC_PLUGIN_EXPORT const ftc_plugin_header_t *ftc_plugin_query(    \
      uint32_t max_api_version) {                                              \
    return ::ftc::plugin::detail::query(                                       \
        max_api_version,                                                       \
        &::ftc::plugin::detail::ModelTable<Impl>::table.header);               \
  }

/// Exports ftc_plugin_query for a dataset plugin class `Impl` with static
/// kName, kVersion, kDescription, optional kKeys[] and
///   static std::unique_ptr<ftc::plugin::Dataset>
///   open(const Config&, const std::string &split);
#define FTC_DEFINE_DATASET_PLUGIN(Impl)                                        \
  extern "C" FTC_PLUGIN_EXPORT const ftc_plugin_header_t *ftc_plugin_query(    \
      uint32_t max_api_version) {                                              \
    return ::ftc::plugin::detail::query(                                       \
        max_api_version,                                                       \
        &::ftc::plugin::detail::DatasetTable<Impl>::table.header);             \
  }

#endif // FTC_PLUGIN_HPP
