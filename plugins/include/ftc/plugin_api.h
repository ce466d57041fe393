/*===- plugin_api.h - The ftc plugin ABI (versioned C) -----------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The one header a model or dataset plugin needs. Standalone C: only
 * <stddef.h> and <stdint.h>. A plugin is a shared library that exports
 *
 *   const ftc_plugin_header_t* ftc_plugin_query(uint32_t max_api_version);
 *
 * returning NULL when it cannot serve any version <= max_api_version. The
 * header is the first member of the kind-specific table
 * (ftc_model_plugin_v1_t or ftc_dataset_plugin_v1_t), so the host casts it
 * after checking `kind` and `api_version`.
 *
 * Versioning: the major part (high 16 bits) changes when a table's layout
 * changes incompatibly; the host refuses other majors. Minor bumps only
 * append members and use reserved fields.
 *===----------------------------------------------------------------------===*/
#ifndef FTC_PLUGIN_API_H
#define FTC_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FTC_PLUGIN_API_VERSION_1_0 0x00010000u
/* 1.1: ftc_dataset_plugin_v1_t.label_name (in a former reserved slot). */
#define FTC_PLUGIN_API_VERSION_1_1 0x00010001u
/* 1.2: ftc_model_plugin_v1_t.base_model_prefix and
 * ftc_dataset_plugin_v1_t.skipped_records (in former reserved slots). */
#define FTC_PLUGIN_API_VERSION_1_2 0x00010002u
/* 1.3: ftc_dataset_plugin_v1_t.describe (the data report). */
#define FTC_PLUGIN_API_VERSION_1_3 0x00010003u
/* 1.4: ftc_model_plugin_v1_t.family (layers, Hugging Face classes). */
#define FTC_PLUGIN_API_VERSION_1_4 0x00010004u
/* 1.5: ftc_family_info_t.stored_layout and default_lora_targets (in former
 * reserved slots). */
#define FTC_PLUGIN_API_VERSION_1_5 0x00010005u
/* 1.6: ftc_dataset_plugin_v1_t.set_epoch (in the former reserved slot:
 * epoch-dependent examples such as random augmentation), the key type
 * FTC_KEY_FLOAT_ARRAY, the key flag FTC_KEY_SCALAR_OR_ARRAY and
 * ftc_config_t.get_float_at (in a former reserved slot). */
#define FTC_PLUGIN_API_VERSION_1_6 0x00010006u
#define FTC_PLUGIN_API_VERSION_LATEST FTC_PLUGIN_API_VERSION_1_6
#define FTC_PLUGIN_API_MAJOR(v) ((uint32_t)(v) >> 16)
#define FTC_PLUGIN_QUERY_SYMBOL "ftc_plugin_query"

#if defined(_WIN32)
#define FTC_PLUGIN_EXPORT __declspec(dllexport)
#else
#define FTC_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/*===-------------------------- common types ----------------------------===*/

typedef enum ftc_status_e {
  FTC_STATUS_OK = 0,
  FTC_STATUS_INVALID_ARGUMENT = 1, /* a bad spec value */
  FTC_STATUS_NOT_FOUND = 2,        /* a missing file or key */
  FTC_STATUS_IO_ERROR = 3,         /* unreadable file */
  FTC_STATUS_DATA_ERROR = 4,       /* corrupt or inconsistent data */
  FTC_STATUS_INTERNAL = 5,
} ftc_status_t;

typedef enum ftc_plugin_kind_e {
  FTC_PLUGIN_KIND_MODEL = 1,
  FTC_PLUGIN_KIND_DATASET = 2,
} ftc_plugin_kind_t;

typedef enum ftc_dtype_e {
  FTC_DTYPE_F32 = 1,
  FTC_DTYPE_I32 = 2,
} ftc_dtype_t;

#define FTC_MAX_RANK 8

/* Errors flow back to the host through this struct. The plugin writes a
 * NUL-terminated message (truncated to `capacity`) and, when a spec key is
 * at fault, sets `key` to a static string naming it ("train", "hidden_sizes")
 * so the host can point at that key's line and column in the spec. */
typedef struct ftc_error_t {
  char *message;
  size_t capacity;
  const char *key;
} ftc_error_t;

/*===---------------------- keys a plugin declares ----------------------===*/

typedef enum ftc_key_type_e {
  FTC_KEY_INT = 1,
  FTC_KEY_FLOAT = 2,
  FTC_KEY_BOOL = 3,
  FTC_KEY_STRING = 4,
  FTC_KEY_INT_ARRAY = 5,
  FTC_KEY_STRING_ARRAY = 6,
  FTC_KEY_FLOAT_ARRAY = 7, /* since 1.6: numbers (integers are widened) */
} ftc_key_type_t;

