/* mixed_precision.c - automatic mixed precision ([quantization] target_sqnr,
 * max_accuracy_drop).
 *
 * requires:   a verified, calibrated float graph with one input (as
 *             quantize does), scheme int8, [quantization] target_sqnr or
 *             max_accuracy_drop (or both) set, a validation set
 *             ([validation] dataset, else the calibration set; labels for
 *             max_accuracy_drop)
 * guarantees: the graph quantized exactly as `quantize` would with the
 *             configured overrides plus one dtype = "i16" (or "f32")
 *             override per raised layer (float only when int16x8 cannot
 *             reach the target and some boundary is float), where the raised set S is such
 *             that the criterion is met on the validation samples (every
 *             graph output reaches target_sqnr against the float graph;
 *             the first output's top-1 accuracy is at most
 *             max_accuracy_drop points below the float graph's: whichever
 *             are set), and no layer of S can return to its unraised
 *             state with the criterion still met (each was tried against
 *             the final S); the unraised state is int8, or, for a
 *             conv/dense quantize makes int16x8 by itself (outlier-
 *             dominated: raised only to float), that int16x8; or an error
 *             saying the best reachable
 * invalidates: everything (like quantize)
 *
 * The search (docs/passes.md, "mixed-precision"):
 *  1. the float graph runs once over the validation samples: the reference;
 *  2. every candidate layer L is raised alone, with the readers of its
 *     result (looking through layout ops), so that the wider tensor is
 *     read as such instead of being narrowed back to int8: its
 *     sensitivity is the worst output SQNR then;
 *  3. candidates are raised most helpful first: the shortest prefix of
 *     that order found to meet the target, by galloping (1, 2, 4, ...
 *     groups) and bisection, after checking that every candidate raised
 *     meets it (else 2 is skipped); if int16x8 everywhere cannot meet it
 *     and some graph boundary is float, 2-3 again with float as the
 *     raised precision;
 *  4. every raised layer, the most MACs first, is lowered back (to its
 *     unraised state, else from float to int16x8) if the target holds
 *     without it, going
 *     round until each layer still raised has been tried since the last
 *     lowering.
 * One evaluation = clone the float graph, quantize and fuse-requantize it
 * with the overrides, run it over the samples: evaluate() below, which
 * measures a Measure; criterion_met() says whether it meets the
 * configured criterion ("the target" in 1-4: target_sqnr,
 * max_accuracy_drop or both) and criterion_rank() orders the
 * sensitivities by it.  Each
 * graph runs compiled (PassContext.eval) or in the interpreter by the rule
 * calibrate uses ([calibration] engine; pass_engine): the outputs are the
 * same bit for bit, so the search and its result do not depend on it.
 */
#include "passes.h"
#include "quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- graph copy */

static TensorType copy_type(Graph *g, const TensorType *t)
{
    TensorType c = *t;
    if (t->quant)
        c.quant = quant_new(&g->arena, t->quant->axis, t->quant->count, t->quant->scale, t->quant->zero_point);
    return c;
}

static void copy_value_info(Value *to, const Value *from)
{
    to->has_range = from->has_range;
    to->range_lo = from->range_lo;
    to->range_hi = from->range_hi;
    to->typical_peak = from->typical_peak;
    to->loc = from->loc;
}

static Graph *clone_graph(const Graph *g)
{
    Graph *c = graph_new(g->name);
    c->loc = g->loc;
    Value **map = xcalloc((size_t)g->values.len + 1, sizeof *map);
    for (int i = 0; i < g->inputs.len; i++) {
        const Value *v = g->inputs.data[i];
        map[v->id] = graph_add_input(c, v->name, copy_type(c, &v->type));
        copy_value_info(map[v->id], v);
    }
    for (int i = 0; i < g->consts.len; i++) {
        const Value *v = g->consts.data[i];
        map[v->id] = graph_add_const(c, v->name, copy_type(c, &v->type), v->data);
        copy_value_info(map[v->id], v);
    }
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        Value *ops[16];
        Value **opv = n->num_operands <= 16 ? ops : xmalloc((size_t)n->num_operands * sizeof *opv);
        for (int k = 0; k < n->num_operands; k++)
            opv[k] = map[n->operands[k]->id];
        Node *nn = graph_add_node(c, n->op, opv, n->num_operands, n->result->name, copy_type(c, &n->result->type));
        if (opv != ops)
            free(opv);
        nn->loc = n->loc;
        for (int k = 0; k < n->num_attrs; k++) {
            const Attr *a = &n->attrs[k];
            switch (attr_info[a->id].kind) {
            case AK_INT: node_set_int(c, nn, a->id, a->u.i); break;
            case AK_ENUM: node_set_enum(c, nn, a->id, a->u.i); break;
            case AK_FLOAT: node_set_float(c, nn, a->id, a->u.f); break;
            case AK_INTS: node_set_ints(c, nn, a->id, a->u.ints, a->count); break;
            case AK_FLOATS: node_set_floats(c, nn, a->id, a->u.floats, a->count); break;
            }
        }
        map[n->result->id] = nn->result;
        copy_value_info(nn->result, n->result);
    }
    for (int i = 0; i < g->outputs.len; i++)
        graph_add_output(c, map[((const Value *)g->outputs.data[i])->id]);
    free(map);
    return c;
}

/* ---------------------------------------------------------------- evaluation */

/* The tensors of one quantized graph the interpreter ran, by sample and
 * value id (node results only; NULL where none is kept). */
typedef struct Tensors {
    Graph *g;       /* NULL: none */
    void ***t;      /* [sample][value id of g] */
    int64_t bytes;  /* held in t */
} Tensors;

typedef struct Search {
    const Graph *fg;
    const PassContext *ctx;
    /* The criterion (docs/passes.md, "mixed-precision", "Criterion"). */
    double target;         /* target_sqnr, dB; 0: not set */
    double max_drop;       /* max_accuracy_drop, percentage points; < 0: not set */
    const char *key;       /* the key messages name: target_sqnr unless only the other is set */
    SrcLoc loc;            /* where KEY was set */
    int32_t *labels;       /* max_drop set: by sample, its class; else NULL */
    int ref_correct;       /* samples the float graph's first output classifies right */
    int best_correct;      /* the most any evaluation classified right */
    int nsamples;
    float **x;         /* by sample: the float input */
    float ***ref;      /* by sample, by output: the float graph's outputs */
    int nout;
    int evaluations;
    /* Candidates, by index into cand. */
    int ncand;
    const Node **cand;
    DType *raise_dt;
    /* What each candidate is when not raised: DT_I8, or DT_I16 for the
     * outlier-dominated conv/dense quantize makes int16x8 by itself
     * (quantize_outlier_output), which are raised to float only.  A
     * candidate at its base precision gets no override. */
    DType *base_dt;
    double best_db;    /* the best worst-output SQNR seen */
    /* Every set evaluated and its outputs' SQNRs: a set the search comes
     * back to (the chosen set measured once more at the end, a lowering
     * that returns to a set the raising measured) is not run again. */
    int nmemo, capmemo;
    DType **memo_lvl;
    double **memo_db;
    int *memo_correct;
    bool *memo_ok;
    int reused;
    /* Reuse (docs/passes.md, "mixed-precision", "Reuse"): in the
     * interpreter, a trial runs only the nodes that compute something else
     * than every node of the base, an earlier trial whose tensors are
     * kept; the others' results are the base's.  The last trial run is
     * PENDING until the search adopts it as the base or drops it. */
    bool reuse;
    Tensors base, pending;
    double work_run, work_all; /* node MACs run, and those of every trial, in the interpreter */
} Search;

