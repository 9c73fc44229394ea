/* fold_constants.c - evaluate nodes whose operands are all constants.
 *
 * requires: nodes in topological order; a verified graph
 * guarantees: every node whose operands are all constants is replaced by a
 *   constant with the node's name and type (quantization included), holding
 *   exactly what the reference interpreter computes for it, except
 *   - `dequantize`: a dequantized constant is how int8 weights stay int8 in
 *     memory (the hybrid scheme), and folding it would store them as f32,
 *     4x the bytes;
 *   - a node whose result would be over 1 MiB and over 4x the bytes of its
 *     (distinct) operands: folding a broadcast or a pad of a small constant
 *     would blow up the weights the object file carries.
 *   Nodes are visited in topological order and a folded result is at once a
 *   constant for its readers, so a chain of constant nodes folds in one run.
 *   A graph output may be folded: the output list then names the constant,
 *   which the IR allows.  Constants that only folded nodes read are removed
 *   (other unused constants are left for dce).
 * invalidates: value and node ids (renumbered densely)
 *
 * Errors: an op that fails on its constant operands (an int32 accumulator
 * overflow, a TFLite multiplier out of range: docs/ir-semantics.md,
 * "Errors") would fail the same way at run time, so it is reported through
 * diag at the node and the pass fails.
 */
#include "passes.h"

#include <stdlib.h>

enum {
    FOLD_ABS_LIMIT = 1 << 20, /* bytes */
    FOLD_GROWTH_LIMIT = 4,    /* result bytes / operand bytes */
};

static bool all_const(const Node *n)
{
    for (int i = 0; i < n->num_operands; i++)
        if (n->operands[i]->kind != VAL_CONST)
            return false;
    return true;
}

static bool is_first_use(const Node *n, int j)
{
    for (int i = 0; i < j; i++)
        if (n->operands[i] == n->operands[j])
            return false;
    return true;
}

static bool too_big(const Node *n)
{
    int64_t in = 0, out = type_nbytes(&n->result->type);
    for (int j = 0; j < n->num_operands; j++)
        if (is_first_use(n, j))
            in += type_nbytes(&n->operands[j]->type);
    return out > FOLD_ABS_LIMIT && out > FOLD_GROWTH_LIMIT * in;
}

/* Runs N alone: a one-node graph whose inputs are N's constant operands
 * (under their own names, each once) and whose output is N's result.  The
 * interpreter is the single definition of every op's arithmetic; this pass
 * does not re-implement any of it.  Returns a malloc'd buffer or NULL after
 * the interpreter reported an error. */
static void *evaluate(const Graph *g, const Node *n)
{
    Graph *t = graph_new(g->name);
    Value **ops = xmalloc((size_t)n->num_operands * sizeof *ops);
    for (int j = 0; j < n->num_operands; j++) {
        Value *v = n->operands[j];
        ops[j] = NULL;
        for (int i = 0; i < j && !ops[j]; i++)
            if (n->operands[i] == v)
                ops[j] = ops[i];
        if (!ops[j])
            ops[j] = graph_add_const(t, v->name, v->type, v->data);
    }
    Node *m = graph_add_node(t, n->op, ops, n->num_operands, n->result->name, n->result->type);
    /* Attributes are only read while T lives, so they may stay in G's arena. */
    m->num_attrs = n->num_attrs;
    m->attrs = n->attrs;
    m->loc = n->loc;
    graph_add_output(t, m->result);
    free(ops);

    int64_t nbytes = type_nbytes(&n->result->type);
    void *out = xmalloc((size_t)(nbytes > 0 ? nbytes : 1));
    void *outs[1] = {out};
    if (interp_run(t, NULL, outs) != 0) {
        free(out);
        out = NULL;
    }
    graph_free(t);
    return out;
}

bool fold_constants(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    Rewrite rw;
    rewrite_begin(&rw, g);
    bool ok = true;
    for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
        Node *n = rw.old[rw.pos];
        if (!ok || !all_const(n) || n->op == OP_DEQUANTIZE || too_big(n)) {
            rewrite_keep(&rw, n);
            continue;
        }
        void *data = evaluate(g, n);
        if (!data) {
            ok = false;
            rewrite_keep(&rw, n);
            continue;
        }
        /* The constant is added under the node's name while the node's
         * result still exists; that value is killed just below. */
        Value *y = n->result;
        Value *c = graph_add_const(g, y->name, y->type, data);
        free(data);
        c->loc = y->loc;
        rewrite_replace_uses(&rw, y, c);
        rewrite_kill(&rw, y);
        for (int j = 0; j < n->num_operands; j++)
            rewrite_kill_if_unused(&rw, n->operands[j]);
    }
    rewrite_finish(&rw);
    return ok;
}
