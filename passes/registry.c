/* registry.c - the table of passes qnnc-opt can run by name. */
#include "passes.h"

#include <string.h>

const Pass pass_registry[] = {
    {"dce", "remove nodes and constants that no output depends on", dce},
    {"calibrate", "run the float graph on the calibration data; record range(lo, hi)", calibrate},
    {"fuse-requantize", "fold multipliers, shifts and output clamps into requantizing ops", fuse_requantize},
    {"check-accumulators", "prove every int32 accumulator fits from the actual weights", check_accumulators},
    {"quantize", "quantize a calibrated float graph (scheme, dtypes and overrides from the config)", quantize},
    {"fold-batchnorm", "fold batchnorm into the conv2d/dense before it, or into mul+add", fold_batchnorm},
    {"fold-constants", "evaluate nodes whose operands are all constants", fold_constants},
    {"fuse-layernorm", "replace reduce_mean/sub/mul/reduce_mean/add/sqrt/div [mul, add] by layer_norm", fuse_layernorm},
    {"fuse-gelu", "replace GELU written out (erf form, tanh approximation), in its exported orders, by gelu", fuse_gelu},
    {"fuse-activation", "fold relu/clip into the producer's act_min/act_max clamp", fuse_activation},
    {"tile", "choose conv/dense/matmul loop tiles for the target (tile=[m, n, k])", tile},
    {"plan-memory", "assign scratch offsets by liveness (qnnc --print-memory-plan shows them)", plan_memory_pass},
};
const int pass_registry_count = sizeof pass_registry / sizeof pass_registry[0];

const Pass *pass_lookup(const char *name, size_t len)
{
    for (int i = 0; i < pass_registry_count; i++)
        if (strlen(pass_registry[i].name) == len && memcmp(pass_registry[i].name, name, len) == 0)
            return &pass_registry[i];
    return NULL;
}
