/* dce.c - dead code elimination.
 *
 * requires: nodes in topological order
 * guarantees: every remaining node and constant is reachable backwards from
 *             an output; graph inputs are kept (they are the signature);
 *             value ids are renumbered densely
 */
#include "passes.h"

#include <stdlib.h>

bool dce(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    bool *live = xcalloc((size_t)g->values.len, sizeof *live);
    for (int i = 0; i < g->outputs.len; i++)
        live[((Value *)g->outputs.data[i])->id] = true;
    /* One backward sweep suffices: in topological order every user of a
     * value comes after its definition. */
    for (int i = g->nodes.len - 1; i >= 0; i--) {
        Node *n = g->nodes.data[i];
        if (!live[n->result->id])
            continue;
        for (int j = 0; j < n->num_operands; j++)
            live[n->operands[j]->id] = true;
    }

    PtrVec nodes = {0}, consts = {0}, values = {0};
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        if (live[n->result->id])
            ptrvec_push(&g->arena, &nodes, n);
    }
    for (int i = 0; i < g->consts.len; i++) {
        Value *v = g->consts.data[i];
        if (live[v->id])
            ptrvec_push(&g->arena, &consts, v);
    }
    for (int i = 0; i < g->values.len; i++) {
        Value *v = g->values.data[i];
        if (live[v->id] || v->kind == VAL_INPUT)
            ptrvec_push(&g->arena, &values, v);
    }
    free(live);
    for (int i = 0; i < nodes.len; i++)
        ((Node *)nodes.data[i])->id = i;
    g->nodes = nodes;
    g->consts = consts;
    graph_set_values(g, values);
    return true;
}
