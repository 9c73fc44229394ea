/* report.c - the quantization report (qnnc --report=FILE).
 *
 * requires:   the graph quantize received (FLOAT_G, parsed back from the
 *             driver's snapshot; NULL when quantize did not run) and the
 *             final graph; the configuration (for the calibration set)
 * guarantees: FILE written atomically, JSON (or a text summary for a .txt
 *             name), describing every quantized node result: its dtype,
 *             scale and zero point, calibrated range, rounding mode, folded
 *             clamp and the SQNR of its dequantized value against the
 *             float graph's value of the same tensor; the model's weight
 *             (constant) bytes before and after quantization
 * invalidates: nothing (the graphs are only read)
 *
 * SQNR = 10 log10(sum f^2 / sum (f - dequantize(q))^2) over every element
 * of every calibration sample: both graphs run on the same samples, with
 * an observer catching each tensor, compiled in process when the work pays
 * for it (pass_engine, as calibrate decides; [calibration] engine) or in
 * the reference interpreter: the same tensors bit for bit either way.
 *
 * With an object (FLASH, codegen/flash.c), the flash per layer: each
 * node's code and constant bytes by kind, and the shared rows, summing to
 * every allocated section of the object exactly.
 * A quantized tensor is matched with the float one of its name, or of its
 * name without quantize's ".q" suffix (the dequantized output keeps the
 * float name).  Exact agreement gives an infinite SQNR, written as null.
 */
#include "report.h"
#include "quant.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Layer {
    const Value *q;     /* in the final graph */
    const Value *f;     /* its float twin, or NULL */
    double signal, noise;
    int64_t count;
} Layer;

typedef struct Report {
    const Graph *fg, *qg;
    Layer *layers;
    int num_layers;
    int *layer_of_q;    /* by final-graph value id: layer index or -1 */
    int *layer_of_f;    /* by float value id: layer index or -1 */
    float **fbuf;       /* by layer: its float values, sample after sample of a chunk */
    int64_t *fseen, *qseen; /* by layer: samples of the chunk seen in each graph */
    bool float_pass;
    int64_t samples;
    const char *sqnr_note; /* why there is no SQNR, or NULL */
    const MixedReport *mixed; /* what mixed-precision measured, or NULL */
    CalibHist *hist;    /* by layer: the float values (bins 0: none) */
    double out_db;      /* the graph outputs' SQNR (NAN: not measured) */
    const ReportTechnique *techs;
    double *tech_other_db; /* by technique: the outputs' SQNR switched */
    int num_techs;
    const FlashReport *flash; /* the object's flash per node, or NULL */
    int *node_index;    /* by final-graph value id: its defining node's index, or -1 */
    const StripeReport *stripe; /* what the stripe pass did, or NULL */
} Report;

/* RAM: the plan's scratch against the whole-tensor bound (the graph
 * before striping, every tensor whole: plan_memory's whole_bound), what
 * in-place depthwise and the stripe pass each saved, and the stack
 * buffers the kernels keep outside scratch (with an object). */
static void json_num(FILE *f, double v);

typedef struct MemSummary {
    MemoryPlan p;
    const StripeReport *s; /* NULL: no stripes */
    int64_t bound, whole, in_place_nodes, stack;
} MemSummary;

static MemSummary mem_summary(const Report *r)
{
    MemSummary m = {.p = plan_memory(r->qg, 16)};
    m.s = r->stripe && r->stripe->stages ? r->stripe : NULL;
    m.bound = m.s ? m.s->whole_bound : m.p.whole_bound;
    m.whole = m.s ? m.s->whole_scratch : m.p.whole_scratch;
    for (int k = 0; m.p.rowbuf && k < m.p.num_nodes; k++)
        m.in_place_nodes += m.p.rowbuf[k] >= 0;
    for (int k = 0; r->flash && r->flash->stack && k < r->qg->nodes.len; k++)
        m.stack += r->flash->stack[k];
    return m;
}

static void json_memory(FILE *f, const Report *r)
{
    MemSummary m = mem_summary(r);
    fprintf(f, "  \"memory\": {\"scratch\": %lld, \"whole_tensor_bound\": %lld, \"whole_tensor_scratch\": %lld, "
               "\"of_bound\": ", (long long)m.p.scratch_size, (long long)m.bound, (long long)m.whole);
    json_num(f, m.bound ? (double)m.p.scratch_size / (double)m.bound : 0.0);
    fprintf(f, ",\n    \"in_place_depthwise\": {\"nodes\": %lld, \"row_buffers\": %lld, \"saves\": %lld}",
            (long long)m.in_place_nodes, (long long)m.p.rowbuf_bytes, (long long)m.p.in_place_saved);
    if (m.s) {
        fprintf(f, ",\n    \"stripe\": {\"stages\": %d, \"scratch_before\": %lld, \"saves\": %lld, \"extra_macs\": %lld, "
                   "\"extra_macs_percent\": ",
                m.s->stages, (long long)m.s->before, (long long)(m.s->before - m.s->after), (long long)m.s->extra_macs);
        json_num(f, m.s->base_macs ? 100.0 * (double)m.s->extra_macs / (double)m.s->base_macs : 0.0);
        fputc('}', f);
    } else {
        fputs(",\n    \"stripe\": null", f);
    }
    if (r->flash && r->flash->stack) {
        fprintf(f, ",\n    \"stack\": {\"total\": %lld, \"nodes\": [", (long long)m.stack);
        bool first = true;
        for (int k = 0; k < r->qg->nodes.len; k++)
            if (r->flash->stack[k]) {
                fprintf(f, "%s{\"node\": %d, \"name\": \"%s\", \"bytes\": %lld}", first ? "" : ", ", k,
                        ((const Node *)r->qg->nodes.data[k])->result->name, (long long)r->flash->stack[k]);
                first = false;
            }
        fprintf(f, "]},\n    \"ram\": %lld", (long long)(m.p.scratch_size + m.stack));
    } else {
        fputs(",\n    \"stack\": null", f);
    }
    fputs("},\n", f);
    memory_plan_free(&m.p);
}

static void text_memory(FILE *f, const Report *r)
{
    MemSummary m = mem_summary(r);
    fprintf(f, "\nscratch: %lld bytes, %.2fx the whole-tensor bound %lld (whole-tensor plan %lld)", (long long)m.p.scratch_size,
            m.bound ? (double)m.p.scratch_size / (double)m.bound : 0.0, (long long)m.bound, (long long)m.whole);
    if (m.in_place_nodes)
        fprintf(f, "; %lld depthwise in place (row buffers %lld bytes)", (long long)m.in_place_nodes,
                (long long)m.p.rowbuf_bytes);
    if (m.s)
        fprintf(f, "; %d striped stage%s, %lld extra MACs", m.s->stages, m.s->stages == 1 ? "" : "s",
                (long long)m.s->extra_macs);
    if (r->flash && r->flash->stack)
        fprintf(f, "; kernel stack buffers %lld bytes (RAM %lld)", (long long)m.stack,
                (long long)(m.p.scratch_size + m.stack));
    fputc('\n', f);
    memory_plan_free(&m.p);
}

