/* stripe.c - patch-based execution of the largest-activation stage: run a
 * chain of convolutions and elementwise ops one horizontal stripe of rows
 * at a time, so that no whole intermediate tensor of the chain is live.
 *
 * requires:   a verified, quantized (or float) graph after fusion, nodes in
 *             execution order; ctx->cfg->limits.max_scratch > 0
 * guarantees: plan_memory's scratch for the graph is at most
 *             [limits] max_scratch, with the fewest extra multiply-
 *             accumulates among the plans tried; or an error saying by
 *             how many bytes the smallest plan found is over.  Every
 *             output is bit-exact with the graph before: each stripe
 *             computes exactly the rows the whole tensor would have, from
 *             the same input rows, scales and arithmetic.
 * invalidates: nothing
 *
 * The rewrite (MCUNetV2's patch-based inference, by rows).  A region is a
 * run of nodes s..e (conv2d, and elementwise ops whose activation operands
 * have the result's shape) reading one activation X from outside and
 * defining one value F read outside it, every tensor NHWC with N = 1.
 * For T stripes, stripe j owns rows [j*H/T, (j+1)*H/T) of F; walking the
 * region backwards gives the rows of every value it needs (a conv's
 * window, stride and pads: the halo, recomputed by neighbouring stripes).
 * Stripe j is then
 *   X rows [lo, hi)   a slice of X (plan_memory: a view, no copy)
 *   each node again   on its stripe operands, its result only the rows
 *                     needed; a conv's pads become asymmetric: only the
 *                     image's own top and bottom borders are padded
 *                     (a consumer needing fewer rows than were computed
 *                     reads a slice: a view again)
 * and F is the concat of the stripes along H, which plan_memory computes
 * in place (each stripe's last node writes into its rows of F).  The
 * planner then sees stripe-sized tensors where whole ones were.
 *
 * The search: regions that contain the node where most bytes are live
 * (at most MAX_REGION nodes), T in STRIPES; each candidate is applied,
 * planned and undone; the cheapest that fits wins.  When none fits, the
 * one with the smallest scratch is kept and the search runs again on the
 * result (a second stage), up to MAX_ROUNDS times.
 */
#include "passes.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGION 24
#define MAX_ROUNDS 3
static const int STRIPES[] = {2, 3, 4, 6, 8, 12, 16, 24};

typedef struct {
    int s, e, t;
} Cand;

typedef struct {
    int lo, hi; /* rows [lo, hi) of H */
} Rows;

static bool is4d(const Value *v)
{
    return v->type.rank == 4 && v->type.dims[0] == 1;
}

/* A constant operand of an elementwise op must not vary along H. */
static bool const_ok(const Value *c)
{
    int r = c->type.rank;
    return r < 3 || c->type.dims[r - 3] == 1;
}

static bool node_ok(const Node *n)
{
    if (!is4d(n->result))
        return false;
    if (n->op == OP_CONV2D) {
        if (n->operands[0]->kind == VAL_CONST || !is4d(n->operands[0]))
            return false;
        for (int j = 1; j < n->num_operands; j++)
            if (n->operands[j]->kind != VAL_CONST)
                return false;
        return true;
    }
    if (!(op_info[n->op].flags & OPF_ELEMENTWISE))
        return false;
    int acts = 0;
    for (int j = 0; j < n->num_operands; j++) {
        const Value *v = n->operands[j];
        if (v->kind == VAL_CONST) {
            if (!const_ok(v))
                return false;
        } else if (!shape_equal(&v->type, &n->result->type)) {
            return false;
        } else {
            acts++;
        }
    }
    return acts > 0;
}

typedef struct {
    Graph *g;
    int *maxuse;  /* by value id: the last node index reading it (INT_MAX: a graph output) */
    int *defat;   /* by value id: defining node index, -1 */
} Ctx;

