/* calib_bench - what calibration costs per sample: the float graph (a .qir
 * as the pipeline hands it to calibrate: qnnc --stop-after=dce --emit=qir)
 * run over N samples with calibrate's minmax observer (every f32 tensor's
 * minimum and maximum), through the reference interpreter and through the
 * JIT (codegen/jit.c) at 1 and 2 threads, with the observers on the
 * worker threads as calibrate runs them (jit_run_split: each worker's own
 * minima and maxima, merged at the end).  The inputs are uniform in [0, 1),
 * made per sample from its index (no memory for N samples); the time does
 * not depend on the values.  INTERP_N (default N) samples go through the
 * interpreter, 0 for none.  bench/calib_bench.sh runs it beside ONNX
 * Runtime on the same models.
 *
 *   calib_bench FLOAT.qir [N [INTERP_N]]
 */
#include "jit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
/* CPU time of the whole process (every thread): on a loaded machine the
 * single-threaded figures are read from this, not from the wall clock. */
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }

typedef struct MinMax {
    float *lo, *hi; /* by value id */
    const Graph *g;
} MinMax;

static void observe(void *ctx, const Value *v, const void *data)
{
    MinMax *m = ctx;
    if (v->type.dtype != DT_F32)
        return;
    const float *x = data;
    float lo = m->lo[v->id], hi = m->hi[v->id];
    for (int64_t i = 0, n = type_numel(&v->type); i < n; i++) {
        if (x[i] < lo)
            lo = x[i];
        if (x[i] > hi)
            hi = x[i];
    }
    m->lo[v->id] = lo;
    m->hi[v->id] = hi;
}

/* Sample I: xorshift64 seeded by I, 24-bit uniform floats in [0, 1). */
static void make_sample(float *x, int64_t n, int64_t i)
{
    uint64_t r = 88172645463325252u ^ ((uint64_t)i * 0x9E3779B97F4A7C15u);
    for (int64_t k = 0; k < n; k++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        x[k] = (float)(r >> 40) / 16777216.0f;
    }
}

static bool reader(void *ctx, int64_t i, void *const inputs[])
{
    MinMax *m = ctx;
    make_sample(inputs[0], type_numel(&((const Value *)m->g->inputs.data[0])->type), i);
    return true;
}

/* The split observer: each worker its own MinMax, merged at the end. */
static void *mm_fork(void *ctx, int t)
{
    (void)t;
    MinMax *m = ctx, *w = xcalloc(1, sizeof *w);
    *w = (MinMax){xcalloc((size_t)m->g->values.len + 1, sizeof(float)),
                  xcalloc((size_t)m->g->values.len + 1, sizeof(float)), m->g};
    for (int i = 0; i < m->g->values.len; i++) {
        w->lo[i] = INFINITY;
        w->hi[i] = -INFINITY;
    }
    return w;
}
static void mm_commit(void *ctx, void *ws, int64_t i) { (void)ctx, (void)ws, (void)i; }
static void mm_join(void *ctx, void *ws)
{
    MinMax *m = ctx, *w = ws;
    for (int i = 0; i < m->g->values.len; i++) {
        m->lo[i] = w->lo[i] < m->lo[i] ? w->lo[i] : m->lo[i];
        m->hi[i] = w->hi[i] > m->hi[i] ? w->hi[i] : m->hi[i];
    }
    free(w->lo);
    free(w->hi);
    free(w);
}

static void reset(MinMax *m)
{
    for (int i = 0; i < m->g->values.len; i++) {
        m->lo[i] = INFINITY;
        m->hi[i] = -INFINITY;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: calib_bench FLOAT.qir [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 32;
    int ni = argc > 3 ? atoi(argv[3]) : n;
    Graph *g = ir_parse_file(argv[1]);
    if (!g || !ir_verify(g) || g->inputs.len != 1) {
        fprintf(stderr, "calib_bench: %s: not a verified graph with one input\n", argv[1]);
        return 1;
    }
    const TensorType *it = &((const Value *)g->inputs.data[0])->type;
    MinMax m = {xcalloc((size_t)g->values.len + 1, sizeof(float)), xcalloc((size_t)g->values.len + 1, sizeof(float)), g};
    float *x = xmalloc((size_t)type_nbytes(it));
    void **outs = xcalloc((size_t)g->outputs.len, sizeof *outs);
    for (int i = 0; i < g->outputs.len; i++)
        outs[i] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[i])->type) + 1);

    reset(&m);
    double t0 = cpu_ms(), interp = 0;
    for (int s = 0; s < ni; s++) {
        make_sample(x, type_numel(it), s);
        const void *ins[1] = {x};
        if (interp_run_observed(g, ins, outs, observe, &m) != 0)
            return 1;
    }
    if (ni > 0)
        interp = (cpu_ms() - t0) / ni;
    float *ref_lo = xmalloc((size_t)g->values.len * sizeof(float)), *ref_hi = xmalloc((size_t)g->values.len * sizeof(float));
    memcpy(ref_lo, m.lo, (size_t)g->values.len * sizeof(float));
    memcpy(ref_hi, m.hi, (size_t)g->values.len * sizeof(float));

    t0 = now_ms();
    Jit *j = jit_open(g, 1);
    double compile = now_ms() - t0;
    if (!j)
        return 1;
    SplitObserver obs = {&m, mm_fork, observe, mm_commit, mm_join};
    double per[3] = {0}, wall[3] = {0};
    for (int t = 1; t <= 2; t++) {
        jit_set_threads(j, t);
        reset(&m);
        jit_run_split(j, n < 2 * t ? n : 2 * t, reader, &m, &obs); /* warm up */
        reset(&m);
        t0 = cpu_ms();
        double w0 = now_ms();
        if (!jit_run_split(j, n, reader, &m, &obs))
            return 1;
        per[t] = (cpu_ms() - t0) / n;
        wall[t] = (now_ms() - w0) / n;
        /* Over the same samples, every tensor's range equals the interpreter's. */
        if (ni == n && (memcmp(m.lo, ref_lo, (size_t)g->values.len * sizeof(float)) ||
                        memcmp(m.hi, ref_hi, (size_t)g->values.len * sizeof(float)))) {
            fprintf(stderr, "calib_bench: the JIT's ranges differ from the interpreter's\n");
            return 1;
        }
    }
    printf("%s: %d samples, JIT %s; CPU ms/sample: interpreter %.3f (%d samples), JIT %.3f (1 thread), "
           "%.3f (2 threads); wall ms/sample: %.3f (1 thread), %.3f (2 threads); %d samples wall s: "
           "%.2f (1 thread), %.2f (2 threads); JIT compile %.0f ms wall; interpreter/JIT %.1fx\n",
           g->name, n, jit_isa_names[jit_isa(j)], interp, ni, per[1], per[2], wall[1], wall[2], n,
           wall[1] * n / 1e3, wall[2] * n / 1e3, compile, ni > 0 ? interp / per[1] : 0.0);
    jit_close(j);
    return 0;
}