#define FTC_KEY_REQUIRED 0x1u /* no default; the spec must set it */
/* Since 1.6: an INT_ARRAY or FLOAT_ARRAY key also takes a single value
 * (`mean = 0.5` as well as `mean = [0.5, 0.4, 0.4]`); the plugin reads it
 * with get_int / get_float, and get_array_size gives 0 for it. Older hosts
 * ignore the flag and take arrays only. */
#define FTC_KEY_SCALAR_OR_ARRAY 0x2u

/* One key the plugin adds to its spec section ([model] or [dataset]). The
 * host validates type, range and choices and fills in the default, so a
 * plugin can read every declared key without checking for absence. */
typedef struct ftc_key_decl_t {
  const char *name;
  uint32_t type;  /* ftc_key_type_t */
  uint32_t flags; /* FTC_KEY_* */
  /* Default as a TOML value literal ("[256]", "\"relu\"", "0.5"); NULL
   * means "unset" (the key is optional and has no value). */
  const char *default_toml;
  /* Inclusive numeric range for INT/FLOAT (and each INT_ARRAY element);
   * ignored when min > max. */
  double min, max;
  /* '|'-separated allowed values for STRING keys, or NULL for any. */
  const char *choices;
  const char *doc;
} ftc_key_decl_t;

/* Read access to the resolved spec section the plugin belongs to. Keys are
 * plain names within the section ("hidden_sizes"), or dotted paths from the
 * spec root ("train.batch_size"). Getters return 1 when the key holds a value
 * of the asked type, 0 otherwise. Strings stay valid for the call. */
typedef struct ftc_config_t {
  void *ctx;
  int (*get_int)(void *ctx, const char *key, int64_t *out);
  int (*get_float)(void *ctx, const char *key, double *out);
  int (*get_bool)(void *ctx, const char *key, int *out);
  const char *(*get_string)(void *ctx, const char *key);
  /* Arrays: size (0 when absent), then element access. */
  size_t (*get_array_size)(void *ctx, const char *key);
  int (*get_int_at)(void *ctx, const char *key, size_t index, int64_t *out);
  const char *(*get_string_at)(void *ctx, const char *key, size_t index);
  /* Since 1.6 (NULL from older hosts): element `index` of a number array
   * (integers widened). */
  int (*get_float_at)(void *ctx, const char *key, size_t index, double *out);
  void *reserved[3];
} ftc_config_t;

/*===------------------------- plugin header ----------------------------===*/

typedef struct ftc_plugin_header_t {
  uint32_t api_version; /* the FTC_PLUGIN_API_VERSION_* it was built for */
  uint32_t kind;        /* ftc_plugin_kind_t */
  const char *name; /* referenced from the spec: model.family, dataset.type */
  const char *version; /* the plugin's own version, e.g. "1.0.0" */
  const char *description;
  uint64_t reserved[4];
} ftc_plugin_header_t;

typedef const ftc_plugin_header_t *(*ftc_plugin_query_fn_t)(
    uint32_t max_api_version);

/*===--------------------------- datasets -------------------------------===*/

/* One feature of an example, without the batch dimension. */
typedef struct ftc_feature_desc_t {
  const char *name;
  uint32_t dtype; /* ftc_dtype_t */
  uint32_t rank;
  int64_t shape[FTC_MAX_RANK];
} ftc_feature_desc_t;

typedef struct ftc_dataset_info_t {
  int64_t num_examples;
  const ftc_feature_desc_t *features; /* owned by the handle */
  size_t num_features;
  /* The feature holding the class index (I32, rank 0), or NULL. */
  const char *label_feature;
  int64_t num_classes; /* 0 when unknown or not a classification set */
} ftc_dataset_info_t;

/* Since 1.3: what the data report (`ftc check`, report.html) needs of one
 * example; cheap facts of the stored record, no model involved. */
typedef struct ftc_example_facts_t {
  /* The example's input as stored, the label excluded: equal hashes are
   * duplicates (and, across splits, leakage). */
  uint64_t hash;
  /* The same after the type's normalisation (text: case, spacing and
   * punctuation ignored); equal to `hash` where the type has none. */
  uint64_t normalized_hash;
  int64_t record;  /* where it is in `source`: 1-based line or record */
  int64_t length;  /* input length before truncation (length_unit); -1 */
  int64_t unknown; /* unknown tokens in the input; -1 where meaningless */
} ftc_example_facts_t;

