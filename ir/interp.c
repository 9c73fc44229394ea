/* interp.c - the reference interpreter: buffers, lifetimes and dispatch.
 *
 * interp_run() executes a verified graph node by node in g->nodes order.
 * It is the oracle every pass and every generated kernel is checked
 * against, so it favours plain loops and exact arithmetic over speed; the
 * op semantics are in docs/ir-semantics.md and the op bodies in
 * interp_nn.c, interp_elem.c and interp_layout.c.
 *
 * Memory: graph inputs and constants are read in place; every node result
 * gets a malloc'd buffer that is freed right after the node that uses it
 * last (computed once up front).  Outputs are copied out at the end.
 */
#include "interp.h"
#include "requant.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int interp_fail(const Node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(n->loc, "node '%%%s' (%s): %s", n->result ? n->result->name : "?",
               op_info[n->op].name, msg);
    return -1;
}

/* ------------------------------------------------------------ shared helpers */

void qindex_init(QIndex *qi, const TensorType *t)
{
    qi->q = t->quant;
    qi->inner = 1;
    qi->dim = 1;
    if (!t->quant || t->quant->count == 1 || t->quant->axis < 0 || t->quant->axis >= t->rank)
        return;
    for (int d = t->quant->axis + 1; d < t->rank; d++)
        qi->inner *= t->dims[d];
    qi->dim = t->dims[t->quant->axis];
}

bool broadcast_offsets(const TensorType *out, const TensorType *in, int64_t *offs)
{
    int r = out->rank;
    if (in->rank > r)
        return false;
    int64_t stride[QNN_MAX_RANK] = {0};
    int64_t s = 1;
    for (int d = in->rank - 1; d >= 0; d--) {
        int od = d + (r - in->rank);
        if (in->dims[d] != out->dims[od] && in->dims[d] != 1)
            return false;
        stride[od] = in->dims[d] == 1 ? 0 : s;
        s *= in->dims[d];
    }
    int64_t n = type_numel(out);
    int64_t idx[QNN_MAX_RANK] = {0};
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        offs[i] = off;
        /* Odometer increment, keeping OFF in step. */
        for (int d = r - 1; d >= 0; d--) {
            idx[d]++;
            off += stride[d];
            if (idx[d] < out->dims[d])
                break;
            off -= stride[d] * idx[d];
            idx[d] = 0;
        }
    }
    return true;
}

/* ------------------------------------------------------------ dispatch */

static int exec_node(const Node *n, const void *const in[], void *out)
{
    static InterpFn *const run[OP_COUNT] = {
#define OP(id, nm, mino, maxo, fl, at, check, interp) [OP_##id] = interp,
#include "ops.def"
#undef OP
    };
    return run[n->op](n, in, out);
}

static int run(const Graph *g, const void *const inputs[], void *const outputs[], InterpObserver observe,
               InterpEditor edit, void *ctx, const void *const given[]);

int interp_run(const Graph *g, const void *const inputs[], void *const outputs[])
{
    return interp_run_observed(g, inputs, outputs, NULL, NULL);
}

int interp_run_observed(const Graph *g, const void *const inputs[], void *const outputs[],
                        InterpObserver observe, void *ctx)
{
    return run(g, inputs, outputs, observe, NULL, ctx, NULL);
}

int interp_run_edited(const Graph *g, const void *const inputs[], void *const outputs[],
                      InterpEditor edit, void *ctx)
{
    return run(g, inputs, outputs, NULL, edit, ctx, NULL);
}

int interp_run_given(const Graph *g, const void *const inputs[], void *const outputs[], const void *const given[],
                     InterpObserver observe, void *ctx)
{
    return run(g, inputs, outputs, observe, NULL, ctx, given);
}

/* The interpreter: OBSERVE sees, or EDIT may change, each tensor; a node
 * whose result GIVEN holds (by value id) is not run, nor one only such
 * nodes need. */
