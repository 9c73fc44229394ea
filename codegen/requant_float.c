/* requant_float.c - the exact TFLite output stage
 *   F(acc) = clamp(MultiplyByQuantizedMultiplier(acc, mult, shift) + zp, lo, hi)
 * (ir/fixedpoint.c) replaced, where a compile-time proof says it may be,
 * by a float form of a few vector instructions,
 *   RQF_RNE:   G(acc) = clamp(rne(fma(float(acc), s, b)), lo - zp, hi - zp) + zp
 *   RQF_FLOOR: G(acc) = clamp(floor(float(acc) s + b), lo - zp, hi - zp) + zp
 * (b = acc < 0 ? bneg : bpos), plus a few corrections
 * G'(acc) = G(acc) + fix_d[j] at acc == fix_acc[j].  With the zero point
 * in the biases (RqfChan.zpin; b's candidates shifted by zp),
 *   G(acc) = clamp(rne(fma(float(acc), s, b)), lo, hi)   (or floor)
 * which saves the kernel the zero point's add (or the byte packs' flip
 * of a zero point of -128: kern_requant_narrow); the proof below is the
 * same (it takes G as computed, whatever b is): only the fma's rounding
 * differs, to 24 bits of y + zp rather than of y, and RQF_FLOOR not at
 * all where b + zp is exact.
 *
 * Why a linear form.  With y = acc mult 2^(shift-31) and e = max(0, -shift),
 * SaturatingRoundingDoublingHighMul rounds y 2^e half up to an integer and
 * RoundingDivideByPOT rounds that half away from zero, so F steps up past
 * k (k >= 0) where y >= k + 1/2 - d and below -k where y < -(k + 1/2) + d,
 * d = 2^-(e+1) (e = 0: half up on both sides, d = 0): exactly
 * floor(y + 1/2 + d) for acc >= 0 and floor(y + 1/2 - d) below.
 *
 * Where float loses.  RQF_RNE rounds the multiply-add to 24 bits before
 * rne, so each step's place moves by up to half an ulp of y (2^-17 at
 * |y| near 128), one way or the other by the parity of the step (rne's
 * ties): a channel's steps within that of an accumulator are misplaced.
 * RQF_FLOOR rounds the multiply-add down and converts rounding down
 * (AVX-512's embedded {rd-sae}); floor(RD(z)) = floor(z) for every real
 * z (the integers are floats), so G is exactly floor(float(acc) s + b)
 * and only s's 24 bits (s - M up to 2^-25 M) stand between G and F.
 * Either way the candidates' biases are chosen to place the most steps
 * (best_bias), and the accumulators still misplaced become corrections.
 *
 * The proof (rqf_diff) is exact, not sampled.  On each of the pieces
 * [lo, -1] and [0, hi] of the accumulator range (a channel's: its
 * weights' positive and negative sums times the input's range, beside
 * its bias), F and G are non-decreasing in acc: F as a composition of
 * monotone roundings of acc mult (mult >= 0, no wrap in the left shift:
 * |acc| << left < 2^31), G because float(acc) is monotone, fma(a, s, b)
 * is monotone in a for s >= 0 (the exact a s + b rounded by a monotone
 * rounding), rne, floor and the clamp are monotone, and |A s| + |b| <
 * 2^30 keeps vcvtps2dq off its out-of-range value.  For monotone integer
 * functions on a piece, F(acc) >= v iff acc >= t_v (the least such acc)
 * and G(acc) >= v iff acc >= u_v, so F(acc) != G(acc) iff acc lies in
 * [min(t_v, u_v), max(t_v, u_v)) for some v between the two functions'
 * least and greatest values on the piece (values the clamp removes have
 * no step).  rqf_diff finds every t_v and u_v by search (galloping from
 * an estimate, then bisection: only monotonicity is used) and lists that
 * set; the form holds with the set as its corrections, each fix_d = F -
 * G there.  rqf_eval does G's operations in C as IEEE-754 defines them:
 * fmaf and nearbyintf in the default rounding mode (what vfmadd and
 * vcvtps2dq compute), or the exact floor of float(acc) s + b (a 48-bit
 * product, exact in a double, and floor_sum). */
#include "requant_float.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "fixedpoint.h"

static int32_t clampi(int64_t v, int64_t lo, int64_t hi) { return (int32_t)(v < lo ? lo : v > hi ? hi : v); }

int32_t rqf_exact(const RqfStage *st, int32_t acc)
{
    return clampi((int64_t)fp_mul_by_quantized_multiplier(acc, st->mult, st->shift) + st->zp, st->lo, st->hi);
}

/* floor(p + b) exactly (p, b doubles): the rounded sum and its error
 * (TwoSum); a sum rounded up onto an integer is one less. */
static double floor_sum(double p, double b)
{
    double s = p + b, bb = s - p, err = (p - (s - bb)) + (b - bb), f = floor(s);
    return f == s && err < 0 ? f - 1 : f;
}

