/* passes.h - graph passes and their registry.
 *
 * A pass is a plain function over a graph and the compile configuration.
 * It returns false after reporting a user error through diag; it never
 * leaves the graph half-rewritten in a way the verifier would reject. */
#ifndef QNNC_PASSES_H
#define QNNC_PASSES_H

#include "config.h"
#include "ir.h"
#include "ranges.h"
#include "rewrite.h"

struct MixedReport;
struct PassContext;

/* ---------------------------------------------------------------- samples */

/* The samples a pass runs graphs on.  Passes open no files: the driver
 * (tools/qnnc.c, tools/qnnc-opt.c; tools/samples.c) opens the dataset the
 * configuration names (frontend/dataset.c) when a pass asks for it through
 * PassContext.open_samples, and hands back this iterator.  Opening on
 * demand keeps the driver from reading a dataset no pass needs (scheme
 * "none", --stop-after) and lets each pass name the graph input the
 * samples must fit. */
typedef enum SampleSet {
    /* [calibration] dataset, at most [calibration] samples. */
    SAMPLES_CALIBRATION,
    /* [validation] dataset (the calibration one when it has none), at most
     * [validation] samples, in the calibration's format. */
    SAMPLES_VALIDATION,
} SampleSet;

typedef struct Samples {
    int64_t count; /* >= 1 */
    /* Writes sample I (0 <= I < count) into BUF: one tensor of the type the
     * samples were opened for (type_nbytes bytes).  Samples can be read in
     * any order and more than once.  False after reporting "PATH: message"
     * through diag. */
    bool (*read)(void *h, int64_t i, void *buf);
    void (*close)(void *h);
    void *h;
    /* SAMPLES_VALIDATION with [validation] labels: sample I's class, for
     * I < count (the labels match the dataset's samples one to one); else
     * NULL.  Freed by samples_close. */
    int32_t *labels;
} Samples;

/* Opens SET for graph input IN (each sample is one tensor of IN's type,
 * checked against it: shapes, IDX headers, that directories hold .npy
 * files).  False after reporting "PATH: message"; ctx->open_samples must
 * be set. */
bool samples_open(const struct PassContext *ctx, SampleSet set, const Value *in, Samples *out);
static inline bool samples_read(const Samples *s, int64_t i, void *buf)
{
    return s->read(s->h, i, buf);
}
void samples_close(Samples *s);

/* ---------------------------------------------------------------- evaluation */

/* A faster way than the reference interpreter to run a float graph over
 * many samples while observing every tensor: the driver hands passes
 * codegen's JIT (codegen/jit.h) this way, so passes/ does not depend on
 * codegen/ (which depends on passes/).  docs/passes.md, "calibrate". */
typedef bool (*SampleReader)(void *ctx, int64_t i, void *const inputs[]);
/* An observer in parts that worker threads run (Evaluator.run_split):
 * each worker observes the samples it computes into state of its own, and
 * what must be accumulated in sample order is committed in sample order,
 * so the result does not depend on the thread count or the scheduling. */
typedef struct SplitObserver {
    void *ctx;
    /* Worker W's own state (W = 0 .. workers-1), on the calling thread
     * before any sample. */
    void *(*fork)(void *ctx, int w);
    /* On the worker's thread, with its state first, as InterpObserver:
     * the graph inputs and every node result of each sample it runs. */
    InterpObserver observe;
    /* Sample I has been observed into WS: called for samples 0, 1, 2, ...
     * in order, one at a time, from any thread. */
    void (*commit)(void *ctx, void *ws, int64_t i);
    /* After the last sample (or a failure), for each worker in order, on
     * the calling thread: merge WS into CTX and free it. */
    void (*join)(void *ctx, void *ws);
} SplitObserver;
typedef struct Evaluator {
    /* Prepares G (verified) for run; NULL if it cannot (a
     * host it has no target for, a graph it cannot lower: then after a
     * warning through diag), and the caller uses the interpreter. */
    void *(*open)(const Graph *g);
    /* Runs samples 0 .. N-1: READ(RCTX, i, inputs) fills sample i's
     * inputs (type_nbytes each; called under a lock, from any thread, in
     * no particular order), and OBSERVE(OCTX, v, data) sees the graph
     * inputs and every node result
     * of each sample exactly as interp_run_observed calls it, samples in
     * order, one at a time (from any thread).  False after READ failed or
     * a diag error. */
    bool (*run)(void *h, int64_t n, SampleReader read, void *rctx, InterpObserver observe, void *octx);
    void (*close)(void *h);
    /* As run, with OBS's parts on the worker threads (NULL: not offered). */
    bool (*run_split)(void *h, int64_t n, SampleReader read, void *rctx, const SplitObserver *obs);
} Evaluator;

