/* test_jit.c - the JIT (codegen/jit.c) against the reference interpreter.
 *
 * The oracle is ir/interp.c: every graph of the codegen tests' inputs
 * (float conv, dense, matmul, pools, elementwise and activations with
 * libm calls, softmax, layer_norm, reductions, resize, layout ops, and the
 * int8 ops around them) runs SAMPLES random samples through
 * interp_run_observed, which records every tensor, and then through the
 * JIT at 1 and 2 threads, whose observer compares each tensor it sees,
 * then through jit_run_split at 1, 2 and 3 threads, whose split observers
 * compare on the workers and whose commits must come in sample order.  The
 * JIT compiles at the host's ISA level (or QNNC_JIT_ISA's), printed.
 *
 * Tolerance: none.  The JIT's code is codegen's, which follows the
 * interpreter's operation order (no FMA contraction, no reassociation:
 * codegen sets no fast-math flags) and calls the same libm in the same
 * process, so every tensor must be equal byte for byte (NaN payloads
 * aside: two NaNs compare equal).  The observer must also see the samples
 * in order and every value of each in the interpreter's order.
 */
#include "rng.h"
#include "jit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { SAMPLES = 5 };


/* Random contents for an input of type T: floats in [-3, 3) with a few
 * exact zeros, integers over the dtype's range (int32 within +-1000, so
 * accumulators cannot overflow). */
static void fill(const TensorType *t, void *p)
{
    int64_t n = type_numel(t);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rnd64();
        switch (t->dtype) {
        case DT_F32: ((float *)p)[i] = r % 17 == 0 ? 0.0f : (float)((double)(r >> 11) / 9007199254740992.0 * 6 - 3); break;
        case DT_I8: ((int8_t *)p)[i] = (int8_t)(r >> 56); break;
        case DT_U8: ((uint8_t *)p)[i] = (uint8_t)(r >> 56); break;
        case DT_I16: ((int16_t *)p)[i] = (int16_t)(r >> 48); break;
        case DT_I32: ((int32_t *)p)[i] = (int32_t)(r % 2001) - 1000; break;
        default: break;
        }
    }
}

typedef struct Case {
    const Graph *g;
    void **in[SAMPLES];        /* [sample][input] */
    void **want[SAMPLES];      /* [sample][value id]: the interpreter's tensors */
    int64_t sample;            /* the sample being observed (JIT) */
    int seen;                  /* values observed of it */
    int64_t mismatches, compared;
    double max_ulp;
    bool order_ok;
    int threads;
    int stride;                /* samples between this observer's ones (run_split: the threads) */
    int64_t commits;           /* run_split: samples committed, in order */
} Case;

static void record(void *ctx, const Value *v, const void *data)
{
    void **want = ctx;
    int64_t n = type_nbytes(&v->type);
    want[v->id] = xmalloc((size_t)n + 1);
    memcpy(want[v->id], data, (size_t)n);
}

static bool reader(void *ctx, int64_t i, void *const inputs[])
{
    Case *c = ctx;
    for (int k = 0; k < c->g->inputs.len; k++)
        memcpy(inputs[k], c->in[i][k], (size_t)type_nbytes(&((const Value *)c->g->inputs.data[k])->type));
    return true;
}

static int64_t ordered(float f)
{
    int32_t b;
    memcpy(&b, &f, 4);
    return b < 0 ? -(int64_t)(b & 0x7fffffff) : b;
}

/* The position of value V in interp_run_observed's order. */
static int position(const Graph *g, const Value *v)
{
    for (int i = 0; i < g->inputs.len; i++)
        if (g->inputs.data[i] == v)
            return i;
    for (int k = 0; k < g->nodes.len; k++)
        if (((const Node *)g->nodes.data[k])->result == v)
            return g->inputs.len + k;
    return -1;
}

static void compare(void *ctx, const Value *v, const void *data)
{
    Case *c = ctx;
    int total = c->g->inputs.len + c->g->nodes.len;
    if (position(c->g, v) != c->seen)
        c->order_ok = false;
    if (c->sample >= SAMPLES)
        return;
    const void *want = c->want[c->sample][v->id];
    int64_t n = type_numel(&v->type), size = dtype_traits[v->type.dtype].size;
    for (int64_t i = 0; i < n; i++) {
        c->compared++;
        if (v->type.dtype == DT_F32) {
            float a = ((const float *)data)[i], b = ((const float *)want)[i];
            if (isnan(a) && isnan(b))
                continue;
            if (memcmp(&a, &b, 4) != 0) {
                double ulp = fabs((double)(ordered(a) - ordered(b)));
                if (ulp > c->max_ulp)
                    c->max_ulp = ulp;
                if (c->mismatches++ < 3)
                    printf("  %s: sample %lld %%%s[%lld]: jit %.9g, interpreter %.9g\n", c->g->name,
                           (long long)c->sample, v->name, (long long)i, a, b);
            }
        } else if (memcmp((const char *)data + i * size, (const char *)want + i * size, (size_t)size) != 0) {
            if (c->mismatches++ < 3)
                printf("  %s: sample %lld %%%s[%lld] differs (integer)\n", c->g->name, (long long)c->sample,
                       v->name, (long long)i);
        }
    }
    if (++c->seen == total) {
        c->seen = 0;
        c->sample += c->stride;
    }
}

/* jit_run_split's observer: each worker compares in a Case of its own,
 * starting at its first sample; commits must come in sample order, each
 * from the worker that observed the sample, after all its tensors. */