static int32_t g_eval(const RqfStage *st, const RqfChan *ch, int32_t acc)
{
    float fa = (float)acc, b = acc < 0 ? ch->bneg : ch->bpos;
    /* RQF_FLOOR: float(acc) s has 48 bits, exact in a double */
    double r = ch->round == RQF_FLOOR ? floor_sum((double)fa * ch->s, b) : nearbyintf(fmaf(fa, ch->s, b));
    if (ch->zpin)
        return clampi((int64_t)r, st->lo, st->hi);
    return clampi((int64_t)r, (int64_t)st->lo - st->zp, (int64_t)st->hi - st->zp) + st->zp;
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

/* F's steps on the piece [a, b]: F(a) (the least value), then each
 * v in (F(a), F(b)] with the least acc t where F(t) >= v. */
typedef struct Steps {
    int32_t fa, fb;
    int64_t n, *t; /* t[i]: the step to fa + 1 + i */
} Steps;

enum { STEPS_MAX = 4096 }; /* beyond: no bias search (a wide clamp) */

static void steps(const RqfStage *st, int64_t a, int64_t b, Steps *sp)
{
    Fn F = {st, NULL};
    sp->fa = fn(&F, a), sp->fb = fn(&F, b), sp->n = (int64_t)sp->fb - sp->fa, sp->t = NULL;
    if (sp->n > STEPS_MAX)
        return;
    sp->t = malloc((size_t)(sp->n > 0 ? sp->n : 1) * sizeof *sp->t);
    if (!sp->t)
        return;
    double m = ldexp((double)st->mult, st->shift - 31);
    int64_t t = a;
    for (int64_t i = 0; i < sp->n; i++) {
        int32_t v = sp->fa + 1 + (int32_t)i;
        double est = m > 0 ? ceil((v - st->zp - 0.5) / m) : (double)a;
        int64_t g = est < (double)a ? a : est > (double)b ? b : (int64_t)est;
        sp->t[i] = t = least(&F, t, b, v, g > t ? g : t);
    }
}

/* Where G's rounded value reaches W: s acc + b >= theta(W), nearly for
 * RQF_RNE (ties left to the proof): fma's result rounds to nearest, then
 * W - 1/2 itself goes to the even one of W - 1 and W. */
static double theta(int round, int64_t w)
{
    if (round == RQF_FLOOR)
        return (double)w;
    float f = (float)w - 0.5f;
    return w % 2 == 0 ? ((double)f + nextafterf(f, -INFINITY)) / 2 : ((double)f + nextafterf(f, INFINITY)) / 2;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The bias that puts the most of SP's steps (and its ends, where F is
 * not clamped) where F has them under scale S (G's rounded value less
 * ZO, the zero point or 0 when it is in the bias, is F's): each wants
 * float(t) s + b >= theta and float(t - 1) s + b < theta, a lower bound
 * L and an upper bound U on b; the best b is the middle of the interval
 * after the L that leaves the fewest L above and U at or below.  DEF when
 * there are no steps to place. */
static float best_bias(const RqfStage *st, int round, int32_t zo, const Steps *sp, int64_t a, int64_t b, float s,
                       float def)
{
    if (!sp->t)
        return def;
    int64_t nmax = sp->n + 1, nl = 0, nu = 0;
    double *L = malloc((size_t)nmax * sizeof *L), *U = malloc((size_t)nmax * sizeof *U);
    if (!L || !U) {
        free(L), free(U);
        return def;
    }
#define P(acc) ((double)(float)(acc) * (double)s)
    if (sp->fa > st->lo)
        L[nl++] = theta(round, (int64_t)sp->fa - zo) - P(a);
    if (sp->fb < st->hi)
        U[nu++] = theta(round, (int64_t)sp->fb + 1 - zo) - P(b);
    for (int64_t i = 0; i < sp->n; i++) {
        double th = theta(round, (int64_t)sp->fa + 1 + i - zo);
        L[nl++] = th - P(sp->t[i]);
        if (sp->t[i] > a)
            U[nu++] = th - P(sp->t[i] - 1);
    }
#undef P
    float r = def;
    if (nl) {
        qsort(L, (size_t)nl, sizeof *L, cmp_d);
        qsort(U, (size_t)nu, sizeof *U, cmp_d);
        int64_t best = -1, bi = 0, ju = 0, bj = 0;
        for (int64_t i = 0; i < nl; i++) {
            if (i + 1 < nl && L[i + 1] == L[i])
                continue;
            while (ju < nu && U[ju] <= L[i])
                ju++;
            int64_t viol = nl - 1 - i + ju;
            if (best < 0 || viol < best)
                best = viol, bi = i, bj = ju;
        }
        double top = bj < nu ? U[bj] : L[bi] + 1.0;
        top = bi + 1 < nl && L[bi + 1] < top ? L[bi + 1] : top;
        r = (float)((L[bi] + top) / 2);
        if ((double)r < L[bi])
            r = nextafterf(r, INFINITY);
        else if ((double)r >= top && (double)nextafterf(r, -INFINITY) >= L[bi])
            r = nextafterf(r, -INFINITY);
    } else if (nu) {
        double u = U[0];
        for (int64_t j = 1; j < nu; j++)
            u = U[j] < u ? U[j] : u;
        while ((double)r >= u)
            r = nextafterf(r, -INFINITY);
    }
    free(L), free(U);
    return r;
}

/* CH's corrections on [lo, hi] (its pieces of one sign each); false when
 * there are more than MAXFIX or G leaves vcvtps2dq's range. */
static bool try_form(const RqfStage *st, int64_t lo, int64_t hi, int maxfix, RqfChan *ch)
{
    double A = (double)(hi > -lo ? hi : -lo);
    double reach = A * ch->s + fabs((double)ch->bpos) + fabs((double)ch->bneg);
    if (!(ch->s >= 0) || !(reach < 1073741824.0))
        return false;
    ch->nfix = 0;
    for (int j = 0; j < RQF_MAX_FIX; j++)
        ch->fix_acc[j] = INT32_MIN, ch->fix_d[j] = 0; /* outside [lo, hi] */
    if (lo < 0 && !rqf_diff(st, ch, lo, hi < -1 ? hi : -1, maxfix))
        return false;
    return hi < 0 || rqf_diff(st, ch, lo > 0 ? lo : 0, hi, maxfix);
}

/* The candidates: s = float(M) and its neighbours two ulps either way;
 * with each, the biases best_bias finds for either piece, and (RQF_RNE)
 * biases +-d with nudges up (F rounds the biased ties up, rne to even)
 * or (RQF_FLOOR) 1/2 +- d (each plus zp with ZPIN); the one with the
 * fewest corrections wins,
 * each stopping at the first correction more than the best so far.
 * Then the winner's bpos for both signs where that needs no more
 * corrections (bpos == bneg; with one sign, the unused one made equal). */
bool rqf_prove(const RqfStage *st, int64_t lo, int64_t hi, int round, bool zpin, int maxfix, RqfChan *ch)
{
    int left = st->shift > 0 ? st->shift : 0;
    int64_t lim = INT64_C(0x7fffffff) >> (left < 31 ? left : 31);
    if (st->mult < 0 || lo > hi || left > 30 || hi > lim || lo < -lim || maxfix > RQF_MAX_FIX || maxfix < 0)
        return false;
    int e = st->shift < 0 ? -st->shift : 0;
    float s0 = (float)ldexp((double)st->mult, st->shift - 31), d = e ? ldexpf(1.0f, -(e + 1)) : 0.0f;
    float ss[5] = {s0, nextafterf(s0, INFINITY), nextafterf(s0, 0.0f)};
    ss[3] = nextafterf(ss[1], INFINITY), ss[4] = nextafterf(ss[2], 0.0f);
    float nudges[] = {ldexpf(1.0f, -20), 0.0f, ldexpf(1.0f, -14)};
    int64_t na = lo, nb = hi < -1 ? hi : -1, pa = lo > 0 ? lo : 0, pb = hi;
    Steps neg = {0}, pos = {0};
    if (lo < 0)
        steps(st, na, nb, &neg);
    if (hi >= 0)
        steps(st, pa, pb, &pos);
    bool found = false;
    for (int i = 0; i < 5 && !(found && ch->nfix == 0); i++) {
        RqfChan c[4];
        int nc = 0;
        float zf = zpin ? (float)st->zp : 0.0f;
        float dp = (round == RQF_FLOOR ? 0.5f + d : d) + zf, dn = (round == RQF_FLOOR ? 0.5f - d : -d) + zf;
        int32_t zo = zpin ? 0 : st->zp;
        c[nc++] = (RqfChan){ss[i], hi >= 0 ? best_bias(st, round, zo, &pos, pa, pb, ss[i], dp) : dp,
                            lo < 0 ? best_bias(st, round, zo, &neg, na, nb, ss[i], dn) : dn, round, zpin, 0, {0}, {0}};
        if (i < 3)
            for (int j = 0; j < 3; j++) {
                float nu = round == RQF_FLOOR ? 0.0f : !e || nudges[j] < d / 4 ? nudges[j] : d / 4;
                if (round == RQF_RNE || j == 0)
                    c[nc++] = (RqfChan){ss[i], dp + nu, dn + nu, round, zpin, 0, {0}, {0}};
            }
        for (int k = 0; k < nc && !(found && ch->nfix == 0); k++)
            if (try_form(st, lo, hi, found ? ch->nfix - 1 : maxfix, &c[k]))
                *ch = c[k], found = true;
    }
    free(neg.t);
    free(pos.t);
    if (found && lo < 0 && hi >= 0 && ch->bpos != ch->bneg) {
        /* One bias for both signs at no more corrections: the kernel then
         * needs no sign mask and blend (a ReLU whose clamp takes every
         * negative accumulator, where bneg only has to stay low). */
        RqfChan one = *ch;
        one.bneg = one.bpos;
        if (try_form(st, lo, hi, ch->nfix, &one))
            *ch = one;
    } else if (found) { /* one sign only: the other bias is never used */
        if (hi < 0)
            ch->bpos = ch->bneg;
        else
            ch->bneg = ch->bpos;
    }
    return found;
}
