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
 * of every calibration sample: both graphs run in the reference
 * interpreter on the same samples, with an observer catching each tensor.
 * A quantized tensor is matched with the float one of its name, or of its
 * name without quantize's ".q" suffix (the dequantized output keeps the
 * float name).  Exact agreement gives an infinite SQNR, written as null.
 */
#include "passes.h"
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
    float **fbuf;       /* by layer: the float values of the current sample */
    bool float_pass;
    int64_t samples;
    const char *sqnr_note; /* why there is no SQNR, or NULL */
    const MixedReport *mixed; /* what mixed-precision measured, or NULL */
} Report;

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

static void observe(void *ctx, const Value *v, const void *data)
{
    Report *r = ctx;
    int64_t n = type_numel(&v->type);
    if (r->float_pass) {
        int k = r->layer_of_f[v->id];
        if (k >= 0)
            memcpy(r->fbuf[k], data, (size_t)n * sizeof(float));
        /* A float value may be the twin of several layers (x and x.q). */
        for (int j = k + 1; k >= 0 && j < r->num_layers; j++)
            if (r->layers[j].f == v)
                memcpy(r->fbuf[j], data, (size_t)n * sizeof(float));
        return;
    }
    int k = r->layer_of_q[v->id];
    if (k < 0 || !r->layers[k].f)
        return;
    Layer *l = &r->layers[k];
    const Quant *q = v->type.quant;
    int64_t inner = 1, dim = 1;
    if (q && q->count > 1) {
        for (int d = q->axis + 1; d < v->type.rank; d++)
            inner *= v->type.dims[d];
        dim = v->type.dims[q->axis];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = q && q->count > 1 ? (i / inner) % dim : 0;
        int64_t raw;
        switch (v->type.dtype) {
        case DT_I8: raw = ((const int8_t *)data)[i]; break;
        case DT_U8: raw = ((const uint8_t *)data)[i]; break;
        case DT_I16: raw = ((const int16_t *)data)[i]; break;
        default: raw = ((const int32_t *)data)[i]; break;
        }
        /* ONNX DequantizeLinear, in double: the error measured is the
         * quantization's, not float32 rounding's. */
        double deq = (double)q->scale[c] * (double)(raw - q->zero_point[c]);
        double f = r->fbuf[k][i];
        l->signal += f * f;
        l->noise += (f - deq) * (f - deq);
    }
    l->count += n;
}

/* Runs both graphs over the calibration samples. */
static void measure(Report *r, const QnncConfig *cfg)
{
    const Graph *fg = r->fg, *qg = r->qg;
    if (!fg) {
        r->sqnr_note = "quantize did not run: no float graph to compare with";
        return;
    }
    if (cfg->calib.num_dataset == 0) {
        r->sqnr_note = "no [calibration] dataset in the configuration";
        return;
    }
    if (fg->inputs.len != 1 || qg->inputs.len != 1) {
        r->sqnr_note = "the float and quantized graphs do not take the same single input";
        return;
    }
    const Value *in = fg->inputs.data[0], *qin = qg->inputs.data[0];
    /* An integer input ([model] io_dtype) gets each float sample quantized
     * with its own parameters, as the header's quantize helper does. */
    const TensorType *qt = &qin->type;
    bool quantize_in = in->type.dtype == DT_F32 && (qt->dtype == DT_I8 || qt->dtype == DT_U8) && qt->quant &&
                       qt->quant->count == 1 && type_numel(qt) == type_numel(&in->type);
    if (!quantize_in && !type_equal(&in->type, qt)) {
        r->sqnr_note = "the float and quantized graphs do not take the same single input";
        return;
    }
    DatasetOptions dopt = {
        .idx = cfg->calib.format == DATA_IDX,
        .max_samples = cfg->calib.samples,
        .scale = cfg->model.input_scale,
        .offset = cfg->model.input_offset,
    };
    Dataset *ds = dataset_open((const char *const *)cfg->calib.dataset, cfg->calib.num_dataset, &dopt,
                               in->name, &in->type);
    if (!ds) {
        r->sqnr_note = "the calibration dataset could not be read";
        return;
    }
    void *x = xmalloc((size_t)type_nbytes(&in->type));
    void *qx = quantize_in ? xmalloc((size_t)type_nbytes(qt)) : x;
    void **fout = xcalloc((size_t)fg->outputs.len + 1, sizeof *fout);
    void **qout = xcalloc((size_t)qg->outputs.len + 1, sizeof *qout);
    for (int i = 0; i < fg->outputs.len; i++)
        fout[i] = xmalloc((size_t)type_nbytes(&((Value *)fg->outputs.data[i])->type));
    for (int i = 0; i < qg->outputs.len; i++)
        qout[i] = xmalloc((size_t)type_nbytes(&((Value *)qg->outputs.data[i])->type));
    int64_t n = dataset_count(ds);
    for (int64_t s = 0; s < n; s++) {
        const void *ins[1] = {x}, *qins[1] = {qx};
        if (!dataset_read(ds, s, x))
            break;
        if (quantize_in) {
            QParams p = {qt->quant->scale[0], qt->quant->zero_point[0]};
            const DTypeTraits *d = &dtype_traits[qt->dtype];
            for (int64_t i = 0, m = type_numel(qt); i < m; i++) {
                int64_t q = quant_real(((const float *)x)[i], p, d->min, d->max);
                if (qt->dtype == DT_I8)
                    ((int8_t *)qx)[i] = (int8_t)q;
                else
                    ((uint8_t *)qx)[i] = (uint8_t)q;
            }
        }
        r->float_pass = true;
        if (interp_run_observed(fg, ins, fout, observe, r) != 0)
            break;
        r->float_pass = false;
        if (interp_run_observed(qg, qins, qout, observe, r) != 0)
            break;
        r->samples++;
    }
    if (r->samples == 0)
        r->sqnr_note = "the graphs could not be run on the calibration data";
    for (int i = 0; i < fg->outputs.len; i++)
        free(fout[i]);
    for (int i = 0; i < qg->outputs.len; i++)
        free(qout[i]);
    free(fout);
    free(qout);
    if (qx != x)
        free(qx);
    free(x);
    dataset_close(ds);
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
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
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

bool write_report(const char *path, const Graph *float_g, const Graph *g, const PassContext *ctx, bool text)
{
    Report r = {.fg = float_g, .qg = g, .mixed = ctx->mixed};
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
    for (int k = 0; k < r.num_layers; k++)
        if (r.layers[k].f)
            r.fbuf[k] = xmalloc((size_t)type_numel(&r.layers[k].f->type) * sizeof(float));
    measure(&r, ctx->cfg);

    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (text)
        write_text(mem, &r, ctx->cfg);
    else
        write_json(mem, &r, ctx->cfg);
    fclose(mem);
    bool ok = write_file_atomic(path, buf, len);
    if (!ok)
        diag_error((SrcLoc){0}, "cannot write the report '%s': %s", path, strerror(errno));
    free(buf);
    for (int k = 0; k < r.num_layers; k++)
        free(r.fbuf[k]);
    free(r.fbuf);
    free(r.layers);
    free(r.layer_of_q);
    free(r.layer_of_f);
    return ok;
}
