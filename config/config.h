/* config.h - the TOML compile configuration (qnnc.toml), as a plain C struct.
 *
 * The file is parsed with toml++ in config.cc, the one C++ file in the
 * project; this header is all the rest of qnnc sees of it.  docs/config.md
 * documents every key, its type, default and range; examples/qnnc.toml uses
 * them all.
 *
 * Errors are user errors: they go through the diag engine of ir.h as
 * "qnnc.toml:LINE:COL: error: message" with the source line and a caret,
 * and config_load reports every one it finds in a file, not just the first.
 * Command-line flags override values after loading: the driver writes the
 * fields directly (config_set_string for strings).
 *
 * It lives in config/, on the IR alone, because every later stage reads it:
 * the importer (the input layout and shapes below), the passes and the code
 * generator, none of which may depend on another's files.
 */
#ifndef QNNC_CONFIG_H
#define QNNC_CONFIG_H

/* config.cc includes this header: its definitions are noexcept so that no
 * C++ exception can unwind into C callers, and ir.h's functions keep their
 * C names. */
#ifdef __cplusplus
#define CONFIG_API noexcept
extern "C" {
#else
#define CONFIG_API
#endif

#include "ir.h"

/* The layout of 4-D graph inputs and outputs at the compiled model's
 * boundary ([model] input_layout; ImportOptions in frontend.h). */
typedef enum { LAYOUT_MODEL = 0, LAYOUT_NCHW, LAYOUT_NHWC } InputLayout;

/* The full shape of one graph input, given by the user for its symbolic
 * dimensions ([model] input_shapes, --input-shape=NAME:D0,D1,...).  Every
 * dimension is >= 1; the importer checks the name, the rank and that every
 * static dimension of the model agrees. */
typedef struct InputShape {
    const char *name;             /* the graph input's ONNX name */
    int rank;                     /* 0 to QNN_MAX_RANK */
    int64_t dims[QNN_MAX_RANK];
    /* Where it was given, for errors: the config's entry (LOC, and each
     * dimension's DIM_LOC), or LOC.file NULL for the command line. */
    SrcLoc loc;
    SrcLoc dim_loc[QNN_MAX_RANK];
} InputShape;

typedef enum { QSCHEME_INT8 = 0, QSCHEME_INT16X8, QSCHEME_HYBRID, QSCHEME_NONE } QuantScheme;
typedef enum { CALIB_MINMAX = 0, CALIB_PERCENTILE, CALIB_ENTROPY, CALIB_MSE } CalibMethod;
/* What runs the float graph over the calibration samples: the JIT when
 * the work is large enough to repay compiling (auto), always, or never. */
typedef enum { ENGINE_AUTO = 0, ENGINE_JIT, ENGINE_INTERP } CalibEngine;
/* DATA_AUTO only when there is no dataset; otherwise config_load infers the
 * format from the file names if the config does not give it. */
typedef enum { DATA_AUTO = 0, DATA_NPY, DATA_IDX } DataFormat;
typedef enum { WEIGHTS_EMBEDDED = 0, WEIGHTS_EXTERNAL } WeightsMode;

/* Output kinds, as a bit set (QnncConfig.output.emit).  The order is the
 * order of the names in config_emit_names. */
typedef enum {
    EMIT_OBJ = 1 << 0,
    EMIT_ASM = 1 << 1,
    EMIT_LLVM = 1 << 2,
    EMIT_QIR = 1 << 3,
    EMIT_HEADER = 1 << 4,
    EMIT_EXE = 1 << 5,
} EmitKind;
#define EMIT_KIND_COUNT 6

/* Names of the enum values above, NULL-terminated, indexed by the enum (for
 * EmitKind by bit number).  Shared with the driver's flag parser so that
 * `--emit=` and `emit = [...]` accept exactly the same words. */
extern const char *const config_scheme_names[];
extern const char *const config_method_names[];
extern const char *const config_engine_names[];  /* by CalibEngine */
extern const char *const config_format_names[];  /* [DATA_AUTO] is "auto" */
extern const char *const config_weights_names[];
extern const char *const config_emit_names[];
extern const char *const config_layout_names[];   /* by InputLayout */
extern const char *const config_rounding_names[]; /* by RoundingMode */
/* The supported target triples. */
extern const char *const config_triples[];

typedef struct ConfigKeyLoc ConfigKeyLoc;

/* [[quantization.override]]: keep one node in another dtype. */
typedef struct QuantOverride {
    char *node;  /* the ONNX node name (checked against the model later) */
    DType dtype; /* DT_F32, DT_I16 or DT_I8 */
    SrcLoc loc;  /* of the table's header, for errors found later */
} QuantOverride;

/* [model] io_dtypes: the element type of one graph input or output at the
 * compiled model's boundary, overriding [model] io_dtype. */
typedef struct IoDtype {
    char *name;  /* the value's IR name (checked against the model later) */
    DType dtype; /* DT_F32, DT_I8 or DT_U8 */
    SrcLoc loc;  /* of the entry's key, for errors found later */
} IoDtype;

typedef struct QnncConfig {
    char *path;   /* the loaded file, or NULL when none was */
    char *source; /* its text, registered with diag_add_source */

    struct {
        char *path;          /* NULL: given on the command line */
        char *name;          /* C identifier; NULL: derived from the model's file name */
        InputLayout input_layout;
        int64_t batch;       /* >= 1 */
        InputShape *input_shapes; /* one per input name; the names are malloc'd */
        int num_input_shapes;
        DType io_dtype;      /* DT_F32, DT_I8 or DT_U8: inputs and outputs not in io_dtypes */
        IoDtype *io_dtypes;  /* per-tensor overrides, in file order */
        int num_io_dtypes;
        /* The raw-data mapping: float input = raw * input_scale +
         * input_offset.  Calibration feeds IDX bytes through it; when
         * input_mapping is set (a key of it was written), quantize also
         * takes the graph inputs' quantization parameters from it. */
        double input_scale, input_offset;
        bool input_mapping;
    } model;

    struct {
        char *triple;        /* one of config_triples; NULL: the host */
        char *cpu;           /* NULL: the triple's generic CPU */
        char **features;     /* "+dotprod", "-neon", ... */
        int num_features;
    } target;

    struct {
        QuantScheme scheme;
        bool per_channel;        /* per-output-channel weight scales */
        DType activation_dtype;  /* DT_I8/DT_U8 (int8), DT_I16 (int16x8); DT_F32 (hybrid, none) */
        RoundingMode rounding;
        bool equalize;           /* run the equalize pass before calibrate */
        /* Mixed precision (the mixed-precision pass): raise the fewest
         * layers to int16x8 (or float) that bring every graph output to
         * this SQNR in dB over the validation set; 0: not set. */
        double target_sqnr;
        /* ... and keep the top-1 accuracy of the model's first output on
         * the labelled validation set within this many percentage points
         * of the float model's; negative: not set. */
        double max_accuracy_drop;
        bool bias_correct;       /* run the bias-correct pass before quantize */
        bool outlier_int16;      /* quantize gives outlier-dominated conv/dense results int16x8 */
        QuantOverride *overrides;
        int num_overrides;
    } quant;

    struct {
        char **dataset;      /* .npy files, directories of them, or IDX files */
        int num_dataset;
        DataFormat format;
        CalibMethod method;
        CalibEngine engine;  /* the JIT (codegen/jit.c) or the reference interpreter */
        double percentile;   /* (0, 100] */
        int bins;            /* histogram bins for entropy and mse */
        int samples;         /* at most this many calibration inputs */
        /* IDX bytes are mapped with [model] input_scale and input_offset
         * ([calibration] scale and offset are their aliases). */
    } calib;

    /* [validation]: the samples target_sqnr and max_accuracy_drop are
     * measured on (NULL dataset: the calibration set), in the calibration's
     * format; labels: IDX files of their classes, one per sample. */
    struct {
        char **dataset;
        int num_dataset;
        char **labels;
        int num_labels;
        int samples;         /* at most this many (default 8) */
    } valid;

    struct {
        char *object;        /* NULL: NAME.o */
        char *header;        /* NULL: NAME.h */
        unsigned emit;       /* EmitKind bits, never 0 */
        WeightsMode weights;
    } output;

    struct {
        char **disable;      /* pass names, checked by the driver */
        SrcLoc *disable_loc; /* where each name was written */
        int num_disable;
        int tile_m, tile_n, tile_k; /* 0: the target's default */
    } passes;

    struct {
        int64_t max_memory;  /* bytes the model's tensors may need (ir.h, qnn_set_max_memory) */
        int64_t max_scratch; /* the scratch arena's largest size (the stripe pass); 0: not set */
    } limits;

    /* Where each key was set ("model.batch" -> line:col), for later errors
     * about values that can only be checked once the model is known. */
    ConfigKeyLoc *locs;
    int num_locs;
} QnncConfig;

/* Fills CFG with the defaults (no file, everything as docs/config.md says). */
void config_defaults(QnncConfig *cfg) CONFIG_API;

/* Loads PATH over the defaults into CFG.  Relative paths in the file (model,
 * dataset, output) are made relative to the file's directory.  Reports every
 * error through diag and returns false if there was any; CFG is then still
 * safe to config_free.  The diagnostics' file names point into CFG->path:
 * read captured ones (diag_set_capture) before config_free. */
bool config_load(const char *path, QnncConfig *cfg) CONFIG_API;

/* Frees every string and array CFG owns and resets it to the defaults. */
void config_free(QnncConfig *cfg) CONFIG_API;

/* Writes the effective configuration as a TOML file that config_load reads
 * back to the same values (unset optional keys are written as comments). */
void config_print(FILE *f, const QnncConfig *cfg) CONFIG_API;

/* Where KEY ("section.key") was written in the loaded file, or a location
 * naming just the file (line 0) when it was not set there, or {NULL} when
 * no file was loaded. */
SrcLoc config_key_loc(const QnncConfig *cfg, const char *key) CONFIG_API;

/* Replaces the malloc'd string *FIELD with a copy of V (NULL clears it). */
void config_set_string(char **field, const char *v) CONFIG_API;

/* Sets the shape of input S->name in CFG's [model] input_shapes to a copy
 * of S, replacing an earlier one for that name (--input-shape over the
 * file). */
void config_set_input_shape(QnncConfig *cfg, const InputShape *s) CONFIG_API;

/* The boundary dtype of graph input or output NAME: its io_dtypes entry,
 * else io_dtype. */
DType config_io_dtype(const QnncConfig *cfg, const char *name) CONFIG_API;

/* Replaces a malloc'd string array with copies of the N strings in V. */
void config_set_strings(char ***field, int *count, const char *const *v, int n) CONFIG_API;

/* Derives a symbol prefix from a model's file name: the base name without
 * its extension, other characters than [A-Za-z0-9_] turned into '_', and a
 * leading '_' added before a digit ("models/mobilenet-v2.onnx" ->
 * "mobilenet_v2").  Returns a malloc'd string. */
char *config_name_from_path(const char *path) CONFIG_API;

/* True if S is a C identifier usable as a symbol prefix. */
bool config_is_identifier(const char *s) CONFIG_API;

/* The triple config_triples names for the machine qnnc runs on, or NULL
 * when that is none of them. */
const char *config_host_triple(void) CONFIG_API;

/* Index of S (LEN bytes) in the NULL-terminated list NAMES, or -1. */
int config_lookup(const char *const *names, const char *s, size_t len) CONFIG_API;

/* The word among the N CANDS closest to WORD by edit distance, if close
 * enough to be a plausible typo; NULL otherwise.  Used for "did you mean". */
const char *config_suggest(const char *word, const char *const *cands, int n) CONFIG_API;

#ifdef __cplusplus
}
#endif

#endif
