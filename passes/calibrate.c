/* calibrate.c - record the real range every float tensor takes on the
 * calibration data.
 *
 * requires: a verified graph with exactly one input; [calibration] dataset
 *           set in the config (docs/config.md)
 * guarantees: every f32 graph input and f32 node result has range(lo, hi),
 *             finite, with lo <= 0 <= hi; nothing else changes
 * invalidates: nothing (ranges written by an earlier run are replaced)
 *
 * The float graph runs sample by sample with an observer that sees every
 * tensor: compiled in process by the driver's evaluator (PassContext.eval,
 * codegen/jit.c: the same float results bit for bit, on several threads,
 * observed in sample order) when there is one and [calibration] engine is
 * "jit", or "auto" and the sweep is large enough to repay compiling
 * (pass_engine, passes/engine.c), else in the reference interpreter (interp_run_observed).  The first sweep records each tensor's minimum and maximum.
 * For `minmax` that is the answer.  The histogram methods need the bounds
 * before they can bin anything, so they run the samples a second time and
 * fill one histogram per tensor (bins from the config): the samples are
 * not kept, which costs a second sweep of interpreter time but keeps
 * memory at bins * 8 bytes per tensor (16 KB at the default 2048) however
 * large the dataset.  Then ir/ranges.c picks the range:
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
#include "quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The guard's candidate ranges, from the method's own (0) to minmax
 * (GUARD_CANDIDATES - 1); see guard_candidates. */
#define GUARD_CANDIDATES 10
/* The most SQNR a method may lose against minmax on any tensor, in dB. */
#define GUARD_DB 1.0

typedef struct Stat {
    bool tracked;      /* f32 input or node result */
    bool seen;         /* some finite value observed */
    float min, max;
    CalibHist hist;
    /* The guard sweep: the candidate ranges' quantization parameters and
     * the squared error each gives on the calibration values. */
    QParam cand[GUARD_CANDIDATES];
    float cand_lo[GUARD_CANDIDATES], cand_hi[GUARD_CANDIDATES];
    double noise[GUARD_CANDIDATES];
    double signal;
    /* Node results: each sample's largest finite |value| (the first sweep). */
    float *peak;
    int64_t npeak, cap;
} Stat;

typedef enum { SWEEP_MINMAX, SWEEP_HIST, SWEEP_GUARD } SweepKind;

typedef struct Calib {
    Stat *stat;        /* by Value id */
    SweepKind kind;
    unsigned flags;    /* for calib_hist_add */
    DType qdt;         /* the activation dtype the guard measures with */
} Calib;

/* The squared error of quantizing X[0..N) and dequantizing it again with
 * each candidate's parameters, exactly as the quantize op would (float32
 * division, round half to even, saturation: quantize_real). */
