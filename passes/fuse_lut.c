/* fuse_lut.c - a chain of elementwise ops on one i8 tensor becomes one lut.
 *
 * requires: nodes in topological order; a verified, quantized graph (runs
 *           after fuse-requantize: the folded parameters are what the
 *           interpreter evaluates)
 * guarantees: a node N whose result is i8 (per-tensor quantized or raw,
 *   as a lut's must be) and that, through a chain of elementwise nodes,
 *   depends on one i8 tensor X only -- each node of the chain reading
 *   one non-constant value of its own result's shape (no broadcast: every
 *   element depends on the element of X at the same place only), any
 *   number of times, and
 *   constants whose elements are all equal; no per-axis quantization; every
 *   value inside the chain read by the chain only and not a graph output --
 *   becomes `lut(X, T)`, when the chain has two or more nodes or N reads a
 *   constant (a lone unary op is a table in code generation already).  T
 *   is N's result for every possible byte of X, computed by the reference
 *   interpreter running the chain itself on a 256-element copy (constants
 *   as their one value), so the lut equals the unfused chain bit for bit
 *   by construction, whatever the ops' rounding modes.
 *   The pattern this is for: openWakeWord's embedding model computes
 *   LeakyReLU as max(lut(x), c), which becomes one lut of x.  The chain's
 *   other nodes are left for dce.
 * invalidates: nothing (N is rewritten in place; a constant is added)
 */
#include "passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CHAIN = 16 };

static bool per_tensor(const TensorType *t) { return !t->quant || t->quant->count == 1; }

/* Whether constant C holds one value in every element. */
static bool uniform(const Value *c)
{
    int64_t cnt = type_numel(&c->type);
    size_t es = (size_t)dtype_traits[c->type.dtype].size;
    const char *d = c->data;
    if (cnt < 1 || !d || !per_tensor(&c->type))
        return false;
    for (int64_t i = 1; i < cnt; i++)
        if (memcmp(d, d + (size_t)i * es, es) != 0)
            return false;
    return true;
}

static bool is_table(const Node *n, int i);

/* The one non-constant value every non-constant operand of N is, if N can
 * be a link of a chain; NULL otherwise. */
static Value *link_source(const Node *n)
{
    if (!(op_info[n->op].flags & OPF_ELEMENTWISE) || !per_tensor(&n->result->type))
        return NULL;
    Value *src = NULL;
    for (int i = 0; i < n->num_operands; i++) {
        Value *v = n->operands[i];
        if (is_table(n, i))
            continue;
        if (v->kind == VAL_CONST) {
            if (!uniform(v))
                return NULL;
            continue;
        }
        if (src && v != src)
            return NULL;
        src = v;
    }
    if (!src || !shape_equal(&src->type, &n->result->type) || !per_tensor(&src->type))
        return NULL;
    return src;
}

/* Whether operand I of N is a lut's constant table (read as a whole,
 * not broadcast). */
static bool is_table(const Node *n, int i)
{
    return n->op == OP_LUT && i == 1 && n->operands[1]->kind == VAL_CONST;
}

static int reads(const Node *n, const Value *v)
{
    int k = 0;
    for (int i = 0; i < n->num_operands; i++)
        k += n->operands[i] == v;
    return k;
}

/* TensorType T with dims [N]. */
static TensorType flat(const TensorType *t, int64_t n)
{
    TensorType r = *t;
    r.rank = 1;
    r.dims[0] = n;
    return r;
}

/* Runs CHAIN[len-1] ... CHAIN[0] (CHAIN[0] is the last node) in the
 * interpreter on every byte of X; writes the 256 results to TABLE
 * (entry v is for the input byte v - 128).  False after an error. */
static bool eval_chain(Node *const *chain, int len, const Value *x, void *table)
{
    Graph *tg = graph_new("fuse_lut");
    Value *cur = graph_add_input(tg, "x", flat(&x->type, 256));
    for (int k = len - 1; k >= 0; k--) {
        const Node *n = chain[k];
        Value *ops[8];
        for (int i = 0; i < n->num_operands; i++) {
            const Value *v = n->operands[i];
            if (v->kind == VAL_CONST) {
                char name[32];
                snprintf(name, sizeof name, "c%d_%d", k, i);
                ops[i] = graph_add_const(tg, name, is_table(n, i) ? v->type : flat(&v->type, 1), v->data);
            } else {
                ops[i] = cur;
            }
        }
        Node *tn = graph_add_node(tg, n->op, ops, n->num_operands, n->result->name, flat(&n->result->type, 256));
        tn->num_attrs = n->num_attrs;
        tn->attrs = n->attrs;
        tn->loc = n->loc;
        cur = tn->result;
    }
    graph_add_output(tg, cur);
    int8_t in[256];
    for (int v = 0; v < 256; v++)
        in[v] = (int8_t)(v - 128);
    const void *ins[1] = {in};
    void *outs[1] = {table};
    int rc = interp_run(tg, ins, outs);
    graph_free(tg);
    return rc == 0;
}

bool fuse_lut(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    int *uses = graph_use_counts(g);
    bool ok = true;
    for (int i = 0; i < g->nodes.len && ok; i++) {
        Node *n = g->nodes.data[i];
        if (n->result->type.dtype != DT_I8) /* a lut's result (ir/verify.c) */
            continue;
        Value *src = link_source(n);
        if (!src)
            continue;
        /* Walk up while the source is the result of another link read by
         * the chain only; ROOT is the earliest i8 value on the way. */
        Node *chain[MAX_CHAIN];
        int len = 0, root_len = 0;
        Value *root = NULL;
        chain[len++] = n;
        if (src->type.dtype == DT_I8)
            root = src, root_len = len;
        while (len < MAX_CHAIN && src->kind == VAL_NODE && uses[src->id] == reads(chain[len - 1], src)) {
            Value *up = link_source(src->def);
            if (!up)
                break;
            chain[len++] = src->def;
            src = up;
            if (src->type.dtype == DT_I8)
                root = src, root_len = len;
        }
        if (!root)
            continue;
        bool reads_const = false;
        for (int j = 0; j < n->num_operands; j++)
            reads_const |= n->operands[j]->kind == VAL_CONST && !is_table(n, j);
        if (root_len < 2 && !reads_const)
            continue;
        const TensorType *yt = &n->result->type;
        size_t es = (size_t)dtype_traits[yt->dtype].size;
        void *table = xmalloc(256 * es);
        if (!eval_chain(chain, root_len, root, table)) {
            free(table);
            ok = false;
            break;
        }
        char name[512];
        snprintf(name, sizeof name, "%s.lut", n->result->name);
        for (int k = 2; graph_find_value(g, name); k++)
            snprintf(name, sizeof name, "%s.lut%d", n->result->name, k);
        TensorType tt = {.dtype = yt->dtype, .rank = 1, .dims = {256}};
        Value *tv = graph_add_const(g, arena_strdup(&g->arena, name), tt, table);
        free(table);
        for (int j = 0; j < n->num_operands; j++)
            uses[n->operands[j]->id]--;
        Value **ops = arena_alloc(&g->arena, 2 * sizeof *ops);
        ops[0] = root;
        ops[1] = tv;
        n->op = OP_LUT;
        n->operands = ops;
        n->num_operands = 2;
        n->num_attrs = 0;
        n->attrs = NULL;
        uses = xrealloc(uses, ((size_t)g->values.len + 1) * sizeof *uses);
        uses[tv->id] = 1;
        uses[root->id]++;
    }
    free(uses);
    return ok;
}