static int run(const Graph *g, const void *const inputs[], void *const outputs[], InterpObserver observe,
               InterpEditor edit, void *ctx, const void *const given[])
{
    int nv = g->values.len, nn = g->nodes.len;
    const void **buf = xcalloc((size_t)nv + 1, sizeof *buf);
    bool *owned = xcalloc((size_t)nv + 1, sizeof *owned);
    int *last_use = xmalloc(((size_t)nv + 1) * sizeof *last_use);
    /* Without GIVEN every node runs; with it, the nodes an output needs
     * through nodes not given (found backwards: nodes are in order). */
    bool *skip = xcalloc((size_t)nn + 1, sizeof *skip);
    if (given) {
        bool *need = xcalloc((size_t)nv + 1, sizeof *need);
        for (int i = 0; i < g->outputs.len; i++)
            need[((Value *)g->outputs.data[i])->id] = true;
        for (int k = nn - 1; k >= 0; k--) {
            Node *n = g->nodes.data[k];
            skip[k] = !need[n->result->id] || given[n->result->id];
            for (int j = 0; !skip[k] && j < n->num_operands; j++)
                if (n->operands[j])
                    need[n->operands[j]->id] = true;
        }
        free(need);
    }
    const void **in = NULL;
    int in_cap = 0;
    int rc = -1;

    for (int i = 0; i < nv; i++)
        last_use[i] = -1;
    for (int i = 0; i < g->inputs.len; i++) {
        Value *v = g->inputs.data[i];
        if (!inputs || !inputs[i]) {
            diag_error(v->loc, "interp: no data for input '%%%s'", v->name);
            goto done;
        }
        buf[v->id] = inputs[i];
        if (observe)
            observe(ctx, v, inputs[i]);
    }
    for (int i = 0; i < g->consts.len; i++) {
        Value *v = g->consts.data[i];
        buf[v->id] = v->data;
    }
    /* Last use of every value; outputs live to the end (index nn). */
    for (int k = 0; k < nn; k++) {
        Node *n = g->nodes.data[k];
        if (given && given[n->result->id])
            buf[n->result->id] = given[n->result->id];
        for (int j = 0; !skip[k] && j < n->num_operands; j++)
            if (n->operands[j])
                last_use[n->operands[j]->id] = k;
    }
    for (int i = 0; i < g->outputs.len; i++)
        last_use[((Value *)g->outputs.data[i])->id] = nn;

    for (int k = 0; k < nn; k++) {
        Node *n = g->nodes.data[k];
        if (skip[k]) {
            if (observe && buf[n->result->id])
                observe(ctx, n->result, buf[n->result->id]);
            continue;
        }
        if (n->num_operands > in_cap) {
            in_cap = n->num_operands;
            in = xrealloc(in, (size_t)in_cap * sizeof *in);
        }
        for (int j = 0; j < n->num_operands; j++) {
            Value *v = n->operands[j];
            in[j] = v ? buf[v->id] : NULL;
            if (v && !in[j]) {
                interp_fail(n, "operand '%%%s' has no value (used before its definition?)",
                            v->name);
                goto done;
            }
        }
        int64_t nbytes = type_nbytes(&n->result->type);
        if (nbytes < 0) {
            interp_fail(n, "result size overflows");
            goto done;
        }
        void *out = xcalloc(1, (size_t)(nbytes > 0 ? nbytes : 1));
        buf[n->result->id] = out;
        owned[n->result->id] = true;
        if (exec_node(n, (const void *const *)in, out) != 0)
            goto done;
        if (observe)
            observe(ctx, n->result, out);
        if (edit)
            edit(ctx, n->result, out);
        /* Free operands whose last reader was this node, and a result
         * nobody reads. */
        for (int j = 0; j < n->num_operands; j++) {
            Value *v = n->operands[j];
            if (v && owned[v->id] && last_use[v->id] == k) {
                free((void *)buf[v->id]);
                buf[v->id] = NULL;
                owned[v->id] = false;
            }
        }
        if (last_use[n->result->id] < k) {
            free(out);
            buf[n->result->id] = NULL;
            owned[n->result->id] = false;
        }
    }
    for (int i = 0; i < g->outputs.len; i++) {
        Value *v = g->outputs.data[i];
        int64_t nbytes = type_nbytes(&v->type);
        if (!buf[v->id] || nbytes < 0) {
            diag_error(v->loc, "interp: output '%%%s' was never computed", v->name);
            goto done;
        }
        if (nbytes > 0)
            memcpy(outputs[i], buf[v->id], (size_t)nbytes);
    }
    rc = 0;
done:
    for (int i = 0; i < nv; i++)
        if (owned[i])
            free((void *)buf[i]);
    free(in);
    free(skip);
    free(last_use);
    free(owned);
    free(buf);
    return rc;
}
