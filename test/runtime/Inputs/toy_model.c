/* toy_model.c - a hand-written stand-in for the code qnnc will generate,
 * so that the runtime, the harness and the per-target toolchains can be
 * tested end to end before the LLVM backend exists.  It has the exact
 * shape of a compiled model: an entry point toy_run with the NAME_run
 * signature and a toy_info table (runtime/qnn_runtime.h), constants folded
 * at "compile time", scratch from the caller, no globals, no libc.
 *
 * The op: y = a + b on int8 tensors of shape [2, 8] with different scales,
 * computed as TFLite's int8 reference Add does (tensorflow/lite/kernels/
 * internal/reference/add.h): shift both inputs left by 20 bits, rescale
 * each to twice the larger input scale, add, and requantize the int32 sum
 * to the output scale.  The sums go through scratch and the final step is
 * the runtime's qnn_requantize_s32_to_s8.
 *
 * Built with -DTOY_SCRATCH_BUG, toy_info under-reports scratch by one byte,
 * the way an off-by-one in a memory planner would: the harness's guard
 * check must catch the write past the end. */
#include "qnn_kernels.h"

enum { N = 16 };

/* Quantization: real = scale * (q - zero_point). */
#define SA 0.05f
#define ZA (-3)
#define SB 0.02f
#define ZB 5
#define SY 0.06f
#define ZY (-10)

/* Multipliers as TFLite's QuantizeMultiplier makes them from the float
 * scales (computed in double), with left_shift = 20:
 *   twice_max = 2 * max(SA, SB)            = 0.1
 *   input 1:  SA / twice_max               = 0.5     -> (2^30, 0)
 *   input 2:  SB / twice_max               = 0.19999999 -> (1717986854, -2)
 *   output:   twice_max / (2^20 * SY)      = 1.5894573e-06 -> (1789569773, -19)
 * test/runtime/Inputs/toy.py derives them again from the scales. */
#define LEFT_SHIFT 20
#define MA 1073741824
#define SHIFT_A 0
#define MB 1717986854
#define SHIFT_B (-2)
#define MY 1789569773
#define SHIFT_Y (-19)

#ifdef TOY_SCRATCH_BUG
#define SCRATCH_SIZE (N * 4 - 1)
#else
#define SCRATCH_SIZE (N * 4)
#endif

extern const qnn_model_info toy_info;

static const qnn_tensor_info toy_inputs[2] = {
    {.name = "a", .dtype = QNN_I8, .rank = 2, .dims = {2, 8}, .nbytes = N, .scale = SA, .zero_point = ZA},
    {.name = "b", .dtype = QNN_I8, .rank = 2, .dims = {2, 8}, .nbytes = N, .scale = SB, .zero_point = ZB},
};
static const qnn_tensor_info toy_outputs[1] = {
    {.name = "y", .dtype = QNN_I8, .rank = 2, .dims = {2, 8}, .nbytes = N, .scale = SY, .zero_point = ZY},
};

int toy_run(const void *const inputs[], void *const outputs[], void *scratch)
{
    int st = qnn_check_args(&toy_info, inputs, outputs, scratch);
    if (st != QNN_OK)
        return st;
    const int8_t *a = inputs[0], *b = inputs[1];
    int32_t *sum = scratch;
    for (int i = 0; i < N; i++) {
        /* (q - zp) fits in 9 bits, so the shift by 20 cannot overflow. */
        int32_t xa = (a[i] - ZA) * (1 << LEFT_SHIFT);
        int32_t xb = (b[i] - ZB) * (1 << LEFT_SHIFT);
        sum[i] = qnn_mul_by_quantized_multiplier_s32(xa, MA, SHIFT_A) +
                 qnn_mul_by_quantized_multiplier_s32(xb, MB, SHIFT_B);
    }
    const qnn_requant_params rq = {.multiplier = MY, .shift = SHIFT_Y, .zero_point = ZY, .act_min = -128, .act_max = 127};
    return qnn_requantize_s32_to_s8(sum, outputs[0], N, &rq);
}

const qnn_model_info toy_info = {
    .name = "toy",
    .num_inputs = 2,
    .num_outputs = 1,
    .inputs = toy_inputs,
    .outputs = toy_outputs,
    .scratch_size = SCRATCH_SIZE,
    .scratch_align = 16,
    .run = toy_run,
};