static void analyse(Ctx *c)
{
    Graph *g = c->g;
    int nv = g->values.len;
    free(c->maxuse);
    free(c->defat);
    c->maxuse = xmalloc(((size_t)nv + 1) * sizeof *c->maxuse);
    c->defat = xmalloc(((size_t)nv + 1) * sizeof *c->defat);
    for (int i = 0; i < nv; i++)
        c->maxuse[i] = -1, c->defat[i] = -1;
    for (int k = 0; k < g->nodes.len; k++) {
        Node *n = g->nodes.data[k];
        c->defat[n->result->id] = k;
        for (int j = 0; j < n->num_operands; j++)
            c->maxuse[n->operands[j]->id] = k;
    }
    for (int i = 0; i < g->outputs.len; i++)
        c->maxuse[((Value *)g->outputs.data[i])->id] = INT_MAX;
}

/* Whether nodes s..e form a region; its outside input in *X. */
static bool region_ok(const Ctx *c, int s, int e, Value **X)
{
    Graph *g = c->g;
    Value *x = NULL;
    bool conv = false;
    for (int k = s; k <= e; k++) {
        Node *n = g->nodes.data[k];
        if (!node_ok(n))
            return false;
        conv |= n->op == OP_CONV2D;
        if (k < e && c->maxuse[n->result->id] > e)
            return false;
        for (int j = 0; j < n->num_operands; j++) {
            Value *v = n->operands[j];
            if (v->kind == VAL_CONST || (c->defat[v->id] >= s && c->defat[v->id] <= k))
                continue;
            if (x && x != v)
                return false;
            x = v;
        }
    }
    Node *last = g->nodes.data[e];
    if (!x || !conv || c->maxuse[last->result->id] == INT_MAX || last->result->type.dims[1] < 2)
        return false;
    *X = x;
    return true;
}

static int64_t conv_macs(const Node *n)
{
    const TensorType *w = &n->operands[1]->type;
    return type_numel(&n->result->type) * w->dims[1] * w->dims[2] * w->dims[3];
}

