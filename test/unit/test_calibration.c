/* test_calibration.c - the calibration methods of ir/ranges.c on
 * synthetic distributions whose best range is known.
 *
 * The oracle is independent of the code under test: it quantizes the raw
 * samples (not a histogram) to the asymmetric int8 grid in double
 * precision, and finds the range with the least squared error by brute
 * force over a fine grid of thresholds.  The methods only ever see
 * histograms built the way the calibrate pass builds them.
 */
#include "rng.h"
#include "passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ------------------------------------------------------------ data */

/* Uniform in (0, 1). */
static double uniform01(void)
{
    uint64_t r = rnd64();
    return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void)
{
    /* Box-Muller; one of the pair is enough here. */
    return sqrt(-2 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

static double laplace(double b)
{
    double u = uniform01() - 0.5;
    return -b * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
}

typedef struct Data {
    float *x;
    int64_t n;
    float min, max;
} Data;

static Data data_new(int64_t n)
{
    Data d = {xmalloc((size_t)n * sizeof(float)), n, INFINITY, -INFINITY};
    return d;
}

static void data_bounds(Data *d)
{
    d->min = INFINITY;
    d->max = -INFINITY;
    for (int64_t i = 0; i < d->n; i++) {
        d->min = fminf(d->min, d->x[i]);
        d->max = fmaxf(d->max, d->x[i]);
    }
}

/* Histograms as the calibrate pass builds them: over [min, max] widened to
 * include 0, or over [0, max|x|] for entropy. */
static CalibHist hist_of_flags(const Data *d, int bins, unsigned flags)
{
    bool absval = flags & CALIB_ABS;
    CalibHist h;
    double lo = fmin(d->min, 0), hi = fmax(d->max, 0);
    if (absval) {
        hi = fmax(-lo, hi);
        lo = 0;
    }
    calib_hist_init(&h, lo, hi, bins);
    calib_hist_add(&h, d->x, d->n, flags);
    return h;
}

static CalibHist hist_of(const Data *d, int bins, bool absval)
{
    return hist_of_flags(d, bins, absval ? CALIB_ABS : 0);
}

/* ------------------------------------------------------------ the oracle */

/* Mean squared error of quantizing the samples to int8 over [lo, hi] the
 * way quantize does it (scale = (hi - lo) / 255, integer zero point, round
 * half to even, saturate to [-128, 127]), in double precision. */
static double quant_mse(const Data *d, double lo, double hi)
{
    double scale = (hi - lo) / 255;
    double zp = -128 - nearbyint(lo / scale);
    double sum = 0;
    for (int64_t i = 0; i < d->n; i++) {
        double x = d->x[i];
        double q = nearbyint(x / scale) + zp;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        double e = (q - zp) * scale - x;
        sum += e * e;
    }
    return sum / (double)d->n;
}

/* The threshold t in [t0, t1] for which [-t, t] (or [0, t] when ONESIDED)
 * has the least error: a coarse scan, then a fine one around the best
 * coarse point. */
static double brute_force_range(const Data *d, double t0, double t1, bool onesided, double *best_mse)
{
    double best = INFINITY, bt = t0;
    double step = (t1 - t0) / 200;
    for (int pass = 0; pass < 2; pass++) {
        double a = pass ? fmax(t0, bt - step) : t0, b = pass ? bt + step : t1;
        double s = pass ? step / 50 : step;
        for (double t = a; t <= b + 1e-12; t += s) {
            double m = quant_mse(d, onesided ? 0 : -t, t);
            if (m < best) {
                best = m;
                bt = t;
            }
        }
    }
    *best_mse = best;
    return bt;
}

static double brute_force_t(const Data *d, double t0, double t1, double *best_mse)
{
    return brute_force_range(d, t0, t1, false, best_mse);
}

static double rel(double a, double b)
{
    return fabs(a - b) / fabs(b);
}

/* ------------------------------------------------------------ tests */

/* Uniform data: nothing to clip.  minmax is the data's bounds; mse keeps
 * the full range, less the sliver where clipping one step's worth of
 * samples costs less than the rounding it saves (about 1/510 of the range
 * for 256 levels: (1 - t)^2 = t^2 / (4 * 255^2)). */
static void test_uniform(void)
{
    Data d = data_new(200000);
    for (int64_t i = 0; i < d.n; i++)
        d.x[i] = (float)(uniform01() * 2 - 1);
    data_bounds(&d);
    CalibHist h = hist_of(&d, 2048, false);
    double lo, hi;
    calib_percentile_range(&h, 100, &lo, &hi);
    CHECK(lo == d.min && hi == d.max, "percentile 100 is minmax: [%g, %g] vs [%g, %g]", lo, hi,
          (double)d.min, (double)d.max);
    calib_mse_range(&h, 256, &lo, &hi);
    CHECK(rel(lo, d.min) < 0.005 && rel(hi, d.max) < 0.005, "uniform mse keeps the range: [%g, %g]",
          lo, hi);
    double best;
    double t = brute_force_t(&d, 0.5, 1.1, &best);
    double m = quant_mse(&d, lo, hi);
    CHECK(rel(hi, t) < 0.01 && m < best * 1.01, "uniform mse hi %g (error %g) vs brute force %g (%g)",
          hi, m, t, best);
    calib_percentile_range(&h, 99, &lo, &hi);
    /* 0.5 % cut at each end: 0.99 of [-1, 1], rounded out to a bin edge. */
    double w = (h.hi - h.lo) / h.bins;
    CHECK(hi >= 0.99 - w && hi <= 0.99 + 2 * w && lo <= -0.99 + w && lo >= -0.99 - 2 * w,
          "uniform percentile 99: [%g, %g]", lo, hi);
    calib_hist_free(&h);

    /* Only non-negative values (a ReLU): the histogram starts at 0 and so
     * do the ranges. */
    for (int64_t i = 0; i < d.n; i++)
        d.x[i] = fabsf(d.x[i]) * 3;
    data_bounds(&d);
    h = hist_of(&d, 2048, false);
    calib_mse_range(&h, 256, &lo, &hi);
    CHECK(lo == 0 && rel(hi, d.max) < 0.005, "relu-like mse: [%g, %g]", lo, hi);
    calib_hist_free(&h);
    CalibHist ha = hist_of(&d, 2048, true);
    double te = calib_entropy_threshold(&ha, 128);
    CHECK(rel(te, d.max) < 0.05, "uniform entropy keeps the range: %g vs %g", te, (double)d.max);
    calib_hist_free(&ha);
    free(d.x);
}

/* A normal bulk (sigma 1, a million samples, mirrored so that the best
 * range is symmetric and a scan over [-t, t] finds it) and two outliers,
 * +-30.  Clipping them costs 2 (30 - t)^2; spreading 256 levels over
 * [-30, 30] costs 1e6 * (60/255)^2 / 12 = 4600 in rounding, so the best
 * range clips them, but they still pull it out beyond the bulk's own best
 * (about 4 sigma): d/dt of 2 (30 - t)^2, -4 (30 - t), balances the rounding
 * cost's 2 * 1e6 * t / (3 * 255^2) near t = 120 / 14.25 = 8.4.  The mse method minimises that
 * same error and must land on the oracle's t*.  percentile and entropy
 * measure something else; they must clip the outliers and land near the
 * best range for the bulk alone: percentile 99.99 within 20% (it cuts at
 * 3.9 sigma), entropy within 40% (KL divergence weighs the shape of the
 * bulk, not squared error, and settles near 5.4 sigma here). */
static void test_gaussian_outliers(void)
{
    Data d = data_new(1000000);
    for (int64_t i = 0; i < d.n; i += 2) {
        d.x[i] = (float)gaussian();
        d.x[i + 1] = -d.x[i];
    }
    data_bounds(&d);
    double bulk_best;
    double tb = brute_force_t(&d, 2, 8, &bulk_best);
    d.x[17] = 30;
    d.x[18] = -30;
    data_bounds(&d);
    double best;
    double t = brute_force_t(&d, 2, 12, &best);
    printf("gaussian+outliers: oracle t* = %.4f with the outliers (mse %.3g; full range %.3g), "
           "%.4f for the bulk alone\n", t, best, quant_mse(&d, d.min, d.max), tb);
    CHECK(t > 7 && t < 10, "the oracle clips near 8.4: t* = %g", t);

    CalibHist h = hist_of(&d, 2048, false);
    double lo, hi;
    calib_mse_range(&h, 256, &lo, &hi);
    double m = quant_mse(&d, lo, hi);
    printf("  mse:        [%.4f, %.4f] mse %.4g (%+.2f%% from t*'s)\n", lo, hi, m, 100 * (m / best - 1));
    CHECK(rel(hi, t) < 0.05 && rel(-lo, t) < 0.05, "mse range [%g, %g] within 5%% of t* %g", lo, hi, t);
    CHECK(m < best * 1.01, "mse range error %g within 1%% of the best %g", m, best);

    calib_percentile_range(&h, 99.99, &lo, &hi);
    printf("  percentile: [%.4f, %.4f] mse %.4g\n", lo, hi, quant_mse(&d, lo, hi));
    CHECK(rel(hi, tb) < 0.2 && rel(-lo, tb) < 0.2, "percentile [%g, %g] within 20%% of the bulk's %g",
          lo, hi, tb);
    calib_hist_free(&h);

    CalibHist ha = hist_of(&d, 2048, true);
    double te = calib_entropy_threshold(&ha, 128);
    printf("  entropy:    %.4f mse %.4g\n", te, quant_mse(&d, -te, te));
    CHECK(rel(te, tb) < 0.4 && te < 30.0 / 4, "entropy %g within 40%% of the bulk's %g", te, tb);
    calib_hist_free(&ha);
    free(d.x);
}

/* Laplace(0, 1): no outliers, but a long tail.  Banner et al. (ACIQ,
 * NeurIPS 2019, table 1) give the optimal clipping for 8 bits as 9.89 b
 * for the infinite distribution; a finite sample's tail is thinner, so
 * the oracle on the samples is the reference, ACIQ a sanity check. */
static void test_laplace(void)
{
    Data d = data_new(1000000);
    for (int64_t i = 0; i < d.n; i++)
        d.x[i] = (float)laplace(1);
    data_bounds(&d);
    double best;
    double t = brute_force_t(&d, 4, 14, &best);
    printf("laplace: brute-force t* = %.4f (ACIQ 9.89), data in [%.3f, %.3f]\n", t, (double)d.min,
           (double)d.max);
    CHECK(rel(t, 9.89) < 0.15, "oracle %g near ACIQ's 9.89", t);
    CalibHist h = hist_of(&d, 2048, false);
    double lo, hi;
    calib_mse_range(&h, 256, &lo, &hi);
    double m = quant_mse(&d, lo, hi);
    printf("  mse:        [%.4f, %.4f] mse %.4g (%.2f%% above t*'s)\n", lo, hi, m, 100 * (m / best - 1));
    CHECK(rel(hi, t) < 0.1 && rel(-lo, t) < 0.1, "laplace mse [%g, %g] within 10%% of t* %g", lo, hi, t);
    CHECK(m < best * 1.02, "laplace mse error %g within 2%% of the best %g", m, best);
    calib_hist_free(&h);
    free(d.x);
}

/* A ReLU of a normal: half the samples are exact zeros, which quantize
 * exactly (0 is on every grid calibrate makes).  Left out of the histogram
 * (CALIB_NONZERO, as calibrate does for entropy and mse), the methods see
 * the positive half-normal; kept in, the spike at 0 pulls entropy's
 * threshold far down (to 1.9 sigma here, and to its smallest candidate,
 * 128/2048 of the maximum, on the real ReLUs of tests/frontend). */
static void test_relu(void)
{
    Data d = data_new(1000000);
    for (int64_t i = 0; i < d.n; i++)
        d.x[i] = fmaxf((float)gaussian(), 0);
    data_bounds(&d);
    double best;
    double t = brute_force_range(&d, 1, 6, true, &best);
    printf("relu(normal): oracle [0, %.4f], max %.4f\n", t, (double)d.max);
    CalibHist h = hist_of_flags(&d, 2048, CALIB_NONZERO);
    double lo, hi;
    calib_mse_range(&h, 256, &lo, &hi);
    double m = quant_mse(&d, lo, hi);
    printf("  mse:        [%.4f, %.4f] (%+.2f%% error from the oracle's)\n", lo, hi, 100 * (m / best - 1));
    CHECK(lo == 0 && rel(hi, t) < 0.05 && m < best * 1.01, "relu mse [%g, %g] vs oracle %g", lo, hi, t);
    calib_hist_free(&h);
    CalibHist ha = hist_of_flags(&d, 2048, CALIB_ABS | CALIB_NONZERO);
    double te = calib_entropy_threshold(&ha, 128);
    printf("  entropy:    %.4f\n", te);
    CHECK(rel(te, t) < 0.4, "relu entropy %g within 40%% of the oracle's %g", te, t);
    calib_hist_free(&ha);
    ha = hist_of_flags(&d, 2048, CALIB_ABS);
    double tz = calib_entropy_threshold(&ha, 128);
    printf("  entropy with the zeros counted: %.4f\n", tz);
    CHECK(tz < 0.6 * te, "with the zeros, entropy clips far harder: %g", tz);
    calib_hist_free(&ha);
    free(d.x);
}

/* Hand-made histograms with exact answers. */
static void test_exact(void)
{
    /* 10 bins over [0, 10], one sample per bin plus 89 more in bin 0:
     * 99 samples.  percentile 98 cuts 0.99 samples at each end: nothing
     * at the bottom (bin 0 holds 90), and at the top bin 9's single sample
     * is more than 0.99, so it stays: [0, 10].  At 96 the cut is 1.98:
     * bin 9 goes, bin 8 stays: hi = 9. */
    CalibHist h;
    calib_hist_init(&h, 0, 10, 10);
    float xs[99];
    for (int i = 0; i < 99; i++)
        xs[i] = i < 10 ? (float)i + 0.5f : 0.25f;
    calib_hist_add(&h, xs, 99, 0);
    CHECK(h.total == 99 && h.count[0] == 90 && h.count[9] == 1, "hist counts");
    double lo, hi;
    calib_percentile_range(&h, 98, &lo, &hi);
    CHECK(lo == 0 && hi == 10, "percentile 98: [%g, %g]", lo, hi);
    calib_percentile_range(&h, 96, &lo, &hi);
    CHECK(lo == 0 && hi == 9, "percentile 96: [%g, %g]", lo, hi);
    calib_hist_free(&h);

    /* Non-finite values are not counted; values beyond the bounds land in
     * the end bins. */
    calib_hist_init(&h, -1, 1, 4);
    float ys[] = {NAN, INFINITY, -INFINITY, -5, 5, 0};
    calib_hist_add(&h, ys, 6, 0);
    CHECK(h.total == 3 && h.count[0] == 1 && h.count[3] == 1 && h.count[2] == 1,
          "non-finite skipped: total %llu", (unsigned long long)h.total);
    calib_hist_free(&h);

    /* All samples at one value: entropy keeps it (every smaller threshold
     * leaves Q empty), mse keeps it. */
    calib_hist_init(&h, 0, 2, 2048);
    float zs[100];
    for (int i = 0; i < 100; i++)
        zs[i] = 2;
    calib_hist_add(&h, zs, 100, CALIB_ABS);
    CHECK(calib_entropy_threshold(&h, 128) == 2, "entropy of a constant");
    calib_mse_range(&h, 256, &lo, &hi);
    CHECK(lo == 0 && fabs(hi - 2) <= 1.5 * 2.0 / 2048, "mse of a constant: [%g, %g]", lo, hi);
    calib_hist_free(&h);
}

int main(void)
{
    test_exact();
    test_uniform();
    test_gaussian_outliers();
    test_laplace();
    test_relu();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