static int64_t node_macs(const Node *n);

static double db_of(double signal, double noise)
{
    if (noise == 0)
        return INFINITY;
    if (signal == 0)
        return -INFINITY;
    return 10.0 * log10(signal / noise);
}

static double worst_of(const double *db, int n)
{
    double w = INFINITY;
    for (int i = 0; i < n; i++)
        w = fmin(w, db[i]);
    return w;
}

/* What one evaluation measured: each output's SQNR against the float
 * graph (DB, the caller's array of one per output) and, with labels, how
 * many validation samples the first output classifies right (top-1:
 * its largest element's index, the first of equals, is the label); -1
 * and -INFINITY for a set that cannot be built or run. */
typedef struct Measure {
    double *db;
    int correct;
} Measure;

/* Points of top-1 accuracy CORRECT loses against the float graph. */
static double drop_points(const Search *s, int correct)
{
    return 100.0 * (double)(s->ref_correct - correct) / (double)s->nsamples;
}

/* Whether M meets every criterion set: target_sqnr by the worst output,
 * max_accuracy_drop by the first output's top-1 accuracy (compared in
 * whole samples: a drop of exactly the limit meets it). */
static bool criterion_met(const Search *s, const Measure *m)
{
    if (s->target > 0 && !(worst_of(m->db, s->nout) >= s->target))
        return false;
    if (s->max_drop >= 0 &&
        !(m->correct >= 0 && 100.0 * (double)(s->ref_correct - m->correct) <= s->max_drop * s->nsamples + 1e-9))
        return false;
    return true;
}

static double accuracy(const Search *s, int correct)
{
    return correct < 0 ? NAN : 100.0 * correct / s->nsamples;
}

/* "target_sqnr = 30 dB", "max_accuracy_drop = 1 point" or both, for messages. */
static const char *criterion_text(const Search *s, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    if (s->target > 0)
        len += (size_t)snprintf(buf, cap, "target_sqnr = %g dB", s->target);
    if (s->max_drop >= 0 && len < cap)
        snprintf(buf + len, cap - len, "%smax_accuracy_drop = %g point%s", len ? " and " : "", s->max_drop,
                 s->max_drop == 1 ? "" : "s");
    return buf;
}

/* How helpful a group raised alone is (step 2's order, the larger KEY
 * first, then the smaller KEY2): by the worst output's SQNR; with
 * max_accuracy_drop first by how far the accuracy stays short of it (0
 * once met: the groups that meet it alone tie), then by that SQNR, the
 * finer measure of how near the float graph the outputs are. */
static void criterion_rank(const Search *s, const Measure *m, double *key, double *key2)
{
    double w = worst_of(m->db, s->nout);
    if (s->max_drop < 0) {
        *key = w;
        *key2 = 0;
        return;
    }
    *key = m->correct < 0 ? -INFINITY : fmin(s->max_drop - drop_points(s, m->correct), 0);
    *key2 = -w;
}

/* Reads element I of the quantized graph's output V as a real value. */
static double real_at(const Value *v, const void *data, int64_t i)
{
    const TensorType *t = &v->type;
    if (t->dtype == DT_F32)
        return ((const float *)data)[i];
    int64_t raw = ld_int(data, t->dtype, i);
    const Quant *q = t->quant;
    if (!q)
        return (double)raw;
    int64_t c = 0;
    if (q->count > 1) {
        int64_t inner = 1;
        for (int d = q->axis + 1; d < t->rank; d++)
            inner *= t->dims[d];
        c = (i / inner) % t->dims[q->axis];
    }
    return (double)q->scale[c] * (double)(raw - q->zero_point[c]);
}

/* Index of the largest element of output V (DATA, dequantized when V is
 * integer), the first of equals: the top-1 class. */
static int64_t top1(const Value *v, const void *data)
{
    int64_t n = type_numel(&v->type), best = 0;
    double bv = real_at(v, data, 0);
    for (int64_t i = 1; i < n; i++) {
        double x = real_at(v, data, i);
        if (x > bv) {
            bv = x;
            best = i;
        }
    }
    return best;
}

/* One graph (the float one or a candidate) over the validation samples.
 * Each output of sample i goes to s->ref[i] (REF) or into the SQNR sums
 * against it (SIGNAL, NOISE by output), in sample order either way. */
typedef struct Runner {
    Search *s;
    const Graph *g;
    bool ref;
    double *signal, *noise;
    int correct;  /* samples the first output classifies right (with labels) */
    int64_t smp; /* the sample the observer sees */
    const void **given; /* the interpreter's: by value id of g, the base's tensors of identical nodes */
    void ***rec;        /* by sample, by value id: the tensors g computed, kept for reuse */
    int64_t rec_bytes;
} Runner;

/* Output O of sample R->smp, computed by R->g. */
static void take_output(Runner *r, int o, const void *data)
{
    Search *s = r->s;
    const Value *v = r->g->outputs.data[o];
    int64_t m = type_numel(&v->type);
    if (o == 0 && s->labels && top1(v, data) == s->labels[r->smp])
        r->correct++;
    if (r->ref) {
        memcpy(s->ref[r->smp][o], data, (size_t)type_nbytes(&v->type));
        return;
    }
    for (int64_t i = 0; i < m; i++) {
        double f = s->ref[r->smp][o][i], q = real_at(v, data, i);
        r->signal[o] += f * f;
        r->noise[o] += (f - q) * (f - q);
    }
}

/* Sample I as R->g's input: the float sample, or (an integer input,
 * [model] io_dtype) quantized with the input's parameters, as the
 * header's helper does. */
static bool read_input(void *ctx, int64_t i, void *const inputs[])
{
    const Runner *r = ctx;
    const TensorType *t = &((const Value *)r->g->inputs.data[0])->type;
    const float *x = r->s->x[i];
    int64_t n = type_numel(t);
    if (t->dtype == DT_F32) {
        memcpy(inputs[0], x, (size_t)n * sizeof(float));
    } else {
        QParam p = {t->quant->scale[0], t->quant->zero_point[0]};
        const DTypeTraits *d = &dtype_traits[t->dtype];
        for (int64_t k = 0; k < n; k++)
            st_int(inputs[0], t->dtype, k, quantize_real(x[k], p, ROUND_ONNX, d->min, d->max));
    }
    return true;
}

/* The evaluator's observer: the outputs among the tensors, and the next
 * sample after the last node's result. */
static void observe_output(void *ctx, const Value *v, const void *data)
{
    Runner *r = ctx;
    for (int o = 0; o < r->g->outputs.len; o++)
        if (r->g->outputs.data[o] == v)
            take_output(r, o, data);
    if (v == ((const Node *)r->g->nodes.data[r->g->nodes.len - 1])->result)
        r->smp++;
}

/* ---------------------------------------------------------------- reuse */

/* Reuse budget: the base's and the pending trial's tensors together
 * (past it, later nodes are not kept and run again).  M-LSD tiny's int8
 * graph has 22.5 MB of node results per 320x320 sample. */
