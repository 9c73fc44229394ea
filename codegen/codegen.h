/* codegen.h - the LLVM back end: a verified graph in, an object file out.
 *
 * The stage's one shared header.  It has three audiences:
 *
 *   - the driver (tools/qnnc.c): codegen_compile() and
 *     codegen_write_header() are all it needs;
 *   - per-op lowering (codegen/lower*.c), which builds LLVM IR through the
 *     Cg context and the helpers below;
 *   - per-target kernels (codegen/<target>/), which get first refusal on
 *     every node through CgTarget.lower_node and fall back to the generic
 *     scalar lowering by returning NULL.
 *
 * Everything the generated code needs to know about a model is folded at
 * compile time: shapes, strides, zero points, per-channel multipliers and
 * shifts, activation bounds, lookup tables for int8 unary ops.  The
 * generated function only runs loops over buffers.
 *
 * LLVM C API only (llvm-c/), linked against libLLVM-19.so.
 */
#ifndef QNNC_CODEGEN_H
#define QNNC_CODEGEN_H

#include "quant.h" /* OutStage, QParam: the oracle's folded parameters */
#include "ir.h"
#include "passes.h" /* MemoryPlan */

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

/* ---------------------------------------------------------------- targets */

typedef struct Cg Cg;

/* One supported target.  Each lives in its own folder (codegen/x86/,
 * codegen/aarch64/, codegen/riscv/, codegen/arm/) with the same set of
 * files: target.c defines the CgTarget, kernels there add lower_node. */
typedef struct CgTarget {
    const char *triple;       /* the name users give: "x86_64-linux-gnu" */
    const char *llvm_triple;  /* what LLVM is told: "x86_64-unknown-linux-gnu" */
    const char *default_cpu;  /* -mcpu default */
    const char *base_features;/* always on (before -mattr), e.g. "+dsp" */
    int vector_bytes;         /* widest vector register of the default CPU (0: none) */
    LLVMRelocMode reloc;      /* PIC on Linux, static on bare metal */
    const char *abi;          /* module flag "target-abi" (RISC-V: "lp64d"), or NULL */
    const char *asm_prologue; /* module-level inline assembly, or NULL */
    /* Used instead when the module computes nothing in floating point (a
     * model with integer inputs and outputs, rounding=tflite); NULL:
     * asm_prologue. */
    const char *asm_prologue_no_float;
    unsigned float_callconv;  /* LLVM calling convention for float libm calls (0: C) */
    /* Emit the module flag min_enum_size=1 (what clang -fshort-enums emits)
     * so the object's Tag_ABI_enum_size matches newlib and GCC's default
     * (docs/runtime.md, "Enums are pinned to 4 bytes"). */
    bool short_enums;
    /* Offered every node before the generic lowering: emit target-specific
     * IR at cg->b's insertion point and return the kernel's name (it ends
     * the node function's symbol, NAME_run.K.<kernel>: kern_select), or
     * return NULL (and emit nothing) to let the generic scalar loops do it.
     * May be NULL. */
    const char *(*lower_node)(Cg *cg, const Node *n);
} CgTarget;

extern const CgTarget cg_target_x86, cg_target_aarch64, cg_target_riscv, cg_target_arm, cg_target_armv81m,
    cg_target_riscv32;

/* The target for a triple of config_triples, or NULL. */
const CgTarget *cg_target_lookup(const char *triple);

/* The CPU names (FEATURES false) or feature names (without their sign)
 * LLVM accepts for TRIPLE, NULL-terminated, as `llc -mcpu=help` listed
 * them when qnnc was configured (cmake/llvm_names.cmake); NULL for a
 * triple that is not a target.  codegen_compile rejects other names. */
const char *const *codegen_target_names(const char *triple, bool features);

/* -mcpu=native (and host): LLVM's name for the CPU qnnc runs on and its
 * features as "+a,-b,..." (only names codegen_target_names lists for
 * TRIPLE), both malloc'd.  False when TRIPLE is not a target.  Callers
 * check that TRIPLE is the host's. */