static void conv_geom(const Node *n, int64_t *sh, int64_t *pt, int64_t *pb, int64_t *eff)
{
    int64_t strides[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, dil[2] = {1, 1};
    node_ints(n, ATTR_STRIDES, strides, 2, strides);
    node_ints(n, ATTR_PADS, pads, 4, pads);
    node_ints(n, ATTR_DILATIONS, dil, 2, dil);
    *sh = strides[0];
    *pt = pads[0];
    *pb = pads[2];
    *eff = (n->operands[1]->type.dims[1] - 1) * dil[0] + 1;
}

/* The rows of operand X of N needed for rows R of its result. */
static Rows operand_rows(const Node *n, const Value *x, Rows r)
{
    if (n->op != OP_CONV2D)
        return r;
    int64_t sh, pt, pb, eff, h = x->type.dims[1];
    conv_geom(n, &sh, &pt, &pb, &eff);
    int64_t lo = r.lo * sh - pt, hi = (r.hi - 1) * sh - pt + eff;
    return (Rows){(int)(lo < 0 ? 0 : lo), (int)(hi > h ? h : hi)};
}

static void widen(Rows *a, Rows b)
{
    if (a->lo >= a->hi) {
        *a = b;
        return;
    }
    if (b.lo < a->lo)
        a->lo = b.lo;
    if (b.hi > a->hi)
        a->hi = b.hi;
}

static TensorType with_rows(const TensorType *t, int rows)
{
    TensorType r = *t;
    r.dims[1] = rows;
    return r;
}

/* What applying a candidate changed, to undo it. */
typedef struct {
    PtrVec nodes;    /* the node list before */
    int nvalues;     /* values before */
    Node **users;    /* (node, operand) pairs redirected from F */
    int *opnd;
    int nusers;
    int64_t extra_macs;
} Undo;

/* Rewrites candidate C into G (see the header). */
static void apply(Ctx *c, Cand cand, Value *X, Undo *u)
{
    Graph *g = c->g;
    int s = cand.s, e = cand.e, T = cand.t, nv = g->values.len;
    u->nvalues = nv;
    u->nodes.len = u->nodes.cap = g->nodes.len;
    u->nodes.data = arena_memdup(&g->arena, g->nodes.data, (size_t)g->nodes.len * sizeof(void *));
    Node *last = g->nodes.data[e];
    Value *F = last->result;
    int H = (int)F->type.dims[1];
    Rows *need = xmalloc(((size_t)nv + 1) * sizeof *need);
    Value **cur = xmalloc(((size_t)nv + 1) * sizeof *cur);
    Value **parts = xmalloc((size_t)T * sizeof *parts);
    int64_t macs_before = 0, macs_after = 0;
    for (int k = s; k <= e; k++)
        if (((Node *)g->nodes.data[k])->op == OP_CONV2D)
            macs_before += conv_macs(g->nodes.data[k]);
    /* The new nodes are appended to g->nodes; collect them apart. */
    PtrVec fresh = {0};
    char name[512];
    for (int j = 0; j < T; j++) {
        for (int i = 0; i < nv; i++)
            need[i] = (Rows){0, 0};
        need[F->id] = (Rows){j * H / T, (j + 1) * H / T};
        for (int k = e; k >= s; k--) {
            Node *n = g->nodes.data[k];
            Rows r = need[n->result->id];
            for (int q = 0; q < n->num_operands; q++)
                if (n->operands[q]->kind != VAL_CONST)
                    widen(&need[n->operands[q]->id], operand_rows(n, n->operands[q], r));
        }
        /* X's rows: a slice. */
        Rows xr = need[X->id];
        int64_t starts[4] = {0, xr.lo, 0, 0};
        snprintf(name, sizeof name, "%s.s%d", X->name, j);
        Node *sl = graph_add_node(g, OP_SLICE, &X, 1, name, with_rows(&X->type, xr.hi - xr.lo));
        node_set_ints(g, sl, ATTR_STARTS, starts, 4);
        ptrvec_push(&g->arena, &fresh, sl);
        cur[X->id] = sl->result;
        int nslices = 0;
        for (int k = s; k <= e; k++) {
            Node *n = g->nodes.data[k];
            Rows r = need[n->result->id];
            Value *ops[8];
            int nops = n->num_operands < 8 ? n->num_operands : 8;
            for (int q = 0; q < nops; q++) {
                Value *v = n->operands[q];
                if (v->kind == VAL_CONST) {
                    ops[q] = v;
                    continue;
                }
                Rows want = operand_rows(n, v, r), have = need[v->id];
                ops[q] = cur[v->id];
                if (want.lo != have.lo || want.hi != have.hi) {
                    int64_t st[4] = {0, want.lo - have.lo, 0, 0};
                    snprintf(name, sizeof name, "%s.s%d.v%d", v->name, j, nslices++);
                    Node *vs = graph_add_node(g, OP_SLICE, &ops[q], 1, name,
                                              with_rows(&v->type, want.hi - want.lo));
                    node_set_ints(g, vs, ATTR_STARTS, st, 4);
                    ptrvec_push(&g->arena, &fresh, vs);
                    ops[q] = vs->result;
                }
            }
            snprintf(name, sizeof name, "%s.s%d", n->result->name, j);
            Node *m = graph_add_node(g, n->op, ops, nops, name, with_rows(&n->result->type, r.hi - r.lo));
            m->num_attrs = n->num_attrs;
            m->attrs = n->num_attrs ? arena_memdup(&g->arena, n->attrs, (size_t)n->num_attrs * sizeof *n->attrs) : NULL;
            m->loc = n->loc;
            if (n->op == OP_CONV2D) {
                int64_t sh, pt, pb, eff;
                conv_geom(n, &sh, &pt, &pb, &eff);
                Rows in = operand_rows(n, n->operands[0], r);
                int64_t pads[4] = {0, 0, 0, 0};
                node_ints(n, ATTR_PADS, pads, 4, pads);
                pads[0] = pt - r.lo * sh + in.lo;
                int64_t rows = r.hi - r.lo, hin = in.hi - in.lo;
                int64_t pbn = (rows - 1) * sh + eff - hin - pads[0];
                pads[2] = pbn > 0 ? pbn : 0;
                node_set_ints(g, m, ATTR_PADS, pads, 4);
                macs_after += conv_macs(m);
            }
            ptrvec_push(&g->arena, &fresh, m);
            cur[n->result->id] = m->result;
        }
        parts[j] = cur[F->id];
    }
    snprintf(name, sizeof name, "%s.stripes", F->name);
    Node *cat = graph_add_node(g, OP_CONCAT, parts, T, name, F->type);
    node_set_int(g, cat, ATTR_AXIS, 1);
    ptrvec_push(&g->arena, &fresh, cat);

    /* The node list: before s, the stripes, after e; F's readers read the
     * concat. */
    PtrVec nodes = {0};
    for (int k = 0; k < s; k++)
        ptrvec_push(&g->arena, &nodes, u->nodes.data[k]);
    for (int k = 0; k < fresh.len; k++)
        ptrvec_push(&g->arena, &nodes, fresh.data[k]);
    u->nusers = 0;
    u->users = xmalloc(((size_t)u->nodes.len * 4 + 1) * sizeof *u->users);
    u->opnd = xmalloc(((size_t)u->nodes.len * 4 + 1) * sizeof *u->opnd);
    for (int k = e + 1; k < u->nodes.len; k++) {
        Node *n = u->nodes.data[k];
        ptrvec_push(&g->arena, &nodes, n);
        for (int q = 0; q < n->num_operands; q++)
            if (n->operands[q] == F) {
                if (u->nusers < u->nodes.len * 4) {
                    u->users[u->nusers] = n;
                    u->opnd[u->nusers++] = q;
                }
                n->operands[q] = cat->result;
            }
    }
    for (int k = 0; k < nodes.len; k++)
        ((Node *)nodes.data[k])->id = k;
    g->nodes = nodes;
    u->extra_macs = macs_after - macs_before;
    free(need);
    free(cur);
    free(parts);
}

static void undo(Graph *g, Undo *u, Value *F)
{
    for (int i = 0; i < u->nusers; i++)
        u->users[i]->operands[u->opnd[i]] = F;
    g->nodes = u->nodes;
    for (int k = 0; k < g->nodes.len; k++)
        ((Node *)g->nodes.data[k])->id = k;
    PtrVec values = g->values;
    values.len = u->nvalues;
    graph_set_values(g, values);
    free(u->users);
    free(u->opnd);
}

/* The node where the most bytes of node results are live (no aliasing). */
static int peak_node(const Ctx *c)
{
    Graph *g = c->g;
    int best = 0;
    int64_t most = -1;
    int64_t *delta = xcalloc((size_t)g->nodes.len + 2, sizeof *delta);
    for (int k = 0; k < g->nodes.len; k++) {
        Value *r = ((Node *)g->nodes.data[k])->result;
        int end = c->maxuse[r->id] == INT_MAX || c->maxuse[r->id] < k ? k : c->maxuse[r->id];
        delta[k] += type_nbytes(&r->type);
        delta[end + 1] -= type_nbytes(&r->type);
    }
    int64_t live = 0;
    for (int k = 0; k < g->nodes.len; k++) {
        live += delta[k];
        if (live > most)
            most = live, best = k;
    }
    free(delta);
    return best;
}

static int64_t scratch_of(const Graph *g)
{
    MemoryPlan p = plan_memory(g, 16);
    int64_t s = p.scratch_size;
    memory_plan_free(&p);
    return s;
}

bool stripe(Graph *g, const PassContext *ctx)
{
    int64_t limit = ctx->cfg->limits.max_scratch;
    if (limit <= 0)
        return true;
    MemoryPlan p0 = plan_memory(g, 16);
    int64_t bound = p0.whole_bound, size0 = p0.whole_scratch, start = p0.scratch_size;
    memory_plan_free(&p0);
    Ctx c = {.g = g};
    int64_t cur = start, macs = 0, base_macs = 0;
    for (int k = 0; k < g->nodes.len; k++)
        if (((Node *)g->nodes.data[k])->op == OP_CONV2D)
            base_macs += conv_macs(g->nodes.data[k]);
    int rounds = 0, stages = 0;
    char what[256] = "";
    while (cur > limit && rounds++ < MAX_ROUNDS) {
        analyse(&c);
        int peak = peak_node(&c);
        Cand best_fit = {-1, -1, 0}, best_small = {-1, -1, 0};
        int64_t fit_macs = INT64_MAX, fit_size = 0, small_size = cur, small_macs = 0;
        for (int s = peak - MAX_REGION + 1 < 0 ? 0 : peak - MAX_REGION + 1; s <= peak; s++)
            for (int e = peak; e < g->nodes.len && e < s + MAX_REGION; e++) {
                Value *X;
                if (!region_ok(&c, s, e, &X))
                    continue;
                Value *F = ((Node *)g->nodes.data[e])->result;
                for (size_t ti = 0; ti < sizeof STRIPES / sizeof *STRIPES; ti++) {
                    Cand cd = {s, e, STRIPES[ti]};
                    if (cd.t > F->type.dims[1])
                        break;
                    Undo u = {0};
                    apply(&c, cd, X, &u);
                    int64_t size = scratch_of(g), extra = u.extra_macs;
                    undo(g, &u, F);
                    if (size <= limit && (extra < fit_macs || (extra == fit_macs && size < fit_size))) {
                        best_fit = cd;
                        fit_macs = extra;
                        fit_size = size;
                    }
                    if (size < small_size || (size == small_size && best_small.s >= 0 && extra < small_macs)) {
                        best_small = cd;
                        small_size = size;
                        small_macs = extra;
                    }
                }
            }
        Cand pick = best_fit.s >= 0 ? best_fit : best_small;
        if (pick.s < 0)
            break;
        Value *X;
        region_ok(&c, pick.s, pick.e, &X);
        Node *first = g->nodes.data[pick.s], *last = g->nodes.data[pick.e];
        size_t len = strlen(what);
        snprintf(what + len, sizeof what - len, "%s%%%s..%%%s in %d stripes", stages ? ", " : "",
                 first->result->name, last->result->name, pick.t);
        Undo u = {0};
        apply(&c, pick, X, &u);
        free(u.users);
        free(u.opnd);
        macs += u.extra_macs;
        stages++;
        dce(g, ctx);
        cur = scratch_of(g);
    }
    free(c.maxuse);
    free(c.defat);
    if (cur > limit) {
        diag_error(config_key_loc(ctx->cfg, "limits.max_scratch"),
                   "[limits] max_scratch = %lld: the smallest plan found needs %lld bytes of scratch, %lld over",
                   (long long)limit, (long long)cur, (long long)(cur - limit));
        return false;
    }
    if (ctx->stripe)
        *ctx->stripe = (StripeReport){.stages = stages, .whole_bound = bound, .whole_scratch = size0,
                                      .before = start, .after = cur, .extra_macs = macs, .base_macs = base_macs};
    if (stages)
        diag_report(DIAG_NOTE, config_key_loc(ctx->cfg, "limits.max_scratch"),
                    "stripe: %s: scratch %lld bytes, %.2fx the whole-tensor bound %lld (whole-tensor plan %lld); "
                    "%lld extra MACs (+%.1f%%)",
                    what, (long long)cur, bound ? (double)cur / (double)bound : 0.0, (long long)bound,
                    (long long)size0, (long long)macs, base_macs ? 100.0 * (double)macs / (double)base_macs : 0.0);
    return true;
}
