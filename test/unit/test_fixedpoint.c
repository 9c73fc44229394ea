/* test_fixedpoint.c - the fixed-point helpers against wide-integer and
 * long-double references.
 *
 * Every reference below is written from the definition of the rule (the
 * real-number result and the rounding direction), not from the shape of the
 * code under test: SaturatingRoundingDoublingHighMul is "a*b / 2^31 rounded
 * to nearest, ties towards +infinity, INT32_MIN*INT32_MIN saturating"
 * (gemmlowp fixedpoint.h), RoundingDivideByPOT is "x / 2^e rounded to
 * nearest, ties away from zero", QuantizeMultiplier is "the 31-bit
 * significand of m rounded half away from zero" (TFLite
 * quantization_util.cc), and the exact product rounding is checked against
 * 128-bit integer arithmetic on the exact binary value of the double.
 */
#include "rng.h"
#include "fixedpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long passed, failed;

#define CHECK_EQ(got, want, ...)                                              \
    do {                                                                      \
        long long g_ = (long long)(got), w_ = (long long)(want);              \
        if (g_ == w_) {                                                       \
            passed++;                                                         \
        } else {                                                              \
            if (failed < 20) {                                                \
                printf("FAIL %s:%d: got %lld want %lld: ", __FILE__, __LINE__, g_, w_); \
                printf(__VA_ARGS__);                                          \
                printf("\n");                                                 \
            }                                                                 \
            failed++;                                                         \
        }                                                                     \
    } while (0)


/* An int32 drawn from a mix of distributions that hit the edges: uniform,
 * small, near powers of two, and the extremes. */
static int32_t rnd_i32(void)
{
    uint64_t r = rnd64();
    switch (r % 6) {
    case 0: return (int32_t)(uint32_t)(r >> 32);
    case 1: return (int32_t)((r >> 32) % 2001) - 1000;
    case 2: {
        int s = (int)((r >> 8) % 31);
        int64_t v = (INT64_C(1) << s) + (int64_t)((r >> 40) % 5) - 2;
        return (int32_t)((r >> 20) & 1 ? -v : v);
    }
    case 3: return (r >> 32) & 1 ? INT32_MIN + (int32_t)((r >> 40) % 4) : INT32_MAX - (int32_t)((r >> 40) % 4);
    default: return (int32_t)(uint32_t)(r >> 32) >> (int)((r >> 8) % 31);
    }
}

/* ------------------------------------------------------------ references */

/* floor(num / 2^s) for int64 num, without relying on >> of negatives. */
static int64_t floor_div_pow2(int64_t num, int s)
{
    int64_t d = INT64_C(1) << s;
    int64_t q = num / d;
    if (num % d != 0 && num < 0)
        q--;
    return q;
}

static int32_t ref_srdhm(int32_t a, int32_t b)
{
    /* round(a*b / 2^31) with ties to +inf = floor(a*b/2^31 + 1/2). */
    int64_t q = floor_div_pow2((int64_t)a * b + (INT64_C(1) << 30), 31);
    return q > INT32_MAX ? INT32_MAX : (int32_t)q;
}

static int32_t ref_rdbpot(int32_t x, int e)
{
    long double v = ldexpl((long double)x, -e);  /* exact */
    return (int32_t)roundl(v);                   /* half away from zero */
}

static void ref_quantize_multiplier(double m, int32_t *mult, int *shift)
{
    *mult = 0;
    *shift = 0;
    if (m == 0)
        return;
    int s = 0;
    long double v = m;
    while (v >= 1.0L) { v /= 2; s++; }
    while (v < 0.5L) { v *= 2; s--; }
    long double q = roundl(ldexpl(v, 31));
    if (q == ldexpl(1.0L, 31)) { q /= 2; s++; }
    if (s < -31) { s = 0; q = 0; }
    *mult = (int32_t)q;
    *shift = s;
}

static int32_t ref_mbqm(int32_t x, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    /* x * 2^left modulo 2^32, as a two's-complement int32. */
    int64_t w = ((int64_t)x * (INT64_C(1) << left)) & INT64_C(0xFFFFFFFF);
    if (w >= (INT64_C(1) << 31))
        w -= INT64_C(1) << 32;
    return ref_rdbpot(ref_srdhm((int32_t)w, mult), right);
}