static int64_t flash_row_total(const FlashRow *row)
{
    int64_t t = 0;
    for (int k = 0; k < NUM_FLASH_KINDS; k++)
        t += row->kind[k];
    return t;
}

static int64_t flash_total(const FlashReport *fr)
{
    int64_t t = 0;
    for (int k = 0; k < fr->num_sections; k++)
        t += fr->section_size[k];
    return t;
}

/* Row R's name: the node's result, or the shared row's. */
static const char *flash_row_name(const Report *r, int row)
{
    const FlashReport *fr = r->flash;
    if (row < fr->num_nodes)
        return ((const Node *)r->qg->nodes.data[row])->result->name;
    return flash_shared_row_names[row - fr->num_nodes];
}

static void json_flash(FILE *f, const Report *r)
{
    const FlashReport *fr = r->flash;
    fputs("  \"flash\": ", f);
    if (!fr) {
        fputs("null,\n", f);
        return;
    }
    fprintf(f, "{\"total\": %lld, \"weights_file\": %lld, \"sections\": [", (long long)flash_total(fr),
            (long long)fr->weights_file);
    for (int k = 0; k < fr->num_sections; k++)
        fprintf(f, "%s{\"name\": \"%s\", \"bytes\": %lld, \"exec\": %s, \"write\": %s}", k ? ", " : "",
                fr->section_name[k], (long long)fr->section_size[k], fr->section_exec[k] ? "true" : "false",
                fr->section_write[k] ? "true" : "false");
    fputs("],\n    \"rows\": [", f);
    int nrows = fr->num_nodes + NUM_FLASH_SHARED_ROWS;
    for (int row = 0; row < nrows; row++) {
        const FlashRow *fw = &fr->rows[row];
        fprintf(f, "%s\n      {", row ? "," : "");
        if (row < fr->num_nodes)
            fprintf(f, "\"node\": %d, \"op\": \"%s\", ", row,
                    op_info[((const Node *)r->qg->nodes.data[row])->op].name);
        else
            fputs("\"node\": null, \"op\": null, ", f);
        fprintf(f, "\"name\": \"%s\"", flash_row_name(r, row));
        for (int k = 0; k < NUM_FLASH_KINDS; k++)
            fprintf(f, ", \"%s\": %lld", flash_kind_names[k], (long long)fw->kind[k]);
        fprintf(f, ", \"total\": %lld, \"sections\": {", (long long)flash_row_total(fw));
        for (int k = 0; k < fr->num_sections; k++)
            fprintf(f, "%s\"%s\": %lld", k ? ", " : "", fr->section_name[k], (long long)fw->section[k]);
        fputs("}}", f);
    }
    fputs("\n    ]},\n", f);
}

static void text_flash(FILE *f, const Report *r)
{
    const FlashReport *fr = r->flash;
    if (!fr)
        return;
    fprintf(f, "\nflash: %lld bytes in the object (", (long long)flash_total(fr));
    for (int k = 0; k < fr->num_sections; k++)
        fprintf(f, "%s%s %lld", k ? ", " : "", fr->section_name[k], (long long)fr->section_size[k]);
    fputs(")", f);
    if (fr->weights_file)
        fprintf(f, "; weights file %lld bytes", (long long)fr->weights_file);
    int w = 24; /* the names' column: the longest */
    for (int row = 0; row < fr->num_nodes; row++) {
        int len = (int)strlen(flash_row_name(r, row));
        w = len > w ? len : w;
    }
    fprintf(f, "\n%-5s %-*s %-16s", "node", w, "name", "op");
    for (int k = 0; k < NUM_FLASH_KINDS; k++)
        fprintf(f, " %8s", flash_kind_names[k]);
    fprintf(f, " %9s\n", "total");
    int64_t sum[NUM_FLASH_KINDS] = {0};
    for (int row = 0; row < fr->num_nodes + NUM_FLASH_SHARED_ROWS; row++) {
        const FlashRow *fw = &fr->rows[row];
        char idx[16] = "-";
        const char *op = "-";
        if (row < fr->num_nodes) {
            snprintf(idx, sizeof idx, "%d", row);
            op = op_info[((const Node *)r->qg->nodes.data[row])->op].name;
        }
        fprintf(f, "%-5s %-*s %-16s", idx, w, flash_row_name(r, row), op);
        for (int k = 0; k < NUM_FLASH_KINDS; k++) {
            fprintf(f, " %8lld", (long long)fw->kind[k]);
            sum[k] += fw->kind[k];
        }
        fprintf(f, " %9lld\n", (long long)flash_row_total(fw));
    }
    fprintf(f, "%-5s %-*s %-16s", "", w, "total", "");
    int64_t t = 0;
    for (int k = 0; k < NUM_FLASH_KINDS; k++) {
        fprintf(f, " %8lld", (long long)sum[k]);
        t += sum[k];
    }
    fprintf(f, " %9lld\n", (long long)t);
}

/* Histogram bins per tensor, over its calibrated range widened by a
 * quarter of its width each side (values beyond land in the end bins). */
#define REPORT_BINS 40

static int64_t const_bytes(const Graph *g)
{
    int64_t n = 0;
    for (int i = 0; i < g->consts.len; i++)
        n += type_nbytes(&((const Value *)g->consts.data[i])->type);
    return n;
}

static const Value *float_twin(const Graph *fg, const Value *q)
{
    if (!fg)
        return NULL;
    const Value *f = graph_find_value(fg, q->name);
    size_t n = strlen(q->name);
    if ((!f || f->type.dtype != DT_F32) && n > 2 && !strcmp(q->name + n - 2, ".q")) {
        char *base = xstrdup(q->name);
        base[n - 2] = '\0';
        f = graph_find_value(fg, base);
        free(base);
    }
    if (!f || f->type.dtype != DT_F32 || type_numel(&f->type) != type_numel(&q->type))
        return NULL;
    return f;
}

/* Float values kept per sample for the per-layer SQNR: the float graph
 * runs over a chunk of samples, then the final graph over the same chunk,
 * so each may be compiled once (pass_engine) and run at native speed; a
 * chunk holds at most this many bytes of float tensors (at least one
 * sample).  The sums run in the same order whatever the chunk. */
#define REPORT_CHUNK_BYTES (64 << 20)

/* engine = "auto" compiles a graph for the report's sweeps as calibrate
 * does for the float graph; a quantized graph costs more to compile (see
 * MP_JIT_MIN_WORK in mixed_precision.c), so it waits for more work. */
