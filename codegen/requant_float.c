/* requant_float.c - the exact TFLite output stage
 *   F(acc) = clamp(MultiplyByQuantizedMultiplier(acc, mult, shift) + zp, lo, hi)
 * (ir/fixedpoint.c) replaced, where a compile-time proof says it may be,
 * by a float form of a few vector instructions,
 *   G(acc) = clamp(rne(fma(float(acc), s, acc < 0 ? bneg : bpos)), lo - zp, hi - zp) + zp,
 * plus a few corrections G'(acc) = G(acc) + fix_d[j] at acc == fix_acc[j].
 *
 * Why a linear form.  With y = acc mult 2^(shift-31) and e = max(0, -shift),
 * SaturatingRoundingDoublingHighMul rounds y 2^e half up to an integer and
 * RoundingDivideByPOT rounds that half away from zero, so F steps up past
 * k (k >= 0) where y >= k + 1/2 - d and below -k where y < -(k + 1/2) + d,
 * d = 2^-(e+1) (e = 0: half up on both sides, d = 0): rne(y + d) for
 * acc >= 0 and rne(y - d) below, up to ties.  In float, s and the biases
 * carry 24 bits, so G misses the steps of a channel where an accumulator
 * comes within about |y| 2^-24 of one: with a scale of 2^-9 and a 200k
 * bound, one or two accumulators in about a third of the channels.  Those
 * few become corrections.
 *
 * The proof (rqf_diff) is exact, not sampled.  On each of the pieces
 * [-A, -1] and [0, A], F and G are non-decreasing in acc: F as a
 * composition of monotone roundings of acc mult (mult >= 0, no wrap in
 * the left shift: A << left < 2^31), G because float(acc) is monotone,
 * fma(a, s, b) is monotone in a for s >= 0 (the correctly rounded exact
 * a s + b), rne and the clamp are monotone, and |A s| + |b| < 2^30 keeps
 * vcvtps2dq off its out-of-range value.  For monotone integer functions
 * on a piece, F(acc) >= v iff acc >= t_v (the least such acc) and G(acc)
 * >= v iff acc >= u_v, so F(acc) != G(acc) iff acc lies in
 * [min(t_v, u_v), max(t_v, u_v)) for some v between the two functions'
 * least and greatest values on the piece.  rqf_diff finds every t_v and
 * u_v by search (galloping from an estimate, then bisection: only
 * monotonicity is used) and lists that set; the form holds with the set
 * as its corrections, each fix_d = F - G there.  rqf_eval does G's
 * operations in C (fmaf, nearbyintf in the default rounding mode) as
 * IEEE-754 defines them, which is what vfmadd and vcvtps2dq compute.
 *
 * The candidates (rqf_prove): s = float(mult 2^(shift-31)) and its two
 * neighbours, biases +-d with nudges up (F rounds the biased ties up,
 * rne to even); the first within the allowed corrections wins (each
 * candidate stops at the first correction too many). */
#include "requant_float.h"

#include <math.h>
#include <stddef.h>

#include "fixedpoint.h"

static int32_t clampi(int64_t v, int64_t lo, int64_t hi) { return (int32_t)(v < lo ? lo : v > hi ? hi : v); }

int32_t rqf_exact(const RqfStage *st, int32_t acc)
{
    return clampi((int64_t)fp_mul_by_quantized_multiplier(acc, st->mult, st->shift) + st->zp, st->lo, st->hi);
}

static int32_t g_eval(const RqfStage *st, const RqfChan *ch, int32_t acc)
{
    float r = nearbyintf(fmaf((float)acc, ch->s, acc < 0 ? ch->bneg : ch->bpos));
    return clampi((int64_t)(int32_t)r, (int64_t)st->lo - st->zp, (int64_t)st->hi - st->zp) + st->zp;
}

int32_t rqf_eval(const RqfStage *st, const RqfChan *ch, int32_t acc)
{
    int32_t r = g_eval(st, ch, acc);
    for (int j = 0; j < RQF_MAX_FIX; j++)
        r += acc == ch->fix_acc[j] ? ch->fix_d[j] : 0;
    return r;
}

typedef struct Fn {
    const RqfStage *st;
    const RqfChan *ch; /* NULL: F */
} Fn;

static int32_t fn(const Fn *f, int64_t acc)
{
    return f->ch ? g_eval(f->st, f->ch, (int32_t)acc) : rqf_exact(f->st, (int32_t)acc);
}

