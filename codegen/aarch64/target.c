/* aarch64/target.c - AArch64 Linux.  The default CPU is generic Armv8-A
 * (NEON); -mattr=+dotprod / +i8mm enable the int8 dot products. */
#include "codegen.h"

const char *aarch64_lower_node(Cg *cg, const Node *n); /* kernels.c */

const CgTarget cg_target_aarch64 = {
    .triple = "aarch64-linux-gnu",
    .llvm_triple = "aarch64-unknown-linux-gnu",
    .default_cpu = "generic",
    .base_features = "",
    .vector_bytes = 16,
    .reloc = LLVMRelocPIC,
    .short_enums = false,
    .lower_node = aarch64_lower_node,
};