#define REPORT_FLOAT_MIN_WORK 5e7
#define REPORT_QUANT_MIN_WORK 2e9

static void observe(void *ctx, const Value *v, const void *data)
{
    Report *r = ctx;
    int64_t n = type_numel(&v->type);
    if (r->float_pass) {
        /* A float value may be the twin of several layers (x and x.q). */
        for (int k = r->layer_of_f[v->id]; k >= 0 && k < r->num_layers; k++)
            if (r->layers[k].f == v)
                memcpy(r->fbuf[k] + r->fseen[k]++ * n, data, (size_t)n * sizeof(float));
        return;
    }
    int k = r->layer_of_q[v->id];
    if (k < 0 || !r->layers[k].f)
        return;
    Layer *l = &r->layers[k];
    const float *fv = r->fbuf[k] + r->qseen[k]++ * n;
    if (r->hist[k].bins)
        calib_hist_add(&r->hist[k], fv, n, 0);
    const Quant *q = v->type.quant;
    int64_t inner = 1, dim = 1;
    if (q && q->count > 1) {
        for (int d = q->axis + 1; d < v->type.rank; d++)
            inner *= v->type.dims[d];
        dim = v->type.dims[q->axis];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = q && q->count > 1 ? (i / inner) % dim : 0;
        /* ONNX DequantizeLinear, in double: the error measured is the
         * quantization's, not float32 rounding's. */
        double deq = (double)q->scale[c] * (double)(ld_int(data, v->type.dtype, i) - q->zero_point[c]);
        double f = fv[i];
        l->signal += f * f;
        l->noise += (f - deq) * (f - deq);
    }
    l->count += n;
}

/* A float sample X as the integer input QT ([model] io_dtype) takes it,
 * as the header's quantize helper does. */
static void quantize_sample(const TensorType *qt, const float *x, void *qx)
{
    QParam p = {qt->quant->scale[0], qt->quant->zero_point[0]};
    const DTypeTraits *d = &dtype_traits[qt->dtype];
    for (int64_t i = 0, m = type_numel(qt); i < m; i++) {
        int64_t q = quantize_real(x[i], p, ROUND_ONNX, d->min, d->max);
        if (qt->dtype == DT_I8)
            ((int8_t *)qx)[i] = (int8_t)q;
        else
            ((uint8_t *)qx)[i] = (uint8_t)q;
    }
}

/* A graph the report runs over the calibration samples: compiled once
 * (pass_engine: the rule calibrate uses) or, when it is not, the
 * interpreter.  Both give the same tensors bit for bit, and the observer
 * sees them in sample order either way. */
typedef struct Sweep {
    const Graph *g;
    const Evaluator *ev;
    void *h;              /* G opened by EV, or NULL: the interpreter */
    Samples *ds;
    int64_t base;         /* the sweep's sample 0 is the set's sample BASE */
    const TensorType *qt; /* an integer input: each float sample quantized to it */
    float *x;             /* QT's float sample */
} Sweep;

static Sweep sweep_open(const Graph *g, const PassContext *ctx, Samples *ds, const TensorType *qt,
                        double min_work)
{
    Sweep s = {.g = g, .ds = ds, .qt = qt};
    s.ev = pass_engine(g, ctx, ds->count, min_work);
    s.h = s.ev ? s.ev->open(g) : NULL;
    if (qt)
        s.x = xmalloc((size_t)type_numel(qt) * sizeof(float) + 1);
    return s;
}

static void sweep_close(Sweep *s)
{
    if (s->h)
        s->ev->close(s->h);
    free(s->x);
}

static bool sweep_read(void *ctx, int64_t i, void *const inputs[])
{
    Sweep *s = ctx;
    if (!s->qt)
        return samples_read(s->ds, s->base + i, inputs[0]);
    if (!samples_read(s->ds, s->base + i, s->x))
        return false;
    quantize_sample(s->qt, s->x, inputs[0]);
    return true;
}

/* Runs samples BASE .. BASE+N-1 through S's graph, OBSERVE seeing every
 * tensor (OBS).  False when a sample cannot be read or run. */
static bool sweep_run(Sweep *s, int64_t base, int64_t n, InterpObserver obs, void *octx)
{
    s->base = base;
    if (s->h)
        return s->ev->run(s->h, n, sweep_read, s, obs, octx);
    const Graph *g = s->g;
    void *x = xmalloc((size_t)type_nbytes(&((const Value *)g->inputs.data[0])->type) + 1);
    void **out = xcalloc((size_t)g->outputs.len + 1, sizeof *out);
    for (int i = 0; i < g->outputs.len; i++)
        out[i] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[i])->type) + 1);
    bool ok = true;
    for (int64_t i = 0; ok && i < n; i++) {
        void *const ins[1] = {x};
        const void *cins[1] = {x};
        ok = sweep_read(s, i, ins) && interp_run_observed(g, cins, out, obs, octx) == 0;
    }
    for (int i = 0; i < g->outputs.len; i++)
        free(out[i]);
    free(out);
    free(x);
    return ok;
}

/* The integer type a quantized graph's input takes each float sample as
 * ([model] io_dtype), NULL when it takes the float sample itself; *OK
 * false when the two graphs' inputs do not match. */
static const TensorType *quantized_input(const Graph *fg, const Graph *qg, bool *ok)
{
    const TensorType *ft = &((const Value *)fg->inputs.data[0])->type;
    const TensorType *qt = &((const Value *)qg->inputs.data[0])->type;
    bool quantize_in = ft->dtype == DT_F32 && (qt->dtype == DT_I8 || qt->dtype == DT_U8) && qt->quant &&
                       qt->quant->count == 1 && type_numel(qt) == type_numel(ft);
    *ok = quantize_in || type_equal(ft, qt);
    return quantize_in ? qt : NULL;
}

/* Runs both graphs over the calibration samples, a chunk of samples at a
 * time: the float graph keeps each layer's twin values, then the final
 * graph's observer measures against them. */
