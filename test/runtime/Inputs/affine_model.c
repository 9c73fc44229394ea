/* affine_model.c - a float model for the harness's f32 paths: y = 2x + 1
 * on f32[3,2], exact in binary floating point for the test's inputs, so the
 * .npy round trip, f64-to-f32 input conversion and --print of floats can
 * be checked exactly on every target.  Shaped like generated code, like
 * toy_model.c; it needs no scratch, so scratch_size is 0. */
#include "qnn_runtime.h"

extern const qnn_model_info affine_info;

static const qnn_tensor_info affine_inputs[1] = {
    {.name = "x", .dtype = QNN_F32, .rank = 2, .dims = {3, 2}, .nbytes = 24},
};
static const qnn_tensor_info affine_outputs[1] = {
    {.name = "y", .dtype = QNN_F32, .rank = 2, .dims = {3, 2}, .nbytes = 24},
};

int affine_run(const void *const inputs[], void *const outputs[], void *scratch)
{
    int st = qnn_check_args(&affine_info, inputs, outputs, scratch);
    if (st != QNN_OK)
        return st;
    const float *x = inputs[0];
    float *y = outputs[0];
    for (int i = 0; i < 6; i++)
        y[i] = 2.0f * x[i] + 1.0f;
    return QNN_OK;
}

const qnn_model_info affine_info = {
    .name = "affine",
    .num_inputs = 1,
    .num_outputs = 1,
    .inputs = affine_inputs,
    .outputs = affine_outputs,
    .scratch_size = 0,
    .scratch_align = 1,
    .run = affine_run,
};
