/* requant_bound.c - TFLite's output stage, MultiplyByQuantizedMultiplier
 * r = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << l, m), e)
 * (ir/fixedpoint.c's fp_mul_by_quantized_multiplier), in 32-bit lanes
 * when the compiler knows a bound |acc| <= A (the weights and bias are
 * constants), instead of 64-bit products (8 lanes a zmm, not 16).
 *
 * Why it is exact.  Let x = acc << l (|x| <= X = A << l < 2^31: no wrap),
 * m >= 0 (so never INT32_MIN * INT32_MIN), and floor throughout.
 *  1. SRDHM(x, m) = floor((x m + 2^30) / 2^31): gemmlowp's nudge 2^30 for
 *     x m >= 0 with a truncating divide is this floor; for x m < 0 it is
 *     trunc((x m + 1 - 2^30) / 2^31) = ceil(..) = floor((x m + 2^30) / 2^31).
 *  2. RDBPOT(q, e) = floor((q + 2^(e-1) - [q < 0]) / 2^e) for e >= 1: with
 *     rho = q mod 2^e, gemmlowp adds 1 to floor(q / 2^e) iff
 *     rho > 2^(e-1) - 1 + [q < 0], i.e. iff rho + 2^(e-1) - [q < 0] >= 2^e.
 *     RDBPOT(q, 0) = q.
 *  3. floor((floor(a / 2^u) + c) / 2^v) = floor((a + c 2^u) / 2^(u+v)) for
 *     integers a, c.  So r = floor((x m + K) / 2^(31+e)) with
 *     K = 2^30 (1 + 2^e - 2n) (e >= 1; K = 2^30 for e = 0), where
 *     n = [q < 0] = [x m + 2^30 < 0] = [x < thr], thr = -floor(2^30 / m)
 *     (x m < -2^30 iff x < -2^30 / m; for m = 0 never: thr = INT32_MIN).
 *  4. m = sum_i d_i 2^(iW), digits 0 <= d_i < 2^W (the last one the bits
 *     from p = (ND-1) W <= 30 up).  t_0 = x d_0,
 *     t_i = x d_i + floor(t_(i-1) / 2^W) equals floor(x (d_0 + .. +
 *     d_i 2^(iW)) / 2^(iW)) (by 3, induction), so with the constant
 *     K / 2^p = 2^(30-p) (1 + 2^e - 2n) added to the last one,
 *     T = floor((x m + K) / 2^p) and r = floor(T / 2^(31+e-p)); a shift
 *     of 31 or more gives floor(T / 2^31) for |T| < 2^31, so it is capped
 *     at 31.
 *  5. Every product and partial sum is an int32: rqb_plan bounds each by
 *     interval arithmetic over |x| <= X, for every channel, and plans only
 *     when all of them fit.
 * The steps per lane: ND - (digits 0 or 1 in every channel) multiplies,
 * ND - 1 shifts and adds, a compare and a masked subtract, an add and the
 * final shift; rqb_eval does them on one value, in the same order. */
#include "requant_bound.h"

static int64_t floor_pow2(int64_t v, int s)
{
    int64_t d = INT64_C(1) << s, q = v / d;
    return (v % d != 0 && v < 0) ? q - 1 : q;
}

