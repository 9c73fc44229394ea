/* test_requantize.c - the runtime's fixed-point helpers and requantize
 * kernels against a wide-integer rendering of their specification, plus
 * qnn_check_args.  Runs on every target (the lit tests in test/runtime/ run it under
 * qemu), since bit-exactness across targets is the point.
 *
 * The references below follow the specification's own steps (gemmlowp
 * fixedpoint.h: nudge then truncating division; round half away from zero
 * by quotient and remainder), deliberately not the closed forms the
 * runtime uses, and a table of hand-computed values guards against both
 * sharing a misreading. */
#include "qnn_kernels.h"

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK_EQ(got, want, ...)                                                                                   \
    do {                                                                                                           \
        long long g_ = (got), w_ = (want);                                                                         \
        if (g_ == w_) {                                                                                            \
            passed++;                                                                                              \
        } else {                                                                                                   \
            failed++;                                                                                              \
            if (failed <= 20) {                                                                                    \
                printf("FAIL %s:%d: %s = %lld, want %lld: ", __FILE__, __LINE__, #got, g_, w_);                    \
                printf(__VA_ARGS__);                                                                               \
                printf("\n");                                                                                      \
            }                                                                                                      \
        }                                                                                                          \
    } while (0)

/* ---- References, in 64-bit integers, from the specification's steps. */

static int32_t ref_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* C division truncates towards zero */
}

static int32_t ref_rdbpot(int32_t x, int e)
{
    int64_t d = INT64_C(1) << e;
    int64_t q = (int64_t)x / d, r = (int64_t)x - q * d;
    /* Half or more of the divisor left over rounds away from zero. */
    if (2 * (r < 0 ? -r : r) >= d)
        q += x < 0 ? -1 : 1;
    return (int32_t)q;
}

static int32_t ref_mbqm(int32_t x, int32_t m, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    /* x * 2^left reduced modulo 2^32 into the int32 range, by arithmetic. */
    int64_t v = (int64_t)x * (INT64_C(1) << left);
    int64_t m32 = INT64_C(1) << 32;
    v %= m32;
    if (v < 0)
        v += m32;
    if (v >= m32 / 2)
        v -= m32;
    return ref_rdbpot(ref_srdhm((int32_t)v, m), right);
}

static int32_t ref_requant(int32_t acc, const qnn_requant_params *p)
{
    int64_t v = (int64_t)ref_mbqm(acc, p->multiplier, p->shift) + p->zero_point;
    return (int32_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
}

/* xorshift64*: deterministic on every target. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Du) >> 32);
}

/* Mostly uniform values, but often near the edges and small, where
 * rounding and saturation live. */
static int32_t rnd_i32(void)
{
    static const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX, 1 << 30, -(1 << 30)};
    uint32_t k = rnd() % 8;
    if (k == 0)
        return edges[rnd() % (sizeof edges / sizeof edges[0])];
    if (k == 1)
        return (int32_t)(rnd() % 2001) - 1000;
    if (k == 2)
        return (int32_t)(rnd() >> (rnd() % 32)) * (rnd() & 1 ? 1 : -1);
    return (int32_t)rnd();
}

