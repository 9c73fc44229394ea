/* test_requant_bound.c - the bounded-accumulator TFLite output stage
 * (codegen/requant_bound.c, the steps kernel_requant.c emits in 32-bit
 * lanes) against the interpreter's fp_mul_by_quantized_multiplier
 * (ir/fixedpoint.c, itself checked against wide-integer references by
 * test_fixedpoint).
 *
 * Every accumulator in [-A, A] for a few typical depthwise and conv
 * stages (A up to 2^20), and for random stages and bounds: both ends of
 * the range, around 0, around the sign threshold of the doubling high
 * multiply, around the points where the rounded result steps (ties of
 * both roundings), and random values.  Also: the plans a typical
 * depthwise layer needs exist (a planner that refused everything would
 * pass the rest).
 */
#include "rng.h"
#include "requant_bound.h"

#include <stdio.h>

#include "fixedpoint.h"

static long passed, failed;


static void check(const RqbPlan *pl, const RqbChan *ch, int32_t m, int shift, int64_t a, int64_t x)
{
    if (x < -a || x > a)
        return;
    int32_t got = rqb_eval(pl, ch, (int32_t)x), want = fp_mul_by_quantized_multiplier((int32_t)x, m, shift);
    if (got == want) {
        passed++;
        return;
    }
    if (failed++ < 20)
        printf("FAIL acc %lld mult %d shift %d bound %lld (digits %d x %d bits): got %d want %d\n", (long long)x,
               m, shift, (long long)a, pl->nd, pl->w, got, want);
}

static bool plan1(int64_t a, int32_t m, int shift, RqbPlan *pl, RqbChan *ch)
{
    if (!rqb_plan(a, &m, &shift, 1, pl))
        return false;
    *ch = rqb_chan(pl, m, shift);
    return true;
}

static void exhaustive(int64_t a, int32_t m, int shift)
{
    RqbPlan pl;
    RqbChan ch;
    if (!plan1(a, m, shift, &pl, &ch)) {
        failed++;
        printf("FAIL no plan for bound %lld mult %d shift %d\n", (long long)a, m, shift);
        return;
    }
    for (int64_t x = -a; x <= a; x++)
        check(&pl, &ch, m, shift, a, x);
}

/* The points near which r steps: x m / 2^(31+e) near j + 1/2 and j. */
static void sampled(int64_t a, int32_t m, int shift)
{
    RqbPlan pl;
    RqbChan ch;
    if (!plan1(a, m, shift, &pl, &ch))
        return;
    int e = shift < 0 ? -shift : 0, l = shift > 0 ? shift : 0;
    int64_t pts[] = {-a, -a + 1, a - 1, a, 0, ch.thr >> l, -(INT64_C(1) << 30) / (m ? m : 1)};
    for (unsigned i = 0; i < sizeof pts / sizeof *pts; i++)
        for (int64_t d = -3; d <= 3; d++)
            check(&pl, &ch, m, shift, a, pts[i] + d);
    if (m > 0) {
        long double step = (long double)((INT64_C(1) << 31) >> (l > 31 ? 31 : l)) * (long double)(INT64_C(1) << e) / m;
        for (int i = 0; i < 200; i++) {
            long double j = (long double)((int64_t)(rnd64() % 4001) - 2000) / 2;
            int64_t x0 = (int64_t)(j * step);
            if (j * step > (long double)a * 2 || j * step < -(long double)a * 2)
                x0 = (int64_t)(rnd64() % (uint64_t)(2 * a + 1)) - a;
            for (int64_t d = -2; d <= 2; d++)
                check(&pl, &ch, m, shift, a, x0 + d);
        }
    }
    for (int i = 0; i < 300; i++)
        check(&pl, &ch, m, shift, a, (int64_t)(rnd64() % (uint64_t)(2 * a + 1)) - a);
}

int main(void)
{
    /* Typical stages, every accumulator. */
    exhaustive(1 << 20, 1518500250, -9);
    exhaustive(1 << 20, 1073741824, -1);
    exhaustive(300000, 2147483647, -12);
    exhaustive(300000, 1234567890, 0);
    exhaustive(70000, 1999999999, 2);
    exhaustive(4000, 123456789, -3);
    exhaustive(4000, 0, -5);
    /* A typical depthwise 3x3 (|acc| <= 9 * 127 * 255 + bias) needs at
     * most 3 multiplies. */
    int32_t ms[3] = {1073741824, 1500000000, 2147483647};
    int sh[3] = {0, -7, -20};
    RqbPlan pl;
    if (!rqb_plan(9 * 127 * 255 + 100000, ms, sh, 3, &pl) || pl.nd > 3) {
        failed++;
        printf("FAIL no 3-digit plan for a depthwise bound\n");
    }
    /* Random stages and bounds. */
    for (int it = 0; it < 20000; it++) {
        uint64_t r = rnd64();
        int32_t m;
        switch (r % 5) {
        case 0: m = (int32_t)(0x40000000u + (uint32_t)(rnd64() % 0x40000000u)); break;
        case 1: m = r % 2 ? INT32_MAX : 1 << 30; break;
        case 2: m = (int32_t)(rnd64() % 0x40000000u); break;
        case 3: m = (int32_t)(rnd64() % 1000); break;
        default: m = (int32_t)(0x40000000u + (uint32_t)(rnd64() % 0x40000000u)); break;
        }
        int shift = (int)((r >> 8) % 40) - 32; /* -32 .. 7 */
        if (shift < -31)
            shift = 0;
        int bits = (int)((r >> 16) % 31);
        int64_t a = (INT64_C(1) << bits) + (int64_t)((r >> 24) % 1000) - 500;
        if (a < 1)
            a = 1;
        if (a > INT32_MAX)
            a = INT32_MAX;
        sampled(a, m, shift);
    }
    printf("requant_bound: %ld passed, %ld failed\n", passed, failed);
    return failed != 0;
}
