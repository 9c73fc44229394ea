/* requant_bound.h - TFLite's MultiplyByQuantizedMultiplier in 32-bit lanes
 * for accumulators with a compile-time bound (the proof is in
 * requant_bound.c).  Plain C, no LLVM: kernel_requant.c emits the same
 * steps as vector IR, and test/unit/test_requant_bound.c checks
 * rqb_eval against ir/fixedpoint.c. */
#ifndef QNNC_REQUANT_BOUND_H
#define QNNC_REQUANT_BOUND_H

#include <stdbool.h>
#include <stdint.h>

enum { RQB_MAX_DIGITS = 4 };

/* The plan: the multiplier's 31 bits as ND digits of W bits (digit i is
 * bits [i*W, i*W + W), the last one bits [(ND-1)*W, 31)). */
typedef struct RqbPlan {
    int nd, w;
} RqbPlan;

/* One channel's constants under a plan. */
typedef struct RqbChan {
    int32_t digit[RQB_MAX_DIGITS];
    int32_t kadd;  /* added to the last digit's sum */
    int32_t kneg;  /* subtracted from it when x < thr */
    int32_t thr;
    int32_t shift; /* the final arithmetic right shift */
    int32_t left;  /* the stage's left shift, first */
} RqbChan;

/* A plan for accumulators |acc| <= ACC_MAX and the N stages
 * (MULT[k], SHIFT[k]: TFLite's multiplier and shift, left when positive)
 * whose every intermediate fits int32, with the fewest multiplies; false
 * when there is none (a negative multiplier, a product that cannot fit). */
bool rqb_plan(int64_t acc_max, const int32_t *mult, const int *shift, int64_t n, RqbPlan *plan);
/* Channel (MULT, SHIFT)'s constants under PLAN. */
RqbChan rqb_chan(const RqbPlan *plan, int32_t mult, int shift);
/* The steps kernel_requant.c emits, on one value: equals
 * fp_mul_by_quantized_multiplier(acc, mult, shift) for |acc| <= the
 * plan's ACC_MAX. */
int32_t rqb_eval(const RqbPlan *plan, const RqbChan *ch, int32_t acc);

#endif