static void test_hand_computed(void)
{
    /* SRDHM: a*b/2^31 rounded to nearest, ties towards +infinity. */
    CHECK_EQ(qnn_srdhm_s32(1 << 15, 1 << 15), 1, "2^30/2^31 = 0.5 rounds up");
    CHECK_EQ(qnn_srdhm_s32(-(1 << 15), 1 << 15), 0, "-0.5 rounds up to 0");
    CHECK_EQ(qnn_srdhm_s32(3 << 14, 1 << 16), 2, "1.5 -> 2");
    CHECK_EQ(qnn_srdhm_s32(-(3 << 14), 1 << 16), -1, "-1.5 -> -1");
    CHECK_EQ(qnn_srdhm_s32(INT32_MIN, INT32_MIN), INT32_MAX, "the one saturating case");
    CHECK_EQ(qnn_srdhm_s32(INT32_MIN, INT32_MAX), -2147483647, "exact");
    CHECK_EQ(qnn_srdhm_s32(INT32_MAX, INT32_MAX), 2147483646, "(2^31-1)^2/2^31");
    CHECK_EQ(qnn_srdhm_s32(INT32_MIN, 1), -1, "-2^31/2^31 = -1 exactly");
    CHECK_EQ(qnn_srdhm_s32(0, INT32_MIN), 0, "zero");
    /* RDBPOT: x/2^e rounded to nearest, ties away from zero. */
    CHECK_EQ(qnn_rdbpot_s32(5, 1), 3, "2.5");
    CHECK_EQ(qnn_rdbpot_s32(-5, 1), -3, "-2.5");
    CHECK_EQ(qnn_rdbpot_s32(3, 1), 2, "1.5");
    CHECK_EQ(qnn_rdbpot_s32(-3, 1), -2, "-1.5");
    CHECK_EQ(qnn_rdbpot_s32(-7, 2), -2, "-1.75");
    CHECK_EQ(qnn_rdbpot_s32(-5, 2), -1, "-1.25");
    CHECK_EQ(qnn_rdbpot_s32(12345, 0), 12345, "exponent 0");
    CHECK_EQ(qnn_rdbpot_s32(INT32_MIN, 0), INT32_MIN, "exponent 0");
    CHECK_EQ(qnn_rdbpot_s32(INT32_MIN, 31), -1, "exactly -1");
    CHECK_EQ(qnn_rdbpot_s32(INT32_MAX, 31), 1, "0.99999...");
    CHECK_EQ(qnn_rdbpot_s32(1 << 30, 31), 1, "0.5");
    CHECK_EQ(qnn_rdbpot_s32(-(1 << 30), 31), -1, "-0.5");
    CHECK_EQ(qnn_rdbpot_s32((1 << 30) - 1, 31), 0, "just under 0.5");
    CHECK_EQ(qnn_rdbpot_s32(INT32_MIN, 1), -1073741824, "-2^30");
    CHECK_EQ(qnn_rdbpot_s32(INT32_MAX, 1), 1073741824, "2^30 - 0.5 -> 2^30");
    /* MultiplyByQuantizedMultiplier at both ends of the shift range. */
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(1, 1 << 30, 30), 1 << 29, "2^30 * 0.5");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(3, 1 << 30, 30), -(1 << 29), "3 << 30 wraps to -2^30");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(INT32_MAX, INT32_MAX, -31), 1, "0.99999 -> 1");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(INT32_MIN, INT32_MAX, -31), -1, "-0.99999 -> -1");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(100, 1 << 30, -1), 25, "100 * 0.5 / 2");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(-100, 1 << 30, -3), -6, "-6.25");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(-100, 1 << 30, -4), -3, "-3.125");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(-12, 1 << 30, -3), -1, "-0.75");
    CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(-4, 1 << 30, -2), -1, "-0.5 away from zero");
}

static void test_against_reference(void)
{
    for (int i = 0; i < 200000; i++) {
        int32_t a = rnd_i32(), b = rnd_i32();
        CHECK_EQ(qnn_srdhm_s32(a, b), ref_srdhm(a, b), "srdhm(%ld, %ld)", (long)a, (long)b);
        int e = (int)(rnd() % 32);
        CHECK_EQ(qnn_rdbpot_s32(a, e), ref_rdbpot(a, e), "rdbpot(%ld, %d)", (long)a, e);
        int32_t m = (int32_t)((1u << 30) | (rnd() >> 2)); /* a normalised Q0.31 multiplier */
        if (rnd() % 16 == 0)
            m = rnd() % 2 ? 0 : INT32_MAX;
        int shift = (int)(rnd() % 62) - 31;
        CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(a, m, shift), ref_mbqm(a, m, shift), "mbqm(%ld, %ld, %d)",
                 (long)a, (long)m, shift);
    }
    /* Every shift with every edge value. */
    static const int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -65536, -3, -1, 0, 1, 3, 65535, INT32_MAX};
    static const int32_t ms[] = {0, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX};
    for (int s = -31; s <= 30; s++)
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
            for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++)
                CHECK_EQ(qnn_mul_by_quantized_multiplier_s32(xs[i], ms[j], s), ref_mbqm(xs[i], ms[j], s),
                         "mbqm(%ld, %ld, %d)", (long)xs[i], (long)ms[j], s);
}