#define MP_REUSE_BYTES ((int64_t)512 << 20)

static void tensors_free(Tensors *t, int nsamples)
{
    for (int i = 0; t->t && i < nsamples; i++) {
        for (int v = 0; t->t[i] && v < t->g->values.len; v++)
            free(t->t[i][v]);
        free(t->t[i]);
    }
    free(t->t);
    if (t->g)
        graph_free(t->g);
    *t = (Tensors){0};
}

/* Whether V of the trial graph computes what B of the base computes:
 * M maps the trial's values already seen (every operand of V's node) to
 * the base's. */
static bool same_node(const Value *v, const Value *b, const Value *const *m)
{
    const Node *n = v->def, *bn = b ? b->def : NULL;
    if (!bn || n->op != bn->op || n->num_operands != bn->num_operands || n->num_attrs != bn->num_attrs ||
        !type_equal(&v->type, &b->type))
        return false;
    for (int j = 0; j < n->num_operands; j++)
        if (n->operands[j] ? !n->operands[j] || m[n->operands[j]->id] != bn->operands[j] : bn->operands[j] != NULL)
            return false;
    for (int j = 0; j < n->num_attrs; j++)
        if (!attr_equal(&n->attrs[j], &bn->attrs[j]))
            return false;
    return true;
}

/* GIVEN (by value id of the trial graph G) := the base's tensor of sample
 * I for every node of G that computes exactly what a node of the base
 * does: the same op, attributes and result type, reading the same graph
 * input, constants of the same type and bytes, or results of nodes that
 * are themselves the same.  The base's node is found by name (the trials
 * quantize one float graph, so the names agree) and then compared. */
static void reuse_given(const Search *s, const Graph *g, int64_t i, const void **given)
{
    const Graph *bg = s->base.g;
    memset(given, 0, ((size_t)g->values.len + 1) * sizeof *given);
    if (!bg)
        return;
    const Value **m = xcalloc((size_t)g->values.len + 1, sizeof *m);
    for (int k = 0; k < g->inputs.len && k < bg->inputs.len; k++) {
        const Value *v = g->inputs.data[k], *b = bg->inputs.data[k];
        if (type_equal(&v->type, &b->type))
            m[v->id] = b;
    }
    for (int k = 0; k < g->consts.len; k++) {
        const Value *v = g->consts.data[k], *b = graph_find_value(bg, v->name);
        if (b && b->kind == VAL_CONST && type_equal(&v->type, &b->type) &&
            !memcmp(v->data, b->data, (size_t)type_nbytes(&v->type)))
            m[v->id] = b;
    }
    for (int k = 0; k < g->nodes.len; k++) {
        const Value *v = ((const Node *)g->nodes.data[k])->result, *b = graph_find_value(bg, v->name);
        if (b && b->kind == VAL_NODE && same_node(v, b, m)) {
            m[v->id] = b;
            given[v->id] = s->base.t[i][b->id];
        }
    }
    free(m);
}

/* The interpreter's observer while reusing: keeps each tensor the trial
 * computed (within the budget), and counts the work run. */
static void record(void *ctx, const Value *v, const void *data)
{
    Runner *r = ctx;
    Search *s = r->s;
    if (v->kind != VAL_NODE)
        return;
    double w = (double)node_macs(v->def);
    s->work_all += w;
    if (data == r->given[v->id])
        return;
    s->work_run += w;
    int64_t nb = type_nbytes(&v->type);
    if (s->base.bytes + r->rec_bytes + nb > MP_REUSE_BYTES)
        return;
    r->rec[r->smp][v->id] = xmalloc((size_t)nb + 1);
    memcpy(r->rec[r->smp][v->id], data, (size_t)nb);
    r->rec_bytes += nb;
}

/* The trial run last becomes the base: its tensors, and the base's of
 * the nodes it did not run because they were the base's (moved over). */
static void adopt(Search *s)
{
    Tensors *p = &s->pending, *b = &s->base;
    if (!p->g)
        return;
    const void **given = xcalloc((size_t)p->g->values.len + 1, sizeof *given);
    for (int i = 0; i < s->nsamples; i++) {
        reuse_given(s, p->g, i, given);
        for (int v = 0; v < p->g->values.len; v++) {
            if (!given[v] || p->t[i][v])
                continue;
            /* Moved: the base's pointer, held once. */
            const Value *bv = graph_find_value(b->g, ((const Value *)p->g->values.data[v])->name);
            p->t[i][v] = b->t[i][bv->id];
            b->t[i][bv->id] = NULL;
            int64_t nb = type_nbytes(&bv->type);
            b->bytes -= nb;
            p->bytes += nb;
        }
    }
    free(given);
    tensors_free(b, s->nsamples);
    *b = *p;
    *p = (Tensors){0};
}

static void drop_pending(Search *s) { tensors_free(&s->pending, s->nsamples); }

/* engine = "auto" compiles a graph when one sweep over the samples costs
 * at least this many MACs (graph_work times samples).  Every trial graph
 * is compiled for one sweep only, and the interpreter reuses the kept
 * tensors of an earlier trial: M-LSD tiny's search at 2 images (3.3 G a
 * sweep) took 0.35 s of CPU a sensitivity trial in the interpreter, 1.8 s
 * in the JIT (mostly the compile); M-LSD large's at 2 images (51 G) 4.3 s
 * in the JIT, about 5-6 s in the interpreter by the same rate
 * (docs/benchmarks.md, "Mixed precision: the search's evaluations"). */
#define MP_JIT_MIN_WORK 2e10

/* Runs R->g over every sample: compiled (pass_engine, the rule calibrate
 * uses) or in the interpreter; the same outputs bit for bit either way. */
static bool run_samples(Runner *r)
{
    Search *s = r->s;
    const Graph *g = r->g;
    const Evaluator *ev = pass_engine(g, s->ctx, s->nsamples, MP_JIT_MIN_WORK);
    void *h = ev ? ev->open(g) : NULL;
    r->smp = 0;
    if (!h && s->reuse && !r->ref) {
        r->given = xcalloc((size_t)g->values.len + 1, sizeof *r->given);
        r->rec = xcalloc((size_t)s->nsamples + 1, sizeof *r->rec);
    }
    if (h) {
        bool ok = ev->run(h, s->nsamples, read_input, r, observe_output, r) && r->smp == s->nsamples;
        ev->close(h);
        return ok;
    }
    const Value *in = g->inputs.data[0];
    void *x = xmalloc((size_t)type_nbytes(&in->type) + 1);
    void **out = xcalloc((size_t)g->outputs.len + 1, sizeof *out);
    for (int o = 0; o < g->outputs.len; o++)
        out[o] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[o])->type) + 1);
    bool ok = true;
    for (; ok && r->smp < s->nsamples; r->smp++) {
        void *const ins[1] = {x};
        const void *cins[1] = {x};
        if (r->rec) {
            reuse_given(s, g, r->smp, r->given);
            r->rec[r->smp] = xcalloc((size_t)g->values.len + 1, sizeof **r->rec);
        }
        ok = read_input(r, r->smp, ins) &&
             (r->rec ? interp_run_given(g, cins, out, r->given, record, r) : interp_run(g, cins, out)) == 0;
        for (int o = 0; ok && o < g->outputs.len; o++)
            take_output(r, o, out[o]);
    }
    for (int o = 0; o < g->outputs.len; o++)
        free(out[o]);
    free(out);
    free(x);
    free(r->given);
    return ok;
}

