/* plan_memory.c - static memory planning: one scratch arena, offsets by
 * liveness.
 *
 * requires: a verified graph, nodes in topological (execution) order
 * guarantees: every node result that is not a graph output has an offset
 *   in scratch such that no two values live at the same node overlap; the
 *   arena size is exact (max offset + size)
 * invalidates: nothing (the plan is a side structure, not part of the IR)
 *
 * Storage is shared in four cases, recorded as root[v] != v (v's bytes
 * start at its root's offset plus a delta):
 *   - reshape is an alias: its result is its operand's bytes;
 *   - an elementwise op whose operand has the result's element size and
 *     shape, lives in scratch and dies at this node runs in place (each
 *     output element is written after the input element it reads; the
 *     generated loops guarantee that);
 *   - a slice that is one contiguous run of its scratch operand (every dim
 *     before the sliced one is 1, every dim after it whole, steps 1) is a
 *     view into it: no copy (codegen skips it), the operand stays live
 *     while the view is;
 *   - a concat along such a dim whose operands are scratch tensors of its
 *     quantization dying at the concat is written in place: each operand
 *     is computed straight into its slice of the result (the stripes of
 *     the stripe pass; codegen skips the copy).
 *   - a depthwise conv2d whose input lives in scratch and dies there may
 *     be computed over its own input through a row buffer (below), when
 *     that lowers the arena's size.
 * Views at offsets that are not a multiple of the alignment are copies
 * (kernels may rely on aligned buffers).
 * The planner then works on roots: a root's live interval runs from the
 * first definition of any value sharing it to the last read of any.  Roots are placed
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

/* ------------------------------------------------------------ in-place depthwise
 *
 * Y = depthwise_conv(X), NHWC with N = 1 and one byte an element: input row
 * i is bytes [i*IR, (i+1)*IR) of X's storage (IR = W*C), output row y the
 * bytes [y*OR, (y+1)*OR) of the same storage (OR = OW*C), OH*OR <= H*IR.
 * Output rows are computed in order, y = 0 .. OH-1, each into slot
 * y mod SLOTS of a ring buffer, reading X only; after row c is computed,
 * rows are copied from the ring to their place in order while
 *
 *     y' <= c  and  (y'+1)*OR <= need(c)*IR,   need(c) = max(0, (c+1)*SH - PT)
 *
 * (written(c) rows in all; every row once c = OH-1).
 * Proof that no input byte is overwritten before its last read: output
 * row y reads input rows y*SH - PT + ky*DH >= y*SH - PT (ky >= 0), which
 * grows with y (SH >= 1); so once rows 0..c are computed, every later
 * read is of a row >= need(c), i.e. of bytes >= need(c)*IR.  A copy at
 * that point writes bytes < (y'+1)*OR <= need(c)*IR: only bytes of input
 * rows no later output row reads.  Rows 0..c themselves were computed
 * before (they are in the ring), and the ring is not X's storage.  After
 * the last row nothing reads X.  The ring holds the rows computed and not
 * yet copied, a contiguous run [written(c-1), c] at the moment row c is
 * computed; SLOTS is the longest such run, so y mod SLOTS never names a
 * slot still waiting.  E.g. 3x3, stride 1, pad 1, OR = IR: need(c) = c,
 * row c-1 goes back after row c is computed, two slots; stride 2, pad 1,
 * OR = IR/2: need(c) = 2c+1, each row goes back at once, one slot. */
/* Output rows whose window reaches into the padding: codegen emits the
 * kernel once for each of them (and once, in a loop, for the others). */
#define MAX_EDGE_ROWS 4