static void test_requantize_kernels(void)
{
    enum { N = 257 };
    static int32_t acc[N], alias[N];
    static int8_t out8[N];
    static int16_t out16[N];
    for (int round = 0; round < 200; round++) {
        qnn_requant_params p = {
            .multiplier = (int32_t)((1u << 30) | (rnd() >> 2)),
            .shift = (int)(rnd() % 62) - 31,
            .zero_point = (int32_t)(rnd() % 256) - 128,
            .act_min = -128,
            .act_max = 127,
        };
        if (round % 3 == 1)
            p.act_min = p.zero_point; /* a fused ReLU */
        for (int i = 0; i < N; i++)
            acc[i] = round % 2 ? rnd_i32() : (int32_t)(rnd() % 200001) - 100000;
        CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, N, &p), QNN_OK, "round %d", round);
        for (int i = 0; i < N; i++)
            CHECK_EQ(out8[i], ref_requant(acc[i], &p), "s8 round %d element %d (acc %ld)", round, i, (long)acc[i]);
        /* In place: OUT aliases the first N bytes of IN. */
        memcpy(alias, acc, sizeof acc);
        CHECK_EQ(qnn_requantize_s32_to_s8(alias, (int8_t *)alias, N, &p), QNN_OK, "in place");
        CHECK_EQ(memcmp(alias, out8, N), 0, "in place round %d", round);
        qnn_requant_params p16 = p;
        p16.act_min = round % 3 == 1 ? p.zero_point : INT16_MIN;
        p16.act_max = INT16_MAX;
        CHECK_EQ(qnn_requantize_s32_to_s16(acc, out16, N, &p16), QNN_OK, "s16 round %d", round);
        for (int i = 0; i < N; i++)
            CHECK_EQ(out16[i], ref_requant(acc[i], &p16), "s16 round %d element %d", round, i);
    }
    /* Parameter checks. */
    qnn_requant_params ok = {.multiplier = 1 << 30, .shift = 0, .zero_point = 0, .act_min = -128, .act_max = 127};
    qnn_requant_params bad = ok;
    CHECK_EQ(qnn_requantize_s32_to_s8(NULL, out8, 1, &ok), QNN_ERR_NULL_ARGUMENT, "NULL in");
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, NULL, 1, &ok), QNN_ERR_NULL_ARGUMENT, "NULL out");
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, NULL), QNN_ERR_NULL_ARGUMENT, "NULL params");
    CHECK_EQ(qnn_requantize_s32_to_s8(NULL, NULL, 0, &ok), QNN_OK, "nothing to do");
    bad.shift = 31;
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, &bad), QNN_ERR_BAD_PARAMS, "shift 31");
    bad.shift = -32;
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, &bad), QNN_ERR_BAD_PARAMS, "shift -32");
    bad = ok;
    bad.act_min = 5, bad.act_max = 4;
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, &bad), QNN_ERR_BAD_PARAMS, "empty clamp");
    bad = ok;
    bad.act_max = 128;
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, &bad), QNN_ERR_BAD_PARAMS, "clamp beyond int8");
    CHECK_EQ(qnn_requantize_s32_to_s16(acc, out16, 1, &bad), QNN_OK, "fine for int16");
    bad = ok;
    bad.multiplier = -1;
    CHECK_EQ(qnn_requantize_s32_to_s8(acc, out8, 1, &bad), QNN_ERR_BAD_PARAMS, "negative multiplier");
}

static int fake_run(const void *const inputs[], void *const outputs[], void *scratch)
{
    (void)inputs, (void)outputs, (void)scratch;
    return QNN_OK;
}

static void test_check_args(void)
{
    static const qnn_tensor_info t = {.name = "x", .dtype = QNN_I8, .rank = 1, .dims = {4}, .nbytes = 4};
    qnn_model_info info = {.name = "m", .num_inputs = 1, .num_outputs = 1, .inputs = &t, .outputs = &t,
                           .scratch_size = 32, .scratch_align = 16, .run = fake_run};
    static _Alignas(16) unsigned char scratch[64];
    int8_t x[4], y[4];
    const void *in[1] = {x};
    void *out[1] = {y};
    const void *in_null[1] = {NULL};
    void *out_null[1] = {NULL};
    CHECK_EQ(qnn_check_args(&info, in, out, scratch), QNN_OK, "all good");
    CHECK_EQ(qnn_check_args(NULL, in, out, scratch), QNN_ERR_NULL_ARGUMENT, "NULL info");
    CHECK_EQ(qnn_check_args(&info, NULL, out, scratch), QNN_ERR_NULL_ARGUMENT, "NULL inputs");
    CHECK_EQ(qnn_check_args(&info, in, NULL, scratch), QNN_ERR_NULL_ARGUMENT, "NULL outputs");
    CHECK_EQ(qnn_check_args(&info, in_null, out, scratch), QNN_ERR_NULL_ARGUMENT, "NULL input 0");
    CHECK_EQ(qnn_check_args(&info, in, out_null, scratch), QNN_ERR_NULL_ARGUMENT, "NULL output 0");
    CHECK_EQ(qnn_check_args(&info, in, out, NULL), QNN_ERR_NULL_ARGUMENT, "NULL scratch");
    CHECK_EQ(qnn_check_args(&info, in, out, scratch + 8), QNN_ERR_MISALIGNED, "8-aligned scratch");
    CHECK_EQ(qnn_check_args(&info, in, out, scratch + 16), QNN_OK, "16-aligned scratch");
    info.scratch_size = 0;
    CHECK_EQ(qnn_check_args(&info, in, out, NULL), QNN_OK, "no scratch needed");
    CHECK_EQ(strcmp(qnn_runtime_version(), "0.1.0"), 0, "version %s", qnn_runtime_version());
}

int main(void)
{
    test_hand_computed();
    test_against_reference();
    test_requantize_kernels();
    test_check_args();
    printf("test_requantize: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