static void measure(Report *r, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    const Graph *fg = r->fg, *qg = r->qg;
    if (!fg) {
        r->sqnr_note = "quantize did not run: no float graph to compare with";
        return;
    }
    if (cfg->calib.num_dataset == 0) {
        r->sqnr_note = "no [calibration] dataset in the configuration";
        return;
    }
    bool match = fg->inputs.len == 1 && qg->inputs.len == 1;
    const TensorType *qt = match ? quantized_input(fg, qg, &match) : NULL;
    if (!match) {
        r->sqnr_note = "the float and quantized graphs do not take the same single input";
        return;
    }
    Samples ds;
    if (!samples_open(ctx, SAMPLES_CALIBRATION, fg->inputs.data[0], &ds)) {
        r->sqnr_note = "the calibration dataset could not be read";
        return;
    }
    int64_t per_sample = 1;
    for (int k = 0; k < r->num_layers; k++)
        per_sample += r->layers[k].f ? type_numel(&r->layers[k].f->type) * (int64_t)sizeof(float) : 0;
    int64_t n = ds.count, chunk = REPORT_CHUNK_BYTES / per_sample;
    chunk = chunk < 1 ? 1 : chunk > n ? n : chunk;
    for (int k = 0; k < r->num_layers; k++)
        if (r->layers[k].f)
            r->fbuf[k] = xmalloc((size_t)(chunk * type_numel(&r->layers[k].f->type)) * sizeof(float));
    Sweep fs = sweep_open(fg, ctx, &ds, NULL, REPORT_FLOAT_MIN_WORK);
    Sweep qs = sweep_open(qg, ctx, &ds, qt, REPORT_QUANT_MIN_WORK);
    for (int64_t base = 0; base < n; base += chunk) {
        int64_t m = n - base < chunk ? n - base : chunk;
        memset(r->fseen, 0, (size_t)r->num_layers * sizeof *r->fseen);
        memset(r->qseen, 0, (size_t)r->num_layers * sizeof *r->qseen);
        r->float_pass = true;
        if (!sweep_run(&fs, base, m, observe, r))
            break;
        r->float_pass = false;
        if (!sweep_run(&qs, base, m, observe, r))
            break;
        r->samples += m;
    }
    sweep_close(&fs);
    sweep_close(&qs);
    if (r->samples == 0)
        r->sqnr_note = "the graphs could not be run on the calibration data";
    samples_close(&ds);
}

/* Catches a graph's outputs, sample after sample, into OUT[i] (room for
 * a chunk of samples of output i). */
typedef struct Catch {
    const Graph *g;
    char **out;
    int64_t *seen;
} Catch;

static void catch_output(void *ctx, const Value *v, const void *data)
{
    Catch *c = ctx;
    for (int i = 0; i < c->g->outputs.len; i++)
        if (c->g->outputs.data[i] == v) {
            size_t b = (size_t)type_nbytes(&v->type);
            memcpy(c->out[i] + (size_t)c->seen[i]++ * b, data, b);
        }
}

static Catch catch_open(const Graph *g, int64_t chunk)
{
    Catch c = {.g = g};
    c.out = xcalloc((size_t)g->outputs.len + 1, sizeof *c.out);
    c.seen = xcalloc((size_t)g->outputs.len + 1, sizeof *c.seen);
    for (int i = 0; i < g->outputs.len; i++)
        c.out[i] = xmalloc((size_t)(chunk * type_nbytes(&((const Value *)g->outputs.data[i])->type)) + 1);
    return c;
}

static void catch_close(Catch *c)
{
    for (int i = 0; i < c->g->outputs.len; i++)
        free(c->out[i]);
    free(c->out);
    free(c->seen);
}

/* The SQNR of QG's outputs against FG's outputs of the same names, all
 * outputs together, over the calibration samples (an integer output is
 * dequantized); NAN when it cannot be measured. */
static double output_sqnr(const Graph *fg, const Graph *qg, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    if (!fg || !qg || cfg->calib.num_dataset == 0 || fg->inputs.len != 1 || qg->inputs.len != 1)
        return NAN;
    bool match;
    const TensorType *qt = quantized_input(fg, qg, &match);
    if (!match)
        return NAN;
    /* Output i of QG and its float twin's index in FG. */
    int *twin = xmalloc(((size_t)qg->outputs.len + 1) * sizeof *twin);
    int matched = 0;
    int64_t per_sample = 1;
    for (int i = 0; i < qg->outputs.len; i++) {
        const Value *q = qg->outputs.data[i];
        twin[i] = -1;
        for (int j = 0; j < fg->outputs.len; j++) {
            const Value *f = fg->outputs.data[j];
            bool deq = q->type.dtype == DT_F32 || (q->type.quant && q->type.quant->count == 1);
            if (!strcmp(f->name, q->name) && f->type.dtype == DT_F32 && deq &&
                type_numel(&f->type) == type_numel(&q->type))
                twin[i] = j;
        }
        matched += twin[i] >= 0;
        per_sample += type_nbytes(&q->type);
    }
    for (int j = 0; j < fg->outputs.len; j++)
        per_sample += type_nbytes(&((const Value *)fg->outputs.data[j])->type);
    Samples ds = {0};
    bool opened = matched && samples_open(ctx, SAMPLES_CALIBRATION, fg->inputs.data[0], &ds);
    double signal = 0, noise = 0;
    int64_t done = 0;
    if (opened) {
        int64_t n = ds.count, chunk = REPORT_CHUNK_BYTES / per_sample;
        chunk = chunk < 1 ? 1 : chunk > n ? n : chunk;
        Sweep fs = sweep_open(fg, ctx, &ds, NULL, REPORT_FLOAT_MIN_WORK);
        Sweep qs = sweep_open(qg, ctx, &ds, qt, REPORT_QUANT_MIN_WORK);
        Catch fc = catch_open(fg, chunk), qc = catch_open(qg, chunk);
        for (int64_t base = 0; base < n; base += chunk) {
            int64_t m = n - base < chunk ? n - base : chunk;
            memset(fc.seen, 0, (size_t)fg->outputs.len * sizeof *fc.seen);
            memset(qc.seen, 0, (size_t)qg->outputs.len * sizeof *qc.seen);
            if (!sweep_run(&fs, base, m, catch_output, &fc) || !sweep_run(&qs, base, m, catch_output, &qc))
                break;
            for (int64_t s = 0; s < m; s++, done++)
                for (int i = 0; i < qg->outputs.len; i++) {
                    if (twin[i] < 0)
                        continue;
                    const Value *q = qg->outputs.data[i];
                    int64_t numel = type_numel(&q->type);
                    const float *f = (const float *)fc.out[twin[i]] + s * numel;
                    const char *qv = qc.out[i] + s * type_nbytes(&q->type);
                    for (int64_t e = 0; e < numel; e++) {
                        double v = q->type.dtype == DT_F32
                                       ? ((const float *)qv)[e]
                                       : (double)q->type.quant->scale[0] *
                                             (double)(ld_int(qv, q->type.dtype, e) - q->type.quant->zero_point[0]);
                        signal += (double)f[e] * f[e];
                        noise += (f[e] - v) * (f[e] - v);
                    }
                }
        }
        catch_close(&fc);
        catch_close(&qc);
        sweep_close(&fs);
        sweep_close(&qs);
        samples_close(&ds);
    }
    free(twin);
    if (!done)
        return NAN;
    return noise == 0 ? INFINITY : signal == 0 ? -INFINITY : 10.0 * log10(signal / noise);
}

