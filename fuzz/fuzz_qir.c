/* fuzz_qir.c - the textual IR: parser, verifier, printer and, on small
 * graphs, the reference interpreter (ir/).
 *
 * Besides "no crash", two properties are checked: a parsed graph prints
 * and parses back to an equal graph (ir.h: print(parse(text)) is a fixed
 * point), and a graph the verifier accepts runs in the interpreter without
 * an internal error.  The interpreter only runs when its cost is small, so
 * that a graph of a few huge convolutions is not reported as a hang. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

const char fuzz_target_name[] = "qir";

/* A rough bound on the interpreter's work: every node's result size times
 * the size of its largest operand (a convolution's or a dense layer's
 * multiply-adds are less than that). */
static bool cheap_to_run(const Graph *g)
{
    double work = 0, bytes = 0;
    for (int i = 0; i < g->values.len; i++) {
        const Value *v = g->values.data[i];
        int64_t n = type_nbytes(&v->type);
        if (n < 0)
            return false;
        bytes += (double)n;
    }
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        double big = 1;
        for (int k = 0; k < n->num_operands; k++) {
            int64_t e = type_numel(&n->operands[k]->type);
            if ((double)e > big)
                big = (double)e;
        }
        work += (double)type_numel(&n->result->type) * big;
    }
    return bytes < (1 << 22) && work < 2e7;
}

static void run(const Graph *g)
{
    int ni = g->inputs.len, no = g->outputs.len;
    const void **in = xcalloc((size_t)ni + 1, sizeof *in);
    void **out = xcalloc((size_t)no + 1, sizeof *out);
    for (int i = 0; i < ni; i++) {
        const Value *v = g->inputs.data[i];
        in[i] = xcalloc((size_t)type_nbytes(&v->type) + 1, 1);
    }
    for (int i = 0; i < no; i++) {
        const Value *v = g->outputs.data[i];
        out[i] = xcalloc((size_t)type_nbytes(&v->type) + 1, 1);
    }
    /* A verified graph may still fail at run time with a diagnostic (a
     * division by zero in integer arithmetic, say), never crash. */
    (void)interp_run(g, in, out);
    for (int i = 0; i < ni; i++)
        free((void *)in[i]);
    for (int i = 0; i < no; i++)
        free(out[i]);
    free(in);
    free(out);
}

int fuzz_one(const uint8_t *data, size_t size)
{
    /* No sidecar file a relative path could name exists next to this
     * name, so inputs cannot read the working directory's files. */
    static const char name[] = "/nonexistent/fuzz.qir";
    Graph *g = ir_parse(name, (const char *)data, size);
    if (!g)
        return FUZZ_REJECTED;

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        qnn_die("open_memstream failed");
    PrintOptions po = {0};
    bool printed = ir_print(f, g, &po);
    fclose(f);
    if (printed) {
        int before = diag_error_count();
        Graph *g2 = ir_parse("/nonexistent/printed.qir", text, len);
        if (!g2 || diag_error_count() != before)
            qnn_die("the printed graph does not parse back:\n%s", text);
        if (!graph_equal(g, g2))
            qnn_die("the printed graph parses back to a different graph:\n%s", text);
        graph_free(g2);
    }
    free(text);

    int before = diag_error_count();
    bool ok = ir_verify(g);
    if (ok && diag_error_count() != before)
        qnn_die("the verifier accepted a graph after reporting an error");
    if (ok && cheap_to_run(g))
        run(g);
    graph_free(g);
    return ok ? FUZZ_ACCEPTED : FUZZ_REJECTED;
}
