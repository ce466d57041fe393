//===- ModelBuilder.cpp - Model plugin -> ftc IR
//---------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Plugins build ops generically by name: the host looks the op up in the ftc
// dialect, infers result types through InferTypeOpInterface and verifies the
// op at once, so a plugin mistake is reported at the call that made it.
//===----------------------------------------------------------------------===//
#include "ftc/Plugin/ModelBuilder.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::ftc;

namespace {

struct BuildState {
  BuildState(MLIRContext &ctx, Location loc, const ftc_model_context_t &model)
      : ctx(ctx), loc(loc), b(&ctx), model(model) {}

  MLIRContext &ctx;
  Location loc;
  OpBuilder b;
  const ftc_model_context_t &model;
  std::vector<Value> values;
  llvm::StringMap<int32_t> inputs;
  llvm::StringMap<int32_t> params;
  llvm::StringSet<> outputRoles;
  std::string lastError;
  std::string diagnostic; // filled by the scoped handler
  int64_t nextDropoutStream = 0;
  const ftc_family_info_t *family = nullptr; // ABI 1.4; null before

  int32_t fail(std::string message) {
    lastError = std::move(message);
    return -1;
  }
  int32_t add(Value v) {
    values.push_back(v);
    return int32_t(values.size() - 1);
  }
  Value get(int32_t id) const {
    return id >= 0 && size_t(id) < values.size() ? values[id] : Value();
  }
};

BuildState &state(void *ctx) { return *static_cast<BuildState *>(ctx); }

Type elementType(MLIRContext &ctx, uint32_t dtype) {
  switch (dtype) {
  case FTC_DTYPE_F32:
    return Float32Type::get(&ctx);
  case FTC_DTYPE_I32:
    return IntegerType::get(&ctx, 32);
  default:
    return {};
  }
}

int32_t buildInput(void *ctx, const char *feature) {
  BuildState &s = state(ctx);
  if (!feature)
    return s.fail("input: feature name is NULL");
  if (auto it = s.inputs.find(feature); it != s.inputs.end())
    return it->second;
  for (size_t i = 0; i < s.model.num_features; ++i) {
    const ftc_feature_desc_t &f = s.model.features[i];
    if (std::string_view(f.name) != feature)
      continue;
    Type elt = elementType(s.ctx, f.dtype);
    if (!elt || f.rank > FTC_MAX_RANK)
      return s.fail("input: feature '" + std::string(feature) +
                    "' has an unsupported dtype or rank");
    SmallVector<int64_t> shape{s.model.batch_size};
    shape.append(f.shape, f.shape + f.rank);
    Value v =
        InputOp::create(s.b, s.loc, RankedTensorType::get(shape, elt), feature);
    return s.inputs[feature] = s.add(v);
  }
  std::string known;
  for (size_t i = 0; i < s.model.num_features; ++i)
    known += (i ? ", '" : "'") + std::string(s.model.features[i].name) + "'";
  return s.fail("input: the dataset has no feature '" + std::string(feature) +
                "' (it has " + known + ")");
}

int32_t buildParam(void *ctx, const char *name, uint32_t dtype, uint32_t rank,
                   const int64_t *shape, ftc_init_t init, uint32_t flags) {
  BuildState &s = state(ctx);
  if (!name || !*name)
    return s.fail("param: empty name");
  if (dtype != FTC_DTYPE_F32)
    return s.fail("param '" + std::string(name) + "': only f32 is supported");
  if (rank > FTC_MAX_RANK || (rank && !shape))
    return s.fail("param '" + std::string(name) + "': bad rank");
  SmallVector<int64_t> dims(shape, shape + rank);
  for (int64_t d : dims)
    if (d <= 0)
      return s.fail("param '" + std::string(name) +
                    "': dimensions must be positive");
  // Declaring a name again ties the weights (a masked-LM decoder reusing
  // the word embeddings): same tensor, same value, gradients summed.
  if (auto it = s.params.find(name); it != s.params.end()) {
    auto type = cast<RankedTensorType>(s.get(it->second).getType());
    if (type.getShape() != ArrayRef<int64_t>(dims))
      return s.fail("param '" + std::string(name) +
                    "' declared again with a different shape");
    return it->second;
  }
  const char *kind = init.kind == FTC_INIT_ONES      ? "ones"
                     : init.kind == FTC_INIT_NORMAL  ? "normal"
                     : init.kind == FTC_INIT_UNIFORM ? "uniform"
                     : init.kind == FTC_INIT_ZEROS   ? "zeros"
                                                     : nullptr;
  if (!kind)
    return s.fail("param '" + std::string(name) + "': unknown init kind " +
                  std::to_string(init.kind));
  auto op = ParamOp::create(
      s.b, s.loc, RankedTensorType::get(dims, s.b.getF32Type()),
      s.b.getStringAttr(name), s.b.getStringAttr(kind),
      s.b.getF64FloatAttr(init.a), s.b.getF64FloatAttr(init.b),
      (flags & FTC_PARAM_HEAD) ? s.b.getUnitAttr() : nullptr, nullptr, nullptr);
  // The family says which block the parameter is in (ABI 1.4).
  if (s.family && s.family->layer_of) {
    int64_t layer = s.family->layer_of(name);
    if (layer >= FTC_LAYER_BEFORE)
      op.setLayerAttr(s.b.getI64IntegerAttr(layer));
  }
  if (failed(verify(op))) {
    std::string msg = s.diagnostic;
    op->erase();
    return s.fail("param '" + std::string(name) + "': " + msg);
  }
  return s.params[name] = s.add(op.getResult());
}

FailureOr<Attribute> convertAttr(OpBuilder &b, const ftc_attr_t &a) {
  switch (a.kind) {
  case FTC_ATTR_INT:
    return Attribute(b.getI64IntegerAttr(a.i));
  case FTC_ATTR_FLOAT:
    return Attribute(b.getF64FloatAttr(a.f));
  case FTC_ATTR_STRING:
    if (!a.s)
      return failure();
    return Attribute(b.getStringAttr(a.s));
  case FTC_ATTR_INTS:
    if (a.num_ints && !a.ints)
      return failure();
    return Attribute(
        b.getDenseI64ArrayAttr(ArrayRef<int64_t>(a.ints, a.num_ints)));
  default:
    return failure();
  }
}

int32_t buildOp(void *ctx, const char *opName, const int32_t *operands,
                size_t numOperands, const ftc_attr_t *attrs, size_t numAttrs,
                int32_t *results, size_t maxResults) {
  BuildState &s = state(ctx);
  if (!opName)
    return s.fail("op: name is NULL");
  std::string full = std::string("ftc.") + opName;
  std::optional<RegisteredOperationName> name =
      RegisteredOperationName::lookup(full, &s.ctx);
  if (!name)
    return s.fail("op: unknown op '" + std::string(opName) + "'");
  // What a plugin may build is declared on each op (Ftc_PluginBuildable).
  if (!name->hasTrait<mlir::ftc::OpTrait::PluginBuildable>())
    return s.fail("op: '" + std::string(opName) +
                  "' is not an op a plugin builds (gradient, fused and "
                  "optimizer ops are the compiler's; parameters, inputs and "
                  "outputs have their own calls)");
  auto *infer = name->getInterface<InferTypeOpInterface>();

  SmallVector<Value> args;
  for (size_t i = 0; i < numOperands; ++i) {
    Value v = s.get(operands ? operands[i] : -1);
    if (!v)
      return s.fail("op '" + std::string(opName) + "': operand " +
                    std::to_string(i) + " is not a value");
    args.push_back(v);
  }
  NamedAttrList named;
  for (size_t i = 0; i < numAttrs; ++i) {
    FailureOr<Attribute> attr = convertAttr(s.b, attrs[i]);
    if (!attrs[i].name || failed(attr))
      return s.fail("op '" + std::string(opName) + "': malformed attribute " +
                    std::to_string(i));
    named.set(attrs[i].name, *attr);
  }
  // Dropout masks are keyed by a per-op stream number, assigned here so that
  // plugins need not track it.
  if (std::string_view(opName) == "dropout" && !named.get("stream"))
    named.set("stream", s.b.getI64IntegerAttr(s.nextDropoutStream++));
  SmallVector<Type> types;
  if (!infer) {
    // An op whose type nothing determines (fill: a constant) takes it from
    // the plugin: `result_shape` (ints) and `result_dtype` ("f32", "i32").
    auto shape = dyn_cast_or_null<DenseI64ArrayAttr>(named.get("result_shape"));
    auto dtype = dyn_cast_or_null<StringAttr>(named.get("result_dtype"));
    if (!shape)
      return s.fail("op '" + std::string(opName) +
                    "': its result type is not inferred; give it as the "
                    "attributes result_shape (ints) and result_dtype (\"f32\" "
                    "or \"i32\")");
    if (dtype && dtype.getValue() != "f32" && dtype.getValue() != "i32")
      return s.fail("op '" + std::string(opName) + "': result_dtype '" +
                    dtype.getValue().str() + "' is not \"f32\" or \"i32\"");
    Type element = dtype && dtype.getValue() == "i32" ? Type(s.b.getI32Type())
                                                      : Type(s.b.getF32Type());
    types.push_back(RankedTensorType::get(shape.asArrayRef(), element));
    named.erase("result_shape");
    named.erase("result_dtype");
  }
  DictionaryAttr dict = named.getDictionary(&s.ctx);
  s.diagnostic.clear();
  if (infer && failed(infer->inferReturnTypes(&s.ctx, s.loc, args, dict,
                                              OpaqueProperties(nullptr),
                                              RegionRange(), types)))
    return s.fail("op '" + std::string(opName) + "': " + s.diagnostic);

  OperationState st(s.loc, *name);
  st.addOperands(args);
  st.addAttributes(named);
  st.addTypes(types);
  Operation *op = s.b.create(st);
  if (failed(verify(op))) {
    std::string msg = s.diagnostic;
    op->erase();
    return s.fail("op '" + std::string(opName) + "': " + msg);
  }
  if (op->getNumResults() > maxResults || (op->getNumResults() && !results))
    return s.fail("op '" + std::string(opName) + "': needs room for " +
                  std::to_string(op->getNumResults()) + " results");
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    results[i] = s.add(op->getResult(i));
  return int32_t(op->getNumResults());
}

int32_t buildOutput(void *ctx, const char *role, int32_t value) {
  BuildState &s = state(ctx);
  Value v = s.get(value);
  if (!role || !v)
    return s.fail("output: bad role or value");
  std::string r = role;
  if (r != "loss" && r != "logits")
    return s.fail("output: unknown role '" + r + "' (expected loss or logits)");
  if (!s.outputRoles.insert(r).second)
    return s.fail("output: role '" + r + "' set twice");
  auto type = cast<RankedTensorType>(v.getType());
  if (r == "loss" && (type.getRank() != 0 || !type.getElementType().isF32()))
    return s.fail("output: 'loss' must be an f32 scalar");
  if (r == "logits" && type.getRank() != 2)
    return s.fail("output: 'logits' must be [batch, classes]");
  OutputOp::create(s.b, s.loc, s.b.getStringAttr(r), v);
  return 0;
}

uint32_t valueRank(void *ctx, int32_t value) {
  Value v = state(ctx).get(value);
  return v ? uint32_t(cast<RankedTensorType>(v.getType()).getRank()) : 0;
}

int64_t valueDim(void *ctx, int32_t value, uint32_t axis) {
  Value v = state(ctx).get(value);
  if (!v)
    return -1;
  auto type = cast<RankedTensorType>(v.getType());
  return axis < type.getRank() ? type.getDimSize(axis) : -1;
}

const char *lastError(void *ctx) { return state(ctx).lastError.c_str(); }

} // namespace

