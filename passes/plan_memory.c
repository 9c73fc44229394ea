/* plan_memory.c - static memory planning: one scratch arena, offsets by
 * liveness.
 *
 * requires: a verified graph, nodes in topological (execution) order
 * guarantees: every node result that is not a graph output has an offset
 *   in scratch such that no two values live at the same node overlap; the
 *   arena size is exact (max offset + size)
 * invalidates: nothing (the plan is a side structure, not part of the IR)
 *
 * Storage is shared in two cases, recorded as root[v] != v:
 *   - reshape is an alias: its result is its operand's bytes;
 *   - an elementwise op whose operand has the result's element size and
 *     shape, lives in scratch and dies at this node runs in place (each
 *     output element is written after the input element it reads; the
 *     generated loops guarantee that).
 * The planner then works on roots: a root's live interval runs from its
 * defining node to the last read of any value sharing it.  Roots are placed
 * largest first (ties: earlier definition, then lower id, for determinism),
 * each at the lowest aligned offset that does not overlap a placed root
 * with an intersecting interval (first fit).  The lower bound reported
 * beside the size is the largest total of bytes live at one node: no
 * placement can do better, so the gap says how much the greedy heuristic
 * loses (alignment padding included in that loss).
 */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

/* Ops that may write their result over their first operand element by
 * element.  Binary ops qualify too when that operand has the result's
 * shape (no broadcasting on it). */
static bool op_in_place(OpId op)
{
    switch (op) {
    case OP_RELU: case OP_CLIP: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH:
    case OP_HARD_SWISH: case OP_QUANTIZE: case OP_DEQUANTIZE: case OP_REQUANTIZE: case OP_LUT:
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
    case OP_EXP: case OP_LOG: case OP_SQRT: case OP_RECIPROCAL: case OP_ERF: case OP_GELU:
    case OP_ABS: case OP_NEG: case OP_ELU:
    case OP_POW: case OP_MAX: case OP_MIN: case OP_PRELU: case OP_NOT:
        return true;
    default:
        return false;
    }
}

typedef struct Root {
    int id;
    int64_t size;
    int start, end; /* node indices, inclusive */
} Root;

