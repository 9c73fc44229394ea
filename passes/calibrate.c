/* calibrate.c - record the real range every float tensor takes on the
 * calibration data.
 *
 * requires: a verified graph with exactly one input; [calibration] dataset
 *           set in the config (docs/config.md)
 * guarantees: every f32 graph input and f32 node result has range(lo, hi),
 *             finite, with lo <= 0 <= hi; nothing else changes
 * invalidates: nothing (ranges written by an earlier run are replaced)
 *
 * The float graph runs in the reference interpreter, sample by sample,
 * with an observer (interp_run_observed) that sees every tensor as it is
 * computed.  The first sweep records each tensor's minimum and maximum.
 * For `minmax` that is the answer.  The histogram methods need the bounds
 * before they can bin anything, so they run the samples a second time and
 * fill one histogram per tensor (bins from the config): the samples are
 * not kept, which costs a second sweep of interpreter time but keeps
 * memory at bins * 8 bytes per tensor (16 KB at the default 2048) however
 * large the dataset.  Then calib_methods.c picks the range:
 *   percentile  histogram of x; cut (100 - p)/2 % at each end
 *   entropy     histogram of |x| != 0; KL threshold t; range [-t, t] ∩ [min, max]
 *   mse         histogram of x != 0; the range minimising expected int8 error
 *
 * Every range includes 0: the asymmetric int8 grid must represent 0
 * exactly (the TFLite int8 quantization spec requires the zero point to be
 * an integer in range, and zero padding and ReLU produce exact zeros), so
 * [0.5, 3] is written as [0, 3] and [-2, -1] as [-2, 0].
 *
 * Values that are NaN or infinite are left out of the statistics; a tensor
 * that never took a finite value gets range(0, 0) and a warning.
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct Stat {
    bool tracked;      /* f32 input or node result */
    bool seen;         /* some finite value observed */
    float min, max;
    CalibHist hist;
} Stat;

typedef struct Calib {
    Stat *stat;        /* by Value id */
    bool histograms;   /* second sweep: fill histograms */
    unsigned flags;    /* for calib_hist_add */
} Calib;

static void observe(void *ctx, const Value *v, const void *data)
{
    Calib *c = ctx;
    Stat *s = &c->stat[v->id];
    if (!s->tracked)
        return;
    const float *x = data;
    int64_t n = type_numel(&v->type);
    if (c->histograms) {
        calib_hist_add(&s->hist, x, n, c->flags);
        return;
    }
    float lo = s->seen ? s->min : INFINITY, hi = s->seen ? s->max : -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        float f = x[i];
        /* NaN fails both comparisons; infinities are screened here. */
        if (f < lo && f != -INFINITY)
            lo = f;
        if (f > hi && f != INFINITY)
            hi = f;
    }
    if (lo <= hi) {
        s->seen = true;
        s->min = lo;
        s->max = hi;
    }
}

/* ------------------------------------------------------------ progress */

/* A one-line counter on stderr, rewritten in place, for runs long enough to
 * wonder about: only when stderr is a terminal, first after a quarter of a
 * second and then at most four times a second. */
typedef struct Progress {
    bool on;
    bool shown;
    double start, last;
} Progress;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress_init(Progress *p)
{
    p->on = isatty(STDERR_FILENO);
    p->shown = false;
    p->start = p->last = now();
}

static void progress_update(Progress *p, const char *what, int64_t done, int64_t total)
{
    if (!p->on)
        return;
    double t = now();
    if (t - p->last < 0.25 && done != total)
        return;
    if (!p->shown && t - p->start < 0.25)
        return;
    p->last = t;
    p->shown = true;
    fprintf(stderr, "\rcalibrate: %lld/%lld samples%s\033[K", (long long)done, (long long)total, what);
    fflush(stderr);
}

