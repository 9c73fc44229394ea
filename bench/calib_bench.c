/* calib_bench - what calibration costs per sample: the float graph (a .qir
 * as the pipeline hands it to calibrate: qnnc --stop-after=dce --emit=qir)
 * run over N samples with calibrate's minmax observer (every f32 tensor's
 * minimum and maximum), through the reference interpreter and through the
 * JIT (codegen/jit.c) at 1 and 2 threads.  The inputs are uniform in
 * [0, 1); the time does not depend on the values.  bench/calib_bench.sh
 * runs it beside ONNX Runtime on the same models.
 *
 *   calib_bench FLOAT.qir [N]
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
    float **x;      /* [sample][input 0] */
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

static bool reader(void *ctx, int64_t i, void *const inputs[])
{
    MinMax *m = ctx;
    memcpy(inputs[0], m->x[i], (size_t)type_nbytes(&((const Value *)m->g->inputs.data[0])->type));
    return true;
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
    Graph *g = ir_parse_file(argv[1]);
    if (!g || !ir_verify(g) || g->inputs.len != 1) {
        fprintf(stderr, "calib_bench: %s: not a verified graph with one input\n", argv[1]);
        return 1;
    }
    const TensorType *it = &((const Value *)g->inputs.data[0])->type;
    MinMax m = {xcalloc((size_t)g->values.len + 1, sizeof(float)), xcalloc((size_t)g->values.len + 1, sizeof(float)),
                g, xcalloc((size_t)n, sizeof(float *))};
    uint64_t r = 88172645463325252u;
    for (int s = 0; s < n; s++) {
        m.x[s] = xmalloc((size_t)type_nbytes(it));
        for (int64_t i = 0; i < type_numel(it); i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            m.x[s][i] = (float)(r >> 40) / 16777216.0f;
        }
    }
    void **outs = xcalloc((size_t)g->outputs.len, sizeof *outs);
    for (int i = 0; i < g->outputs.len; i++)
        outs[i] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[i])->type) + 1);

    reset(&m);
    double t0 = cpu_ms();
    for (int s = 0; s < n; s++) {
        const void *ins[1] = {m.x[s]};
        if (interp_run_observed(g, ins, outs, observe, &m) != 0)
            return 1;
    }
    double interp = (cpu_ms() - t0) / n;
    float ref_lo = m.lo[g->values.len - 1], ref_hi = m.hi[g->values.len - 1];

    t0 = now_ms();
    Jit *j = jit_open(g, 1);
    double compile = now_ms() - t0;
    if (!j)
        return 1;
    double per[3] = {0}, wall[3] = {0};
    for (int t = 1; t <= 2; t++) {
        jit_set_threads(j, t);
        reset(&m);
        jit_run(j, n < 4 ? n : 4, reader, &m, observe, &m); /* warm up */
        reset(&m);
        t0 = cpu_ms();
        double w0 = now_ms();
        if (!jit_run(j, n, reader, &m, observe, &m))
            return 1;
        per[t] = (cpu_ms() - t0) / n;
        wall[t] = (now_ms() - w0) / n;
        if (memcmp(&m.lo[g->values.len - 1], &ref_lo, 4) || memcmp(&m.hi[g->values.len - 1], &ref_hi, 4)) {
            fprintf(stderr, "calib_bench: the JIT's ranges differ from the interpreter's\n");
            return 1;
        }
    }
    printf("%s: %d samples, CPU ms/sample: interpreter %.3f, JIT %.3f (1 thread), %.3f (2 threads; "
           "wall %.3f); JIT compile %.0f ms wall; interpreter/JIT %.1fx\n",
           g->name, n, interp, per[1], per[2], wall[2], compile, interp / per[1]);
    jit_close(j);
    return 0;
}