bool dw_in_place_geometry(const Node *n, DwInPlace *d)
{
    if (n->op != OP_CONV2D || n->num_operands < 2)
        return false;
    const Value *x = n->operands[0], *w = n->operands[1], *y = n->result;
    const TensorType *xt = &x->type, *wt = &w->type, *yt = &y->type;
    if (xt->rank != 4 || yt->rank != 4 || wt->rank != 4 || xt->dims[0] != 1 || yt->dims[0] != 1)
        return false;
    if ((xt->dtype != DT_I8 && xt->dtype != DT_U8) || (yt->dtype != DT_I8 && yt->dtype != DT_U8) || !yt->quant)
        return false;
    int64_t C = xt->dims[3];
    if (node_int(n, ATTR_GROUP, 1) != C || yt->dims[3] != C || wt->dims[0] != C || wt->dims[3] != 1)
        return false;
    for (int j = 1; j < n->num_operands; j++)
        if (n->operands[j] && n->operands[j]->kind != VAL_CONST)
            return false;
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t st[2], dl[2], pd[4];
    node_ints(n, ATTR_STRIDES, st, 2, one2);
    node_ints(n, ATTR_DILATIONS, dl, 2, one2);
    node_ints(n, ATTR_PADS, pd, 4, zero4);
    *d = (DwInPlace){
        .h = xt->dims[1], .oh = yt->dims[1], .in_row = xt->dims[2] * C, .row_bytes = yt->dims[2] * C,
        .kh = wt->dims[1], .sh = st[0], .dh = dl[0], .pt = pd[0], .pb = pd[2],
    };
    if (d->sh < 1 || d->dh < 1 || d->pt < 0 || d->pb < 0 || d->row_bytes <= 0 || d->in_row <= 0 || d->oh < 2)
        return false;
    if (d->oh * d->row_bytes > d->h * d->in_row) /* the output would not fit over the input */
        return false;
    int64_t most = 0, edge = 0;
    for (int64_t c = 0; c < d->oh; c++) {
        /* Every output row's window must read at least one input row
         * (codegen computes a row from a view of the rows it reads). */
        bool reads = false;
        for (int64_t ky = 0; ky < d->kh && !reads; ky++) {
            int64_t iy = c * d->sh - d->pt + ky * d->dh;
            reads = iy >= 0 && iy < d->h;
        }
        if (!reads)
            return false;
        int64_t top = c * d->sh - d->pt, bot = top + (d->kh - 1) * d->dh;
        if ((top < 0 || bot >= d->h) && ++edge > MAX_EDGE_ROWS)
            return false;
        int64_t waiting = c - (c ? dw_in_place_written(d, c - 1) : 0) + 1;
        if (waiting > most)
            most = waiting;
    }
    d->slots = most;
    d->bytes = most * d->row_bytes;
    return d->bytes < d->oh * d->row_bytes; /* a ring as big as the output saves nothing */
}

int64_t dw_in_place_written(const DwInPlace *d, int64_t c)
{
    if (c >= d->oh - 1)
        return d->oh;
    int64_t need = (c + 1) * d->sh - d->pt;
    if (need < 0)
        need = 0;
    int64_t rows = need * d->in_row / d->row_bytes;
    return rows < c + 1 ? rows : c + 1;
}

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

/* Byte offset of the contiguous run a slice (or a concat operand at
 * index START along AXIS) occupies in the bigger tensor BIG, or -1 if it
 * is not one contiguous run. */
static int64_t run_offset(const TensorType *big, const TensorType *part, int axis, int64_t start)
{
    if (big->rank != part->rank || axis < 0 || axis >= big->rank)
        return -1;
    int64_t inner = dtype_traits[big->dtype].size;
    for (int d = 0; d < big->rank; d++) {
        if (d < axis && big->dims[d] != 1)
            return -1;
        if (d > axis && big->dims[d] != part->dims[d])
            return -1;
        if (d > axis)
            inner *= big->dims[d];
    }
    return start * inner;
}

/* The root of V and V's byte offset in it. */
static int find_root(const int *root, const int64_t *delta, int v, int64_t *d)
{
    int64_t acc = 0;
    while (root[v] != v) {
        acc += delta[v];
        v = root[v];
    }
    *d = acc;
    return v;
}

