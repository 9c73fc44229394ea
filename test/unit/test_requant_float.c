/* test_requant_float.c - the float output stage and its compile-time
 * proof (codegen/requant_float.c: what kernel_requant.c emits as
 * vcvtdq2ps, vfmadd, vcvtps2dq and the corrections), both roundings
 * (to nearest; down, AVX-512's {rd-sae}), against the interpreter's
 * fp_mul_by_quantized_multiplier (ir/fixedpoint.c), itself checked
 * against wide-integer references by test_fixedpoint.
 *
 * For every stage the prover accepts, every accumulator of the range is
 * compared (not sampled: the proof claims all of them, and a correction
 * covers a single accumulator that random inputs would never hit).  The
 * ranges: [-A, A] and a tight one inside it, as a channel's weights and
 * input range give, and one-sided ones.  The stages: typical depthwise,
 * stem and wide 1x1 scales with random zero points and clamps (ReLU ones
 * too), and adversarial ones: power-of-two multipliers (ties of both
 * roundings everywhere), left shifts, tiny multipliers, multiplier 0.
 * Also: the prover accepts most typical stages, some only with
 * corrections, and refuses some without them (a prover that refused
 * everything, or never needed a correction, would pass the rest), and
 * rounding down needs corrections in fewer stages than to nearest; it
 * gives one bias for both signs (bpos == bneg: no sign select) to some
 * two-sided ranges (the ReLU clamps) and not to all.
 *
 * Each stage is proved a second time with the zero point in the biases
 * (RqfChan.zpin: clamp(r, lo, hi), no zero point added), compared the
 * same way; that form must prove nearly every stage the plain one
 * proves, with as few corrections in most (a prover that did not shift
 * its bias candidates by zp, or a clamp that still added zp, would not).
 */
#include "rng.h"
#include "requant_float.h"

#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"

static long passed, failed, proved[2], refused[2], fixed[2], refused0[2], tight_gain, one_bias[2], two_sided[2];
static long zp_proved[2], zp_as_few[2]; /* the ZPIN form: proved, with no more corrections than plain */