/* What a pass may consult besides the graph. */
typedef struct PassContext {
    const QnncConfig *cfg; /* never NULL: the defaults when no file was given */
    /* NULL: the reference interpreter (qnnc-opt, which does not link
     * LLVM); qnnc passes codegen's JIT. */
    const Evaluator *eval;
    /* Where mixed-precision leaves what it measured, for the report (NULL:
     * nowhere). */
    struct MixedReport *mixed;
    /* Where stripe leaves what it did, for the report (NULL: nowhere). */
    struct StripeReport *stripe;
    /* The driver's: opens SET for input IN (see samples_open).  NULL only
     * where no pass reads a dataset. */
    bool (*open_samples)(const struct PassContext *ctx, SampleSet set, const Value *in, Samples *out);
} PassContext;

/* engine.c: what runs G over SAMPLES samples in a pass: ctx->eval when
 * there is one and [calibration] engine is "jit", or "auto" and
 * graph_work(G) * SAMPLES reaches MIN_WORK; else NULL, the interpreter.
 * graph_work: one run's multiply-accumulates (conv2d, dense and matmul by
 * their reductions, every other node by its result's elements). */
const Evaluator *pass_engine(const Graph *g, const PassContext *ctx, int64_t samples, double min_work);
int64_t graph_work(const Graph *g);

/* quantize.c: whether quantize, with CFG, gives node N of G int16x8 by
 * itself: a conv or dense whose calibrated range a few samples set
 * (docs/passes.md, "Outlier-dominated tensors").  mixed-precision makes
 * such nodes float-only candidates whose unraised state is that int16x8. */
bool quantize_outlier_output(const Graph *g, const Node *n, const QnncConfig *cfg);

typedef bool (*PassFn)(Graph *g, const PassContext *ctx);

typedef struct Pass {
    const char *name;    /* as given to qnnc-opt --passes= */
    const char *summary; /* one line for --help */
    PassFn run;
} Pass;

/* Every pass, one per passes.def row: PASS_<function> indexes
 * pass_registry, and each pass function is declared here. */
typedef enum PassId {
#define PASS(NAME, FN, SUMMARY) PASS_##FN,
#include "passes.def"
#undef PASS
    NUM_PASSES
} PassId;
#define PASS(NAME, FN, SUMMARY) bool FN(Graph *g, const PassContext *ctx);
#include "passes.def"
#undef PASS

/* Every registered pass, in the order --help lists them (passes.def). */
extern const Pass pass_registry[];
extern const int pass_registry_count;
const Pass *pass_lookup(const char *name, size_t len);


/* ---------------------------------------------------------------- calibration */

/* calibrate.c runs the float graph over the calibration set and writes
 * range(lo, hi) on every f32 input and node result (docs/passes.md). */

/* pipeline.c: the default compile pipeline; the table there is the order.
 * Runs every pass not disabled in the configuration, verifying after each,
 * and stops at the first that fails. */
typedef struct PipelineHooks {
    bool print_after_all;     /* print the IR to stderr after every pass */
    const char *print_after;  /* ... or after this pass only (NULL: none) */
    const char *stop_after;   /* stop after this pass; "import": run none */
    /* Called before each pass runs (NULL: not called). */
    void (*before)(void *user, const char *pass, const Graph *g);
    void *user;
} PipelineHooks;
bool run_pipeline(Graph *g, const PassContext *ctx, const PipelineHooks *hooks);
bool pipeline_has_pass(const char *name);

/* mixed_precision.c: what the mixed-precision pass measured and chose
 * ([quantization] target_sqnr, max_accuracy_drop; docs/passes.md,
 * "mixed-precision"). */
typedef struct MixedLayer {
    char *name;         /* the node's result in the float graph */
    OpId op;
    double sqnr_db;     /* worst output with this layer (and its readers) alone at int16x8 */
    double sqnr_f32_db; /* ... alone in float (NAN: not measured) */
    double acc, acc_f32; /* top-1 accuracy (%) then, with labels (NAN: not measured) */
    DType chosen;       /* DT_I8, DT_I16 or DT_F32 */
    DType base;         /* what it is not raised: DT_I8, or DT_I16 for an
                         * outlier-dominated conv/dense quantize makes
                         * int16x8 by itself; raised when chosen != base */
    int64_t macs;       /* multiply-accumulates (elements for ops without) */
    int64_t extra_bytes; /* activation (and weight) bytes raising it adds (from base) */
} MixedLayer;
typedef struct MixedReport {
    bool ran;
    double target_db;   /* target_sqnr; 0: not set */
    double max_drop;    /* max_accuracy_drop, points; < 0: not set */
    double acc_float, acc_before, acc_after; /* top-1 accuracy (%) of the first output; NAN without labels */
    int samples;        /* validation samples measured on */
    int evaluations;    /* quantize + run over the samples */
    double seconds;     /* the whole search */
    int num_outputs;
    char **output_names;
    double *before_db, *after_db; /* per output: all int8, the chosen set */
    int num_layers;     /* candidates */
    MixedLayer *layers;
    int64_t extra_macs, extra_bytes; /* of the chosen set */
} MixedReport;
void mixed_report_free(MixedReport *m);
/* The report's "mixed_precision" member (JSON, ending in ",\n") or its
 * text section; nothing when the pass did not run. */