bool codegen_host_cpu(const char *triple, char **cpu, char **features);

/* ---------------------------------------------------------------- driver interface */

typedef struct CodegenOptions {
    const char *name;     /* symbol prefix: NAME_run, NAME_info */
    const char *triple;   /* one of config_triples */
    const char *cpu;      /* NULL: the target's default */
    const char *features; /* "+a,-b" or NULL */
    SrcLoc cpu_loc, features_loc; /* where errors about them point ({0}: nowhere) */
    int opt_level;        /* 0..3 */
    bool external_weights;
    /* --profile: NAME_run calls qnn_profile_mark(k) before node k and
     * after the last, and the object has NAME_profile (qnn_runtime.h);
     * without it the object has neither. */
    bool profile;
    /* No fused multiply-add, not even an exact one: the JIT (codegen/jit.c)
     * refuses any llvm.fma so that calibration cannot depend on the host. */
    bool no_fma;
    /* -fno-float-output-stage: no output stage of requant_float.c (kernels
     * keep the integer forms; for A/B measurements). */
    bool no_float_stage;
    /* -fno-wide-depthwise: no dw_channels4w (32 channels a step) in the
     * x86 depthwise kernels (for A/B measurements). */
    bool no_dw_wide;
} CodegenOptions;

/* What codegen_compile produces; every buffer is malloc'd (NULL when it
 * was not asked for). */
typedef struct CodegenOutput {
    char *obj;
    size_t obj_len;
    char *asm_text;
    size_t asm_len;
    char *ll;             /* textual LLVM IR after optimization */
    size_t ll_len;
    char *weights;        /* --weights=external: NAME.weights.bin contents */
    size_t weights_len;
    MemoryPlan plan;      /* the scratch layout the code uses */
    /* By node index: the bytes of the stack buffers its function allocates
     * (array allocas: the Cortex-M kernels' im2col rows), outside scratch;
     * register spills not counted. */
    int64_t *node_stack;
} CodegenOutput;

enum { CG_WANT_OBJ = 1, CG_WANT_ASM = 2, CG_WANT_LLVM = 4 };

/* Lowers G (verified) for O's target and produces the outputs WANT asks
 * for.  On a user error (unsupported op form, bad -mcpu/-mattr, a
 * multiplier TFLite cannot represent) it reports through diag and returns
 * false; OUT is then empty.  Same inputs give byte-identical outputs. */
bool codegen_compile(const Graph *g, const CodegenOptions *o, unsigned want, CodegenOutput *out);
void codegen_output_free(CodegenOutput *out);

/* The JIT's half of codegen_compile (codegen/jit.c): lowers G into a new
 * module in CTX with every value where PLAN puts it (not plan_memory's
 * plan) and optimises it for TM, whose target is O->triple; no NAME_info.
 * The caller owns the module.  NULL after a diag error. */
LLVMModuleRef codegen_module(const Graph *g, const CodegenOptions *o, const MemoryPlan *plan,
                             LLVMContextRef ctx, LLVMTargetMachineRef tm);

/* The object's flash, byte by byte (codegen_flash below fills it from the
 * compiled object; docs/passes.md, "The quantization report"): every
 * allocated section that has bytes in the file, and a row per node of G
 * plus the shared rows, each split by kind and by section.  The rows of
 * one section sum to its size exactly. */
typedef enum {
    FLASH_CODE,    /* machine code */
    FLASH_WEIGHTS, /* weights, as the kernels store them (packed, padded, widened) */
    FLASH_BIASES,  /* biases (kernels may fold zero-point corrections in) */
    FLASH_REQUANT, /* per-channel multipliers, shifts, rounding and clamp tables */
    FLASH_LUTS,    /* lookup tables (int8 unary ops, softmax's exp) */
    FLASH_TABLES,  /* packed tables: zero-point rows and corrections, index tables */
    FLASH_OTHER,   /* literal pools, jump tables, unwind entries, strings, info */
    NUM_FLASH_KINDS
} FlashKind;
extern const char *const flash_kind_names[NUM_FLASH_KINDS];
/* The rows after the nodes': NAME_run itself, NAME_info/NAME_profile and
 * what they point to, constants no single node owns, bytes no symbol or
 * reference names (expected 0). */