static bool fits(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

static int32_t digit(int32_t m, int w, int nd, int i)
{
    uint32_t u = (uint32_t)m >> (i * w);
    return (int32_t)(i == nd - 1 ? u : u & ((UINT32_C(1) << w) - 1));
}

RqbChan rqb_chan(const RqbPlan *plan, int32_t mult, int shift)
{
    RqbChan c = {{0}, 0, 0, INT32_MIN, 0, 0};
    int p = (plan->nd - 1) * plan->w, e = shift < 0 ? -shift : 0;
    for (int i = 0; i < plan->nd; i++)
        c.digit[i] = digit(mult, plan->w, plan->nd, i);
    int64_t kadd = (INT64_C(1) << (30 - p)) * (e ? 1 + (INT64_C(1) << e) : 1);
    c.kadd = fits(kadd) ? (int32_t)kadd : INT32_MAX; /* rqb_plan refuses it */
    c.kneg = e ? (int32_t)(INT64_C(1) << (31 - p)) : 0;
    if (mult > 0)
        c.thr = (int32_t)-((INT64_C(1) << 30) / mult);
    c.shift = 31 + e - p > 31 ? 31 : 31 + e - p;
    c.left = shift > 0 ? shift : 0;
    return c;
}

/* Whether every step of channel (MULT, SHIFT) fits int32 for |x| <= X. */
static bool chan_fits(const RqbPlan *plan, int64_t x, int32_t mult, int shift)
{
    int p = (plan->nd - 1) * plan->w, e = shift < 0 ? -shift : 0;
    if (e && (30 - p) + e + 1 > 62)
        return false;
    int64_t kadd = (INT64_C(1) << (30 - p)) * (e ? 1 + (INT64_C(1) << e) : 1);
    int64_t kneg = e ? INT64_C(1) << (31 - p) : 0;
    if (!fits(kadd))
        return false;
    int64_t lo = 0, hi = 0;
    for (int i = 0; i < plan->nd; i++) {
        int64_t d = digit(mult, plan->w, plan->nd, i), pr = x * d;
        int64_t clo = i ? floor_pow2(lo, plan->w) : 0, chi = i ? floor_pow2(hi, plan->w) : 0;
        lo = -pr + clo, hi = pr + chi;
        if (!fits(pr) || !fits(lo) || !fits(hi))
            return false;
    }
    return fits(lo + kadd) && fits(hi + kadd) && fits(lo + kadd - kneg);
}

bool rqb_plan(int64_t acc_max, const int32_t *mult, const int *shift, int64_t n, RqbPlan *plan)
{
    int best = -1;
    for (int64_t k = 0; k < n; k++) {
        int left = shift[k] > 0 ? shift[k] : 0;
        if (mult[k] < 0 || acc_max <= 0 || left > 30 || acc_max > ((int64_t)INT32_MAX >> left))
            return false;
    }
    for (int w = 31; w >= 1; w--) {
        RqbPlan pl = {(31 + w - 1) / w, w};
        if (pl.nd > RQB_MAX_DIGITS)
            break;
        bool ok = true;
        for (int64_t k = 0; k < n && ok; k++)
            ok = chan_fits(&pl, acc_max << (shift[k] > 0 ? shift[k] : 0), mult[k], shift[k]);
        if (!ok)
            continue;
        int cost = 2 * (pl.nd - 1);
        for (int i = 0; i < pl.nd; i++) {
            bool all0 = true, all1 = true;
            for (int64_t k = 0; k < n; k++) {
                int32_t d = digit(mult[k], w, pl.nd, i);
                all0 &= d == 0, all1 &= d == 1;
            }
            cost += !all0 && !all1 ? 2 : 0;
        }
        if (best < 0 || cost < best) {
            best = cost;
            *plan = pl;
        }
    }
    return best >= 0;
}

int32_t rqb_eval(const RqbPlan *plan, const RqbChan *ch, int32_t acc)
{
    int32_t x = (int32_t)((uint32_t)acc << ch->left), t = 0;
    for (int i = 0; i < plan->nd; i++) {
        int32_t c = i ? (int32_t)floor_pow2(t, plan->w) : 0;
        t = (int32_t)((uint32_t)((int64_t)x * ch->digit[i]) + (uint32_t)c);
    }
    t = (int32_t)((uint32_t)t + (uint32_t)ch->kadd);
    if (x < ch->thr)
        t = (int32_t)((uint32_t)t - (uint32_t)ch->kneg);
    return (int32_t)floor_pow2(t, ch->shift);
}
