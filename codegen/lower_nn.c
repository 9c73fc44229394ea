/* lower_nn.c - conv2d, dense, matmul and the pools as scalar loop nests. */
#include "codegen.h"

bool cg_lower_nn(Cg *cg, const Node *n)
{
    return cg_fail(cg, n, "not lowered yet");
}