/* A copy of CFG whose override list (a new array, the caller frees it)
 * holds CFG's overrides and room for EXTRA more. */
static QnncConfig config_with_room(const QnncConfig *cfg, int extra)
{
    QnncConfig c2 = *cfg;
    int n = cfg->quant.num_overrides;
    c2.quant.overrides = xmalloc(((size_t)n + (size_t)extra + 1) * sizeof *c2.quant.overrides);
    if (n > 0) /* cfg's list may be NULL when empty: memcpy's source must not be */
        memcpy(c2.quant.overrides, cfg->quant.overrides, (size_t)n * sizeof *cfg->quant.overrides);
    return c2;
}

/* Quantizes the float graph with the configured overrides plus one for
 * each candidate whose LVL is not its base_dt, as the pipeline would (quantize,
 * fuse-requantize, check-accumulators), runs it over the samples when RUN
 * and writes what it measured into M (each output's SQNR against the
 * float graph, the samples classified right).  False
 * when the quantized graph cannot be built (an int16 accumulator that may
 * overflow, say) or run: the set is then unusable. */
static bool trial(Search *s, const DType *lvl, Measure *m, bool run)
{
    const QnncConfig *cfg = s->ctx->cfg;
    QnncConfig c2 = config_with_room(cfg, s->ncand);
    for (int k = 0; k < s->ncand; k++)
        if (lvl[k] != s->base_dt[k])
            c2.quant.overrides[c2.quant.num_overrides++] =
                (QuantOverride){(char *)s->cand[k]->result->name, lvl[k], s->loc};
    PassContext ctx2 = *s->ctx;
    ctx2.cfg = &c2;
    ctx2.mixed = NULL;
    s->evaluations += run;
    drop_pending(s);

    Graph *qg = clone_graph(s->fg);
    /* A trial's warnings (a narrow bias, say) would repeat once per trial;
     * the final quantization reports them once. */
    DiagCapture cap = diag_capture_push();
    bool ok = quantize(qg, &ctx2) && fuse_requantize(qg, &ctx2) && check_accumulators(qg, &ctx2) &&
              qg->outputs.len == s->nout && qg->inputs.len == 1;
    bool built = ok;
    ok = ok && run;
    double *signal = xcalloc((size_t)s->nout + 1, sizeof *signal);
    double *noise = xcalloc((size_t)s->nout + 1, sizeof *noise);
    Tensors kept = {qg, NULL, 0};
    int correct = -1;
    if (ok) {
        Runner r = {.s = s, .g = qg, .signal = signal, .noise = noise};
        ok = run_samples(&r);
        kept.t = r.rec;
        kept.bytes = r.rec_bytes;
        correct = ok ? r.correct : -1;
    }
    diag_capture_pop(cap);
    for (int o = 0; m && o < s->nout; o++)
        m->db[o] = ok ? db_of(signal[o], noise[o]) : -INFINITY;
    if (m)
        m->correct = correct;
    if (!run) {
        ok = built;
    } else if (ok) {
        s->best_db = fmax(s->best_db, worst_of(m->db, s->nout));
        s->best_correct = correct > s->best_correct ? correct : s->best_correct;
    }
    free(signal);
    free(noise);
    /* The tensors of a graph run to the end wait for adopt(). */
    if (ok && kept.t)
        s->pending = kept;
    else
        tensors_free(&kept, s->nsamples);
    free(c2.quant.overrides);
    return ok;
}

static bool evaluate(Search *s, const DType *lvl, Measure *mo)
{
    double *db = mo->db;
    drop_pending(s);
    for (int m = 0; m < s->nmemo; m++)
        if (!memcmp(s->memo_lvl[m], lvl, (size_t)s->ncand * sizeof *lvl)) {
            memcpy(db, s->memo_db[m], (size_t)s->nout * sizeof *db);
            mo->correct = s->memo_correct[m];
            s->reused++;
            return s->memo_ok[m];
        }
    bool ok = trial(s, lvl, mo, true);
    if (s->nmemo == s->capmemo) {
        s->capmemo = s->capmemo ? 2 * s->capmemo : 64;
        s->memo_lvl = xrealloc(s->memo_lvl, (size_t)s->capmemo * sizeof *s->memo_lvl);
        s->memo_db = xrealloc(s->memo_db, (size_t)s->capmemo * sizeof *s->memo_db);
        s->memo_correct = xrealloc(s->memo_correct, (size_t)s->capmemo * sizeof *s->memo_correct);
        s->memo_ok = xrealloc(s->memo_ok, (size_t)s->capmemo * sizeof *s->memo_ok);
    }
    s->memo_lvl[s->nmemo] = xmalloc(((size_t)s->ncand + 1) * sizeof *lvl);
    memcpy(s->memo_lvl[s->nmemo], lvl, (size_t)s->ncand * sizeof *lvl);
    s->memo_db[s->nmemo] = xmalloc(((size_t)s->nout + 1) * sizeof *db);
    memcpy(s->memo_db[s->nmemo], db, (size_t)s->nout * sizeof *db);
    s->memo_correct[s->nmemo] = mo->correct;
    s->memo_ok[s->nmemo++] = ok;
    return ok;
}

static void free_memo(Search *s)
{
    drop_pending(s);
    for (int m = 0; m < s->nmemo; m++) {
        free(s->memo_lvl[m]);
        free(s->memo_db[m]);
    }
    free(s->memo_lvl);
    free(s->memo_db);
    free(s->memo_correct);
    free(s->memo_ok);
}

/* ---------------------------------------------------------------- candidates */

static bool all_boundaries_integer(const Graph *g, const QnncConfig *cfg)
{
    for (int i = 0; i < g->inputs.len; i++)
        if (config_io_dtype(cfg, ((const Value *)g->inputs.data[i])->name) == DT_F32)
            return false;
    for (int i = 0; i < g->outputs.len; i++)
        if (config_io_dtype(cfg, ((const Value *)g->outputs.data[i])->name) == DT_F32)
            return false;
    return true;
}

/* What raising N means: DT_I16 where quantize has an int16 form of the op,
 * DT_F32 where it has none (the nonlinear functions and softmax, which
 * int16 keeps in float anyway; a matmul of two activations), DT_I8 when N
 * is no candidate: it chooses no params of its own (layout ops follow
 * their input), is not quantized compute, or is not float. */
static DType raise_dtype(const Node *n)
{
    if (n->result->type.dtype != DT_F32)
        return DT_I8;
    unsigned fl = op_info[n->op].flags;
    switch (n->op) {
    case OP_CONV2D:
    case OP_DENSE:
        return n->operands[1]->kind == VAL_CONST ? DT_I16 : DT_I8;
    case OP_MATMUL:
        return n->operands[1]->kind == VAL_CONST ? DT_I16 : DT_F32;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_MAX: case OP_MIN: case OP_PRELU:
    case OP_CONCAT: case OP_AVG_POOL: case OP_GLOBAL_AVG_POOL: case OP_REDUCE_MEAN:
    case OP_REDUCE_SUM: case OP_LAYER_NORM:
        return DT_I16;
    case OP_SOFTMAX:
        return DT_F32;
    default:
        return (fl & OPF_NONLINEAR) ? DT_F32 : DT_I8;
    }
}