enum { FLASH_ROW_ENTRY, FLASH_ROW_INFO, FLASH_ROW_SHARED, FLASH_ROW_UNATTRIBUTED, NUM_FLASH_SHARED_ROWS };
extern const char *const flash_shared_row_names[NUM_FLASH_SHARED_ROWS];
typedef struct FlashRow {
    int64_t kind[NUM_FLASH_KINDS];
    int64_t *section; /* bytes by section index */
} FlashRow;
typedef struct FlashReport {
    int num_sections;
    char **section_name;
    int64_t *section_size;
    bool *section_exec, *section_write;
    int num_nodes;          /* rows[0 .. num_nodes-1]: G's nodes, by index */
    FlashRow *rows;         /* num_nodes + NUM_FLASH_SHARED_ROWS */
    int64_t weights_file;   /* --weights=external: NAME.weights.bin's bytes (0: embedded) */
    int64_t *stack;         /* by node: CodegenOutput's node_stack (malloc'd copy), or NULL */
} FlashReport;

/* FR's flash of OBJ (codegen_compile's object for G, symbol prefix NAME)
 * per node of G and shared rows, every allocated section's bytes exactly
 * (codegen/flash.c); false when OBJ is not an ELF object it can read. */
bool codegen_flash(const Graph *g, const char *name, const char *obj, size_t len, FlashReport *fr);
void flash_report_free(FlashReport *fr);

/* Writes NAME.h for G compiled with O and PLAN into a malloc'd string;
 * WEIGHTS and WEIGHTS_SIZE are the weights blob's (--weights=external). */
char *codegen_header(const Graph *g, const CodegenOptions *o, const MemoryPlan *plan, const char *weights,
                     size_t weights_size, size_t *len);

/* External weights blob (docs/codegen.md, "External weights"): a
 * CG_WEIGHTS_HEADER-byte header, then every table the node functions read
 * (the kernels' packed weights, folded biases, multipliers, LUTs; the raw
 * constants the generic loops read), each at an offset aligned as its
 * kernel asks.  The header is 16 little-endian u32 words: magic, format
 * version, file size (lo, hi), FNV-1a-64 of bytes CG_WEIGHTS_HEADER.. (lo,
 * hi), FNV-1a-64 of the target triple, CPU and features (lo, hi), then
 * zeros.  NAME_run compares all 64 bytes with the ones it was compiled
 * with: any difference is QNN_ERR_BAD_WEIGHTS.  The blob must be aligned to
 * CG_WEIGHTS_ALIGN (else QNN_ERR_MISALIGNED). */
#define CG_WEIGHTS_MAGIC 0x574e4e51u /* "QNNW" little-endian */
#define CG_WEIGHTS_VERSION 2u
#define CG_WEIGHTS_HEADER 64
#define CG_WEIGHTS_ALIGN 64
/* The content hash a blob's header holds (bytes 16-23). */
uint64_t codegen_weights_fnv(const char *blob);

/* ---------------------------------------------------------------- lowering context */

/* A value's buffer in the function being built: an LLVM ptr, or NULL
 * where that function has not bound it. */
typedef struct CgBuf {
    LLVMValueRef ptr;
    bool valid;
} CgBuf;

/* Where a value's bytes are, whichever function uses them (lower.c). */
typedef struct CgLoc CgLoc;

struct Cg {
    const Graph *g;
    const CodegenOptions *opts;
    const CgTarget *target;
    const MemoryPlan *plan;

    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTargetMachineRef tm;
    LLVMTargetDataRef td;