static int32_t want(int32_t acc, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    int64_t v = (int64_t)fp_mul_by_quantized_multiplier(acc, m, shift) + zp;
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Every accumulator of [alo, ahi] through CH against the interpreter's
 * stage; whether all agree. */
static bool compare(const RqfStage *st, const RqfChan *ch, int64_t alo, int64_t ahi)
{
    int32_t m = st->mult, zp = st->zp, lo = st->lo, hi = st->hi;
    int shift = st->shift, round = ch->round;
    long bad = 0;
    for (int64_t x = alo; x <= ahi; x++) {
        int32_t got = rqf_eval(st, ch, (int32_t)x), w = want((int32_t)x, m, shift, zp, lo, hi);
        if (got == w)
            continue;
        if (bad++ < 3 && failed < 20)
            printf("FAIL acc %lld mult %d shift %d zp %d [%d, %d] range [%lld, %lld] %s%s (s %a, b %a / %a, %d fixes): "
                   "got %d want %d\n",
                   (long long)x, m, shift, zp, lo, hi, (long long)alo, (long long)ahi, round ? "floor" : "rne",
                   ch->zpin ? " zpin" : "", ch->s, ch->bpos, ch->bneg, ch->nfix, got, w);
    }
    failed += bad != 0;
    passed += bad == 0;
    return bad == 0;
}

/* The stage proved for [alo, ahi] rounding as ROUND, every accumulator
 * of the range compared, then the same with the zero point in the
 * biases; the number of corrections (-1: refused). */
static int check(int64_t alo, int64_t ahi, int round, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    RqfStage st = {m, shift, zp, lo, hi};
    RqfChan ch, ch0, chz;
    if (!rqf_prove(&st, alo, ahi, round, false, 0, &ch0))
        refused0[round]++;
    bool plain = rqf_prove(&st, alo, ahi, round, false, RQF_MAX_FIX, &ch);
    if (rqf_prove(&st, alo, ahi, round, true, RQF_MAX_FIX, &chz)) {
        zp_proved[round]++;
        zp_as_few[round] += plain && chz.nfix <= ch.nfix;
        if (!chz.zpin) {
            printf("FAIL zpin asked, not given\n");
            failed++;
        }
        compare(&st, &chz, alo, ahi);
    }
    if (!plain) {
        refused[round]++;
        return -1;
    }
    proved[round]++;
    fixed[round] += ch.nfix > 0;
    two_sided[round] += alo < 0 && ahi >= 0;
    one_bias[round] += alo < 0 && ahi >= 0 && ch.bpos == ch.bneg;
    return compare(&st, &ch, alo, ahi) ? ch.nfix : -1;
}

/* Both forms on [-a, a] and on a tight range inside it (a channel's
 * weights on a one-sided input: mostly one sign). */
static void stage(int64_t a, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    for (int round = RQF_RNE; round <= RQF_FLOOR; round++) {
        int whole = check(-a, a, round, m, shift, zp, lo, hi);
        int64_t tlo = -(int64_t)(rnd64() % (uint64_t)(a / 3 + 1)), thi = a - (int64_t)(rnd64() % (uint64_t)(a / 2 + 1));
        int tight = check(tlo, thi, round, m, shift, zp, lo, hi);
        tight_gain += whole < 0 ? tight >= 0 : tight >= 0 && tight < whole;
    }
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
    /* Wide: |acc| up to 2^20 (1x1 convs on many channels, 3x3 on 64),
     * 128 .. 1024 steps. */
    for (int it = 0; it < 12; it++) {
        int64_t a = 300000 + (int64_t)(rnd64() % 800000);
        double steps = ldexp(1.0, 7 + (int)(rnd64() % 4));
        int32_t m;
        int shift;
        fp_quantize_multiplier(steps / (double)a, &m, &shift);
        int32_t zp = zp_rand();
        stage(a, m, shift, zp, rnd64() % 2 ? -128 : zp, 127);
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
    /* One-sided ranges: all negative, all positive, a single value. */
    check(-90000, -5, RQF_FLOOR, 1700000000, -10, 3, -128, 127);
    check(7, 90000, RQF_RNE, 1700000000, -10, 3, -128, 127);
    check(0, 0, RQF_FLOOR, 1700000000, -10, 3, -128, 127);

    printf("requant_float: %ld stages exact, %ld failed; rne: %ld proved (%ld with corrections), %ld refused, %ld "
           "refused without corrections; floor: %ld proved (%ld with corrections), %ld refused, %ld refused "
           "without; %ld tight ranges with fewer corrections; one bias for both signs: rne %ld, floor %ld of %ld "
           "and %ld two-sided ranges\n",
           passed, failed, proved[0], fixed[0], refused[0], refused0[0], proved[1], fixed[1], refused[1], refused0[1],
           tight_gain, one_bias[0], one_bias[1], two_sided[0], two_sided[1]);
    printf("zero point in the bias: rne %ld proved (%ld with no more corrections than plain), floor %ld (%ld)\n",
           zp_proved[0], zp_as_few[0], zp_proved[1], zp_as_few[1]);
    for (int r = 0; r < 2; r++)
        if (zp_proved[r] * 10 < proved[r] * 9 || zp_as_few[r] * 10 < proved[r] * 8) {
            printf("FAIL zero point in the bias (%s): %ld proved, %ld with as few corrections, of %ld\n",
                   r ? "floor" : "rne", zp_proved[r], zp_as_few[r], proved[r]);
            failed++;
        }
    /* The prover must accept typical stages, need corrections for some
     * (rne), refuse some without them, and the floor form must need
     * fewer corrections than rne's (its point). */
    /* One bias for both signs (no sign select in the kernel) must come
     * with the ReLU clamps (lo == zp: every negative accumulator clamps)
     * and not with the others. */
    if (one_bias[1] == 0 || one_bias[1] >= two_sided[1] || one_bias[0] == 0) {
        printf("FAIL one bias: rne %ld, floor %ld of %ld two-sided\n", one_bias[0], one_bias[1], two_sided[1]);
        failed++;
    }
    if (proved[0] < 300 || proved[1] < 300 || fixed[0] == 0 || refused0[0] == 0 || fixed[1] >= fixed[0]) {
        printf("FAIL the prover: rne %ld proved, %ld with corrections, %ld refused without; floor %ld proved, %ld with "
               "corrections\n",
               proved[0], fixed[0], refused0[0], proved[1], fixed[1]);
        failed++;
    }
    return failed != 0;
}
