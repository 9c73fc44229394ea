/* ranges.c - the histogram math behind the calibrate pass and the report.
 *
 * Each function turns the statistics calibration gathered for one tensor
 * into the real range [lo, hi] that quantization will map onto the int8
 * grid.  They know nothing of graphs, so test/unit/test_calibration.c
 * checks them on synthetic distributions whose best range is known.  The
 * calibrate pass (calibrate.c) widens every result to include 0; these
 * functions do not.
 *
 * A histogram has BINS equal-width bins over [lo, hi]; bin k covers
 * [lo + k*w, lo + (k+1)*w) with w = (hi - lo) / bins, the last bin also
 * holding hi itself.  Counts are integers, so histograms of the same data
 * are identical whatever order it arrives in.
 */
#include "ir.h"
#include "ranges.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void calib_hist_init(CalibHist *h, double lo, double hi, int bins)
{
    h->lo = lo;
    h->hi = hi;
    h->bins = bins;
    h->count = xcalloc((size_t)bins, sizeof *h->count);
    h->total = 0;
}

void calib_hist_free(CalibHist *h)
{
    free(h->count);
    h->count = NULL;
}

void calib_hist_add(CalibHist *h, const float *x, int64_t n, unsigned flags)
{
    bool absval = flags & CALIB_ABS, nonzero = flags & CALIB_NONZERO;
    /* Index arithmetic in double: (x - lo) * inv can reach bins exactly
     * only for x == hi, which the clamp puts in the last bin. */
    double inv = h->hi > h->lo ? h->bins / (h->hi - h->lo) : 0;
    int last = h->bins - 1;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        if (!isfinite(v) || (nonzero && v == 0))
            continue;
        if (absval)
            v = fabs(v);
        double t = (v - h->lo) * inv;
        int k = t <= 0 ? 0 : t >= last ? last : (int)t;
        h->count[k]++;
        h->total++;
    }
}

static double edge(const CalibHist *h, int k)
{
    /* The end edges are the histogram's bounds exactly, so that a method
     * which clips nothing reproduces minmax bit for bit. */
    if (k <= 0)
        return h->lo;
    if (k >= h->bins)
        return h->hi;
    return h->lo + (h->hi - h->lo) * k / h->bins;
}

/* ------------------------------------------------------------ percentile */

/* Asymmetric, as ONNX Runtime's HistogramCollector.compute_percentile does
 * for non-symmetric activations: (100 - p) / 2 percent of the samples are
 * cut from each end.  A single |x| percentile (TensorRT, ONNX Runtime's
 * symmetric mode) would let one heavy tail set both ends, while the int8
 * activation grid has a zero point and can follow each end on its own.
 * Bins are kept whole (lo rounds down to a bin's lower edge, hi up to an
 * upper edge), so no more than the stated share is ever clipped; p = 100
 * gives the observed minimum and maximum exactly. */
void calib_percentile_range(const CalibHist *h, double percentile, double *lo, double *hi)
{
    double cut = (double)h->total * (100.0 - percentile) / 200.0;
    double below = 0, above = 0;
    *lo = h->lo;
    *hi = h->hi;
    for (int k = 0; k < h->bins; k++) {
        if (below + (double)h->count[k] > cut) {
            *lo = edge(h, k);
            break;
        }
        below += (double)h->count[k];
    }
    for (int k = h->bins - 1; k >= 0; k--) {
        if (above + (double)h->count[k] > cut) {
            *hi = edge(h, k + 1);
            break;
        }
        above += (double)h->count[k];
    }
}

/* ------------------------------------------------------------ entropy */

/* KL-divergence calibration, after Szymon Migacz, "8-bit Inference with
 * TensorRT" (GTC 2017), in the form ONNX Runtime (calibrate.py,
 * get_entropy_merged_threshold) and MXNet (_get_optimal_threshold) give it.
 * H is a histogram of |x| over [0, max|x|].  For each candidate i from
 * LEVELS to bins:
 *   P = H[0:i] with the outliers H[i:] added to P[i-1];
 *   Q = H[0:i] merged into LEVELS groups of consecutive bins (bin j in
 *       group floor(j * LEVELS / i), numpy.digitize over
 *       linspace(0, i, LEVELS + 1) in NVIDIA's pytorch-quantization), each
 *       group's count spread evenly over the bins where P is not zero;
 *   both smoothed (below), then KL(P || Q) with each normalised to sum 1.
 * The threshold is the upper edge of bin i-1 (i * width) for the i with the
 * smallest divergence; ties go to the larger threshold, as in
 * pytorch-quantization.  LEVELS is 128 for int8: the magnitudes of a
 * symmetric 8-bit grid.
 *
 * Smoothing (MXNet's _smooth_distribution, eps = 1e-4 counts) moves eps
 * into every empty bin, taking it evenly from the others.  Without it, a
 * candidate whose last bin is empty but receives the outliers has Q = 0
 * where P > 0 and an infinite divergence; with far outliers that is every
 * candidate but the full range, and the method could never clip them. */
#define KL_EPS 1e-4

/* Adds eps to zero entries of D[0..n) and takes it from the others, as
 * MXNet does; false when that would make an entry negative (or D is all
 * zeros), which the reference code treats as an infinite divergence. */
static bool smooth(double *d, int n)
{
    int zeros = 0;
    for (int j = 0; j < n; j++)
        zeros += d[j] == 0;
    if (zeros == n)
        return false;
    double eps1 = KL_EPS * zeros / (n - zeros);
    for (int j = 0; j < n; j++) {
        if (d[j] == 0) {
            d[j] = KL_EPS;
        } else {
            d[j] -= eps1;
            if (d[j] <= 0)
                return false;
        }
    }
    return true;
}