    LLVMValueRef fn;            /* the function being built: NAME_run or one node's */
    LLVMBasicBlockRef alloca_bb;/* allocas go here (mem2reg promotes them) */
    CgBuf *buf;                 /* by Value id, bound in fn */
    CgLoc *loc;                 /* by Value id */
    char **kernels;             /* by node index: the kernel name build_run gave it */
    int64_t *stack;             /* by node index: its function's stack buffers (CodegenOutput) */
    struct CgWeights *wblob;    /* --weights=external: the blob being built (lower.c) */
    bool in_node;               /* fn is a node's function (not NAME_run) */

    /* Types. idx is the pointer-sized integer used for every index. */
    LLVMTypeRef t_void, t_i1, t_i8, t_i16, t_i32, t_i64, t_f32, t_f64, t_ptr, t_idx;
    int counter;                /* for unique global names */
    int node;                   /* index of the node whose function is being built; -1 outside */
    char kernel[48];            /* the last kernel kern_select chose (its name) */
    char kernel_tile[16];       /* the tile part of its name ("6x64c4"), set by the skeleton */
    bool failed;                /* a user error was reported */
    char kernel_in_place[96];   /* cg_lower_dw_in_place's kernel name */
    /* cg_rodata's globals in node rodata_node's function, each handed out
     * again for the same kind, bytes and alignment (lower_dw_inplace.c
     * lowers the kernel once per view, each time making the same tables);
     * builder.c's record of each. */
    struct CgRodata *rodata;
    int nrodata, cap_rodata, rodata_node;
};

/* ---------------------------------------------------------------- IR helpers (codegen/builder.c) */

LLVMValueRef cg_idx(Cg *cg, int64_t v);       /* pointer-sized integer constant */
LLVMValueRef cg_i32(Cg *cg, int64_t v);
LLVMValueRef cg_i64(Cg *cg, int64_t v);
LLVMValueRef cg_f32(Cg *cg, float v);
LLVMValueRef cg_f64(Cg *cg, double v);
LLVMTypeRef cg_dtype_type(Cg *cg, DType dt);  /* i8/i16/i32/float (u8 is i8) */
LLVMValueRef cg_add(Cg *cg, LLVMValueRef a, LLVMValueRef b);  /* a + b (wrapping) */
LLVMValueRef cg_mulk(Cg *cg, LLVMValueRef a, int64_t k);      /* a * k, a pointer-sized */
LLVMValueRef cg_gep8(Cg *cg, LLVMValueRef base, LLVMValueRef i); /* &base[i], bytes (inbounds) */

/* A loop `for (iv = 0; iv < n; iv++)` built with a phi node.  Between
 * cg_for_begin and cg_for_end the builder is in the body; nested loops
 * nest naturally.  n may be 0 (the body never runs). */
typedef struct CgLoop {
    LLVMBasicBlockRef header, exit;
    LLVMValueRef iv, iv_phi;
} CgLoop;
LLVMValueRef cg_for_begin(Cg *cg, CgLoop *l, int64_t n, const char *name);
void cg_for_end(Cg *cg, CgLoop *l);

/* `if (cond) { ... }`: cg_if_begin leaves the builder in the then-block;
 * cg_if_end continues after it. */
typedef struct CgIf {
    LLVMBasicBlockRef end;
} CgIf;
void cg_if_begin(Cg *cg, CgIf *s, LLVMValueRef cond);
void cg_if_end(Cg *cg, CgIf *s);

/* A stack slot in the entry block (promoted to a register at -O1+). */
LLVMValueRef cg_alloca(Cg *cg, LLVMTypeRef t, const char *name);
/* A new builder at the start of the function's entry block (where
 * cg_alloca puts its slots); the caller disposes of it. */
LLVMBuilderRef cg_entry_builder(Cg *cg);

/* Element access: BASE[i] of dtype DT.  cg_load_int sign- or zero-extends
 * to i32 (u8 zero-extends); cg_load_f32 loads a float; cg_store_int
 * truncates an i32 (already saturated) to DT. */
