/* requant_float.h - TFLite's output stage as one float multiply-add and
 * at most RQF_MAX_FIX corrected accumulators a channel, proved exact per
 * layer at compile time (the proof is in requant_float.c).  Plain C, no
 * LLVM: kernel_requant.c emits the same steps as vector IR, and
 * test/unit/test_requant_float.c checks rqf_eval against ir/fixedpoint.c
 * on every accumulator of random stages. */
#ifndef QNNC_REQUANT_FLOAT_H
#define QNNC_REQUANT_FLOAT_H

#include <stdbool.h>
#include <stdint.h>

enum { RQF_MAX_FIX = 4 };

/* One channel's stage: TFLite's multiplier and shift (left when
 * positive), the zero point and the clamp bounds. */
typedef struct RqfStage {
    int32_t mult;
    int shift;
    int32_t zp, lo, hi;
} RqfStage;

/* How the float form rounds: RQF_RNE, the default MXCSR mode (vfmadd,
 * vcvtps2dq); RQF_FLOOR, both rounded down (AVX-512's embedded {rd-sae}),
 * which makes the pair an exact floor of s acc + b. */
enum { RQF_RNE, RQF_FLOOR };

/* The float form:
 *   RQF_RNE:   r = rne(fma(float(acc), s, b))
 *   RQF_FLOOR: r = floor(float(acc) s + b)   (b = acc < 0 ? bneg : bpos)
 * then clamp(r, lo - zp, hi - zp) + zp, or with ZPIN (the zero point
 * inside the biases) clamp(r, lo, hi), then r += fix_d[j] where
 * acc == fix_acc[j].  Unused slots hold an accumulator outside the range
 * and 0. */
typedef struct RqfChan {
    float s, bpos, bneg;
    int round;
    bool zpin;
    int nfix;
    int32_t fix_acc[RQF_MAX_FIX], fix_d[RQF_MAX_FIX];
} RqfChan;

/* The exact output (as int32): clamp(MBQM(acc) + zp, lo, hi). */
int32_t rqf_exact(const RqfStage *st, int32_t acc);
/* The float form's output for ACC. */
int32_t rqf_eval(const RqfStage *st, const RqfChan *ch, int32_t acc);
/* Finds constants CH rounding as ROUND (with the zero point in the
 * biases where ZPIN) with the fewest corrections, at most MAXFIX, for
 * which rqf_eval equals rqf_exact for every acc in [LO, HI] (see
 * requant_float.c for the proof); false when no candidate
 * gets there.  CH->bneg == CH->bpos where one bias serves both signs at
 * that count (always when [LO, HI] has one sign), so a kernel can drop
 * the sign's select. */
bool rqf_prove(const RqfStage *st, int64_t lo, int64_t hi, int round, bool zpin, int maxfix, RqfChan *ch);

#endif
