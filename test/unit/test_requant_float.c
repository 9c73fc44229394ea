/* test_requant_float.c - the float output stage and its compile-time
 * proof (codegen/requant_float.c: what kernel_requant.c emits as
 * vcvtdq2ps, vfmadd, vcvtps2dq and the corrections) against the
 * interpreter's fp_mul_by_quantized_multiplier (ir/fixedpoint.c), itself
 * checked against wide-integer references by test_fixedpoint.
 *
 * For every stage the prover accepts, every accumulator in [-A, A] is
 * compared (not sampled: the proof claims all of them, and a correction
 * covers a single accumulator that random inputs would never hit).  The
 * stages: typical depthwise and stem scales with random zero points and
 * clamps (ReLU ones too), and adversarial ones: power-of-two multipliers
 * (ties of both roundings everywhere), left shifts, tiny multipliers,
 * multiplier 0.  Also: the prover accepts most typical stages, some only
 * with corrections, and refuses some without them (a prover that
 * refused everything, or never needed a correction, would pass the
 * rest).
 */
#include "rng.h"
#include "requant_float.h"

#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"

static long passed, failed, proved, refused, fixed, refused0;

static int32_t want(int32_t acc, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    int64_t v = (int64_t)fp_mul_by_quantized_multiplier(acc, m, shift) + zp;
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static void stage(int64_t a, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    RqfStage st = {m, shift, zp, lo, hi};
    RqfChan ch, ch0;
    if (!rqf_prove(&st, a, 0, &ch0))
        refused0++;
    if (!rqf_prove(&st, a, RQF_MAX_FIX, &ch)) {
        refused++;
        return;
    }
    proved++;
    fixed += ch.nfix > 0;
    long bad = 0;
    for (int64_t x = -a; x <= a; x++) {
        int32_t got = rqf_eval(&st, &ch, (int32_t)x), w = want((int32_t)x, m, shift, zp, lo, hi);
        if (got == w)
            continue;
        if (bad++ < 3 && failed < 20)
            printf("FAIL acc %lld mult %d shift %d zp %d [%d, %d] bound %lld (s %a, b %a / %a, %d fixes): got %d "
                   "want %d\n",
                   (long long)x, m, shift, zp, lo, hi, (long long)a, ch.s, ch.bpos, ch.bneg, ch.nfix, got, w);
    }
    failed += bad != 0;
    passed += bad == 0;
}

static int32_t zp_rand(void) { return (int32_t)(rnd64() % 256) - 128; }

int main(void)
{
    /* Typical: |acc| up to ~2^17 (a 3x3 depthwise or stem), scales that
     * map the bound to 64 .. 4096 output steps. */
    for (int it = 0; it < 150; it++) {
        int64_t a = 20000 + (int64_t)(rnd64() % 130000);
        double steps = ldexp(1.0, 6 + (int)(rnd64() % 7)) * (1.0 + (double)(rnd64() % 1000) / 1000);
        int32_t m;
        int shift;
        fp_quantize_multiplier(steps / (double)a, &m, &shift);
        int32_t zp = zp_rand();
        stage(a, m, shift, zp, rnd64() % 3 ? -128 : zp, 127);
    }
    /* Ties: multipliers 2^30 (scale 2^-k), every rounding step lands on
     * accumulators. */
    for (int k = 1; k <= 14; k++)
        for (int z = 0; z < 2; z++)
            stage(40000, 1 << 30, -k + 1, z ? zp_rand() : 0, -128, 127);
    /* Few-bit multipliers: 3 * 2^29, 5 * 2^28 (ties every few steps). */
    stage(60000, 3 << 29, -9, 5, -128, 127);
    stage(60000, 5 << 28, -7, -3, -128, 127);
    /* Left shifts (e = 0: half up on both sides), a u8 range. */
    stage(30000, 1518500250, 1, 0, -128, 127);
    stage(3000, 1999999999, 3, 100, 0, 255);
    /* Tiny multipliers, multiplier 0, a one-value clamp. */
    stage(100000, 12345, -3, 7, -128, 127);
    stage(1000, 0, -5, 9, -128, 127);
    stage(5000, 1500000000, -8, 0, 3, 3);
    /* Bounds that reach beyond the clamp by little and by far. */
    stage(200, 1500000000, -2, -20, -128, 127);
    stage(262143, 1700000000, -12, 17, -128, 127);

    printf("requant_float: %ld stages exact, %ld failed; %ld proved (%ld with corrections), %ld refused, %ld "
           "refused without corrections\n",
           passed, failed, proved, fixed, refused, refused0);
    if (proved < 150 || fixed == 0 || refused0 == 0) {
        printf("FAIL the prover accepted %ld stages, %ld with corrections, refused %ld without\n", proved, fixed,
               refused0);
        failed++;
    }
    return failed != 0;
}
