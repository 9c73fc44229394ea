/* engine.c - the samples a pass runs a graph over, and what runs it: the
 * driver's dataset reader (PassContext.open_samples), and its JIT
 * (PassContext.eval) or the reference interpreter, by [calibration] engine
 * (docs/passes.md, "calibrate", "The engine").  calibrate and
 * mixed-precision ask here, so both choose by the same rule.
 */
#include "passes.h"

#include <stdlib.h>

/* engine = "auto" compiles the graph when running it over the samples
 * costs at least MIN_WORK multiply-accumulates (graph_work times the
 * samples; the caller's constant, since what one compile buys differs):
 * compiling takes 0.1 to a few seconds, which the interpreter (about 0.5
 * to 1 ns a MAC) would not spend on a small graph or a few samples.  Both
 * give the same tensors bit for bit, so the choice changes only the
 * time. */
int64_t graph_work(const Graph *g)
{
    int64_t work = 0;
    for (int k = 0; k < g->nodes.len; k++) {
        const Node *n = g->nodes.data[k];
        int64_t out = type_numel(&n->result->type), red = 1;
        const TensorType *a = &n->operands[0]->type;
        const TensorType *w = n->num_operands > 1 ? &n->operands[1]->type : NULL;
        if (n->op == OP_CONV2D && w->rank == 4)
            red = w->dims[1] * w->dims[2] * w->dims[3];
        else if (n->op == OP_DENSE && w->rank == 2)
            red = w->dims[1];
        else if (n->op == OP_MATMUL)
            red = a->dims[a->rank - 1];
        work += out * red;
    }
    return work;
}

const Evaluator *pass_engine(const Graph *g, const PassContext *ctx, int64_t samples, double min_work)
{
    const QnncConfig *cfg = ctx->cfg;
    /* A graph without nodes has nothing to compile. */
    if (!ctx->eval || g->nodes.len == 0)
        return NULL;
    if (cfg->calib.engine == ENGINE_JIT ||
        (cfg->calib.engine == ENGINE_AUTO && (double)graph_work(g) * (double)samples >= min_work))
        return ctx->eval;
    return NULL;
}

bool samples_open(const PassContext *ctx, SampleSet set, const Value *in, Samples *out)
{
    *out = (Samples){0};
    if (!ctx->open_samples)
        qnn_die("a pass asked for samples, but PassContext.open_samples is not set");
    return ctx->open_samples(ctx, set, in, out);
}

void samples_close(Samples *s)
{
    if (s->close)
        s->close(s->h);
    free(s->labels);
    *s = (Samples){0};
}