LLVMValueRef cg_elem_ptr(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i);
LLVMValueRef cg_load_int(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i);
LLVMValueRef cg_load_f32(Cg *cg, LLVMValueRef base, LLVMValueRef i);
void cg_store_int(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i, LLVMValueRef v);
void cg_store_f32(Cg *cg, LLVMValueRef base, LLVMValueRef i, LLVMValueRef v);

/* Read-only data: a private constant global holding N bytes of DATA with
 * the given alignment; returns its address.  With --weights=external, in
 * a node's function, the bytes go into the weights blob instead and the
 * address is weights + offset (cg_weights_slice). */
LLVMValueRef cg_rodata(Cg *cg, const void *data, size_t n, unsigned align, const char *name);
LLVMValueRef cg_weights_slice(Cg *cg, const void *data, size_t n, unsigned align, const char *name);
/* Typed constant tables: values[i] of dtype i32 / f64 / f32. */
LLVMValueRef cg_table_i32(Cg *cg, const int32_t *v, int64_t n, const char *name);
LLVMValueRef cg_table_f64(Cg *cg, const double *v, int64_t n, const char *name);

/* A vector of LANES copies of the scalar S: a constant vector when S is a
 * constant, else an insertelement and a shufflevector at the builder. */
LLVMValueRef cg_splat(Cg *cg, LLVMValueRef s, unsigned lanes);
/* The unpack (vpunpckl*, or vpunpckh* when HI; zip1/zip2) of two <N x iE>
 * vectors element by element within each 128-bit lane of PER elements:
 * a[h], b[h], a[h+1], b[h+1], ... from the lane's low half (h = 0) or
 * high half (h = PER/2). */
LLVMValueRef cg_unpack(Cg *cg, LLVMValueRef a, LLVMValueRef b, int per, bool hi);
/* The N (a power of two) vectors PART of WIDTH lanes each as one vector of
 * N * WIDTH (at most 128) lanes, concatenated pairwise; PART is
 * overwritten. */
