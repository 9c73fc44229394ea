/* rewrite.c - one-sweep graph editing shared by the rewriting passes.
 *
 * Not a pass: the small toolkit fold-batchnorm, fold-constants and
 * fuse-activation use to replace nodes without breaking the graph's
 * invariants (SSA, topological order, dense value ids, outputs pointing at
 * defined values).  The protocol is described in passes.h at Rewrite.
 */
#include "rewrite.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void rewrite_begin(Rewrite *rw, Graph *g)
{
    *rw = (Rewrite){.g = g, .nold = g->nodes.len};
    /* A copy, not the PtrVec's array: builders called during the sweep
     * (graph_add_node) push onto g->nodes and may move its storage. */
    if (g->nodes.len)
        rw->old = arena_memdup(&g->arena, g->nodes.data, (size_t)g->nodes.len * sizeof *rw->old);
}

void rewrite_keep(Rewrite *rw, Node *n) { ptrvec_push(&rw->g->arena, &rw->out, n); }

static int uses_in(Node *const *nodes, int from, int to, const Value *v)
{
    int count = 0;
    for (int i = from; i < to; i++)
        for (int j = 0; j < nodes[i]->num_operands; j++)
            count += nodes[i]->operands[j] == v;
    return count;
}

int rewrite_count_uses(const Rewrite *rw, const Value *v)
{
    int count = uses_in((Node *const *)rw->out.data, 0, rw->out.len, v) +
                uses_in(rw->old, rw->pos + 1, rw->nold, v);
    for (int i = 0; i < rw->g->outputs.len; i++)
        count += rw->g->outputs.data[i] == v;
    return count;
}

void rewrite_replace_uses(Rewrite *rw, const Value *from, Value *to)
{
    /* FROM is defined at or before the visited node, so only later nodes
     * and the outputs can read it. */
    for (int i = rw->pos + 1; i < rw->nold; i++) {
        Node *n = rw->old[i];
        for (int j = 0; j < n->num_operands; j++)
            if (n->operands[j] == from)
                n->operands[j] = to;
    }
    for (int i = 0; i < rw->g->outputs.len; i++)
        if (rw->g->outputs.data[i] == from)
            rw->g->outputs.data[i] = to;
}

void rewrite_kill(Rewrite *rw, Value *v) { ptrvec_push(&rw->g->arena, &rw->dead, v); }

void rewrite_take_over(Rewrite *rw, Value *y, Value *x)
{
    graph_rename_value(rw->g, x, y->name);
    x->has_range = y->has_range;
    x->range_lo = y->range_lo;
    x->range_hi = y->range_hi;
    rewrite_replace_uses(rw, y, x);
    rewrite_kill(rw, y);
}

void rewrite_substitute(Rewrite *rw, Node *old, Node *n)
{
    Value *y = old->result;
    n->loc = old->loc;
    n->result->loc = y->loc;
    n->result->has_range = y->has_range;
    n->result->range_lo = y->range_lo;
    n->result->range_hi = y->range_hi;
    rewrite_keep(rw, n);
    rewrite_replace_uses(rw, y, n->result);
    rewrite_kill(rw, y);
}

void rewrite_kill_if_unused(Rewrite *rw, Value *v)
{
    if (v->kind != VAL_CONST || rewrite_count_uses(rw, v) != 0)
        return;
    for (int i = 0; i < rw->dead.len; i++)
        if (rw->dead.data[i] == v)
            return;
    rewrite_kill(rw, v);
}

const char *rewrite_unique_name(Graph *g, const char *base, const char *suffix)
{
    size_t len = strlen(base) + strlen(suffix) + 24;
    char *name = arena_alloc(&g->arena, len);
    snprintf(name, len, "%s%s", base, suffix);
    for (int k = 1; graph_find_value(g, name); k++)
        snprintf(name, len, "%s%s.%d", base, suffix, k);
    return name;
}

void rewrite_finish(Rewrite *rw)
{
    Graph *g = rw->g;
    bool *dead = xcalloc((size_t)g->values.len + 1, sizeof *dead);
    for (int i = 0; i < rw->dead.len; i++)
        dead[((Value *)rw->dead.data[i])->id] = true;

    PtrVec values = {0}, consts = {0};
    for (int i = 0; i < g->values.len; i++)
        if (!dead[i])
            ptrvec_push(&g->arena, &values, g->values.data[i]);
    for (int i = 0; i < g->consts.len; i++)
        if (!dead[((Value *)g->consts.data[i])->id])
            ptrvec_push(&g->arena, &consts, g->consts.data[i]);
    free(dead);

    g->nodes = rw->out;
    g->consts = consts;
    for (int i = 0; i < g->nodes.len; i++)
        ((Node *)g->nodes.data[i])->id = i;
    graph_set_values(g, values);
}

