/* qnn_runtime.h - the interface between code qnnc generates and the code
 * that calls it.  Freestanding: needs only <stddef.h> and <stdint.h>, and
 * compiles as C and C++.
 *
 * A compiled model NAME exports
 *
 *   int NAME_run(const void *const inputs[], void *const outputs[], void *scratch);
 *   extern const qnn_model_info NAME_info;
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
    QNN_ERR_MISALIGNED = -2,       /* scratch is not aligned to the model's scratch alignment */
    QNN_ERR_BAD_WEIGHTS = -3,      /* external weights are missing or of the wrong size */
} qnn_status;

/* Element types; the numbering is part of the ABI. */
typedef enum qnn_dtype {
    QNN_F32 = 0,
    QNN_I8 = 1,
    QNN_U8 = 2,
    QNN_I16 = 3,
    QNN_I32 = 4,
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

/* Element size in bytes of DT; 0 for an unknown dtype. */
static inline uint32_t qnn_dtype_size(qnn_dtype dt)
{
    return dt == QNN_F32 || dt == QNN_I32 ? 4u : dt == QNN_I16 ? 2u : dt == QNN_I8 || dt == QNN_U8 ? 1u : 0u;
}

#ifdef __cplusplus
}
#endif

#endif /* QNN_RUNTIME_H */