LLVMValueRef cg_concat(Cg *cg, LLVMValueRef *part, int n, int width);
LLVMValueRef cg_smin(Cg *cg, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_smax(Cg *cg, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_clamp_i32(Cg *cg, LLVMValueRef v, LLVMValueRef lo, LLVMValueRef hi);
void cg_memcpy(Cg *cg, LLVMValueRef dst, LLVMValueRef src, int64_t n);
/* Calls the named float32 libm function (expf, tanhf): float models only. */
LLVMValueRef cg_call_f32(Cg *cg, const char *fn, LLVMValueRef x);

/* ---------------------------------------------------------------- fixed point as IR (codegen/fixedpoint_ir.c)
 *
 * The rules of ir/fixedpoint.h, emitted as LLVM IR on i32/i64/double
 * values.  Same results bit for bit, with no libm calls: rounding is done
 * with integer conversions so that no target needs floor/fma/roundeven. */

LLVMValueRef cg_srdhm(Cg *cg, LLVMValueRef a, LLVMValueRef b);       /* i32, i32 -> i32 */
LLVMValueRef cg_rdbpot(Cg *cg, LLVMValueRef x, LLVMValueRef exponent); /* i32, i32 in [0,31] -> i32 */
LLVMValueRef cg_mbqm(Cg *cg, LLVMValueRef x, int32_t mult, int shift);/* i32 -> i32 */
/* TFLite softmax's reciprocal of a row's sum (fp_softmax_reciprocal), the
 * output's rounding exponent clamped to 31 (*EXC) and whether it was over
 * 31 (*BIG: the row's outputs are then all 0 before the -128). */
LLVMValueRef cg_softmax_recip(Cg *cg, LLVMValueRef sum, LLVMValueRef *exc, LLVMValueRef *big);
/* MBQM with per-channel run-time mult (i32) and shift (i32 in [-31,30]). */
LLVMValueRef cg_mbqm_dyn(Cg *cg, LLVMValueRef x, LLVMValueRef mult, LLVMValueRef shift);
/* The round-half-even of the EXACT product ACC * M (fp_round_product_half_even
 * without its clamp): ACC i32 or i64 (|ACC| <= 2^53), M a double value.
 * Returns i64, bounded to +-2^41 (callers add the zero point and clamp to
 * a dtype range, so the bound never shows). */
LLVMValueRef cg_rne_prod(Cg *cg, LLVMValueRef acc, LLVMValueRef m);
/* Rounds a double to an i64: ROUND_ONNX half to even, ROUND_TFLITE half
 * away from zero.  X is first clamped to +-2^41 (NaN reads as 0), which
 * callers saturating to a 32-bit range never notice. */
LLVMValueRef cg_round_f64(Cg *cg, LLVMValueRef x, int rounding);
/* quantize_real(): float32 X / SCALE rounded in ROUNDING mode, plus ZP,
 * saturated to [LO, HI]; NaN gives clamp(ZP).  SCALE an f32 value, ZP/LO/HI
 * i32 values; returns i32. */
LLVMValueRef cg_quantize_f32(Cg *cg, LLVMValueRef x, LLVMValueRef scale, LLVMValueRef zp,
                             LLVMValueRef lo, LLVMValueRef hi, int rounding);
/* The same for constant parameters with ZP, LO and HI within +-2^16 (an
 * 8- or 16-bit result), on an f32 X or a vector of them (returning i32 or
 * <n x i32>): in f32 and i32 only, with no float-to-integer conversion
 * (cg_round_f64's note on RVV's vfcvt.rtz), for the vector quantize; on
 * x86-64, x clamped to just beyond the result's range, the quotient
 * converted by cvtps2dq (ties to even) or, 1/2 - 2^-25 added away from
 * zero, cvttps2dq (ties away) and clamped in integer lanes; on AArch64,
 * the quotient clamped to the result's range, one rounding instruction and
 * the exact conversion of that integral float. */
LLVMValueRef cg_quantize_f32_small(Cg *cg, LLVMValueRef x, float scale, int32_t zp, int32_t lo, int32_t hi,
                                   int rounding);
/* clamp(V + ZP, LO, HI) for an i64 V and i32 ZP/LO/HI; returns i32. */
LLVMValueRef cg_add_zp_clamp(Cg *cg, LLVMValueRef v, LLVMValueRef zp, LLVMValueRef lo, LLVMValueRef hi);
/* The same for an i32 V (scalar or vector): in i32 when SMALL (every
 * stage's zp, lo and hi within +-2^16, cg_stage_small), else through i64. */
bool cg_stage_small(const OutStage *st, int64_t nch);
LLVMValueRef cg_requant_tail_i32(Cg *cg, LLVMValueRef v32, bool small, LLVMValueRef zp, LLVMValueRef lo,
                                 LLVMValueRef hi);

/* The interpreter's requantizing output stage (OutStage, ir/quant.h) for
 * channel C (an idx value; ignored when NCH == 1) applied to ACC (i32 or
 * i64): clamp(round(acc * M) + zp, lo, hi), returns i32.  Per-channel
 * parameters become read-only tables. */
LLVMValueRef cg_outstage(Cg *cg, LLVMValueRef acc, const OutStage *st, int64_t nch, LLVMValueRef c, int rounding);
/* NCH stages for output type YT of an accumulator sum x * w, channel c's
 * scale x's (per-tensor XQ) times w's channel c (WQ); NULL after an error
 * was reported (cg->failed set).  YT must be quantized. */
OutStage *cg_product_stage(Cg *cg, const Node *n, const TensorType *yt, const Quant *xq, const Quant *wq, int64_t nch,
                           int rounding);
/* 1 when every one of the N stages is the same (one set of constants),
 * else N (per-channel tables). */
int64_t cg_stage_count(const OutStage *st, int64_t n);

/* A loop nest over every index of a shape (row-major, last dim
 * innermost); idx[d] are the induction variables.  Rank 0 runs once. */
typedef struct CgNest {
    int rank;
    CgLoop loop[QNN_MAX_RANK];
    LLVMValueRef idx[QNN_MAX_RANK];
} CgNest;
void cg_nest_begin(Cg *cg, CgNest *nest, int rank, const int64_t *dims);
void cg_nest_end(Cg *cg, CgNest *nest);
/* sum of idx[d] * stride[d] */
LLVMValueRef cg_nest_offset(Cg *cg, const CgNest *nest, const int64_t *stride);
/* Row-major strides of T (in elements). */
void cg_strides(const TensorType *t, int64_t *stride);
/* Merges the dims of a loop nest over DIMS (rank R) that every one of
 * NST operands walks contiguously (stride[d] == stride[d+1] * dims[d+1],
 * broadcasts included: 0 == 0 * n) and drops dims of size 1.  Writes the
 * merged dims to MD and each operand's strides to MS; returns the merged
 * rank (at least 1).  A same-shape elementwise op becomes one run, a
 * [1,1,1,C] operand over [1,H,W,C] becomes [H*W, C] with strides {0, 1}. */
int cg_merge_dims(int r, const int64_t *dims, int64_t (*st)[QNN_MAX_RANK], int nst, int64_t *md,
                  int64_t (*ms)[QNN_MAX_RANK]);

/* ---------------------------------------------------------------- lowering (codegen/lower*.c) */

/* Generic lowering of one node through its row of lower_ops.def; false
 * after a diag error. */
bool cg_lower_node(Cg *cg, const Node *n);
/* The generic lowerings named in lower_ops.def (codegen/lower_*.c). */
#define LOWER(op, fn) bool fn(Cg *cg, const Node *n);
#include "lower_ops.def"
#undef LOWER
/* Whether PART's bytes are WHOLE's from byte OFF on, both in scratch (the
 * memory plan made PART a view: a slice, or a concat operand computed in
 * place), so there is nothing to copy. */
bool cg_is_view(const Cg *cg, const Value *part, const Value *whole, int64_t off);
/* A slice's loop strides over its result's dims: ST[0] the result's, ST[1]
 * the operand's (steps included); returns the operand's element offset of
 * the first element (lower_layout.c). */
int64_t cg_slice_strides(const Node *n, int64_t (*st)[QNN_MAX_RANK]);
/* The 256-byte table of an 8-bit -> 8-bit unary op (lower_elem.c's
 * compile-time tables, the interpreter run on every input byte), indexed
 * by the input byte ^ 0x80 for i8 and as is for u8; malloc'd, or NULL
 * when the node is not such an op (one table for every channel). */
uint8_t *cg_byte_table(Cg *cg, const Node *n);
/* Element strides of IN broadcast (numpy rules) to OUT's shape: 0 along
 * the dims IN does not have or has as 1. */
void cg_bcast_strides(const TensorType *out, const TensorType *in, int64_t *stride);

/* Lowers N with the target's kernels, else the portable ones, else the
 * generic loops (lower.c): the kernel's name, or NULL after an error. */
const char *cg_lower_dispatch(Cg *cg, const Node *n);
/* A depthwise conv2d the memory plan computes over its own input, through
 * the row buffer at byte ROWBUF of scratch (lower_dw_inplace.c): the
 * kernel's name ("..._inplace"), or NULL after an error. */
const char *cg_lower_dw_in_place(Cg *cg, const Node *n, int64_t rowbuf);

/* The buffer of value V. */
static inline LLVMValueRef cg_buf(Cg *cg, const Value *v) { return cg->buf[v->id].ptr; }

/* Reports "node '%name' (op): message" and marks the compile failed. */
bool cg_fail(Cg *cg, const Node *n, const char *fmt, ...) QNN_PRINTF(3, 4);

#endif /* QNNC_CODEGEN_H */