double calib_entropy_threshold(const CalibHist *h, int levels)
{
    int nb = h->bins;
    if (h->total == 0 || nb <= levels)
        return h->hi;
    double *suffix = xmalloc(((size_t)nb + 1) * sizeof *suffix);
    suffix[nb] = 0;
    for (int k = nb - 1; k >= 0; k--)
        suffix[k] = suffix[k + 1] + (double)h->count[k];
    double *p = xmalloc((size_t)nb * sizeof *p), *q = xmalloc((size_t)nb * sizeof *q);
    double *gsum = xmalloc((size_t)levels * sizeof *gsum);
    int *gnz = xmalloc((size_t)levels * sizeof *gnz);
    double best = INFINITY;
    int best_i = nb;
    for (int i = levels; i <= nb; i++) {
        memset(gsum, 0, (size_t)levels * sizeof *gsum);
        memset(gnz, 0, (size_t)levels * sizeof *gnz);
        for (int j = 0; j < i; j++) {
            p[j] = (double)h->count[j];
            int g = (int)((int64_t)j * levels / i);
            gsum[g] += p[j];
        }
        p[i - 1] += suffix[i];
        for (int j = 0; j < i; j++)
            if (p[j] != 0)
                gnz[(int)((int64_t)j * levels / i)]++;
        for (int j = 0; j < i; j++) {
            int g = (int)((int64_t)j * levels / i);
            q[j] = p[j] != 0 ? gsum[g] / gnz[g] : 0;
        }
        if (!smooth(p, i) || !smooth(q, i))
            continue;
        /* Smoothing keeps the sums: P holds every sample, Q those below
         * the threshold. */
        double ptotal = suffix[0], qtotal = suffix[0] - suffix[i];
        double kl = 0;
        for (int j = 0; j < i; j++) {
            double pj = p[j] / ptotal, qj = q[j] / qtotal;
            kl += pj * log(pj / qj);
        }
        if (kl <= best) {
            best = kl;
            best_i = i;
        }
    }
    free(suffix);
    free(p);
    free(q);
    free(gsum);
    free(gnz);
    return edge(h, best_i);
}

/* ------------------------------------------------------------ mse */

/* The range [e_a, e_b] between two bin edges that minimises the expected
 * squared error of quantizing to LEVELS evenly spaced values (256 for the
 * asymmetric int8 activation grid):
 *   clipping error   sum over bins outside:  n_k * (distance of c_k to the range)^2
 *   rounding error   (samples inside) * D^2 / 12,  D = (e_b - e_a) / (LEVELS - 1)
 * with c_k the bin centre, and rounding error modelled as uniform over a
 * step (Banner et al., "Post-training 4-bit quantization of convolutional
 * networks for rapid-deployment", NeurIPS 2019, eq. 3, and Widrow's
 * quantization noise model).  Only ranges holding 0 are tried (e_a <= 0 <=
 * e_b, within one bin), since calibrate makes every range include 0 anyway.
 * The clipping sums come from prefix sums in bin units, so the search over
 * all (a, b) pairs costs O(bins^2) and no pass over the data. */
void calib_mse_range(const CalibHist *h, int levels, double *lo, double *hi)
{
    int nb = h->bins;
    *lo = h->lo;
    *hi = h->hi;
    if (h->total == 0 || !(h->hi > h->lo))
        return;
    double w = (h->hi - h->lo) / nb;
    /* S0[k], S1[k], S2[k]: sums of n, n*(2j+1) and n*(2j+1)^2 over bins j < k.
     * 2j+1 is twice the centre of bin j in bin units, which keeps the
     * prefix sums integers (exact in double for any realistic count). */
    double *S0 = xmalloc(((size_t)nb + 1) * 3 * sizeof *S0);
    double *S1 = S0 + nb + 1, *S2 = S1 + nb + 1;
    S0[0] = S1[0] = S2[0] = 0;
    for (int j = 0; j < nb; j++) {
        double n = (double)h->count[j], c2 = 2.0 * j + 1;
        S0[j + 1] = S0[j] + n;
        S1[j + 1] = S1[j] + n * c2;
        S2[j + 1] = S2[j] + n * c2 * c2;
    }
    /* The edge at or below 0 and the one at or above it. */
    int z = (int)floor(-h->lo / w);
    if (z < 0)
        z = 0;
    if (z > nb)
        z = nb;
    int zb = edge(h, z) >= 0 ? z : z + 1;
    if (zb > nb)
        zb = nb;
    double q = w * w / 4; /* (bin units / 2)^2 -> real units^2 */
    double step2 = 1.0 / (12.0 * (levels - 1) * (double)(levels - 1));
    double best = INFINITY;
    int best_a = 0, best_b = nb;
    for (int a = 0; a <= z; a++) {
        /* Samples below edge a clip to it: sum n (2a - c2)^2 / 4 * w^2. */
        double a2 = 2.0 * a;
        double left = (a2 * a2 * S0[a] - 2 * a2 * S1[a] + S2[a]) * q;
        for (int b = zb > a ? zb : a + 1; b <= nb; b++) {
            double b2 = 2.0 * b;
            double n0 = S0[nb] - S0[b], n1 = S1[nb] - S1[b], n2 = S2[nb] - S2[b];
            double right = (n2 - 2 * b2 * n1 + b2 * b2 * n0) * q;
            double width = (b - a) * w;
            double inside = S0[b] - S0[a];
            double err = left + right + inside * width * width * step2;
            if (err < best) {
                best = err;
                best_a = a;
                best_b = b;
            }
        }
    }
    free(S0);
    *lo = edge(h, best_a);
    *hi = edge(h, best_b);
}