/* Exact round-half-even of acc * m using the binary value of m:
 * m = mant * 2^ex with a 53-bit integer mant, so the product is the 128-bit
 * integer acc*mant scaled by 2^ex. */
static int64_t ref_round_product(int64_t acc, double m, int64_t lo, int64_t hi)
{
    int ex;
    double fr = frexp(m, &ex);
    int64_t mant = (int64_t)ldexp(fr, 53);
    ex -= 53;
    __int128 p = (__int128)acc * mant;
    __int128 r;
    if (ex >= 0) {
        r = p << ex;  /* callers keep this small */
    } else {
        int s = -ex;
        if (s > 120) {
            r = 0;  /* |value| < 2^-30: rounds to 0 */
        } else {
            __int128 d = (__int128)1 << s;
            __int128 q = p / d, rem = p % d;
            if (rem < 0) { q--; rem += d; }  /* floor division */
            __int128 half = d / 2;
            if (rem > half || (rem == half && (q & 1)))
                q++;
            r = q;
        }
    }
    if (r < lo)
        return lo;
    if (r > hi)
        return hi;
    return (int64_t)r;
}

/* ------------------------------------------------------------ edge cases */

static void test_edges(void)
{
    /* SRDHM: values worked out by hand from the definition. */
    CHECK_EQ(fp_srdhm(INT32_MIN, INT32_MIN), INT32_MAX, "srdhm min*min saturates");
    CHECK_EQ(fp_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX, "srdhm min*max");
    CHECK_EQ(fp_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1, "srdhm max*max");
    CHECK_EQ(fp_srdhm(1 << 30, 1 << 30), 1 << 29, "srdhm 0.5*0.5");
    CHECK_EQ(fp_srdhm(1, 1 << 30), 1, "srdhm +0.5 tie rounds up");
    CHECK_EQ(fp_srdhm(-1, 1 << 30), 0, "srdhm -0.5 tie rounds up (toward zero)");
    CHECK_EQ(fp_srdhm(3, 1 << 30), 2, "srdhm +1.5 tie");
    CHECK_EQ(fp_srdhm(-3, 1 << 30), -1, "srdhm -1.5 tie");
    CHECK_EQ(fp_srdhm(0, INT32_MIN), 0, "srdhm zero");
    CHECK_EQ(fp_srdhm(INT32_MIN, 1 << 30), -(1 << 30), "srdhm min*0.5");

    /* RDBPOT: ties away from zero, every shift. */
    CHECK_EQ(fp_rdbpot(5, 1), 3, "rdbpot 2.5");
    CHECK_EQ(fp_rdbpot(-5, 1), -3, "rdbpot -2.5");
    CHECK_EQ(fp_rdbpot(3, 1), 2, "rdbpot 1.5");
    CHECK_EQ(fp_rdbpot(-3, 1), -2, "rdbpot -1.5");
    CHECK_EQ(fp_rdbpot(-1, 1), -1, "rdbpot -0.5");
    CHECK_EQ(fp_rdbpot(1, 1), 1, "rdbpot 0.5");
    CHECK_EQ(fp_rdbpot(INT32_MIN, 31), -1, "rdbpot min/2^31");
    CHECK_EQ(fp_rdbpot(INT32_MAX, 31), 1, "rdbpot max/2^31");
    CHECK_EQ(fp_rdbpot(INT32_MAX, 0), INT32_MAX, "rdbpot shift 0");
    CHECK_EQ(fp_rdbpot(INT32_MIN, 0), INT32_MIN, "rdbpot min shift 0");
    CHECK_EQ(fp_rdbpot(1 << 30, 31), 1, "rdbpot +0.5 at 31");
    CHECK_EQ(fp_rdbpot(-(1 << 30), 31), -1, "rdbpot -0.5 at 31");
    CHECK_EQ(fp_rdbpot((1 << 30) - 1, 31), 0, "rdbpot just below half");
    for (int e = 0; e <= 31; e++) {
        int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, INT32_MAX - 1};
        for (size_t k = 0; k < sizeof xs / sizeof *xs; k++)
            CHECK_EQ(fp_rdbpot(xs[k], e), ref_rdbpot(xs[k], e), "rdbpot(%d, %d)", xs[k], e);
        if (e > 0) {
            int32_t half = (int32_t)(INT64_C(1) << (e - 1));
            CHECK_EQ(fp_rdbpot(half, e), 1, "rdbpot +half e=%d", e);
            CHECK_EQ(fp_rdbpot(-half, e), -1, "rdbpot -half e=%d", e);
            CHECK_EQ(fp_rdbpot(half - 1, e), 0, "rdbpot below half e=%d", e);
            CHECK_EQ(fp_rdbpot(-half + 1, e), 0, "rdbpot above -half e=%d", e);
        }
    }

    /* QuantizeMultiplier corner cases. */
    int32_t m;
    int s;
    CHECK_EQ(fp_quantize_multiplier(1.0, &m, &s), 1, "qm 1.0 ok");
    CHECK_EQ(m, 1 << 30, "qm 1.0 mult");
    CHECK_EQ(s, 1, "qm 1.0 shift");
    fp_quantize_multiplier(0.5, &m, &s);
    CHECK_EQ(m, 1 << 30, "qm 0.5 mult");
    CHECK_EQ(s, 0, "qm 0.5 shift");
    fp_quantize_multiplier(0.0, &m, &s);
    CHECK_EQ(m, 0, "qm 0 mult");
    CHECK_EQ(s, 0, "qm 0 shift");
    /* Just below 1: the significand rounds up to 2^31 and is renormalized. */
    fp_quantize_multiplier(1.0 - 0x1p-40, &m, &s);
    CHECK_EQ(m, 1 << 30, "qm 1-eps mult");
    CHECK_EQ(s, 1, "qm 1-eps shift");
    fp_quantize_multiplier(0x1p-32, &m, &s);
    CHECK_EQ(m, 1 << 30, "qm 2^-32 kept");
    CHECK_EQ(s, -31, "qm 2^-32 shift");
    fp_quantize_multiplier(0x1p-33, &m, &s);
    CHECK_EQ(m, 0, "qm 2^-33 flushed");
    CHECK_EQ(s, 0, "qm 2^-33 flushed shift");
    fp_quantize_multiplier(0.75, &m, &s);
    CHECK_EQ(m, 3 << 29, "qm 0.75");
    CHECK_EQ(s, 0, "qm 0.75 shift");
    CHECK_EQ(fp_quantize_multiplier(-1.0, &m, &s), 0, "qm negative refused");
    CHECK_EQ(fp_quantize_multiplier(INFINITY, &m, &s), 0, "qm inf refused");
    CHECK_EQ(fp_quantize_multiplier(0x1p31, &m, &s), 0, "qm 2^31 refused (shift 32)");
    CHECK_EQ(fp_quantize_multiplier(0x1p29, &m, &s), 1, "qm 2^29 ok (shift 30)");
    CHECK_EQ(s, 30, "qm 2^29 shift");

    /* MBQM: multiplier 1.0 is the identity; shifts at both ends. */
    fp_quantize_multiplier(1.0, &m, &s);
    int32_t ids[] = {0, 1, -1, 12345, -12345, (1 << 30) - 1, -(1 << 30)};
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++)
        CHECK_EQ(fp_mul_by_quantized_multiplier(ids[k], m, s), ids[k], "mbqm x*1.0, x=%d", ids[k]);
    CHECK_EQ(fp_mul_by_quantized_multiplier(3, 1 << 30, 0), 2, "mbqm 3*0.5 = 1.5 -> 2");
    CHECK_EQ(fp_mul_by_quantized_multiplier(-3, 1 << 30, 0), -1, "mbqm -3*0.5 = -1.5 -> -1 (srdhm ties up)");
    CHECK_EQ(fp_mul_by_quantized_multiplier(3, 1 << 30, -1), 1, "mbqm 3*0.25: srdhm 2, rdbpot 1");
    /* (2^31-1)/2 -> 2^30 (srdhm tie up), then 2^30 / 2^31 = 0.5 -> 1. */
    CHECK_EQ(fp_mul_by_quantized_multiplier(INT32_MAX, 1 << 30, -31), 1, "mbqm tiny, tie away");
    CHECK_EQ(fp_mul_by_quantized_multiplier(INT32_MAX - 3, 1 << 30, -31), 0, "mbqm tiny below tie");
    CHECK_EQ(fp_mul_by_quantized_multiplier(INT32_MIN, INT32_MIN, 0), INT32_MAX, "mbqm saturating");
    CHECK_EQ(fp_mul_by_quantized_multiplier(1, 1 << 30, 30), 1 << 29, "mbqm shift 30");
    CHECK_EQ(fp_mul_by_quantized_multiplier(4, 1 << 30, 30), 0, "mbqm shift 30 wraps 2^32 to 0");
    for (int sh = -31; sh <= 30; sh++) {
        int32_t xs[] = {INT32_MIN, -1, 0, 1, INT32_MAX, 1000, -1000};
        int32_t ms[] = {1 << 30, INT32_MAX, (1 << 30) + 1};
        for (size_t a = 0; a < sizeof xs / sizeof *xs; a++)
            for (size_t b = 0; b < sizeof ms / sizeof *ms; b++)
                CHECK_EQ(fp_mul_by_quantized_multiplier(xs[a], ms[b], sh), ref_mbqm(xs[a], ms[b], sh),
                         "mbqm(%d, %d, %d)", xs[a], ms[b], sh);
    }

    /* Round half even / away. */
    double ties[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0x1p52 + 1, -0x1p52 - 1};
    double even[] = {0, 2, 2, -0.0, -2, -2, 0x1p52 + 1, -0x1p52 - 1};
    double away[] = {1, 2, 3, -1, -2, -3, 0x1p52 + 1, -0x1p52 - 1};
    for (int k = 0; k < 8; k++) {
        CHECK_EQ(fp_round_half_even(ties[k]), even[k], "rhe(%g)", ties[k]);
        CHECK_EQ(fp_round_half_away(ties[k]), away[k], "rha(%g)", ties[k]);
    }
    /* Exact product ties: 5 * 0.5 = 2.5 -> 2; 7 * 0.5 -> 4; -5 * 0.5 -> -2. */
    CHECK_EQ(fp_round_product_half_even(5, 0.5, -1000, 1000), 2, "rp 2.5");
    CHECK_EQ(fp_round_product_half_even(7, 0.5, -1000, 1000), 4, "rp 3.5");
    CHECK_EQ(fp_round_product_half_even(-5, 0.5, -1000, 1000), -2, "rp -2.5");
    CHECK_EQ(fp_round_product_half_even(1000, 1.0, -127, 127), 127, "rp saturates hi");
    CHECK_EQ(fp_round_product_half_even(-1000, 1.0, -128, 127), -128, "rp saturates lo");
    /* A product that rounds to exactly .5 in double but is not a tie:
     * m = 0.5 + 2^-53 (a double), acc = 2^31 - 1 gives
     * (2^31-1)/2 + (2^31-1)*2^-53, slightly above the tie: rounds up. */
    {
        double mm = 0.5 + 0x1p-53;
        int64_t acc = INT32_MAX;
        CHECK_EQ(fp_round_product_half_even(acc, mm, INT64_MIN, INT64_MAX),
                 ref_round_product(acc, mm, INT64_MIN, INT64_MAX), "rp hidden non-tie");
        CHECK_EQ(fp_round_product_half_even(acc, mm, INT64_MIN, INT64_MAX), 1073741824, "rp hidden non-tie value");
        CHECK_EQ(fp_round_product_half_even(acc, 0.5 - 0x1p-54, INT64_MIN, INT64_MAX), 1073741823,
                 "rp hidden non-tie below");
    }
    /* Products that round to an exact .5 in double without being a tie:
     * m = (5*2^52 + 1) / 3 / 2^53 is a double (the numerator is divisible
     * by 3 since 2^52 = 1 mod 3), and 3*m = 2.5 + 2^-53 exactly, which
     * rounds to the double 2.5.  The true value lies above the tie: 3.
     * With acc = -3 it lies below -2.5: -3. */
    {
        double mm = ldexp((double)(((UINT64_C(5) << 52) + 1) / 3), -53);
        CHECK_EQ(3.0 * mm == 2.5, 1, "3*m rounds to 2.5 in double");
        CHECK_EQ(fp_round_product_half_even(3, mm, -100, 100), 3, "rp 2.5+2^-53 -> 3");
        CHECK_EQ(fp_round_product_half_even(-3, mm, -100, 100), -3, "rp -2.5-2^-53 -> -3");
    }
    /* Just inside -0.5: p = -0.5 + 2^-54, whose distance to floor(p) = -1
     * is not a double (it would round onto 0.5).  Exact value
     * -0.49999999999999994... rounds to 0. */
    CHECK_EQ(fp_round_product_half_even(-61719, 0x1.0fd50fc851cb9p-17, -100, 100), 0, "rp just above -0.5");
    CHECK_EQ(fp_round_half_even(-0.5 + 0x1p-54), 0, "rhe just above -0.5");
    CHECK_EQ(fp_round_half_even(-0x1p-60), 0, "rhe tiny negative");
    /* Past 2^52 every double is an integer. */
    CHECK_EQ(fp_round_product_half_even((INT64_C(1) << 53) - 1, 1.0, INT64_MIN, INT64_MAX),
             (INT64_C(1) << 53) - 1, "rp 2^53-1");
    /* Saturation of doubles. */
    CHECK_EQ(fp_saturate(NAN, -128, 127), 0, "sat nan");
    CHECK_EQ(fp_saturate(-INFINITY, -128, 127), -128, "sat -inf");
    CHECK_EQ(fp_saturate(1e300, -128, 127), 127, "sat huge");
}

