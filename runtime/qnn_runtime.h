/* qnn_runtime.h - the interface between code qnnc generates and the code
 * that calls it.  Freestanding: needs only <stddef.h> and <stdint.h>, and
 * compiles as C and C++.
 *
 * A compiled model NAME exports
 *
 *   int NAME_run(const void *const inputs[], void *const outputs[], void *scratch);
 *   extern const qnn_model_info NAME_info;
 *
 * With `qnnc --weights=external` the weights live in NAME.weights.bin and
 * the entry point takes them (and their size) as two more arguments:
 *
 *   int NAME_run(const void *const inputs[], void *const outputs[], void *scratch,
 *                const void *weights, size_t weights_size);
 *
 * WEIGHTS must be aligned to NAME_WEIGHTS_ALIGN (64; else QNN_ERR_MISALIGNED)
 * and WEIGHTS_SIZE is how many bytes the caller has there.  It returns
 * QNN_ERR_BAD_WEIGHTS when WEIGHTS is NULL, WEIGHTS_SIZE is less than
 * NAME_WEIGHTS_SIZE, or the file's 64-byte header (magic "QNNW", version,
 * size, content and target hashes) is not the one it was compiled with;
 * NAME_info.run is then NULL, since that is not a qnn_run_fn
 * (docs/codegen.md, "External weights").
 *
 * NAME_run returns QNN_OK or a negative qnn_status.  It touches nothing but
 * its arguments and read-only data: no heap, no mutable globals, so several
 * threads may run one model at once with separate scratch buffers.
 * NAME_info describes the model for generic callers such as the host
 * harness (runtime/harness/): it is read-only data and costs nothing unless
 * it is linked in.  The generated NAME.h also spells the same facts as
 * macros for callers that want compile-time constants.
 */
#ifndef QNN_RUNTIME_H
#define QNN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QNN_MAX_RANK 6

typedef enum qnn_status {
    QNN_OK = 0,
    QNN_ERR_NULL_ARGUMENT = -1,    /* an input, output or scratch pointer is NULL */
    QNN_ERR_MISALIGNED = -2,       /* scratch (or external weights) not aligned as the model needs */
    QNN_ERR_BAD_WEIGHTS = -3,      /* external weights are missing, truncated, or of another compile */
    /* Added with the runtime library: a runtime kernel was given a parameter
     * struct it cannot honour (e.g. a shift outside [-31, 30]).  Generated
     * code folds its parameters at compile time, so seeing this from
     * NAME_run means a compiler bug, not a caller error. */
    QNN_ERR_BAD_PARAMS = -4,
    /* Not a status: see QNN_DTYPE_FORCE_INT32_. */
    QNN_STATUS_FORCE_INT32_ = 0x7fffffff,
} qnn_status;

/* Element types; the numbering is part of the ABI. */
typedef enum qnn_dtype {
    QNN_F32 = 0,
    QNN_I8 = 1,
    QNN_U8 = 2,
    QNN_I16 = 3,
    QNN_I32 = 4,
    /* Not a dtype.  It makes the enum 4 bytes everywhere: arm-none-eabi-gcc
     * defaults to -fshort-enums (AAPCS lets enums be as small as their
     * values), clang for thumbv7em-none-eabi does not, and qnn_tensor_info
     * tables emitted by qnnc must have one layout for every compiler.  A
     * switch over qnn_dtype therefore needs a default label. */
    QNN_DTYPE_FORCE_INT32_ = 0x7fffffff,
} qnn_dtype;

typedef struct qnn_tensor_info {
    const char *name;
    qnn_dtype dtype;
    int32_t rank;
    int32_t dims[QNN_MAX_RANK];
    uint32_t nbytes;
    /* Per-tensor quantization (real = scale * (q - zero_point)); scale 0
     * when the tensor is not quantized. */
    float scale;
    int32_t zero_point;
} qnn_tensor_info;

/* The layout qnnc emits these tables in; pinned so that a compiler with
 * different defaults fails here rather than misreading them. */
#ifdef __cplusplus
#define QNN_STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
#define QNN_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif
QNN_STATIC_ASSERT(sizeof(qnn_dtype) == 4 && sizeof(qnn_status) == 4, "qnn enums must be 4 bytes");
QNN_STATIC_ASSERT(offsetof(qnn_tensor_info, dims) == sizeof(void *) + 8 &&
                      offsetof(qnn_tensor_info, nbytes) == sizeof(void *) + 8 + 4 * QNN_MAX_RANK &&
                      offsetof(qnn_tensor_info, zero_point) == sizeof(void *) + 16 + 4 * QNN_MAX_RANK,
                  "qnn_tensor_info layout");

