/* lower_layout.c - concat, reshape, transpose and pad. */
#include "codegen.h"

bool cg_lower_layout(Cg *cg, const Node *n)
{
    return cg_fail(cg, n, "not lowered yet");
}