static int64_t node_macs(const Node *n)
{
    int64_t out = type_numel(&n->result->type);
    if (!(op_info[n->op].flags & OPF_ACCUM))
        return out;
    const TensorType *w = &n->operands[1]->type;
    int64_t k;
    if (n->op == OP_MATMUL)
        k = w->rank >= 2 ? w->dims[w->rank - 2] : w->dims[0];
    else
        k = type_numel(w) / (w->dims[0] ? w->dims[0] : 1);
    return out * k;
}

/* The bytes N at DT takes beyond N at int8 (0 for DT_I8): raising N from
 * its base precision to DT costs this at DT minus this at the base. */
static int64_t node_extra_bytes(const Node *n, DType dt)
{
    int64_t out = type_numel(&n->result->type);
    if (dt == DT_I8)
        return 0;
    if (dt == DT_I16)
        return out; /* two bytes an element instead of one */
    int64_t b = 3 * out;
    if ((op_info[n->op].flags & OPF_ACCUM) && n->operands[1]->kind == VAL_CONST)
        b += 3 * type_numel(&n->operands[1]->type); /* f32 weights instead of int8 */
    return b;
}

/* Adds to GROUP (by candidate index) candidate K and the candidates that
 * read its result, through layout ops that keep their input's type. */
static void add_readers(const Graph *g, const int *cand_of, const Value *v, bool *group)
{
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        bool reads = false;
        for (int k = 0; k < n->num_operands && !reads; k++)
            reads = n->operands[k] == v;
        if (!reads)
            continue;
        if (cand_of[n->id] >= 0)
            group[cand_of[n->id]] = true;
        else if (op_info[n->op].flags & OPF_SAME_QUANT)
            add_readers(g, cand_of, n->result, group);
    }
}

/* ---------------------------------------------------------------- the pass */

typedef struct Order {
    int k;
    double key, key2;
} Order;

static int by_key_desc(const void *a, const void *b)
{
    const Order *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? 1 : -1;
    if (x->key2 != y->key2)
        return x->key2 < y->key2 ? -1 : 1;
    return x->k - y->k;
}

/* max_accuracy_drop: the first graph output must be a classifier's
 * scores, f32 [1, N] (or [N]) with N >= 2 classes, and each label used
 * one of them; S->labels := those labels. */
static bool check_classifier(Search *s, const Samples *ds)
{
    const QnncConfig *cfg = s->ctx->cfg;
    const Value *y = s->fg->outputs.data[0];
    const TensorType *t = &y->type;
    int64_t classes = t->rank == 2 && t->dims[0] == 1 ? t->dims[1] : t->rank == 1 ? t->dims[0] : 0;
    if (t->dtype != DT_F32 || classes < 2) {
        char shape[96];
        size_t len = (size_t)snprintf(shape, sizeof shape, "%s[", dtype_traits[t->dtype].name);
        for (int d = 0; d < t->rank && len < sizeof shape; d++)
            len += (size_t)snprintf(shape + len, sizeof shape - len, "%s%lld", d ? "," : "", (long long)t->dims[d]);
        if (len < sizeof shape)
            snprintf(shape + len, sizeof shape - len, "]");
        diag_error(config_key_loc(cfg, "quantization.max_accuracy_drop"),
                   "mixed-precision: max_accuracy_drop needs a classifier: the model's first output '%s' is "
                   "%s, not f32[1,N] scores of N >= 2 classes", y->name, shape);
        return false;
    }
    if (!ds->labels) /* the driver reads them when [validation] labels is set; the config needs it */
        qnn_die("max_accuracy_drop without labels");
    s->labels = xmalloc(((size_t)s->nsamples + 1) * sizeof *s->labels);
    for (int i = 0; i < s->nsamples; i++) {
        if (ds->labels[i] >= classes) {
            diag_error(config_key_loc(cfg, "validation.labels"),
                       "'labels': sample %d is labelled %d, but output '%s' has %lld classes (0 to %lld)", i,
                       (int)ds->labels[i], y->name, (long long)classes, (long long)classes - 1);
            return false;
        }
        s->labels[i] = ds->labels[i];
    }
    return true;
}

/* Step 3's trial of the first P groups of ORDER: SET := LVL with those
 * groups raised (to float in phase PH 1), measured into M and kept as the
 * base (the next trial is near it); whether it meets the criterion. */
static bool raise_prefix(Search *s, bool *const *group, const Order *order, int p, int ph, const DType *lvl,
                           DType *set, Measure *m)
{
    memcpy(set, lvl, (size_t)s->ncand * sizeof *set);
    for (int j = 0; j < p; j++)
        for (int k = 0; k < s->ncand; k++)
            if (group[order[j].k][k])
                set[k] = ph ? DT_F32 : s->raise_dt[k];
    bool met = evaluate(s, set, m) && criterion_met(s, m);
    adopt(s);
    return met;
}

static bool load_samples(Search *s)
{
    const Graph *g = s->fg;
    if (g->inputs.len != 1) {
        diag_error(g->loc, "mixed-precision: %s needs a model with one input, not %d", s->key, g->inputs.len);
        return false;
    }
    const Value *in = g->inputs.data[0];
    if (in->type.dtype != DT_F32) {
        diag_error(g->loc, "mixed-precision: %s needs a float model input, not %s", s->key,
                   dtype_traits[in->type.dtype].name);
        return false;
    }
    Samples ds;
    if (!samples_open(s->ctx, SAMPLES_VALIDATION, in, &ds))
        return false;
    s->nsamples = (int)ds.count;
    s->nout = g->outputs.len;
    if (s->max_drop >= 0 && !check_classifier(s, &ds)) {
        samples_close(&ds);
        s->nsamples = 0; /* nothing for free_samples but the labels */
        return false;
    }
    s->x = xcalloc((size_t)s->nsamples, sizeof *s->x);
    s->ref = xcalloc((size_t)s->nsamples, sizeof *s->ref);
    bool ok = true;
    for (int i = 0; i < s->nsamples && ok; i++) {
        s->x[i] = xmalloc((size_t)type_nbytes(&in->type));
        s->ref[i] = xcalloc((size_t)s->nout + 1, sizeof **s->ref);
        for (int o = 0; o < s->nout; o++)
            s->ref[i][o] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[o])->type));
        ok = samples_read(&ds, i, s->x[i]);
    }
    samples_close(&ds);
    if (ok) {
        Runner r = {.s = s, .g = g, .ref = true};
        ok = run_samples(&r);
        s->ref_correct = r.correct;
    }
    for (int o = 0; o < s->nout && ok; o++)
        if (((const Value *)g->outputs.data[o])->type.dtype != DT_F32) {
            diag_error(g->loc, "mixed-precision: output '%s' is not float in the model",
                       ((const Value *)g->outputs.data[o])->name);
            ok = false;
        }
    return ok;
}

static void free_samples(Search *s)
{
    for (int i = 0; i < s->nsamples; i++) {
        free(s->x[i]);
        for (int o = 0; s->ref[i] && o < s->nout; o++)
            free(s->ref[i][o]);
        free(s->ref[i]);
    }
    free(s->x);
    free(s->ref);
    free(s->labels);
}