/* A slice that is a view: its operand's root lives in scratch and the run
 * starts at an aligned offset.  Returns the offset, or -1. */
static int64_t slice_view(const Node *n, int64_t align)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t starts[QNN_MAX_RANK], steps[QNN_MAX_RANK], ones[QNN_MAX_RANK];
    for (int d = 0; d < QNN_MAX_RANK; d++)
        ones[d] = 1;
    if (node_ints(n, ATTR_STARTS, starts, QNN_MAX_RANK, NULL) < xt->rank)
        return -1;
    node_ints(n, ATTR_STEPS, steps, xt->rank, ones);
    int axis = -1;
    for (int d = 0; d < xt->rank; d++) {
        if (steps[d] != 1)
            return -1;
        if (yt->dims[d] != xt->dims[d] || starts[d] != 0) {
            if (axis >= 0 && xt->dims[d] != 1)
                return -1;
            if (axis < 0)
                axis = d;
        }
    }
    if (axis < 0)
        axis = 0;
    for (int d = axis + 1; d < xt->rank; d++)
        if (starts[d] != 0 || yt->dims[d] != xt->dims[d])
            return -1;
    int64_t off = run_offset(xt, yt, axis, starts[axis]);
    return off >= 0 && off % align == 0 ? off : -1;
}

/* The plan with the depthwise nodes ENABLED[k] computed in place where
 * the liveness allows (ENABLED NULL: none). */
