/* passes.h - graph passes and their registry.
 *
 * A pass is a plain function over a graph and the compile configuration.
 * It returns false after reporting a user error through diag; it never
 * leaves the graph half-rewritten in a way the verifier would reject. */
#ifndef QNNC_PASSES_H
#define QNNC_PASSES_H

#include "config.h"
#include "ir.h"

/* What a pass may consult besides the graph. */
typedef struct PassContext {
    const QnncConfig *cfg; /* never NULL: the defaults when no file was given */
} PassContext;

typedef bool (*PassFn)(Graph *g, const PassContext *ctx);

typedef struct Pass {
    const char *name;    /* as given to qnnc-opt --passes= */
    const char *summary; /* one line for --help */
    PassFn run;
} Pass;

/* Every registered pass, in the order --help lists them. */
extern const Pass pass_registry[];
extern const int pass_registry_count;
const Pass *pass_lookup(const char *name, size_t len);

bool dce(Graph *g, const PassContext *ctx);

#endif