static const char *join_raised(const Search *s, const DType *lvl, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < s->ncand; k++)
        if (lvl[k] != s->base_dt[k] && len + 2 < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s%s", len ? ", " : "", s->cand[k]->result->name,
                                    lvl[k] == DT_F32 ? " f32" : "");
    if (len >= cap - 1)
        strcpy(buf + cap - 5, "...");
    return buf;
}

bool mixed_precision(Graph *g, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    double target = cfg->quant.target_sqnr, max_drop = cfg->quant.max_accuracy_drop;
    if (!(target > 0) && !(max_drop >= 0))
        return quantize(g, ctx);
    const char *key = target > 0 ? "target_sqnr" : "max_accuracy_drop";
    SrcLoc loc = config_key_loc(cfg, target > 0 ? "quantization.target_sqnr" : "quantization.max_accuracy_drop");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    Search s = {.fg = g, .ctx = ctx, .target = target > 0 ? target : 0, .max_drop = max_drop >= 0 ? max_drop : -1,
                .key = key, .loc = loc, .best_db = -INFINITY, .best_correct = -1, .reuse = true};
    bool ok = load_samples(&s);
    /* Candidates: float nodes quantize gives params of their own or an
     * int16 (or float) form, not named by a configured override (those
     * win), and never float ones when every boundary is integer.  A conv
     * or dense quantize makes int16x8 by itself (outlier-dominated) is a
     * float-only candidate whose unraised state is that int16x8. */
    bool int_only = all_boundaries_integer(g, cfg);
    /* Whether quantize makes some layer int16x8 by itself: then nothing
     * raised is not all int8, and the messages say so. */
    bool own_i16 = false;
    int *cand_of = xmalloc(((size_t)g->nodes.len + 1) * sizeof *cand_of);
    s.cand = xcalloc((size_t)g->nodes.len + 1, sizeof *s.cand);
    s.raise_dt = xcalloc((size_t)g->nodes.len + 1, sizeof *s.raise_dt);
    s.base_dt = xcalloc((size_t)g->nodes.len + 1, sizeof *s.base_dt);
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        cand_of[n->id] = -1;
        DType dt = raise_dtype(n);
        bool overridden = false;
        for (int k = 0; k < cfg->quant.num_overrides && !overridden; k++)
            overridden = !strcmp(cfg->quant.overrides[k].node, n->result->name);
        DType base = DT_I8;
        if (!overridden && dt != DT_I8 && quantize_outlier_output(g, n, cfg)) {
            base = DT_I16;
            dt = DT_F32;
            own_i16 = true;
        }
        if (dt == DT_I8 || overridden || (dt == DT_F32 && int_only))
            continue;
        cand_of[n->id] = s.ncand;
        s.raise_dt[s.ncand] = dt;
        s.base_dt[s.ncand] = base;
        s.cand[s.ncand++] = n;
    }
    int nc = s.ncand, no = s.nout;
    /* An int16 layer whose int32 accumulator may overflow on full-range i16
     * inputs (check-accumulators) cannot be int16x8: it is raised to float
     * instead, or, with integer boundaries, not at all. */
    DType *one = xcalloc((size_t)nc + 1, sizeof *one);
    for (int k = 0; ok && k < nc; k++) {
        if (s.raise_dt[k] != DT_I16)
            continue;
        for (int j = 0; j < nc; j++)
            one[j] = j == k ? DT_I16 : s.base_dt[j];
        if (!trial(&s, one, NULL, false))
            s.raise_dt[k] = int_only ? DT_I8 : DT_F32;
    }
    free(one);
    DType *lvl = xcalloc((size_t)nc + 1, sizeof *lvl), *tmp = xcalloc((size_t)nc + 1, sizeof *tmp);
    const DType *base = s.base_dt;
    for (int k = 0; k < nc; k++)
        lvl[k] = base[k];
    bool **group = xcalloc((size_t)nc + 1, sizeof *group);
    double *db = xcalloc((size_t)no + 1, sizeof *db), *before = xcalloc((size_t)no + 1, sizeof *before);
    Measure m = {db, -1}, mb = {before, -1};
    /* Each group's sensitivity, int16x8 [0] and float [1]: the worst
     * output's SQNR, and the top-1 accuracy (%) with labels. */
    double *sens[2] = {xcalloc((size_t)nc + 1, sizeof(double)), xcalloc((size_t)nc + 1, sizeof(double))};
    double *sacc[2] = {xcalloc((size_t)nc + 1, sizeof(double)), xcalloc((size_t)nc + 1, sizeof(double))};
    for (int k = 0; k < nc; k++)
        sens[0][k] = sens[1][k] = sacc[0][k] = sacc[1][k] = NAN;
    bool met = false;
    char names[512];

    if (ok && !evaluate(&s, lvl, &mb)) {
        diag_error(loc, "mixed-precision: the int8 model cannot be evaluated on the validation samples");
        ok = false;
    }
    adopt(&s); /* the sensitivities differ from it from their group on */
    met = ok && criterion_met(&s, &mb);
    for (int k = 0; k < nc; k++) {
        group[k] = xcalloc((size_t)nc + 1, sizeof **group);
        group[k][k] = true;
        add_readers(g, cand_of, s.cand[k]->result, group[k]);
    }
    Order *order = xcalloc((size_t)nc + 1, sizeof *order);
    /* Phase 0 raises to int16x8 (float where int16 has no form); only when
     * that cannot reach the target, and some boundary is float, phase 1
     * raises to float. */
    int phases = int_only ? 1 : 2;
    for (int ph = 0; ok && ph < phases && !met; ph++) {
        /* Every candidate at this phase's precision first: when even that
         * misses the criterion, so does every prefix of step 3, which would
         * end in this very set; the next phase starts from it, and this
         * phase's sensitivities are not needed. */
        for (int k = 0; k < nc; k++)
            tmp[k] = ph ? DT_F32 : s.raise_dt[k];
        if (!(evaluate(&s, tmp, &m) && criterion_met(&s, &m))) {
            memcpy(lvl, tmp, (size_t)nc * sizeof *lvl);
            continue;
        }
        /* 2. Sensitivity: each candidate raised with its readers. */
        for (int k = 0; k < nc; k++) {
            for (int j = 0; j < nc; j++)
                tmp[j] = group[k][j] ? (ph ? DT_F32 : s.raise_dt[j]) : base[j];
            bool ran = evaluate(&s, tmp, &m);
            sens[ph][k] = ran ? worst_of(db, no) : -INFINITY;
            sacc[ph][k] = ran && s.labels ? 100.0 * m.correct / s.nsamples : NAN;
            order[k].k = k;
            criterion_rank(&s, &m, &order[k].key, &order[k].key2);
        }
        qsort(order, (size_t)nc, sizeof *order, by_key_desc);
        /* 3. Raise the groups most helpful first: the shortest prefix of
         * that order found to meet the criterion, by galloping (1, 2, 4, ...
         * groups) and bisection between the last prefix that missed and
         * the first that met it; the whole order meets it (above). */
        int lo = 0, hi = nc;
        for (int p = 1; p < nc; p *= 2) {
            if (raise_prefix(&s, group, order, p, ph, lvl, tmp, &m)) {
                hi = p;
                break;
            }
            lo = p;
        }
        while (hi - lo > 1) {
            int mid = lo + (hi - lo) / 2;
            if (raise_prefix(&s, group, order, mid, ph, lvl, tmp, &m))
                hi = mid;
            else
                lo = mid;
        }
        met = raise_prefix(&s, group, order, hi, ph, lvl, tmp, &m);
        memcpy(lvl, tmp, (size_t)nc * sizeof *lvl);
    }
    char crit[128], best[256];
    const char *unraised = own_i16 ? "none raised" : "all int8";
    if (ok && !met) {
        size_t len = 0;
        if (s.target > 0)
            len += (size_t)snprintf(best, sizeof best, "the best worst-output SQNR found is %.2f dB (%s: %.2f dB)",
                                    s.best_db, unraised, worst_of(before, no));
        if (s.labels)
            snprintf(best + len, sizeof best - len,
                     "%sthe best top-1 accuracy found is %.2f%% (float: %.2f%%, %s: %.2f%%)", len ? "; " : "",
                     accuracy(&s, s.best_correct), accuracy(&s, s.ref_correct), unraised, accuracy(&s, mb.correct));
        diag_error(loc, "mixed-precision: %s %s not reachable: %s, with every one of the %d candidate layers "
                   "tried at int16x8%s",
                   criterion_text(&s, crit, sizeof crit), s.target > 0 && s.labels ? "are" : "is", best, nc,
                   phases > 1 ? " and float" : "");
        ok = false;
    }
    /* 4. Lower back what the criterion does not need, the costliest first:
     * to its unraised state (int8, or the int16x8 quantize gives an
     * outlier-dominated layer), or from float to int16x8; then each raised
     * layer has been tried unraised against the final set. */
    int nr = 0;
    for (int k = 0; k < nc; k++)
        if (lvl[k] != base[k])
            order[nr++] = (Order){k, (double)node_macs(s.cand[k]), isnan(sens[0][k]) ? sens[1][k] : sens[0][k]};
    qsort(order, (size_t)nr, sizeof *order, by_key_desc);
    /* Cyclically, until every layer still raised has been tried since
     * the last lowering: a try that failed before it is tried again, one
     * that failed after it failed against the final set. */
    int raised = nr, fails = 0;
    for (int j = 0; ok && fails < raised; j = (j + 1) % nr) {
        int k = order[j].k;
        DType was = lvl[k];
        if (was == base[k])
            continue;
        DType tries[2] = {base[k], s.raise_dt[k]};
        for (int t = 0; t < 2 && lvl[k] == was; t++) {
            if (tries[t] == was || (t == 1 && was != DT_F32))
                continue;
            lvl[k] = tries[t];
            if (evaluate(&s, lvl, &m) && criterion_met(&s, &m))
                adopt(&s); /* the next tries differ from this set */
            else
                lvl[k] = was;
        }
        if (lvl[k] == was) {
            fails++;
        } else {
            fails = 0;
            raised -= lvl[k] == base[k];
        }
    }
    free(order);
    /* The chosen set's SQNR and accuracy, measured once more on exactly
     * that set. */
    double *after = xcalloc((size_t)no + 1, sizeof *after);
    Measure ma = {after, -1};
    if (ok)
        ok = evaluate(&s, lvl, &ma);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    int nraised = 0;
    int64_t extra_macs = 0, extra_bytes = 0;
    for (int k = 0; k < nc; k++)
        if (lvl[k] != base[k]) {
            nraised++;
            extra_macs += node_macs(s.cand[k]);
            extra_bytes += node_extra_bytes(s.cand[k], lvl[k]) - node_extra_bytes(s.cand[k], base[k]);
        }
    if (ctx->mixed && s.nsamples > 0) {
        MixedReport *r = ctx->mixed;
        mixed_report_free(r);
        r->ran = true;
        r->target_db = s.target;
        r->max_drop = s.max_drop;
        r->samples = s.nsamples;
        r->evaluations = s.evaluations;
        r->seconds = secs;
        r->num_outputs = no;
        r->output_names = xcalloc((size_t)no + 1, sizeof *r->output_names);
        r->before_db = xcalloc((size_t)no + 1, sizeof *r->before_db);
        r->after_db = xcalloc((size_t)no + 1, sizeof *r->after_db);
        for (int o = 0; o < no; o++) {
            r->output_names[o] = xstrdup(((const Value *)g->outputs.data[o])->name);
            r->before_db[o] = before[o];
            r->after_db[o] = ok ? after[o] : NAN;
        }
        r->acc_float = s.labels ? accuracy(&s, s.ref_correct) : NAN;
        r->acc_before = s.labels ? accuracy(&s, mb.correct) : NAN;
        r->acc_after = s.labels && ok ? accuracy(&s, ma.correct) : NAN;
        r->num_layers = nc;
        r->layers = xcalloc((size_t)nc + 1, sizeof *r->layers);
        for (int k = 0; k < nc; k++)
            r->layers[k] = (MixedLayer){xstrdup(s.cand[k]->result->name), s.cand[k]->op, sens[0][k], sens[1][k],
                                        sacc[0][k], sacc[1][k], lvl[k], base[k], node_macs(s.cand[k]),
                                        node_extra_bytes(s.cand[k], lvl[k]) - node_extra_bytes(s.cand[k], base[k])};
        r->extra_macs = extra_macs;
        r->extra_bytes = extra_bytes;
    }
    char reused[96] = "";
    if (s.work_all > 0)
        snprintf(reused, sizeof reused, " (the interpreter ran %.0f%% of the trials' MACs, reusing the rest)",
                 100.0 * s.work_run / s.work_all);
    if (ok) {
        size_t len = 0;
        best[0] = '\0';
        if (s.target > 0)
            len += (size_t)snprintf(best, sizeof best, "worst output %.2f dB (%s: %.2f dB)",
                                    worst_of(after, no), unraised, worst_of(before, no));
        if (s.labels)
            snprintf(best + len, sizeof best - len, "%stop-1 accuracy %.2f%% (float: %.2f%%, %s: %.2f%%)",
                     len ? ", " : "", accuracy(&s, ma.correct), accuracy(&s, s.ref_correct), unraised,
                     accuracy(&s, mb.correct));
        diag_report(DIAG_NOTE, loc,
                    "mixed-precision: %d of %d candidate layers raised (%s) for %s: %s, %lld extra MACs, %lld "
                    "extra bytes; %d evaluations on %d samples, %.2f s%s",
                    nraised, nc, nraised ? join_raised(&s, lvl, names, sizeof names) : "none",
                    criterion_text(&s, crit, sizeof crit), best, (long long)extra_macs, (long long)extra_bytes,
                    s.evaluations, s.nsamples, secs, reused);
    }

    /* The final quantization, with the chosen overrides: through
     * evaluate's own construction, so the result is the graph measured. */
    if (ok) {
        QnncConfig c2 = config_with_room(cfg, nc);
        for (int k = 0; k < nc; k++)
            if (lvl[k] != base[k])
                c2.quant.overrides[c2.quant.num_overrides++] =
                    (QuantOverride){xstrdup(s.cand[k]->result->name), lvl[k], loc};
        PassContext ctx2 = *ctx;
        ctx2.cfg = &c2;
        ok = quantize(g, &ctx2);
        for (int k = cfg->quant.num_overrides; k < c2.quant.num_overrides; k++)
            free(c2.quant.overrides[k].node);
        free(c2.quant.overrides);
    }

    for (int k = 0; k < nc; k++)
        free(group[k]);
    free(group);
    free(sens[0]);
    free(sens[1]);
    free(sacc[0]);
    free(sacc[1]);
    free(lvl);
    free(tmp);
    free(db);
    free(before);
    free(after);
    free(cand_of);
    free(s.cand);
    free(s.raise_dt);
    free(s.base_dt);
    free_memo(&s);
    drop_pending(&s);
    tensors_free(&s.base, s.nsamples);
    free_samples(&s);
    return ok;
}