typedef struct ftc_split_facts_t {
  const char *source;      /* the split's file, for references */
  const char *record_unit; /* what `record` counts: "line", "record" */
  const char *length_unit; /* "tokens", or NULL: lengths are not given */
  int64_t max_length;      /* where inputs are truncated; 0 = nowhere */
  /* One entry per example (info.num_examples), owned by the handle. */
  const ftc_example_facts_t *examples;
  uint64_t reserved[4];
} ftc_split_facts_t;

typedef struct ftc_dataset_plugin_v1_t {
  ftc_plugin_header_t header;
  const ftc_key_decl_t *keys;
  size_t num_keys;
  /* Opens one split ("train" or "eval") as configured by the [dataset]
   * section; validates the files completely (magic, sizes, label range).
   * `ftc predict` opens the split "predict": the file is the config key
   * "predict" (the host sets it to --input), labels are optional and an
   * unlabelled example's label is -1; the features must have the train
   * split's shapes. A plugin without it fails with "unknown split". */
  ftc_status_t (*open)(const ftc_config_t *config, const char *split,
                       void **handle, ftc_error_t *error);
  ftc_status_t (*info)(void *handle, ftc_dataset_info_t *out);
  /* Writes examples `indices[0..count)` into `buffers`, one per feature in
   * info order, each a contiguous [count, shape...] array of its dtype.
   * Random access keeps shuffling and exact resume simple. */
  ftc_status_t (*fill)(void *handle, const int64_t *indices, size_t count,
                       void *const *buffers, ftc_error_t *error);
  void (*close)(void *handle);
  /* Since 1.1 (NULL in 1.0 plugins): the name of class `index` of the label
   * feature ("great"), or NULL when classes have no names. Valid while the
   * handle is open. The host saves them as id2label / label2id. */
  const char *(*label_name)(void *handle, int64_t index);
  /* Since 1.2 (NULL before): how many malformed records of the split's
   * files were skipped (a spec option such as skip_bad_rows allowed it)
   * rather than reported; the host prints and records the count. */
  int64_t (*skipped_records)(void *handle);
  /* Since 1.3 (NULL before, or where the type has nothing to add): the
   * split's facts for the data report. Without it the host hashes the
   * filled features (the label excluded) and numbers the records itself. */
  ftc_status_t (*describe)(void *handle, ftc_split_facts_t *out,
                           ftc_error_t *error);
  /* Since 1.6 (NULL before, or for a type whose examples never change):
   * the host calls it before it fills the examples of training epoch
   * `epoch` (1-based, the epoch of the step the examples are for, so a run
   * resumed in the middle of an epoch passes the same value as the
   * uninterrupted run did) with the job's seed (pipeline.seed). What fill
   * returns for example i may then depend on (seed, epoch, i) and nothing
   * else (random crops and flips), so that a resumed run sees the same
   * examples. Returns 1 when the split's examples do depend on the epoch
   * (the host then caches nothing per example across epochs, such as a
   * frozen prefix's outputs), 0 when they do not. Before the first call a
   * plugin serves epoch 1 of pipeline.seed. */
  int32_t (*set_epoch)(void *handle, int64_t epoch, uint64_t seed);
} ftc_dataset_plugin_v1_t;

/*===------------------------- model graphs -----------------------------===*/

typedef enum ftc_init_kind_e {
  FTC_INIT_ZEROS = 1,
  FTC_INIT_ONES = 2,
  FTC_INIT_NORMAL = 3,  /* a = mean, b = std */
  FTC_INIT_UNIFORM = 4, /* a = low, b = high */
} ftc_init_kind_t;

typedef struct ftc_init_t {
  uint32_t kind; /* ftc_init_kind_t */
  double a, b;
} ftc_init_t;

#define FTC_PARAM_HEAD 0x1u /* part of the task head (head-only, bitfit) */

typedef enum ftc_attr_kind_e {
  FTC_ATTR_INT = 1,
  FTC_ATTR_FLOAT = 2,
  FTC_ATTR_STRING = 3,
  FTC_ATTR_INTS = 4,
} ftc_attr_kind_t;

typedef struct ftc_attr_t {
  const char *name;
  uint32_t kind; /* ftc_attr_kind_t */
  int64_t i;
  double f;
  const char *s;
  const int64_t *ints;
  size_t num_ints;
} ftc_attr_t;

/* Values are small non-negative integers; negative means error (the host
 * keeps the message for last_error). Ops are named as in the ftc dialect
 * without the prefix ("linear", "relu", "softmax_cross_entropy"); new ops
 * never change this table. */