void mixed_report_json(FILE *f, const MixedReport *m);
void mixed_report_text(FILE *f, const MixedReport *m);

/* tile.c sets tile=[m, n, k] on every conv2d/dense/matmul from the
 * target's vector width and caches, overridden by [passes] tile_m/tile_n/
 * tile_k. */
/* The tile tile() would choose for N on TRIPLE (config_triples) with CPU
 * and FEATURES ("+a,-b"; either may be NULL); codegen uses it for nodes
 * without the attribute. */
void tile_defaults(const Node *n, const char *triple, const char *cpu, const char *features, int64_t tile[3]);
/* Whether FEATURE (no sign: "dotprod") is on: the last mention in FEATURES
 * wins, else what CPU is known to have. */
bool target_has_feature(const char *triple, const char *cpu, const char *features, const char *feature);

/* plan-memory (plan_memory.c): where every intermediate tensor lives in the
 * one scratch arena a compiled model gets.  Graph inputs and outputs live
 * in the caller's buffers and constants in read-only data, so only node
 * results that are not graph outputs get scratch. */
/* What the stripe pass did (stripe.c), for the report: STAGES striped
 * stages (0: none), scratch before (the whole-tensor plan's, and with
 * in-place depthwise) and after, and the extra multiply-accumulates. */
typedef struct StripeReport {
    int stages;
    int64_t whole_bound, whole_scratch, before, after, extra_macs, base_macs;
} StripeReport;

typedef struct MemoryPlan {
    int num_values;
    int64_t *offset;      /* by Value id: byte offset in scratch, or -1 (not in scratch) */
    int *root;            /* by Value id: the value whose storage it shares (itself if none) */
    int64_t scratch_size; /* bytes: max over values of offset + size */
    int64_t lower_bound;  /* max over nodes of the bytes simultaneously live */
    int align;            /* every offset is a multiple of this */
    /* In-place depthwise (plan_memory.c): by node index, the byte offset
     * of the node's row buffer in scratch, or -1 when the node's result
     * has storage of its own (NULL: none in place). */
    int num_nodes;
    int64_t *rowbuf;
    int64_t rowbuf_bytes;      /* the row buffers' bytes, summed */
    int64_t in_place_saved;    /* whole_scratch - scratch_size when in-place depthwise is used */
    int64_t whole_scratch;     /* scratch of the plan with every depthwise result a tensor of its own */
    int64_t whole_bound;       /* that plan's lower bound: the whole-tensor bound */
} MemoryPlan;
/* A depthwise conv2d computed over its own input: output rows go to a
 * ring of SLOTS rows (ROW_BYTES each) and each is copied over the input
 * once no later output row reads the input bytes it covers.  Geometry of
 * node N (NHWC, N = 1, i8/u8, group = channels), or false when N cannot
 * run in place (not depthwise, output bigger than input, a window wholly
 * in the padding). */
typedef struct DwInPlace {
    int64_t h, oh;        /* input and output rows */
    int64_t in_row;       /* input row bytes (W*C) */
    int64_t row_bytes;    /* output row bytes (OW*C) */
    int64_t slots;        /* rows in the ring */
    int64_t bytes;        /* the ring: slots * row_bytes */
    int64_t kh, sh, dh, pt, pb;
} DwInPlace;
bool dw_in_place_geometry(const Node *n, DwInPlace *out);
/* How many output rows may be written over the input once rows 0..C have
 * been computed (all of them when C is the last row). */
int64_t dw_in_place_written(const DwInPlace *d, int64_t c);
MemoryPlan plan_memory(const Graph *g, int align);
void memory_plan_free(MemoryPlan *p);
/* "%name offset=N size=M [alias=%root]" per scratch value, then
 * "scratch=S lower_bound=L align=A". */
void memory_plan_print(FILE *f, const Graph *g, const MemoryPlan *p);

#endif