/* ---------------------------------------------------------------- report */

void mixed_report_free(MixedReport *m)
{
    for (int o = 0; o < m->num_outputs; o++)
        free(m->output_names[o]);
    free(m->output_names);
    free(m->before_db);
    free(m->after_db);
    for (int k = 0; k < m->num_layers; k++)
        free(m->layers[k].name);
    free(m->layers);
    memset(m, 0, sizeof *m);
}

static const char *precision_name(DType dt)
{
    return dt == DT_I16 ? "int16x8" : dt == DT_F32 ? "f32" : "int8";
}

static void json_db(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.4f", v);
    else
        fputs("null", f);
}

void mixed_report_json(FILE *f, const MixedReport *m)
{
    if (!m || !m->ran)
        return;
    fputs("  \"mixed_precision\": {\"target_sqnr_db\": ", f);
    json_db(f, m->target_db > 0 ? m->target_db : NAN);
    fprintf(f, ", \"samples\": %d, \"evaluations\": %d, \"seconds\": %.3f,\n", m->samples, m->evaluations,
            m->seconds);
    /* The criterion: the keys set, and the top-1 accuracy (%) of the first
     * output with labels: float, all int8, chosen. */
    fprintf(f, "    \"criterion\": [%s%s%s], \"max_accuracy_drop\": ", m->target_db > 0 ? "\"target_sqnr\"" : "",
            m->target_db > 0 && m->max_drop >= 0 ? ", " : "", m->max_drop >= 0 ? "\"max_accuracy_drop\"" : "");
    json_db(f, m->max_drop >= 0 ? m->max_drop : NAN);
    fputs(", \"accuracy\": ", f);
    if (isnan(m->acc_float)) {
        fputs("null", f);
    } else {
        fprintf(f, "{\"output\": \"%s\", \"float\": ", m->output_names[0]);
        json_db(f, m->acc_float);
        fputs(", \"int8\": ", f);
        json_db(f, m->acc_before);
        fputs(", \"chosen\": ", f);
        json_db(f, m->acc_after);
        fputc('}', f);
    }
    fputs(",\n    \"outputs\": [", f);
    for (int o = 0; o < m->num_outputs; o++) {
        fprintf(f, "%s{\"name\": \"%s\", \"int8_sqnr_db\": ", o ? ", " : "", m->output_names[o]);
        json_db(f, m->before_db[o]);
        fputs(", \"sqnr_db\": ", f);
        json_db(f, m->after_db[o]);
        fputc('}', f);
    }
    fprintf(f, "],\n    \"extra_macs\": %lld, \"extra_bytes\": %lld,\n    \"layers\": [", (long long)m->extra_macs,
            (long long)m->extra_bytes);
    for (int k = 0; k < m->num_layers; k++) {
        const MixedLayer *l = &m->layers[k];
        fprintf(f, "%s\n      {\"name\": \"%s\", \"op\": \"%s\", \"sensitivity_sqnr_db\": ", k ? "," : "", l->name,
                op_info[l->op].name);
        json_db(f, l->sqnr_db);
        if (!isnan(l->sqnr_f32_db)) {
            fputs(", \"sensitivity_f32_sqnr_db\": ", f);
            json_db(f, l->sqnr_f32_db);
        }
        if (!isnan(l->acc)) {
            fputs(", \"sensitivity_accuracy\": ", f);
            json_db(f, l->acc);
        }
        if (!isnan(l->acc_f32)) {
            fputs(", \"sensitivity_f32_accuracy\": ", f);
            json_db(f, l->acc_f32);
        }
        fprintf(f, ", \"precision\": \"%s\"", precision_name(l->chosen));
        if (l->base != DT_I8) /* what it is not raised, when not int8 */
            fprintf(f, ", \"unraised\": \"%s\"", precision_name(l->base));
        fprintf(f, ", \"macs\": %lld, \"extra_bytes\": %lld}", (long long)l->macs, (long long)l->extra_bytes);
    }
    fputs("\n    ]},\n", f);
}