/* ------------------------------------------------------------ random cases */

static void test_random(void)
{
    for (long i = 0; i < 600000; i++) {
        int32_t a = rnd_i32(), b = rnd_i32();
        CHECK_EQ(fp_srdhm(a, b), ref_srdhm(a, b), "srdhm(%d, %d)", a, b);
    }
    for (long i = 0; i < 500000; i++) {
        int32_t x = rnd_i32();
        int e = (int)(rnd64() % 32);
        CHECK_EQ(fp_rdbpot(x, e), ref_rdbpot(x, e), "rdbpot(%d, %d)", x, e);
    }
    for (long i = 0; i < 300000; i++) {
        /* Multipliers from 2^-40 to 2^30, some on exact 31-bit boundaries. */
        double m = ldexp((double)(rnd64() >> 11) * 0x1p-53, (int)(rnd64() % 71) - 40);
        if (i % 7 == 0)
            m = ldexp((double)((rnd64() % (UINT64_C(1) << 31)) | (UINT64_C(1) << 30)) + 0.5,
                      (int)(rnd64() % 40) - 60);  /* significand ties */
        int32_t gm, rm;
        int gs, rs;
        bool ok = fp_quantize_multiplier(m, &gm, &gs);
        ref_quantize_multiplier(m, &rm, &rs);
        if (rs > 30) {
            CHECK_EQ(ok, 0, "qm(%a) refuses shift %d", m, rs);
            continue;
        }
        CHECK_EQ(ok, 1, "qm(%a) ok", m);
        CHECK_EQ(gm, rm, "qm(%a) mult", m);
        CHECK_EQ(gs, rs, "qm(%a) shift", m);
        /* Property: mult in [2^30, 2^31) and within half an ulp of m. */
        if (gm != 0) {
            bool in_range = gm >= (1 << 30);
            long double err = fabsl(ldexpl((long double)gm, gs - 31) - (long double)m);
            CHECK_EQ(in_range && err <= ldexpl(1.0L, gs - 32), 1, "qm(%a) accuracy", m);
        }
    }
    for (long i = 0; i < 500000; i++) {
        int32_t x = rnd_i32(), mult = (int32_t)((rnd64() >> 33) | (UINT64_C(1) << 30));
        int sh = (int)(rnd64() % 62) - 31;
        if (i % 3 == 0)
            mult = rnd_i32();  /* any multiplier, negative too */
        CHECK_EQ(fp_mul_by_quantized_multiplier(x, mult, sh), ref_mbqm(x, mult, sh),
                 "mbqm(%d, %d, %d)", x, mult, sh);
    }
    for (long i = 0; i < 300000; i++) {
        int64_t acc = rnd_i32();
        double m;
        if (i % 4 == 1) {
            /* m = (k + 1/2) / acc rounded to double: acc*m lands on or
             * next to a tie, and often rounds onto it without being one. */
            acc = (int64_t)(rnd64() % 200001) - 100000;
            if (acc == 0)
                acc = 7;
            m = ((double)(int64_t)(rnd64() % 4001) + 0.5) / (double)acc;
            if (m < 0)
                m = -m;
        } else if (i % 4 == 0) {
            /* Dyadic multipliers produce real ties. */
            m = ldexp((double)(rnd64() % 64 + 1), -(int)(rnd64() % 8) - 1);
            acc = (int64_t)(rnd64() % 20001) - 10000;
        } else {
            m = ldexp((double)(rnd64() >> 11) * 0x1p-53, -(int)(rnd64() % 40));
        }
        CHECK_EQ(fp_round_product_half_even(acc, m, INT32_MIN, INT32_MAX),
                 ref_round_product(acc, m, INT32_MIN, INT32_MAX), "rp(%lld, %a)", (long long)acc, m);
    }
    for (long i = 0; i < 200000; i++) {
        double x = (double)((int64_t)(rnd64() % 2000001) - 1000000) / 4.0; /* many ties */
        if (i % 2)
            x = ldexp((double)(int64_t)rnd64(), -(int)(rnd64() % 70));
        CHECK_EQ(fp_round_half_even(x), rint(x), "rhe(%a)", x);       /* FE_TONEAREST */
        CHECK_EQ(fp_round_half_away(x), (double)llroundl(x), "rha(%a)", x);
    }
}