static void guard_add(Stat *s, DType dt, const float *x, int64_t n)
{
    int64_t qlo = dtype_traits[dt].min, qhi = dtype_traits[dt].max;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s->signal += (double)x[i] * x[i];
    for (int c = 0; c < GUARD_CANDIDATES; c++) {
        QParam p = s->cand[c];
        double err = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(x[i]))
                continue;
            double deq = (double)p.scale * (double)(quantize_real(x[i], p, ROUND_ONNX, qlo, qhi) - p.zp);
            err += (x[i] - deq) * (x[i] - deq);
        }
        s->noise[c] += err;
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void observe(void *ctx, const Value *v, const void *data)
{
    Calib *c = ctx;
    Stat *s = &c->stat[v->id];
    if (!s->tracked)
        return;
    const float *x = data;
    int64_t n = type_numel(&v->type);
    if (c->kind == SWEEP_HIST) {
        if (s->seen)
            calib_hist_add(&s->hist, x, n, c->flags);
        return;
    }
    if (c->kind == SWEEP_GUARD) {
        if (s->seen)
            guard_add(s, c->qdt, x, n);
        return;
    }
    float lo = INFINITY, hi = -INFINITY; /* this sample's */
    for (int64_t i = 0; i < n; i++) {
        float f = x[i];
        /* NaN fails both comparisons; infinities are screened here. */
        if (f < lo && f != -INFINITY)
            lo = f;
        if (f > hi && f != INFINITY)
            hi = f;
    }
    if (s->peak && s->npeak < s->cap)
        s->peak[s->npeak++] = lo <= hi ? fmaxf(-lo, hi) : 0;
    if (lo <= hi) {
        s->min = s->seen ? fminf(s->min, lo) : lo;
        s->max = s->seen ? fmaxf(s->max, hi) : hi;
        s->seen = true;
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

/* The samples and what runs them: the JIT (PassContext.eval, opened
 * once for all sweeps) or, when there is none, the interpreter. */
typedef struct Sweeper {
    const Graph *g;
    Samples *ds;
    const Evaluator *eval;
    void *h;
    void *in, **out;
    Progress *prog;
    const char *what;
    Calib *c;
    int64_t done;
} Sweeper;

/* The evaluator's reader: sample I of the dataset. */
static bool read_sample(void *ctx, int64_t i, void *const inputs[])
{
    Sweeper *sw = ctx;
    return samples_read(sw->ds, i, inputs[0]);
}

/* The evaluator's observer: calibrate's, and the progress counter once
 * a sample's last node result was seen. */
static void observe_jit(void *ctx, const Value *v, const void *data)
{
    Sweeper *sw = ctx;
    observe(sw->c, v, data);
    if (v == ((const Node *)sw->g->nodes.data[sw->g->nodes.len - 1])->result) {
        sw->done++;
        progress_update(sw->prog, sw->what, sw->done, sw->ds->count);
    }
}

/* Runs every sample through the graph with the observer. */
static bool sweep(Sweeper *sw, const char *what)
{
    int64_t n = sw->ds->count;
    sw->what = what;
    sw->done = 0;
    if (sw->h)
        return sw->eval->run(sw->h, n, read_sample, sw, observe_jit, sw);
    const void *inputs[1] = {sw->in};
    for (int64_t i = 0; i < n; i++) {
        if (!samples_read(sw->ds, i, sw->in))
            return false;
        if (interp_run_observed(sw->g, inputs, sw->out, observe, sw->c) != 0)
            return false;
        progress_update(sw->prog, what, i + 1, n);
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

/* The guard.  A histogram method can clip what matters: heavy-tailed
 * logits whose few large values carry most of the signal lose all of it to
 * a threshold set by the bulk (entropy's KL search does not measure error
 * at all).  So the method's range R0 is checked against the calibration
 * values themselves: each tensor's SQNR is that of its values quantized
 * and dequantized with a range, and a method may not lose more than
 * GUARD_DB against minmax on any tensor.  Candidates widen R0 towards
 * [min, max] by a fraction f of the gap at each end, f = 0, 1/256, 1/128,
 * ..., 1/2, 1, and the first within GUARD_DB of minmax's SQNR is kept:
 * the least widening the measurement allows, minmax only when nothing
 * narrower passes. */
static void guard_candidates(Stat *s, double lo0, double hi0, DType dt)
{
    double lo1 = fmin(s->min, 0), hi1 = fmax(s->max, 0);
    lo0 = fmin(lo0, 0);
    hi0 = fmax(hi0, 0);
    for (int c = 0; c < GUARD_CANDIDATES; c++) {
        double f = c == 0 ? 0 : c == GUARD_CANDIDATES - 1 ? 1 : ldexp(1, c - (GUARD_CANDIDATES - 1));
        /* Rounded to float as range(lo, hi) will be, so the parameters
         * measured are the ones quantize will choose. */
        float lo = c == GUARD_CANDIDATES - 1 ? (float)lo1 : (float)(lo0 + (lo1 - lo0) * f);
        float hi = c == GUARD_CANDIDATES - 1 ? (float)hi1 : (float)(hi0 + (hi1 - hi0) * f);
        s->cand_lo[c] = lo;
        s->cand_hi[c] = hi;
        s->cand[c] = quant_choose_params(lo, hi, dt);
        s->noise[c] = 0;
    }
}

static int guard_choice(const Stat *s)
{
    /* SQNR_c >= SQNR_minmax - GUARD_DB  <=>  noise_c <= noise_minmax * 10^(GUARD_DB/10):
     * the signal is the same for every candidate. */
    double limit = s->noise[GUARD_CANDIDATES - 1] * pow(10.0, GUARD_DB / 10.0);
    for (int c = 0; c < GUARD_CANDIDATES - 1; c++)
        if (s->noise[c] <= limit)
            return c;
    return GUARD_CANDIDATES - 1;
}

static double db(double signal, double noise)
{
    return noise > 0 ? 10 * log10(signal / noise) : INFINITY;
}

/* QNNC_CALIB_LOG=FILE appends one line per tensor: its name, the SQNR of
 * the method's own range, of the range kept, and of minmax, and the
 * fraction of the gap to minmax the guard widened by.  A developer's aid
 * for measuring the methods over models (docs/passes.md, "calibrate"). */
static void guard_log(const Graph *g, const Calib *c, const char *method)
{
    const char *path = getenv("QNNC_CALIB_LOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    for (int i = 0; i < g->values.len; i++) {
        const Stat *s = &c->stat[i];
        if (!s->tracked || !s->seen)
            continue;
        int k = guard_choice(s);
        double frac = k == 0 ? 0 : k == GUARD_CANDIDATES - 1 ? 1 : ldexp(1, k - (GUARD_CANDIDATES - 1));
        fprintf(f, "%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%g\n", g->name, ((const Value *)g->values.data[i])->name,
                method, db(s->signal, s->noise[0]), db(s->signal, s->noise[k]),
                db(s->signal, s->noise[GUARD_CANDIDATES - 1]), frac);
    }
    fclose(f);
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
    Samples ds;
    if (!samples_open(ctx, SAMPLES_CALIBRATION, input, &ds))
        return false;

    bool ok = false;
    Calib c = {xcalloc((size_t)g->values.len, sizeof *c.stat), SWEEP_MINMAX, 0, DT_I8};
    /* The guard measures on the grid quantize will use: int16 for
     * int16x8, u8 when asked for, int8 otherwise (also when the scheme
     * keeps activations float and only qnnc-opt runs calibrate). */
    if (cfg->quant.activation_dtype == DT_I16 || cfg->quant.activation_dtype == DT_U8)
        c.qdt = cfg->quant.activation_dtype;
    for (int i = 0; i < g->values.len; i++) {
        Value *v = g->values.data[i];
        c.stat[i].tracked = v->type.dtype == DT_F32 && (v->kind == VAL_INPUT || v->kind == VAL_NODE);
    }
    for (int i = 0; i < g->values.len; i++) {
        Stat *s = &c.stat[i];
        if (s->tracked && ((Value *)g->values.data[i])->kind == VAL_NODE) {
            s->cap = ds.count;
            s->peak = xmalloc((size_t)ds.count * sizeof *s->peak);
        }
    }
    void *in = xmalloc((size_t)type_nbytes(&input->type) + 1);
    void **out = xcalloc((size_t)g->outputs.len + 1, sizeof *out);
    for (int i = 0; i < g->outputs.len; i++)
        out[i] = xmalloc((size_t)type_nbytes(&((Value *)g->outputs.data[i])->type) + 1);
    Progress prog;
    progress_init(&prog);
    Sweeper sw = {.g = g, .ds = &ds, .in = in, .out = out, .prog = &prog, .c = &c};
    /* auto: at least 50 M MACs a sweep; the one compile serves every
     * sweep (one to three). */
    sw.eval = pass_engine(g, ctx, ds.count, 5e7);
    if (sw.eval)
        sw.h = sw.eval->open(g);

    if (!sweep(&sw, ""))
        goto done;
    if (cfg->calib.method != CALIB_MINMAX) {
        c.kind = SWEEP_HIST;
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
        if (!sweep(&sw, " (histograms)"))
            goto done;
    }

    for (int i = 0; i < g->values.len; i++) {
        Stat *s = &c.stat[i];
        if (!s->tracked || !s->seen)
            continue;
        double lo, hi;
        choose_range(cfg, s, &lo, &hi);
        guard_candidates(s, lo, hi, c.qdt);
    }
    if (cfg->calib.method != CALIB_MINMAX) {
        c.kind = SWEEP_GUARD;
        if (!sweep(&sw, " (measuring ranges)"))
            goto done;
    }
    if (cfg->calib.method != CALIB_MINMAX)
        guard_log(g, &c, config_method_names[cfg->calib.method]);

    for (int i = 0; i < g->values.len; i++) {
        Value *v = g->values.data[i];
        Stat *s = &c.stat[i];
        if (!s->tracked)
            continue;
        float lo = 0, hi = 0;
        if (s->seen) {
            int k = cfg->calib.method == CALIB_MINMAX ? GUARD_CANDIDATES - 1 : guard_choice(s);
            lo = s->cand_lo[k];
            hi = s->cand_hi[k];
        } else {
            diag_warning(v->loc, "calibrate: %%%s never took a finite value; range(0, 0)", v->name);
        }
        v->has_range = true;
        v->range_lo = fminf(lo, 0);
        v->range_hi = fmaxf(hi, 0);
        v->typical_peak = 0;
        if (s->npeak > 0) {
            qsort(s->peak, (size_t)s->npeak, sizeof *s->peak, cmp_float);
            v->typical_peak = s->peak[(s->npeak - 1) / 2]; /* the lower median */
        }
    }
    ok = true;
done:
    if (sw.h)
        sw.eval->close(sw.h);
    progress_end(&prog);
    for (int i = 0; i < g->values.len; i++) {
        calib_hist_free(&c.stat[i].hist);
        free(c.stat[i].peak);
    }
    for (int i = 0; i < g->outputs.len; i++)
        free(out[i]);
    free(out);
    free(in);
    free(c.stat);
    samples_close(&ds);
    return ok;
}