static int cmp_root(const void *pa, const void *pb)
{
    const Root *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

MemoryPlan plan_memory(const Graph *g, int align)
{
    int nv = g->values.len, nn = g->nodes.len;
    MemoryPlan p = {.num_values = nv, .align = align > 0 ? align : 1};
    p.offset = xmalloc(((size_t)nv + 1) * sizeof *p.offset);
    p.root = xmalloc(((size_t)nv + 1) * sizeof *p.root);
    bool *is_output = xcalloc((size_t)nv + 1, sizeof *is_output);
    int *last_use = xmalloc(((size_t)nv + 1) * sizeof *last_use);
    int *def_at = xmalloc(((size_t)nv + 1) * sizeof *def_at);
    for (int i = 0; i < nv; i++) {
        p.offset[i] = -1;
        p.root[i] = i;
        last_use[i] = -1;
        def_at[i] = -1;
    }
    for (int i = 0; i < g->outputs.len; i++)
        is_output[((Value *)g->outputs.data[i])->id] = true;
    for (int k = 0; k < nn; k++) {
        Node *n = g->nodes.data[k];
        def_at[n->result->id] = k;
        for (int j = 0; j < n->num_operands; j++)
            if (n->operands[j])
                last_use[n->operands[j]->id] = k;
    }

    /* Aliases, in execution order so that a chain resolves to one root.
     * The last use of a root is the latest of its aliases' last uses. */
    int *root_end = xmalloc(((size_t)nv + 1) * sizeof *root_end);
    for (int i = 0; i < nv; i++)
        root_end[i] = last_use[i];
    for (int k = 0; k < nn; k++) {
        Node *n = g->nodes.data[k];
        Value *r = n->result;
        if (is_output[r->id] || n->num_operands < 1 || !n->operands[0])
            continue;
        Value *x = n->operands[0];
        int rx = p.root[x->id];
        Value *xr = g->values.data[rx];
        if (n->op == OP_RESHAPE) {
            /* Reading through the alias is fine whatever x is (input,
             * constant, output buffer, scratch). */
            p.root[r->id] = rx;
            if (root_end[r->id] > root_end[rx])
                root_end[rx] = root_end[r->id];
            continue;
        }
        if (!op_in_place(n->op) || xr->kind != VAL_NODE || is_output[rx])
            continue;
        if (dtype_traits[x->type.dtype].size != dtype_traits[r->type.dtype].size || !shape_equal(&x->type, &r->type))
            continue;
        /* The operand (and everything sharing its bytes) must die here,
         * and no other operand of this node may share them either. */
        bool ok = root_end[rx] == k;
        for (int j = 1; j < n->num_operands && ok; j++)
            if (n->operands[j] && p.root[n->operands[j]->id] == rx)
                ok = false;
        if (!ok)
            continue;
        p.root[r->id] = rx;
        root_end[rx] = root_end[r->id] > k ? root_end[r->id] : k;
    }

    Root *roots = xcalloc((size_t)nv + 1, sizeof *roots);
    int nr = 0;
    for (int k = 0; k < nn; k++) {
        Value *r = ((Node *)g->nodes.data[k])->result;
        if (p.root[r->id] != r->id || is_output[r->id])
            continue;
        int64_t size = type_nbytes(&r->type);
        roots[nr].id = r->id;
        roots[nr].size = size > 0 ? size : 0;
        roots[nr].start = k;
        roots[nr].end = root_end[r->id] > k ? root_end[r->id] : k;
        nr++;
    }

    /* Lower bound: the most bytes live at any one node. */
    for (int k = 0; k < nn; k++) {
        int64_t live = 0;
        for (int i = 0; i < nr; i++)
            if (roots[i].start <= k && k <= roots[i].end)
                live += roots[i].size;
        if (live > p.lower_bound)
            p.lower_bound = live;
    }

    qsort(roots, (size_t)nr, sizeof *roots, cmp_root);
    /* First fit: try offset 0 and the aligned end of every placed,
     * interval-overlapping root, lowest first. */
    int64_t *cand = xmalloc(((size_t)nr + 1) * sizeof *cand);
    for (int i = 0; i < nr; i++) {
        Root *r = &roots[i];
        int nc = 0;
        cand[nc++] = 0;
        for (int j = 0; j < i; j++)
            if (roots[j].start <= r->end && r->start <= roots[j].end && roots[j].size > 0)
                cand[nc++] = align_up(p.offset[roots[j].id] + roots[j].size, p.align);
        int64_t best = -1;
        for (int c = 0; c < nc; c++) {
            int64_t off = cand[c];
            if (best >= 0 && off >= best)
                continue;
            bool fits = true;
            for (int j = 0; j < i && fits; j++) {
                const Root *o = &roots[j];
                if (o->start > r->end || r->start > o->end || o->size == 0 || r->size == 0)
                    continue;
                int64_t oo = p.offset[o->id];
                if (off < oo + o->size && oo < off + r->size)
                    fits = false;
            }
            if (fits)
                best = off;
        }
        p.offset[r->id] = best;
        if (best + r->size > p.scratch_size)
            p.scratch_size = best + r->size;
    }
    /* Aliases of scratch roots share the root's offset. */
    for (int i = 0; i < nv; i++)
        if (p.root[i] != i)
            p.offset[i] = p.offset[p.root[i]];

    free(cand);
    free(roots);
    free(root_end);
    free(def_at);
    free(last_use);
    free(is_output);
    return p;
}

void memory_plan_free(MemoryPlan *p)
{
    free(p->offset);
    free(p->root);
    memset(p, 0, sizeof *p);
}

void memory_plan_print(FILE *f, const Graph *g, const MemoryPlan *p)
{
    for (int k = 0; k < g->nodes.len; k++) {
        const Value *v = ((Node *)g->nodes.data[k])->result;
        if (p->offset[v->id] < 0)
            continue;
        fprintf(f, "%%%s offset=%lld size=%lld", v->name, (long long)p->offset[v->id],
                (long long)type_nbytes(&v->type));
        if (p->root[v->id] != v->id)
            fprintf(f, " alias=%%%s", ((Value *)g->values.data[p->root[v->id]])->name);
        fputc('\n', f);
    }
    fprintf(f, "scratch=%lld lower_bound=%lld align=%d\n", (long long)p->scratch_size,
            (long long)p->lower_bound, p->align);
}

/* As a pass it only checks that a plan can be made; the driver computes
 * the plan it uses after the last graph pass. */
bool plan_memory_pass(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    MemoryPlan p = plan_memory(g, 16);
    memory_plan_free(&p);
    return true;
}
