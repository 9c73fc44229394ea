/* qnn_check.c - argument checks every NAME_run performs, and the runtime
 * version.  Freestanding: no libc. */
#include "qnn_runtime.h"

#define QNN_STR2(x) #x
#define QNN_STR(x) QNN_STR2(x)

const char *qnn_runtime_version(void)
{
    return QNN_STR(QNN_RUNTIME_VERSION_MAJOR) "." QNN_STR(QNN_RUNTIME_VERSION_MINOR) "." QNN_STR(
        QNN_RUNTIME_VERSION_PATCH);
}

int qnn_check_weights(const void *weights, size_t weights_size, size_t expected_size, uint64_t content_fnv)
{
    if (!weights || weights_size < expected_size || expected_size < 64)
        return QNN_ERR_BAD_WEIGHTS;
    const unsigned char *b = (const unsigned char *)weights;
    uint64_t h = 14695981039346656037u; /* FNV-1a-64: offset basis, then xor and multiply by the prime */
    for (size_t i = 64; i < expected_size; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h == content_fnv ? QNN_OK : QNN_ERR_BAD_WEIGHTS;
}

int qnn_check_args(const qnn_model_info *info, const void *const inputs[], void *const outputs[],
                   const void *scratch)
{
    if (!info || !inputs || !outputs)
        return QNN_ERR_NULL_ARGUMENT;
    for (int32_t i = 0; i < info->num_inputs; i++)
        if (!inputs[i])
            return QNN_ERR_NULL_ARGUMENT;
    for (int32_t i = 0; i < info->num_outputs; i++)
        if (!outputs[i])
            return QNN_ERR_NULL_ARGUMENT;
    /* A model that needs no scratch may be called with NULL, so a caller
     * need not invent a buffer; one that does must get real memory. */
    if (info->scratch_size == 0)
        return QNN_OK;
    if (!scratch)
        return QNN_ERR_NULL_ARGUMENT;
    /* scratch_align is a power of two by contract; 0 is treated as 1 so a
     * zero-initialised info cannot turn this into a division by zero. */
    uintptr_t mask = info->scratch_align ? (uintptr_t)info->scratch_align - 1 : 0;
    if ((uintptr_t)scratch & mask)
        return QNN_ERR_MISALIGNED;
    return QNN_OK;
}