static void progress_end(Progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ------------------------------------------------------------ the pass */

/* Runs every sample through the graph with the observer. */
static bool sweep(const Graph *g, Dataset *ds, void *in, void **out, Calib *c, Progress *p,
                  const char *what)
{
    int64_t n = dataset_count(ds);
    const void *inputs[1] = {in};
    for (int64_t i = 0; i < n; i++) {
        if (!dataset_read(ds, i, in))
            return false;
        if (interp_run_observed(g, inputs, out, observe, c) != 0)
            return false;
        progress_update(p, what, i + 1, n);
    }
    return true;
}

static void choose_range(const QnncConfig *cfg, Stat *s, double *lo, double *hi)
{
    *lo = s->min;
    *hi = s->max;
    switch (cfg->calib.method) {
    case CALIB_MINMAX:
        break;
    case CALIB_PERCENTILE:
        calib_percentile_range(&s->hist, cfg->calib.percentile, lo, hi);
        break;
    case CALIB_ENTROPY: {
        /* The threshold is symmetric (TensorRT's scheme); the int8
         * activation grid is not, so a side the data never reaches is not
         * kept: a ReLU output gets [0, t], not [-t, t].  The KL search
         * must model the grid the magnitudes will really get: 128 levels
         * when both signs occur (each sign has half of the 256), but all
         * 255 steps over [0, t] for a one-sided tensor.  With 128 there,
         * the search over-clips ReLU outputs (measured on test/e2e/cnn:
         * 4.1 dB SQNR with 128, against 33 dB for minmax). */
        bool one_sided = s->min >= 0 || s->max <= 0;
        double t = calib_entropy_threshold(&s->hist, one_sided ? 255 : 128);
        *lo = fmax(-t, s->min);
        *hi = fmin(t, s->max);
        break;
    }
    case CALIB_MSE:
        calib_mse_range(&s->hist, 256, lo, hi);
        break;
    }
}

bool calibrate(Graph *g, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    if (cfg->calib.num_dataset == 0) {
        diag_error(config_key_loc(cfg, "calibration.dataset"),
                   "calibrate: no calibration data: set [calibration] dataset in the config");
        return false;
    }
    if (g->inputs.len != 1) {
        diag_error(g->loc, "calibrate: graph @%s has %d inputs; calibration feeds graphs with "
                   "exactly one", g->name, g->inputs.len);
        return false;
    }
    Value *input = g->inputs.data[0];
    DatasetOptions opts = {
        .idx = cfg->calib.format == DATA_IDX,
        .max_samples = cfg->calib.samples,
        .scale = cfg->model.input_scale,
        .offset = cfg->model.input_offset,
    };
    Dataset *ds = dataset_open((const char *const *)cfg->calib.dataset, cfg->calib.num_dataset,
                               &opts, input->name, &input->type);
    if (!ds)
        return false;

    bool ok = false;
    Calib c = {xcalloc((size_t)g->values.len, sizeof *c.stat), false, 0};
    for (int i = 0; i < g->values.len; i++) {
        Value *v = g->values.data[i];
        c.stat[i].tracked = v->type.dtype == DT_F32 && (v->kind == VAL_INPUT || v->kind == VAL_NODE);
    }
    void *in = xmalloc((size_t)type_nbytes(&input->type) + 1);
    void **out = xcalloc((size_t)g->outputs.len + 1, sizeof *out);
    for (int i = 0; i < g->outputs.len; i++)
        out[i] = xmalloc((size_t)type_nbytes(&((Value *)g->outputs.data[i])->type) + 1);
    Progress prog;
    progress_init(&prog);

    if (!sweep(g, ds, in, out, &c, &prog, ""))
        goto done;
    if (cfg->calib.method != CALIB_MINMAX) {
        c.histograms = true;
        /* Exact zeros (ReLU, padding) land exactly on the grid, since every
         * range includes 0: they carry no quantization error, so entropy
         * and mse leave them out.  Kept in, a ReLU's spike at 0 dominates
         * the KL search, which then never merges bin 0 with its neighbours
         * and clips to its smallest candidate; NVIDIA's
         * pytorch-quantization flattens that spike (bins[0] = bins[1]) for
         * the same reason.  percentile counts them: they are samples. */
        if (cfg->calib.method == CALIB_ENTROPY)
            c.flags = CALIB_ABS | CALIB_NONZERO;
        else if (cfg->calib.method == CALIB_MSE)
            c.flags = CALIB_NONZERO;
        for (int i = 0; i < g->values.len; i++) {
            Stat *s = &c.stat[i];
            if (!s->tracked || !s->seen)
                continue;
            /* Bounds include 0, like the ranges that come out. */
            double lo = fmin(s->min, 0), hi = fmax(s->max, 0);
            if (c.flags & CALIB_ABS) {
                hi = fmax(-lo, hi);
                lo = 0;
            }
            calib_hist_init(&s->hist, lo, hi, cfg->calib.bins);
        }
        if (!sweep(g, ds, in, out, &c, &prog, " (histograms)"))
            goto done;
    }

    for (int i = 0; i < g->values.len; i++) {
        Value *v = g->values.data[i];
        Stat *s = &c.stat[i];
        if (!s->tracked)
            continue;
        double lo = 0, hi = 0;
        if (s->seen)
            choose_range(cfg, s, &lo, &hi);
        else
            diag_warning(v->loc, "calibrate: %%%s never took a finite value; range(0, 0)", v->name);
        v->has_range = true;
        v->range_lo = (float)fmin(lo, 0);
        v->range_hi = (float)fmax(hi, 0);
    }
    ok = true;
done:
    progress_end(&prog);
    for (int i = 0; i < g->values.len; i++)
        calib_hist_free(&c.stat[i].hist);
    for (int i = 0; i < g->outputs.len; i++)
        free(out[i]);
    free(out);
    free(in);
    free(c.stat);
    dataset_close(ds);
    return ok;
}
