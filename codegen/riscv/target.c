/* riscv/target.c - RV64GC Linux (lp64d).  -mattr=+v enables the vector
 * extension (the tests run it with VLEN 128). */
#include "codegen.h"

const char *riscv_lower_node(Cg *cg, const Node *n); /* kernels.c */

const CgTarget cg_target_riscv = {
    .triple = "riscv64-linux-gnu",
    .llvm_triple = "riscv64-unknown-linux-gnu",
    .default_cpu = "generic-rv64",
    /* The Debian toolchain's ABI is lp64d: the D extension is required for
     * the hard-float calling convention the harness is built with. */
    .base_features = "+m,+a,+f,+d,+c",
    .vector_bytes = 0,
    .reloc = LLVMRelocPIC,
    .abi = "lp64d",
    .short_enums = false,
    .lower_node = riscv_lower_node,
};