/* What a layer costs: the bytes of its constant operands, of its result,
 * and its multiply-accumulates (conv2d, dense, matmul; 0 for the rest). */
static int64_t layer_weight_bytes(const Node *n)
{
    int64_t b = 0;
    for (int i = 0; i < n->num_operands; i++)
        if (n->operands[i] && n->operands[i]->kind == VAL_CONST)
            b += type_nbytes(&n->operands[i]->type);
    return b;
}

static int64_t layer_macs(const Node *n)
{
    int64_t out = type_numel(&n->result->type);
    if (n->num_operands < 2)
        return 0;
    const TensorType *a = &n->operands[0]->type, *w = &n->operands[1]->type;
    switch (n->op) {
    case OP_CONV2D: return out * w->dims[1] * w->dims[2] * w->dims[3];
    case OP_DENSE: return out * w->dims[1];
    case OP_MATMUL: return out * a->dims[a->rank - 1];
    default: return 0;
    }
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static double sqnr_db(const Layer *l)
{
    if (l->noise == 0)
        return INFINITY;
    if (l->signal == 0)
        return -INFINITY;
    return 10.0 * log10(l->signal / l->noise);
}

static const char *rounding_name(const Node *n)
{
    return node_int(n, ATTR_ROUNDING, ROUND_ONNX) == ROUND_TFLITE ? "tflite" : "onnx";
}

/* A layer's bytes, MACs and histogram, as JSON fields. */
static void json_layer_costs(FILE *f, const Report *r, int k)
{
    const Node *n = r->layers[k].q->def;
    fprintf(f, ", \"weight_bytes\": %lld, \"activation_bytes\": %lld, \"macs\": %lld, ",
            (long long)layer_weight_bytes(n), (long long)type_nbytes(&n->result->type), (long long)layer_macs(n));
    int node = r->node_index[n->result->id];
    if (r->flash && node >= 0) {
        const FlashRow *fw = &r->flash->rows[node];
        fprintf(f, "\"flash_code\": %lld, \"flash_const\": %lld, ", (long long)fw->kind[FLASH_CODE],
                (long long)(flash_row_total(fw) - fw->kind[FLASH_CODE]));
    }
    fputs("\"histogram\": ", f);
    const CalibHist *h = &r->hist[k];
    if (!h->bins || !h->total) {
        fputs("null", f);
        return;
    }
    fputs("{\"lo\": ", f);
    json_num(f, h->lo);
    fputs(", \"hi\": ", f);
    json_num(f, h->hi);
    fputs(", \"counts\": [", f);
    for (int b = 0; b < h->bins; b++)
        fprintf(f, "%s%llu", b ? ", " : "", (unsigned long long)h->count[b]);
    fputs("]}", f);
}

/* The outputs' SQNR, and each technique's without and with. */
static void tech_dbs(const Report *r, int t, double *off, double *on)
{
    double other = r->tech_other_db[t];
    *on = r->techs[t].on ? r->out_db : other;
    *off = r->techs[t].on ? other : r->out_db;
}

/* Whether the techniques were measured at the precision set the build's
 * mixed-precision search chose; then RAISED := the layers it raised and
 * SEARCHED := the mixed-precision evaluations the technique runs made
 * (0: none searched again). */
static bool techs_at_chosen_set(const Report *r, int *raised, int *searched)
{
    *raised = *searched = 0;
    bool chosen = false;
    for (int t = 0; t < r->num_techs; t++) {
        chosen = chosen || r->techs[t].chosen_set;
        *searched += r->techs[t].search_evaluations;
    }
    for (int k = 0; chosen && r->mixed && k < r->mixed->num_layers; k++)
        *raised += r->mixed->layers[k].chosen != r->mixed->layers[k].base;
    return chosen;
}

static void json_techniques(FILE *f, const Report *r)
{
    fputs("  \"output_sqnr_db\": ", f);
    json_num(f, r->out_db);
    int raised, searched;
    if (techs_at_chosen_set(r, &raised, &searched))
        fprintf(f, ",\n  \"techniques_precision\": {\"set\": \"chosen\", \"raised_layers\": %d, "
                   "\"search_evaluations\": %d}", raised, searched);
    fputs(",\n  \"techniques\": [", f);
    for (int t = 0; t < r->num_techs; t++) {
        double off, on;
        tech_dbs(r, t, &off, &on);
        fprintf(f, "%s\n    {\"name\": \"%s\", \"on\": %s, \"output_sqnr_db_off\": ", t ? "," : "",
                r->techs[t].name, r->techs[t].on ? "true" : "false");
        json_num(f, off);
        fputs(", \"output_sqnr_db_on\": ", f);
        json_num(f, on);
        fputc('}', f);
    }
    fputs(r->num_techs ? "\n  ]\n" : "]\n", f);
}

static void write_json(FILE *f, const Report *r, const QnncConfig *cfg)
{
    fprintf(f, "{\n  \"model\": \"%s\",\n", r->qg->name);
    fprintf(f, "  \"scheme\": \"%s\",\n  \"rounding\": \"%s\",\n", config_scheme_names[cfg->quant.scheme],
            config_rounding_names[cfg->quant.rounding]);
    fprintf(f, "  \"calibration\": {\"method\": \"%s\", \"samples\": %lld",
            config_method_names[cfg->calib.method], (long long)r->samples);
    if (r->sqnr_note)
        fprintf(f, ", \"sqnr_note\": \"%s\"", r->sqnr_note);
    fputs("},\n", f);
    fputs("  \"weight_bytes\": {\"before\": ", f);
    if (r->fg)
        fprintf(f, "%lld", (long long)const_bytes(r->fg));
    else
        fputs("null", f);
    fprintf(f, ", \"after\": %lld},\n", (long long)const_bytes(r->qg));
    mixed_report_json(f, r->mixed);
    fputs("  \"layers\": [", f);
    for (int k = 0; k < r->num_layers; k++) {
        const Layer *l = &r->layers[k];
        const Value *v = l->q;
        const Quant *q = v->type.quant;
        const Node *n = v->def;
        fprintf(f, "%s\n    {\"name\": \"%s\", \"op\": \"%s\", \"dtype\": \"%s\", \"rounding\": \"%s\", ",
                k ? "," : "", v->name, op_info[n->op].name, dtype_traits[v->type.dtype].name, rounding_name(n));
        fputs("\"scale\": [", f);
        for (int i = 0; i < q->count; i++) {
            fputs(i ? ", " : "", f);
            json_num(f, q->scale[i]);
        }
        fputs("], \"zero_point\": [", f);
        for (int i = 0; i < q->count; i++)
            fprintf(f, "%s%d", i ? ", " : "", (int)q->zero_point[i]);
        fputs("], \"range\": ", f);
        if (l->f && l->f->has_range) {
            fputc('[', f);
            json_num(f, l->f->range_lo);
            fputs(", ", f);
            json_num(f, l->f->range_hi);
            fputc(']', f);
        } else {
            fputs("null", f);
        }
        const Attr *lo = node_attr(n, ATTR_QMIN), *hi = node_attr(n, ATTR_QMAX);
        if (lo && hi)
            fprintf(f, ", \"qmin\": %lld, \"qmax\": %lld", (long long)lo->u.i, (long long)hi->u.i);
        fputs(", \"sqnr_db\": ", f);
        if (l->count)
            json_num(f, sqnr_db(l));
        else
            fputs("null", f);
        json_layer_costs(f, r, k);
        fputc('}', f);
    }
    fputs("\n  ],\n", f);
    json_flash(f, r);
    json_memory(f, r);
    json_techniques(f, r);
    fputs("}\n", f);
}

static void write_text(FILE *f, const Report *r, const QnncConfig *cfg)
{
    fprintf(f, "qnnc quantization report: %s\n", r->qg->name);
    fprintf(f, "scheme %s, rounding %s, calibration %s over %lld sample%s\n",
            config_scheme_names[cfg->quant.scheme], config_rounding_names[cfg->quant.rounding],
            config_method_names[cfg->calib.method], (long long)r->samples, r->samples == 1 ? "" : "s");
    if (r->sqnr_note)
        fprintf(f, "no SQNR: %s\n", r->sqnr_note);
    if (r->fg)
        fprintf(f, "weight bytes: %lld before, %lld after quantization\n", (long long)const_bytes(r->fg),
                (long long)const_bytes(r->qg));
    mixed_report_text(f, r->mixed);
    text_memory(f, r);
    fprintf(f, "\n%-24s %-16s %-4s %-7s %-14s %-5s %-22s %9s\n", "tensor", "op", "type", "round", "scale", "zp",
            "range", "SQNR dB");
    for (int k = 0; k < r->num_layers; k++) {
        const Layer *l = &r->layers[k];
        const Quant *q = l->q->type.quant;
        char range[64] = "-", scale[32], sq[32] = "-";
        if (l->f && l->f->has_range)
            snprintf(range, sizeof range, "[%.4g, %.4g]", (double)l->f->range_lo, (double)l->f->range_hi);
        if (q->count == 1)
            snprintf(scale, sizeof scale, "%.6g", (double)q->scale[0]);
        else
            snprintf(scale, sizeof scale, "%d channels", q->count);
        if (l->count) {
            double db = sqnr_db(l);
            snprintf(sq, sizeof sq, isfinite(db) ? "%.2f" : "exact", db);
        }
        fprintf(f, "%-24s %-16s %-4s %-7s %-14s %-5d %-22s %9s\n", l->q->name, op_info[l->q->def->op].name,
                dtype_traits[l->q->type.dtype].name, rounding_name(l->q->def), scale,
                q->count == 1 ? (int)q->zero_point[0] : 0, range, sq);
    }
}

/* The outputs' SQNR and the techniques, after the text table. */
static void text_techniques(FILE *f, const Report *r)
{
    char db[32] = "-";
    if (!isnan(r->out_db))
        snprintf(db, sizeof db, isfinite(r->out_db) ? "%.2f dB" : "exact", r->out_db);
    fprintf(f, "\noutput SQNR: %s\n", db);
    int raised, searched;
    if (techs_at_chosen_set(r, &raised, &searched))
        fprintf(f, "techniques measured at the precision set mixed-precision chose (%d layer%s raised, pinned as "
                   "overrides; %d search evaluations)\n", raised, raised == 1 ? "" : "s", searched);
    for (int t = 0; t < r->num_techs; t++) {
        double v[2];
        char s[2][32];
        tech_dbs(r, t, &v[0], &v[1]);
        for (int i = 0; i < 2; i++)
            if (isnan(v[i]))
                snprintf(s[i], sizeof s[i], "-");
            else
                snprintf(s[i], sizeof s[i], isfinite(v[i]) ? "%.2f dB" : "exact", v[i]);
        fprintf(f, "%s (%s): output SQNR %s without, %s with\n", r->techs[t].name, r->techs[t].on ? "on" : "off",
                s[0], s[1]);
    }
}

/* ---------------------------------------------------------------- HTML */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

/* "12.34", "exact" or "-" (no SQNR): as the page shows it. */
static void html_db(FILE *f, double v, bool measured)
{
    if (!measured || isnan(v))
        fputs("-", f);
    else if (isinf(v) && v > 0)
        fputs("exact", f);
    else if (isinf(v))
        fputs("-inf", f);
    else
        fprintf(f, "%.2f", v);
}

/* The per-layer SQNR chart: one <rect class="bar"> per layer, its height
 * the SQNR on a 0..top dB axis (an exact layer reaches the top, one
 * without an SQNR or below 0 dB gets a sliver). */
static void html_chart(FILE *f, const Report *r)
{
    double top = 60;
    for (int k = 0; k < r->num_layers; k++) {
        double v = r->layers[k].count ? sqnr_db(&r->layers[k]) : NAN;
        if (isfinite(v) && v > top)
            top = 10 * ceil(v / 10);
    }
    int bw = 14, gap = 3, left = 40, h = 200, w = left + r->num_layers * (bw + gap) + 10;
    /* Below the axis, each layer's name (its first 24 characters) slanted. */
    fprintf(f, "<svg id=\"sqnr-chart\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"SQNR per layer\">\n",
            w + 120, h + 140);
    for (int t = 0; t <= (int)top; t += 10) {
        double y = 10 + h - h * t / top;
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", left, w - 10, y, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"axis\">%d</text>\n", left - 4, y + 4, t);
    }
    for (int k = 0; k < r->num_layers; k++) {
        const Layer *l = &r->layers[k];
        double v = l->count ? sqnr_db(l) : NAN;
        double bh = isnan(v) || v <= 0 ? 2 : isinf(v) ? h : fmin(h, h * v / top);
        fprintf(f, "<rect class=\"bar%s\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" data-layer=\"",
                isnan(v) ? " none" : isinf(v) ? " exact" : "", left + k * (bw + gap), 10 + h - bh, bw, bh);
        html_text(f, l->q->name);
        fputs("\" data-sqnr=\"", f);
        html_db(f, v, l->count);
        fputs("\"><title>", f);
        html_text(f, l->q->name);
        fputs(": ", f);
        html_db(f, v, l->count);
        fputs(" dB</title></rect>", f);
        char label[25];
        snprintf(label, sizeof label, "%s", l->q->name);
        int lx = left + k * (bw + gap) + bw / 2;
        fprintf(f, "<text class=\"label\" transform=\"translate(%d,%d) rotate(45)\">", lx, h + 16);
        html_text(f, label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

/* A tensor's histogram, with its calibrated range marked in red. */
static void html_hist(FILE *f, const Report *r, int k)
{
    const CalibHist *h = &r->hist[k];
    if (!h->bins || !h->total) {
        fputs("-", f);
        return;
    }
    int W = 160, H = 36;
    uint64_t most = 1;
    for (int b = 0; b < h->bins; b++)
        most = h->count[b] > most ? h->count[b] : most;
    fprintf(f, "<svg class=\"hist\" width=\"%d\" height=\"%d\">", W, H);
    for (int b = 0; b < h->bins; b++) {
        if (!h->count[b])
            continue;
        /* Square root: the tails stay visible next to a peak at 0. */
        double bh = (H - 2) * sqrt((double)h->count[b] / (double)most);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", (double)W * b / h->bins,
                H - bh, (double)W / h->bins, bh);
    }
    const Value *fv = r->layers[k].f;
    double lim[2] = {fv->range_lo, fv->range_hi};
    for (int i = 0; i < 2; i++) {
        double x = W * (lim[i] - h->lo) / (h->hi - h->lo);
        fprintf(f, "<line class=\"range\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\"/>", x, x, H);
    }
    fprintf(f, "<title>%.4g .. %.4g; range [%.4g, %.4g]</title></svg>", h->lo, h->hi, lim[0], lim[1]);
}

/* The flash table: every node's bytes by kind, the shared rows, the sum. */
static void html_flash(FILE *f, const Report *r)
{
    const FlashReport *fr = r->flash;
    if (!fr)
        return;
    fprintf(f, "<h2>Flash per layer (bytes)</h2>\n<p>%lld bytes in the object: ", (long long)flash_total(fr));
    for (int k = 0; k < fr->num_sections; k++) {
        fprintf(f, "%s", k ? ", " : "");
        html_text(f, fr->section_name[k]);
        fprintf(f, " %lld", (long long)fr->section_size[k]);
    }
    if (fr->weights_file)
        fprintf(f, "; weights file %lld bytes", (long long)fr->weights_file);
    fputs("</p>\n<table id=\"flash\"><tr><th>node</th><th class=\"name\">name</th><th class=\"name\">op</th>", f);
    for (int k = 0; k < NUM_FLASH_KINDS; k++)
        fprintf(f, "<th>%s</th>", flash_kind_names[k]);
    fputs("<th>total</th></tr>\n", f);
    int64_t sum[NUM_FLASH_KINDS] = {0}, t = 0;
    for (int row = 0; row < fr->num_nodes + NUM_FLASH_SHARED_ROWS; row++) {
        const FlashRow *fw = &fr->rows[row];
        bool node = row < fr->num_nodes;
        fprintf(f, "<tr class=\"%s\"><td>", node ? "flash-node" : "flash-shared");
        if (node)
            fprintf(f, "%d", row);
        fputs("</td><td class=\"name\">", f);
        html_text(f, flash_row_name(r, row));
        fprintf(f, "</td><td class=\"name\">%s</td>", node ? op_info[((const Node *)r->qg->nodes.data[row])->op].name : "");
        for (int k = 0; k < NUM_FLASH_KINDS; k++) {
            fprintf(f, "<td>%lld</td>", (long long)fw->kind[k]);
            sum[k] += fw->kind[k];
        }
        fprintf(f, "<td>%lld</td></tr>\n", (long long)flash_row_total(fw));
    }
    fputs("<tr class=\"flash-total\"><td></td><td class=\"name\">total</td><td></td>", f);
    for (int k = 0; k < NUM_FLASH_KINDS; k++) {
        fprintf(f, "<td>%lld</td>", (long long)sum[k]);
        t += sum[k];
    }
    fprintf(f, "<td>%lld</td></tr>\n</table>\n", (long long)t);
}

static const char html_style[] =
    "body{font:14px sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.name,th.name{text-align:left}"
    "th{background:#eee}.bar{fill:#3a7bd5}.bar.exact{fill:#2a9d4a}.bar.none{fill:#999}"
    ".grid{stroke:#ddd}.axis{font-size:10px;text-anchor:end;fill:#555}.label{font-size:10px;fill:#333}.hist rect{fill:#6a8fc8}"
    ".hist .range{stroke:#d33;stroke-width:2}h2{margin-top:24px}";

static void write_html(FILE *f, const Report *r, const QnncConfig *cfg)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>qnnc quantization report: ", f);
    html_text(f, r->qg->name);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>qnnc quantization report: ", html_style);
    html_text(f, r->qg->name);
    fputs("</h1>\n<table id=\"summary\">", f);
    fprintf(f, "<tr><th class=\"name\">scheme</th><td>%s, rounding %s</td></tr>",
            config_scheme_names[cfg->quant.scheme], config_rounding_names[cfg->quant.rounding]);
    fprintf(f, "<tr><th class=\"name\">calibration</th><td>%s, %lld samples</td></tr>",
            config_method_names[cfg->calib.method], (long long)r->samples);
    if (r->sqnr_note)
        fprintf(f, "<tr><th class=\"name\">no SQNR</th><td>%s</td></tr>", r->sqnr_note);
    if (r->fg)
        fprintf(f, "<tr><th class=\"name\">weight bytes</th><td>%lld before, %lld after</td></tr>",
                (long long)const_bytes(r->fg), (long long)const_bytes(r->qg));
    fputs("<tr><th class=\"name\">output SQNR (dB)</th><td id=\"output-sqnr\">", f);
    html_db(f, r->out_db, true);
    fputs("</td></tr></table>\n", f);

    fputs("<h2>Techniques: output SQNR (dB) without and with</h2>\n<table id=\"techniques\"><tr>"
          "<th class=\"name\">technique</th><th>in this build</th><th>without</th><th>with</th></tr>\n", f);
    for (int t = 0; t < r->num_techs; t++) {
        double off, on;
        tech_dbs(r, t, &off, &on);
        fprintf(f, "<tr class=\"technique\"><td class=\"name\">%s</td><td>%s</td><td>", r->techs[t].name,
                r->techs[t].on ? "on" : "off");
        html_db(f, off, true);
        fputs("</td><td>", f);
        html_db(f, on, true);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    int raised, searched;
    if (techs_at_chosen_set(r, &raised, &searched))
        fprintf(f, "<p id=\"techniques-precision\">Measured at the precision set mixed-precision chose: "
                   "<span class=\"raised\">%d</span> layer%s raised, pinned as overrides "
                   "(<span class=\"searched\">%d</span> search evaluations).</p>\n",
                raised, raised == 1 ? "" : "s", searched);
    /* Mixed precision: the text section as it is (the criterion, the
     * accuracy before and after, each layer's sensitivity). */
    if (r->mixed && r->mixed->ran) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        if (mf) {
            mixed_report_text(mf, r->mixed);
            fclose(mf);
            fputs("<h2>Mixed precision</h2>\n<pre id=\"mixed\">", f);
            html_text(f, buf + (buf[0] == '\n'));
            fputs("</pre>\n", f);
        }
        free(buf);
    }
    fputs("<h2>SQNR per layer (dB)</h2>\n", f);
    html_chart(f, r);

    fputs("<h2>Layers</h2>\n<table id=\"layers\"><tr><th class=\"name\">tensor</th><th class=\"name\">op</th>"
          "<th>precision</th><th>weights</th><th>SQNR (dB)</th><th>range</th><th>weight bytes</th>"
          "<th>activation bytes</th><th>MACs</th><th>flash code bytes</th><th>flash constant bytes</th>"
          "<th>histogram (range in red)</th></tr>\n", f);
    for (int k = 0; k < r->num_layers; k++) {
        const Layer *l = &r->layers[k];
        const Node *n = l->q->def;
        fputs("<tr class=\"layer\"><td class=\"name\">", f);
        html_text(f, l->q->name);
        fprintf(f, "</td><td class=\"name\">%s</td><td class=\"precision\">%s</td><td>", op_info[n->op].name,
                dtype_traits[l->q->type.dtype].name);
        const char *wsep = "";
        for (int i = 1; i < n->num_operands; i++)
            if (n->operands[i] && n->operands[i]->kind == VAL_CONST) {
                fprintf(f, "%s%s", wsep, dtype_traits[n->operands[i]->type.dtype].name);
                wsep = ", ";
            }
        fputs("</td><td class=\"sqnr\">", f);
        html_db(f, l->count ? sqnr_db(l) : NAN, l->count);
        fputs("</td><td>", f);
        if (l->f && l->f->has_range)
            fprintf(f, "[%.4g, %.4g]", (double)l->f->range_lo, (double)l->f->range_hi);
        else
            fputs("-", f);
        fprintf(f, "</td><td>%lld</td><td>%lld</td><td>%lld</td>", (long long)layer_weight_bytes(n),
                (long long)type_nbytes(&n->result->type), (long long)layer_macs(n));
        int node = r->node_index[n->result->id];
        if (r->flash && node >= 0) {
            const FlashRow *fw = &r->flash->rows[node];
            fprintf(f, "<td class=\"flash-code\">%lld</td><td class=\"flash-const\">%lld</td><td>",
                    (long long)fw->kind[FLASH_CODE], (long long)(flash_row_total(fw) - fw->kind[FLASH_CODE]));
        } else {
            fputs("<td>-</td><td>-</td><td>", f);
        }
        html_hist(f, r, k);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    html_flash(f, r);
    fputs("</body></html>\n", f);
}

bool write_report(const char *path, const Graph *float_g, const Graph *g, const PassContext *ctx, ReportFormat fmt,
                  const ReportTechnique *techs, int num_techs, const FlashReport *flash)
{
    Report r = {.fg = float_g, .qg = g, .mixed = ctx->mixed, .techs = techs, .num_techs = num_techs,
                .stripe = ctx->stripe};
    /* A flash report is of this graph's nodes, or not used. */
    r.flash = flash && flash->num_nodes == g->nodes.len ? flash : NULL;
    r.node_index = xmalloc(((size_t)g->values.len + 1) * sizeof *r.node_index);
    for (int i = 0; i < g->values.len; i++)
        r.node_index[i] = -1;
    for (int k = 0; k < g->nodes.len; k++)
        r.node_index[((const Node *)g->nodes.data[k])->result->id] = k;
    r.layers = xcalloc((size_t)g->nodes.len + 1, sizeof *r.layers);
    r.layer_of_q = xmalloc(((size_t)g->values.len + 1) * sizeof *r.layer_of_q);
    int nf = float_g ? float_g->values.len : 0;
    r.layer_of_f = xmalloc(((size_t)nf + 1) * sizeof *r.layer_of_f);
    for (int i = 0; i < g->values.len; i++)
        r.layer_of_q[i] = -1;
    for (int i = 0; i < nf; i++)
        r.layer_of_f[i] = -1;
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        const Value *v = n->result;
        if (v->type.dtype == DT_F32 || !v->type.quant)
            continue;
        Layer *l = &r.layers[r.num_layers];
        l->q = v;
        l->f = float_twin(float_g, v);
        r.layer_of_q[v->id] = r.num_layers;
        if (l->f && r.layer_of_f[l->f->id] < 0)
            r.layer_of_f[l->f->id] = r.num_layers;
        r.num_layers++;
    }
    r.fbuf = xcalloc((size_t)r.num_layers + 1, sizeof *r.fbuf);
    r.hist = xcalloc((size_t)r.num_layers + 1, sizeof *r.hist);
    r.fseen = xcalloc((size_t)r.num_layers + 1, sizeof *r.fseen);
    r.qseen = xcalloc((size_t)r.num_layers + 1, sizeof *r.qseen);
    for (int k = 0; k < r.num_layers; k++) {
        const Value *f = r.layers[k].f;
        if (!f)
            continue;
        if (f->has_range) {
            double w = (double)f->range_hi - f->range_lo;
            w = w > 0 ? w : 1;
            calib_hist_init(&r.hist[k], f->range_lo - w / 4, f->range_hi + w / 4, REPORT_BINS);
        }
    }
    measure(&r, ctx);
    r.out_db = output_sqnr(float_g, g, ctx);
    r.tech_other_db = xcalloc((size_t)num_techs + 1, sizeof *r.tech_other_db);
    for (int t = 0; t < num_techs; t++)
        r.tech_other_db[t] = techs[t].other ? output_sqnr(float_g, techs[t].other, ctx) : NAN;

    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (fmt == REPORT_TEXT) {
        write_text(mem, &r, ctx->cfg);
        text_techniques(mem, &r);
        text_flash(mem, &r);
    } else if (fmt == REPORT_HTML) {
        write_html(mem, &r, ctx->cfg);
    } else {
        write_json(mem, &r, ctx->cfg);
    }
    fclose(mem);
    bool ok = write_file_atomic(path, buf, len);
    if (!ok)
        diag_error((SrcLoc){0}, "cannot write the report '%s': %s", path, strerror(errno));
    free(buf);
    for (int k = 0; k < r.num_layers; k++) {
        free(r.fbuf[k]);
        if (r.hist[k].bins)
            calib_hist_free(&r.hist[k]);
    }
    free(r.fbuf);
    free(r.fseen);
    free(r.qseen);
    free(r.hist);
    free(r.tech_other_db);
    free(r.layers);
    free(r.layer_of_q);
    free(r.layer_of_f);
    free(r.node_index);
    return ok;
}
