/* lower_elem.c - elementwise ops, activations, (de/re)quantize, softmax,
 * batchnorm and lut. */
#include "codegen.h"

bool cg_lower_elem(Cg *cg, const Node *n)
{
    return cg_fail(cg, n, "not lowered yet");
}