typedef int (*qnn_run_fn)(const void *const inputs[], void *const outputs[], void *scratch);

typedef struct qnn_model_info {
    const char *name;
    int32_t num_inputs, num_outputs;
    const qnn_tensor_info *inputs;
    const qnn_tensor_info *outputs;
    uint32_t scratch_size;  /* exact bytes NAME_run needs */
    uint32_t scratch_align; /* required alignment of scratch, a power of two */
    qnn_run_fn run;
} qnn_model_info;

/* ---- Profiling (qnnc --profile only; docs/runtime.md "Profiling") ----
 * An object compiled with --profile also defines
 *
 *   extern const qnn_profile_info NAME_profile;
 *
 * one entry per graph node in execution order, and its NAME_run calls
 * qnn_profile_mark(k) just before node k and qnn_profile_mark(num_nodes)
 * after the last: the time between marks k and k+1 is node k's.  The
 * caller defines qnn_profile_mark (the harness reads its clock there); the
 * model keeps no state.  Without --profile neither the table nor a call
 * is emitted. */
typedef struct qnn_profile_node {
    const char *name;   /* the node's result value */
    const char *op;     /* the IR op, e.g. "conv2d" */
    const char *kernel; /* the lowering, as in the symbol NAME_run.K.<kernel> */
    uint64_t macs;      /* multiply-accumulates per run (0: not a MAC op) */
} qnn_profile_node;

typedef struct qnn_profile_info {
    int32_t num_nodes;
    const qnn_profile_node *nodes;
} qnn_profile_info;

void qnn_profile_mark(int32_t node);

/* Element size in bytes of DT; 0 for an unknown dtype. */
static inline uint32_t qnn_dtype_size(qnn_dtype dt)
{
    return dt == QNN_F32 || dt == QNN_I32 ? 4u : dt == QNN_I16 ? 2u : dt == QNN_I8 || dt == QNN_U8 ? 1u : 0u;
}

/* ---- The runtime library (libqnn_runtime.a, the C files in runtime/) ----
 * Added so that every NAME_run checks its arguments the same way, in one
 * place, instead of each compiled model carrying its own copy. */

/* Version of the runtime library, "MAJOR.MINOR.PATCH".  The MAJOR number
 * changes when this header's ABI changes incompatibly. */
#define QNN_RUNTIME_VERSION_MAJOR 0
#define QNN_RUNTIME_VERSION_MINOR 1
#define QNN_RUNTIME_VERSION_PATCH 0
const char *qnn_runtime_version(void);

/* The checks NAME_run performs before touching memory: INPUTS and OUTPUTS
 * and each of their info->num_inputs / info->num_outputs entries must be
 * non-NULL, and SCRATCH must be non-NULL and aligned to
 * info->scratch_align (a NULL scratch is allowed when scratch_size is 0).
 * Returns QNN_OK, QNN_ERR_NULL_ARGUMENT or QNN_ERR_MISALIGNED. */
int qnn_check_args(const qnn_model_info *info, const void *const inputs[], void *const outputs[],
                   const void *scratch);

/* --weights=external: whether WEIGHTS holds the tables of the compile
 * whose NAME.h gives EXPECTED_SIZE (NAME_WEIGHTS_SIZE) and CONTENT_FNV
 * (NAME_WEIGHTS_FNV1A, the header's bytes 16-23).  QNN_ERR_BAD_WEIGHTS when
 * WEIGHTS is NULL, WEIGHTS_SIZE is less than EXPECTED_SIZE, or the
 * FNV-1a-64 of bytes 64 .. EXPECTED_SIZE is not CONTENT_FNV: a damaged
 * table under an intact header, which NAME_run (it compares the 64 header
 * bytes only, in constant time) cannot see.  It reads every byte, so a
 * loader calls it once, after loading (NAME_check_weights in NAME.h). */
int qnn_check_weights(const void *weights, size_t weights_size, size_t expected_size, uint64_t content_fnv);

#ifdef __cplusplus
}
#endif

#endif /* QNN_RUNTIME_H */