static MemoryPlan plan_with(const Graph *g, int align, const bool *enabled)
{
    int nv = g->values.len, nn = g->nodes.len;
    MemoryPlan p = {.num_values = nv, .align = align > 0 ? align : 1, .num_nodes = nn};
    /* Offsets by value id, then the row buffers' (pseudo-ids nv + k). */
    p.offset = xmalloc(((size_t)nv + (size_t)nn + 1) * sizeof *p.offset);
    p.root = xmalloc(((size_t)nv + 1) * sizeof *p.root);
    p.rowbuf = xmalloc(((size_t)nn + 1) * sizeof *p.rowbuf);
    int64_t *rowbuf_size = xcalloc((size_t)nn + 1, sizeof *rowbuf_size);
    for (int k = 0; k < nn; k++)
        p.rowbuf[k] = -1;
    int64_t *delta = xcalloc((size_t)nv + 1, sizeof *delta);
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
     * A root's interval runs from the earliest definition to the latest
     * last use of the values sharing it. */
    int *root_end = xmalloc(((size_t)nv + 1) * sizeof *root_end);
    int *root_start = xmalloc(((size_t)nv + 1) * sizeof *root_start);
    for (int i = 0; i < nv; i++) {
        root_end[i] = last_use[i];
        root_start[i] = def_at[i];
    }
    for (int k = 0; k < nn; k++) {
        Node *n = g->nodes.data[k];
        Value *r = n->result;
        if (is_output[r->id] || n->num_operands < 1 || !n->operands[0])
            continue;
        Value *x = n->operands[0];
        int64_t dx;
        int rx = find_root(p.root, delta, x->id, &dx);
        Value *xr = g->values.data[rx];
        if (n->op == OP_RESHAPE) {
            /* Reading through the alias is fine whatever x is (input,
             * constant, output buffer, scratch). */
            p.root[r->id] = rx;
            delta[r->id] = dx;
            if (root_end[r->id] > root_end[rx])
                root_end[rx] = root_end[r->id];
            continue;
        }
        if (n->op == OP_SLICE) {
            int64_t off = xr->kind == VAL_NODE && !is_output[rx] ? slice_view(n, p.align) : -1;
            if (off < 0 || (dx + off) % p.align)
                continue;
            p.root[r->id] = rx;
            delta[r->id] = dx + off;
            if (root_end[r->id] > root_end[rx])
                root_end[rx] = root_end[r->id];
            continue;
        }
        if (n->op == OP_CONCAT) {
            /* Operands computed in place into their slice of r: each must
             * be the whole of a scratch root of its own that dies here. */
            int axis = (int)node_int(n, ATTR_AXIS, 0);
            if (axis < 0)
                axis += r->type.rank;
            int64_t start = 0;
            int *rs = xmalloc((size_t)n->num_operands * sizeof *rs);
            int64_t *offs = xmalloc((size_t)n->num_operands * sizeof *offs);
            bool ok = true;
            for (int j = 0; j < n->num_operands && ok; j++) {
                Value *w = n->operands[j];
                int64_t dw, off = run_offset(&r->type, &w->type, axis, start);
                int rw = find_root(p.root, delta, w->id, &dw);
                Value *wr = g->values.data[rw];
                start += w->type.dims[axis];
                ok = off >= 0 && off % p.align == 0 && dw == 0 && wr->kind == VAL_NODE && !is_output[rw] &&
                     rw != r->id && root_end[rw] == k && quant_equal(w->type.quant, r->type.quant) &&
                     w->type.dtype == r->type.dtype && type_nbytes(&wr->type) == type_nbytes(&w->type);
                for (int i = 0; i < j && ok; i++)
                    ok = rs[i] != rw;
                rs[j] = rw;
                offs[j] = off;
            }
            for (int j = 0; j < n->num_operands && ok; j++) {
                p.root[rs[j]] = r->id;
                delta[rs[j]] = offs[j];
                if (root_start[rs[j]] < root_start[r->id])
                    root_start[r->id] = root_start[rs[j]];
            }
            free(rs);
            free(offs);
            continue;
        }
        if (n->op == OP_CONV2D) {
            /* Depthwise over its own input: X (all of its root's bytes
             * from X's start on, at least the output's) dies here, and no
             * other operand is X's. */
            DwInPlace dw;
            if (!enabled || !enabled[k] || xr->kind != VAL_NODE || is_output[rx] || root_end[rx] != k ||
                dx % p.align || !dw_in_place_geometry(n, &dw) ||
                dx + type_nbytes(&r->type) > type_nbytes(&xr->type))
                continue;
            p.root[r->id] = rx;
            delta[r->id] = dx;
            root_end[rx] = root_end[r->id] > k ? root_end[r->id] : k;
            rowbuf_size[k] = dw.bytes;
            continue;
        }
        if (!op_in_place(n->op) || xr->kind != VAL_NODE || is_output[rx])
            continue;
        if (dtype_traits[x->type.dtype].size != dtype_traits[r->type.dtype].size || !shape_equal(&x->type, &r->type))
            continue;
        /* The operand (and everything sharing its bytes) must die here,
         * and no other operand of this node may share them either. */
        bool ok = root_end[rx] == k;
        for (int j = 1; j < n->num_operands && ok; j++) {
            int64_t dj;
            if (n->operands[j] && find_root(p.root, delta, n->operands[j]->id, &dj) == rx)
                ok = false;
        }
        if (!ok)
            continue;
        p.root[r->id] = rx;
        delta[r->id] = dx;
        root_end[rx] = root_end[r->id] > k ? root_end[r->id] : k;
    }

    Root *roots = xcalloc((size_t)nv + (size_t)nn + 1, sizeof *roots);
    int nr = 0;
    for (int k = 0; k < nn; k++)
        if (rowbuf_size[k] > 0) /* live at its node only */
            roots[nr++] = (Root){.id = nv + k, .size = rowbuf_size[k], .start = k, .end = k};
    for (int k = 0; k < nn; k++) {
        Value *r = ((Node *)g->nodes.data[k])->result;
        if (p.root[r->id] != r->id || is_output[r->id])
            continue;
        int64_t size = type_nbytes(&r->type);
        roots[nr].id = r->id;
        roots[nr].size = size > 0 ? size : 0;
        roots[nr].start = root_start[r->id] < k ? root_start[r->id] : k;
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
    for (int k = 0; k < nn; k++)
        if (rowbuf_size[k] > 0) {
            p.rowbuf[k] = p.offset[nv + k];
            p.rowbuf_bytes += rowbuf_size[k];
        }
    /* Aliases of scratch roots: the root's offset plus their delta; the
     * root recorded is the final one. */
    for (int i = 0; i < nv; i++)
        if (p.root[i] != i) {
            int64_t d;
            int r = find_root(p.root, delta, i, &d);
            p.offset[i] = p.offset[r] >= 0 ? p.offset[r] + d : -1;
        }
    for (int i = 0; i < nv; i++) {
        int64_t d;
        p.root[i] = find_root(p.root, delta, i, &d);
    }

    free(rowbuf_size);
    free(cand);
    free(roots);
    free(root_end);
    free(root_start);
    free(delta);
    free(def_at);
    free(last_use);
    free(is_output);
    return p;
}

/* At most this many depthwise nodes are tried one by one (beyond: all
 * of them or none). */
#define MAX_DW_TRIES 64

/* The decision: with every candidate depthwise node in place, then, in
 * execution order, each one put back to a tensor of its own when that
 * does not make the arena bigger (fewer copies at the same size); the
 * result is kept only when smaller than the plan with none in place.
 * Deterministic: the same graph gives the same plan. */
MemoryPlan plan_memory(const Graph *g, int align)
{
    int nn = g->nodes.len;
    MemoryPlan none = plan_with(g, align, NULL);
    none.whole_scratch = none.scratch_size;
    none.whole_bound = none.lower_bound;
    bool *on = xcalloc((size_t)nn + 1, sizeof *on);
    int ncand = 0;
    for (int k = 0; k < nn; k++) {
        DwInPlace dw;
        if ((on[k] = dw_in_place_geometry(g->nodes.data[k], &dw)))
            ncand++;
    }
    if (!ncand) {
        free(on);
        return none;
    }
    MemoryPlan best = plan_with(g, align, on);
    for (int k = 0; k < nn && ncand <= MAX_DW_TRIES; k++) {
        if (!on[k] || best.rowbuf[k] < 0) {
            on[k] = false;
            continue;
        }
        on[k] = false;
        MemoryPlan t = plan_with(g, align, on);
        if (t.scratch_size <= best.scratch_size) {
            memory_plan_free(&best);
            best = t;
        } else {
            on[k] = true;
            memory_plan_free(&t);
        }
    }
    free(on);
    if (best.scratch_size >= none.scratch_size) {
        memory_plan_free(&best);
        return none;
    }
    best.whole_scratch = none.scratch_size;
    best.whole_bound = none.lower_bound;
    best.in_place_saved = none.scratch_size - best.scratch_size;
    memory_plan_free(&none);
    return best;
}

void memory_plan_free(MemoryPlan *p)
{
    free(p->offset);
    free(p->root);
    free(p->rowbuf);
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
        DwInPlace dw;
        if (p->rowbuf && p->rowbuf[k] >= 0 && dw_in_place_geometry(g->nodes.data[k], &dw))
            fprintf(f, "%%%s row_buffer offset=%lld size=%lld rows=%lld in_place_over=%%%s\n", v->name,
                    (long long)p->rowbuf[k], (long long)dw.bytes, (long long)dw.slots,
                    ((Node *)g->nodes.data[k])->operands[0]->name);
    }
    fprintf(f, "scratch=%lld lower_bound=%lld align=%d whole_tensor_bound=%lld", (long long)p->scratch_size,
            (long long)p->lower_bound, p->align, (long long)p->whole_bound);
    if (p->rowbuf_bytes)
        fprintf(f, " in_place_depthwise_saves=%lld row_buffers=%lld", (long long)p->in_place_saved,
                (long long)p->rowbuf_bytes);
    fputc('\n', f);
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
