/* ranges.h - the range choices calibration makes from a tensor's observed
 * values (ir/ranges.c): histograms, percentile, entropy and MSE ranges.
 * Pure numerics, no graph: calibrate and the report use them, and
 * test/unit/test_calibration.c checks them on known distributions. */
#ifndef QNNC_RANGES_H
#define QNNC_RANGES_H

#include <stdint.h>

/* The range choices, on a histogram of BINS equal bins
 * over [lo, hi] (of x, or of |x| for entropy). */
typedef struct CalibHist {
    double lo, hi;
    int bins;
    uint64_t *count;
    uint64_t total;
} CalibHist;
void calib_hist_init(CalibHist *h, double lo, double hi, int bins);
void calib_hist_free(CalibHist *h);
/* Counts the finite values among X[0..N): their magnitudes with CALIB_ABS,
 * leaving out exact zeros with CALIB_NONZERO.  Values beyond the bounds
 * land in the end bins. */
enum { CALIB_ABS = 1, CALIB_NONZERO = 2 };
void calib_hist_add(CalibHist *h, const float *x, int64_t n, unsigned flags);
/* [lo, hi] cutting (100 - PERCENTILE) / 2 percent of the samples from each end. */
void calib_percentile_range(const CalibHist *h, double percentile, double *lo, double *hi);
/* The |x| threshold minimising KL divergence to a LEVELS-level quantization. */
double calib_entropy_threshold(const CalibHist *habs, int levels);
/* The range holding 0 that minimises expected squared error on a LEVELS grid. */
void calib_mse_range(const CalibHist *h, int levels, double *lo, double *hi);

#endif