/* ---------------------------------------------------------------- copies of a node */

static Attr *copy_attrs(Graph *g, const Node *n)
{
    return n->num_attrs ? arena_memdup(&g->arena, n->attrs, (size_t)n->num_attrs * sizeof *n->attrs) : NULL;
}

Node *node_clone(Graph *g, const Node *n)
{
    Node *c = arena_memdup(&g->arena, n, sizeof *n);
    c->operands = arena_memdup(&g->arena, n->operands, (size_t)n->num_operands * sizeof *n->operands);
    c->attrs = copy_attrs(g, n);
    return c;
}

Node *graph_clone_node(Graph *g, const Node *n)
{
    Value **ops = arena_alloc(&g->arena, (size_t)n->num_operands * sizeof *ops);
    for (int i = 0; i < n->num_operands; i++) {
        const Value *v = n->operands[i];
        ops[i] = graph_find_value(g, v->name);
        if (!ops[i])
            ops[i] = v->kind == VAL_CONST ? graph_add_const(g, v->name, v->type, v->data)
                                          : graph_add_input(g, v->name, v->type);
    }
    Node *m = graph_add_node(g, n->op, ops, n->num_operands, n->result->name, n->result->type);
    m->num_attrs = n->num_attrs;
    m->attrs = copy_attrs(g, n);
    m->loc = n->loc;
    return m;
}

/* ---------------------------------------------------------------- pattern helpers */

GraphUses graph_uses(const Graph *g)
{
    GraphUses u = {.count = graph_use_counts(g), .reader = xcalloc((size_t)g->values.len + 1, sizeof *u.reader)};
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        for (int j = 0; j < n->num_operands; j++)
            u.reader[n->operands[j]->id] = n;
    }
    return u;
}

void graph_uses_free(GraphUses *u)
{
    free(u->count);
    free(u->reader);
}

Node *sole_reader(const GraphUses *u, const Value *v)
{
    return u->count[v->id] == 1 ? u->reader[v->id] : NULL;
}

bool const_scalar_f32(const Value *v, float *out)
{
    if (v->kind != VAL_CONST || v->type.dtype != DT_F32 || type_numel(&v->type) != 1)
        return false;
    memcpy(out, v->data, sizeof *out);
    return true;
}

bool node_has_clamp(const Node *n)
{
    return node_attr(n, ATTR_ACT_MIN) != NULL || node_attr(n, ATTR_ACT_MAX) != NULL;
}

bool is_float_node(const Node *n, OpId op)
{
    return n && n->op == op && n->result->type.dtype == DT_F32 && !node_has_clamp(n);
}

/* ---------------------------------------------------------------- chain fusion */

void chain_add_node(Chain *c, Node *n)
{
    assert(c->num_nodes < (int)(sizeof c->nodes / sizeof c->nodes[0]));
    c->nodes[c->num_nodes++] = n;
}

void chain_add_const(Chain *c, Value *v)
{
    assert(c->num_consts < (int)(sizeof c->consts / sizeof c->consts[0]));
    c->consts[c->num_consts++] = v;
}

void fuse_chains(Graph *g, const ChainFusion *f)
{
    GraphUses u = graph_uses(g);
    int nn = g->nodes.len;
    char *at = xcalloc((size_t)nn + 1, f->match_size); /* matches by node id of the chain's last node */
    void *m = xcalloc(1, f->match_size);
    bool *drop = xcalloc((size_t)nn + 1, sizeof *drop);
    int found = 0;
    for (int i = 0; i < nn; i++)
        ((Node *)g->nodes.data[i])->id = i; /* dense already; made sure of, as the tables index by it */
    for (int i = 0; i < nn; i++) {
        memset(m, 0, f->match_size);
        if (!f->match(&u, g->nodes.data[i], m))
            continue;
        const Chain *c = m;
        for (int j = 0; j < c->num_nodes; j++)
            if (c->nodes[j] != c->last)
                drop[c->nodes[j]->id] = true;
        memcpy(at + (size_t)c->last->id * f->match_size, m, f->match_size);
        found++;
    }
    graph_uses_free(&u);
    if (found) {
        Rewrite rw;
        rewrite_begin(&rw, g);
        for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
            Node *n = rw.old[rw.pos];
            void *mt = at + (size_t)n->id * f->match_size;
            const Chain *c = mt;
            if (drop[n->id]) {
                rewrite_kill(&rw, n->result);
            } else if (!c->last) {
                rewrite_keep(&rw, n);
            } else {
                /* Named like the node it replaces, whose result dies. */
                rewrite_substitute(&rw, n, f->build(g, n, mt));
                for (int j = 0; j < c->num_consts; j++)
                    rewrite_kill_if_unused(&rw, c->consts[j]);
            }
        }
        rewrite_finish(&rw);
    }
    free(at);
    free(m);
    free(drop);
}