static void *split_fork(void *ctx, int t)
{
    Case *c = ctx, *w = xmalloc(sizeof *w);
    *w = *c;
    w->sample = t;
    w->stride = c->threads;
    w->mismatches = w->compared = 0;
    return w;
}
static void split_commit(void *ctx, void *ws, int64_t i)
{
    Case *c = ctx, *w = ws;
    if (i != c->commits++ || i != w->sample - w->stride || w->seen != 0)
        c->order_ok = false;
}
static void split_join(void *ctx, void *ws)
{
    Case *c = ctx, *w = ws;
    c->mismatches += w->mismatches;
    c->compared += w->compared;
    c->max_ulp = w->max_ulp > c->max_ulp ? w->max_ulp : c->max_ulp;
    c->order_ok = c->order_ok && w->order_ok;
    free(w);
}

static void test_file(const char *path)
{
    Graph *g = ir_parse_file(path);
    CHECK(g && ir_verify(g), "%s: does not parse and verify", path);
    if (!g || !ir_verify(g)) {
        graph_free(g);
        return;
    }
    Case c = {.g = g, .stride = 1};
    bool interp_ok = true;
    for (int s = 0; s < SAMPLES; s++) {
        c.in[s] = xcalloc((size_t)g->inputs.len + 1, sizeof(void *));
        for (int k = 0; k < g->inputs.len; k++) {
            const TensorType *t = &((const Value *)g->inputs.data[k])->type;
            c.in[s][k] = xmalloc((size_t)type_nbytes(t) + 1);
            fill(t, c.in[s][k]);
        }
        c.want[s] = xcalloc((size_t)g->values.len + 1, sizeof(void *));
        void **outs = xcalloc((size_t)g->outputs.len + 1, sizeof(void *));
        for (int k = 0; k < g->outputs.len; k++)
            outs[k] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[k])->type) + 1);
        interp_ok = interp_ok &&
                    interp_run_observed(g, (const void *const *)c.in[s], outs, record, c.want[s]) == 0;
        for (int k = 0; k < g->outputs.len; k++)
            free(outs[k]);
        free(outs);
    }
    CHECK(interp_ok, "%s: the interpreter failed", path);
    Jit *j = interp_ok ? jit_open(g, 1) : NULL;
    CHECK(!interp_ok || j != NULL, "%s: jit_open failed", path);
    for (int threads = 1; threads <= 2 && j; threads++) {
        jit_set_threads(j, threads);
        c.sample = 0;
        c.seen = 0;
        c.mismatches = c.compared = 0;
        c.max_ulp = 0;
        c.order_ok = true;
        bool ok = jit_run(j, SAMPLES, reader, &c, compare, &c);
        CHECK(ok, "%s: jit_run failed", path);
        CHECK(c.sample == SAMPLES && c.seen == 0 && c.order_ok,
              "%s (%d threads): observed %lld samples, values out of order: %s", path, threads,
              (long long)c.sample, c.order_ok ? "no" : "yes");
        CHECK(c.mismatches == 0, "%s (%d threads): %lld of %lld elements differ, max %.0f ulp", path, threads,
              (long long)c.mismatches, (long long)c.compared, c.max_ulp);
        printf("%s: %d threads, %d nodes, %lld elements compared over %d samples, %lld differ\n",
               strrchr(path, '/') + 1, threads, g->nodes.len, (long long)c.compared, SAMPLES,
               (long long)c.mismatches);
    }
    /* The same through jit_run_split, the observers on the workers. */
    for (int threads = 1; threads <= 3 && j; threads++) {
        jit_set_threads(j, threads);
        c.threads = threads < SAMPLES ? threads : SAMPLES;
        c.seen = 0;
        c.mismatches = c.compared = c.commits = 0;
        c.max_ulp = 0;
        c.order_ok = true;
        SplitObserver obs = {&c, split_fork, compare, split_commit, split_join};
        bool ok = jit_run_split(j, SAMPLES, reader, &c, &obs);
        CHECK(ok, "%s: jit_run_split failed", path);
        CHECK(c.commits == SAMPLES && c.order_ok, "%s (split, %d threads): %lld commits, in order: %s", path,
              threads, (long long)c.commits, c.order_ok ? "yes" : "no");
        CHECK(c.mismatches == 0, "%s (split, %d threads): %lld of %lld elements differ, max %.0f ulp", path,
              threads, (long long)c.mismatches, (long long)c.compared, c.max_ulp);
        CHECK(c.compared > 0, "%s (split, %d threads): nothing compared", path, threads);
    }
    if (j)
        printf("%s: JIT at %s, split observers at 1-3 threads: no element differs\n", strrchr(path, '/') + 1,
               jit_isa_names[jit_isa(j)]);
    jit_close(j);
    for (int s = 0; s < SAMPLES; s++) {
        for (int k = 0; k < g->inputs.len; k++)
            free(c.in[s][k]);
        free(c.in[s]);
        for (int v = 0; v < g->values.len; v++)
            free(c.want[s][v]);
        free(c.want[s]);
    }
    graph_free(g);
}

int main(void)
{
    static const char *const files[] = {
        "nn2.qir", "reduce.qir", "resize.qir", "layout.qir", "elem.qir", "elem2.qir",
        "elem3.qir", "dense.qir", "conv.qir", "gather.qir", "tiny_cnn.qir", "multi-output.qir",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/test/codegen/Inputs/%s", QNNC_SOURCE_DIR, files[i]);
        test_file(path);
    }
    printf("test_jit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
