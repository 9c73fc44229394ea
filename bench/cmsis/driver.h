/* driver.h - one layer case of bench/cmsis/cmsis_layers.py: the CMSIS-NN
 * call (cases.c, generated) and the qnnc model compiled from the same
 * layer. */
#ifndef CMSIS_DRIVER_H
#define CMSIS_DRIVER_H

#include "arm_nnfunctions.h"
#include "qnn_runtime.h"

typedef struct layer_case {
    const char *kind;
    int32_t out_bytes;
    const void *const *inputs;      /* qnnc's inputs, the same arrays CMSIS-NN reads */
    const qnn_model_info *qnnc;
    int (*cmsis)(cmsis_nn_context ctx, int8_t *out);
    int32_t (*cmsis_bufsize)(void);
} layer_case;

extern const layer_case cases[];
extern const int num_cases;

#endif