void mixed_report_text(FILE *f, const MixedReport *m)
{
    if (!m || !m->ran)
        return;
    fputs("\nmixed precision: ", f);
    if (m->target_db > 0)
        fprintf(f, "target %.2f dB%s", m->target_db, m->max_drop >= 0 ? ", " : "");
    if (m->max_drop >= 0)
        fprintf(f, "top-1 accuracy drop at most %.2f points", m->max_drop);
    fprintf(f, " over %d validation samples, %d evaluations, %.2f s\n", m->samples, m->evaluations, m->seconds);
    /* Nothing raised is all int8 unless quantize makes a layer int16x8 by
     * itself. */
    const char *before = "int8";
    for (int k = 0; k < m->num_layers; k++)
        if (m->layers[k].base != DT_I8)
            before = "unraised";
    for (int o = 0; o < m->num_outputs; o++)
        fprintf(f, "  output %-24s %s %8.2f dB  chosen %8.2f dB\n", m->output_names[o], before, m->before_db[o],
                m->after_db[o]);
    bool acc = !isnan(m->acc_float);
    if (acc)
        fprintf(f, "  top-1 accuracy of %s: float %.2f%%, int8 %.2f%%, chosen %.2f%%\n", m->output_names[0],
                m->acc_float, m->acc_before, m->acc_after);
    fprintf(f, "  extra MACs %lld, extra bytes %lld\n", (long long)m->extra_macs, (long long)m->extra_bytes);
    fprintf(f, "  %-24s %-16s %12s%s %-8s %12s %12s\n", "layer", "op", "raised dB", acc ? "  raised acc%" : "",
            "chosen", "MACs", "extra bytes");
    for (int k = 0; k < m->num_layers; k++) {
        const MixedLayer *l = &m->layers[k];
        char a[16] = "";
        if (acc)
            snprintf(a, sizeof a, " %12.2f", l->acc);
        fprintf(f, "  %-24s %-16s %12.2f%s %-8s %12lld %12lld\n", l->name, op_info[l->op].name, l->sqnr_db, a,
                precision_name(l->chosen), (long long)l->macs, (long long)l->extra_bytes);
    }
    /* The layers whose unraised state is not int8 (the JSON's "unraised"). */
    const char *sep = "  unraised at int16x8 (quantize's own, outlier-dominated; their cost counts from it): ";
    for (int k = 0; k < m->num_layers; k++)
        if (m->layers[k].base != DT_I8) {
            fprintf(f, "%s%s", sep, m->layers[k].name);
            sep = ", ";
        }
    if (sep[0] == ',')
        fputc('\n', f);
}