/* The least acc in [a, b + 1] with f(acc) >= v (b + 1: none), f monotone
 * on [a, b]; the search starts at GUESS. */
static int64_t least(const Fn *f, int64_t a, int64_t b, int32_t v, int64_t guess)
{
    int64_t lo = a, hi = b + 1; /* f(< lo) < v, f(>= hi) >= v */
    guess = guess < a ? a : guess > b ? b : guess;
    if (fn(f, guess) >= v) {
        hi = guess;
        for (int64_t st = 1; hi - st >= lo; st *= 2) {
            if (fn(f, hi - st) < v) {
                lo = hi - st + 1;
                break;
            }
            hi -= st;
        }
    } else {
        lo = guess + 1;
        for (int64_t st = 1; lo + st - 1 <= b; st *= 2) {
            if (fn(f, lo + st - 1) >= v) {
                hi = lo + st - 1;
                break;
            }
            lo += st;
        }
        if (lo > hi)
            lo = hi;
    }
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (fn(f, mid) >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Adds the accumulators of [a, b] where F != G to CH's corrections;
 * false when there are more than MAXFIX in all. */
static bool rqf_diff(const RqfStage *st, RqfChan *ch, int64_t a, int64_t b, int maxfix)
{
    Fn F = {st, NULL}, G = {st, ch};
    int32_t fa = fn(&F, a), ga = fn(&G, a), fb = fn(&F, b), gb = fn(&G, b);
    int32_t vlo = (fa < ga ? fa : ga) + 1, vhi = fb > gb ? fb : gb;
    double m = ldexp((double)st->mult, st->shift - 31);
    int64_t covered = a, t = a, u = a;
    for (int32_t v = vlo; v <= vhi; v++) {
        double est = m > 0 ? ceil((v - st->zp - 0.5) / m) : (double)a;
        int64_t g = est < (double)a ? a : est > (double)b ? b : (int64_t)est;
        t = least(&F, t, b, v, g > t ? g : t);
        u = least(&G, u, b, v, g > u ? g : u);
        int64_t lo = t < u ? t : u, hi = t < u ? u : t;
        for (int64_t x = lo > covered ? lo : covered; x < hi; x++) {
            if (ch->nfix >= maxfix)
                return false;
            ch->fix_acc[ch->nfix] = (int32_t)x;
            ch->fix_d[ch->nfix++] = fn(&F, x) - fn(&G, x);
        }
        covered = hi > covered ? hi : covered;
    }
    return true;
}

static bool try_form(const RqfStage *st, int64_t A, int maxfix, RqfChan *ch)
{
    double reach = (double)A * ch->s + fabs((double)ch->bpos) + fabs((double)ch->bneg);
    if (!(ch->s >= 0) || !(reach < 1073741824.0))
        return false;
    ch->nfix = 0;
    for (int j = 0; j < RQF_MAX_FIX; j++)
        ch->fix_acc[j] = INT32_MIN, ch->fix_d[j] = 0; /* outside [-A, A] */
    if (A > 0 && !rqf_diff(st, ch, -A, -1, maxfix))
        return false;
    return rqf_diff(st, ch, 0, A, maxfix);
}

bool rqf_prove(const RqfStage *st, int64_t acc_max, int maxfix, RqfChan *ch)
{
    int left = st->shift > 0 ? st->shift : 0;
    if (st->mult < 0 || acc_max < 0 || left > 30 || acc_max > (INT64_C(0x7fffffff) >> left) ||
        maxfix > RQF_MAX_FIX)
        return false;
    int e = st->shift < 0 ? -st->shift : 0;
    float s0 = (float)ldexp((double)st->mult, st->shift - 31), d = e ? ldexpf(1.0f, -(e + 1)) : 0.0f;
    float nudges[] = {ldexpf(1.0f, -20), 0.0f, ldexpf(1.0f, -14)};
    float ss[] = {s0, nextafterf(s0, INFINITY), nextafterf(s0, 0.0f)};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            float nu = !e || nudges[j] < d / 4 ? nudges[j] : d / 4;
            RqfChan c = {ss[i], d + nu, -d + nu, 0, {0}, {0}};
            if (try_form(st, acc_max, maxfix, &c)) {
                *ch = c;
                return true;
            }
        }
    return false;
}
