/* x86/target.c - x86-64 Linux.  The default CPU is the baseline x86-64
 * (SSE2); -mcpu=/-mattr= select AVX2, AVX-512 VNNI and so on. */
#include "codegen.h"

const char *x86_lower_node(Cg *cg, const Node *n); /* kernels.c */

const CgTarget cg_target_x86 = {
    .triple = "x86_64-linux-gnu",
    .llvm_triple = "x86_64-unknown-linux-gnu",
    .default_cpu = "x86-64",
    .base_features = "",
    .vector_bytes = 16,
    .reloc = LLVMRelocPIC,
    .short_enums = false,
    .lower_node = x86_lower_node,
};