typedef struct ftc_graph_builder_t {
  void *ctx;
  /* The batched value of a dataset feature: shape [batch, feature...]. */
  int32_t (*input)(void *ctx, const char *feature);
  int32_t (*param)(void *ctx, const char *name, uint32_t dtype, uint32_t rank,
                   const int64_t *shape, ftc_init_t init, uint32_t flags);
  /* Returns the number of results written to `results`, or -1. */
  int32_t (*op)(void *ctx, const char *op, const int32_t *operands,
                size_t num_operands, const ftc_attr_t *attrs, size_t num_attrs,
                int32_t *results, size_t max_results);
  /* Marks a graph output by role: "loss" (scalar, required), "logits". */
  int32_t (*output)(void *ctx, const char *role, int32_t value);
  /* Shape queries, so plugins need not track shapes themselves. */
  uint32_t (*rank)(void *ctx, int32_t value);
  int64_t (*dim)(void *ctx, int32_t value, uint32_t axis);
  const char *(*last_error)(void *ctx);
  void *reserved[4];
} ftc_graph_builder_t;

/* What the host knows when the model is built. */
typedef struct ftc_model_context_t {
  int64_t batch_size;
  const ftc_feature_desc_t *features;
  size_t num_features;
  const char *label_feature; /* NULL when the dataset has none */
  int64_t num_labels;        /* resolved: spec model.num_labels or dataset */
  const char *checkpoint;    /* model.checkpoint directory, or NULL */
} ftc_model_context_t;

/* ftc_family_info_t.layer_of: a parameter before every block (the
 * embeddings), and one in no block (a head, a pooler). */
#define FTC_LAYER_BEFORE (-1)
#define FTC_LAYER_NONE (-2)

/* ftc_family_info_t.stored_layout: a parameter stored as the graph uses it,
 * or a 2-D weight the graph uses as [out, in] stored as [in, out] (GPT-2's
 * Conv1D). */
#define FTC_LAYOUT_AS_IS 0
#define FTC_LAYOUT_TRANSPOSED 1

/* Since 1.4: what the host needs to know of a model family beyond its
 * graph. Every member may be NULL. */
typedef struct ftc_family_info_t {
  /* The block parameter `name` belongs to: its 0-based index,
   * FTC_LAYER_BEFORE or FTC_LAYER_NONE. Used by freeze.freeze_below,
   * layer-wise lr decay and the reports. */
  int64_t (*layer_of)(const char *name);
  /* The Hugging Face architecture of `task` ("BertForSequenceClassification"),
   * written to config.json's `architectures`; NULL where there is none. */
  const char *(*hf_architecture)(const char *task);
  /* The Hugging Face tokenizer class of the family's checkpoints
   * ("BertTokenizer"), written to tokenizer_config.json. */
  const char *tokenizer_class;
  /* Since 1.5 (NULL: every parameter as is): how the family's checkpoints
   * store parameter `name`, FTC_LAYOUT_AS_IS or FTC_LAYOUT_TRANSPOSED. The
   * host transposes once when loading and back when saving; LoRA adapters
   * on a transposed weight are written with PEFT's fan_in_fan_out. */
  int32_t (*stored_layout)(const char *name);
  /* Since 1.5 (NULL: freeze.lora_targets is required): the modules LoRA
   * adapts when freeze.lora_targets is not set, comma-separated, in
   * lora_targets' syntax ("query,value"; GPT-2: "c_attn"). */
  const char *default_lora_targets;
  void *reserved[3];
} ftc_family_info_t;

typedef struct ftc_model_plugin_v1_t {
  ftc_plugin_header_t header;
  const ftc_key_decl_t *keys;
  size_t num_keys;
  /* Declares parameters and builds the forward graph through `builder`. */
  ftc_status_t (*build)(const ftc_config_t *config,
                        const ftc_model_context_t *context,
                        const ftc_graph_builder_t *builder, ftc_error_t *error);
  /* Since 1.2 (read only when header.api_version >= 1.2; NULL = none): the
   * name prefix under which the family's task models hold the base model's
   * parameters, Hugging Face's `base_model_prefix` ("bert" for
   * "bert.encoder.layer.0..."). A checkpoint of the base model alone (names
   * without the prefix, e.g. a `BertModel`) then loads into a task model. */
  const char *base_model_prefix;
  /* Since 1.4 (NULL before, or for a family without layers or Hugging Face
   * classes): the family's knowledge, above. */
  const ftc_family_info_t *family;
  void *reserved[2];
} ftc_model_plugin_v1_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FTC_PLUGIN_API_H */