OwningOpRef<ModuleOp> mlir::ftc::buildForwardModule(
    MLIRContext &context, Location loc, const ftc_model_plugin_v1_t &plugin,
    const ftc_config_t &config, const ftc_model_context_t &model,
    ModelBuildError &error) {
  context.getOrLoadDialect<FtcDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  BuildState s(context, loc, model);
  if (plugin.header.api_version >= FTC_PLUGIN_API_VERSION_1_4)
    s.family = plugin.family;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      s.diagnostic = diag.str();
    return success();
  });

  s.b.setInsertionPointToEnd(module->getBody());
  auto fn =
      func::FuncOp::create(s.b, loc, "forward", s.b.getFunctionType({}, {}));
  Block *body = fn.addEntryBlock();
  s.b.setInsertionPointToEnd(body);

  ftc_graph_builder_t table = {};
  table.ctx = &s;
  table.input = buildInput;
  table.param = buildParam;
  table.op = buildOp;
  table.output = buildOutput;
  table.rank = valueRank;
  table.dim = valueDim;
  table.last_error = lastError;

  char message[2048] = {0};
  ftc_error_t err = {message, sizeof(message), nullptr};
  ftc_status_t status = plugin.build(&config, &model, &table, &err);
  if (status != FTC_STATUS_OK) {
    error.message =
        message[0] ? message
        : !s.lastError.empty()
            ? s.lastError
            : "model plugin failed with status " + std::to_string(int(status));
    error.key = err.key ? err.key : "";
    return nullptr;
  }
  if (!s.outputRoles.contains("loss")) {
    error.message = "the model plugin built no 'loss' output";
    return nullptr;
  }
  s.b.setInsertionPointToEnd(body);
  func::ReturnOp::create(s.b, loc);
  if (failed(verify(*module))) {
    error.message = "the model plugin built invalid IR: " + s.diagnostic;
    return nullptr;
  }
  return module;
}