/* kernel_softmax.c's output stage in one step: for recip, e in [0, 2^31)
 * and an exponent x in [0, 31], fp_softmax_output's RDBPOT(SRDHM(recip,
 * e), x) - 128 clamped equals min((recip*e + 2^30 + [x > 0] 2^(30+x)) >>
 * (31 + x), 255) - 128.  Random operands, and products placed on
 * RDBPOT's ties and on SRDHM's ties that land on them, where a wrong
 * constant shows (either constant halved fails). */
static int32_t softmax_out_fused(int32_t recip, int x, int32_t e)
{
    uint64_t k = (UINT64_C(1) << 30) + (x ? UINT64_C(1) << (30 + x) : 0);
    uint64_t v = ((uint64_t)recip * (uint64_t)e + k) >> (31 + x);
    return (int32_t)(v > 255 ? 255 : v) - 128;
}

static void test_softmax_fused(void)
{
    for (long i = 0; i < 300000; i++) {
        int x = (int)(rnd64() % 32);
        int32_t recip = (int32_t)(rnd64() >> 33), e = (int32_t)(rnd64() >> 33);
        int64_t j = (int64_t)(rnd64() % 300); /* an output near the clamp's range */
        if (i % 3 == 1) {
            /* SRDHM's tie up onto RDBPOT's tie: recip e = (2k + 1) 2^30, so
             * q = k + 1 = j 2^x + 2^(x-1) (for x = 0, q = j + 1). */
            int64_t k = x ? (j << x) + (INT64_C(1) << (x - 1)) - 1 : j;
            if (2 * k + 1 <= INT32_MAX)
                recip = INT32_C(1) << 30, e = (int32_t)(2 * k + 1);
        } else if (i % 3 == 2 && x > 0) {
            /* RDBPOT's tie alone: q = e / 2 = (2j + 1) 2^(x-1). */
            int64_t ee = (2 * j + 1) << x;
            if (ee <= INT32_MAX)
                recip = INT32_C(1) << 30, e = (int32_t)ee;
        }
        CHECK_EQ(softmax_out_fused(recip, x, e), fp_softmax_output(recip, x - 23, e), "softmax out(%d, %d, %d)",
                 (int)recip, x, (int)e);
    }
}

int main(void)
{
    clock_t t0 = clock();
    test_edges();
    test_random();
    test_softmax_fused();
    printf("test_fixedpoint: %ld passed, %ld failed (%.2f s)\n", passed, failed,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    return failed ? 1 : 0;
}
