/* rewrite.h - editing a graph in one sweep, and the pattern helpers the
 * rewriting passes share (ir/rewrite.c).  Not a pass: graph
 * infrastructure, beside the graph API it builds on (ir.h). */
#ifndef QNNC_REWRITE_H
#define QNNC_REWRITE_H

#include "ir.h"

/* Editing a graph in one sweep over its nodes (ir/rewrite.c).
 *
 *   Rewrite rw;
 *   rewrite_begin(&rw, g);
 *   for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
 *       Node *n = rw.old[rw.pos];
 *       ... rewrite_keep(&rw, n) for every node that stays (and, in order,
 *           for new nodes made with graph_add_node) ...
 *   }
 *   rewrite_finish(&rw);
 *
 * A node not kept is dropped; its result must be killed or taken over.
 * rewrite_finish installs the kept order, drops the killed values and
 * renumbers node and value ids densely. */
typedef struct Rewrite {
    Graph *g;
    Node **old;  /* the nodes in their order before the sweep */
    int nold;
    int pos;     /* index in old of the node being visited */
    PtrVec out;  /* nodes kept so far, in order */
    PtrVec dead; /* values to drop */
} Rewrite;
void rewrite_begin(Rewrite *rw, Graph *g);
void rewrite_keep(Rewrite *rw, Node *n);
/* Reads of V by kept nodes, by nodes after the visited one, and by the
 * outputs: every use except the visited node's own. */
int rewrite_count_uses(const Rewrite *rw, const Value *v);
/* Points every later node and every output that reads FROM at TO. */
void rewrite_replace_uses(Rewrite *rw, const Value *from, Value *to);
void rewrite_kill(Rewrite *rw, Value *v);
/* Kills V if it is a constant nothing reads any more. */
void rewrite_kill_if_unused(Rewrite *rw, Value *v);
/* X takes Y's place: Y's name, calibrated range and readers; Y dies (a
 * folded node's producer now computing what Y held). */
void rewrite_take_over(Rewrite *rw, Value *y, Value *x);
/* N, built under OLD's result name, takes OLD's place: OLD's source
 * locations and calibrated range, all of its readers; OLD's result dies. */
void rewrite_substitute(Rewrite *rw, Node *old, Node *n);
/* BASE SUFFIX, or BASE SUFFIX.N with the first N that makes it unique. */
const char *rewrite_unique_name(Graph *g, const char *base, const char *suffix);
/* Installs the kept nodes, drops killed values, renumbers ids. */
void rewrite_finish(Rewrite *rw);

/* Copies of a node.  node_clone: N as it is (op, id, location, operands,
 * result) with its own operand and attribute arrays in G's arena, so that
 * repointing an operand or setting an attribute (node_set_*) leaves N
 * alone; the copy is in no node list, G only holds its memory (codegen's
 * one-row views of a depthwise node).  graph_clone_node: N alone in G (a
 * graph of one node, for benchmarks): each operand found in G by name or
 * else added, a constant with its data and anything else as an input, then
 * N's op and attributes under a new result of N's name and type, appended
 * to G's nodes. */
Node *node_clone(Graph *g, const Node *n);
Node *graph_clone_node(Graph *g, const Node *n);

/* Pattern helpers for the fusing passes (ir/rewrite.c).  GraphUses counts
 * every read of each value (an op reading it twice counts twice; a graph
 * output counts once) and remembers the last reader, so a value read once
 * has a known sole reader. */
typedef struct GraphUses {
    int *count;    /* by value id */
    Node **reader; /* by value id: the last node reading it */
} GraphUses;
GraphUses graph_uses(const Graph *g);
void graph_uses_free(GraphUses *u);
/* The one node reading V, when V has exactly one use and is not an output. */
Node *sole_reader(const GraphUses *u, const Value *v);
/* Whether V is an f32 constant of one element (any rank); its value in OUT. */
bool const_scalar_f32(const Value *v, float *out);
/* Whether N carries an act_min/act_max clamp. */
bool node_has_clamp(const Node *n);
/* N is an OP node with an f32 result and no clamp (NULL N: false). */
bool is_float_node(const Node *n, OpId op);

/* A chain of nodes that one fused node replaces (fuse_gelu,
 * fuse_layernorm): LAST, whose result the fused node takes over, and the
 * chain's other nodes, which die; the constants the chain reads, killed
 * where nothing else reads them. */
typedef struct Chain {
    Node *last;
    Node *nodes[12]; /* LAST included */
    int num_nodes;
    Value *consts[6];
    int num_consts;
} Chain;
void chain_add_node(Chain *c, Node *n);
void chain_add_const(Chain *c, Value *v);
/* One kind of chain: MATCH says whether N is where such a chain is found
 * and fills M, a struct of MATCH_SIZE bytes that starts with its Chain;
 * BUILD makes the fused node under the name and type of LAST's result,
 * from M as it stands when the sweep reaches LAST (a chain fused earlier
 * in the sweep may have replaced what M read: take operands from the
 * chain's nodes, which rewrite_replace_uses keeps current). */
typedef struct ChainFusion {
    size_t match_size;
    bool (*match)(const GraphUses *u, Node *n, void *m);
    Node *(*build)(Graph *g, Node *last, void *m);
} ChainFusion;
/* Matches every node, then replaces each chain in one sweep: its nodes
 * but LAST dropped, LAST substituted by BUILD's node. */
void fuse_chains(Graph *g, const ChainFusion *f);

#endif
