/* riscv/target.c - two RISC-V targets sharing one set of kernels
 * (kernels.c):
 *   riscv64-linux-gnu  RV64GC Linux (lp64d); -mattr=+v enables the vector
 *                      extension (the tests run it with VLEN 128);
 *   riscv32-none-elf   RV32IMC bare metal (ilp32, soft float), as
 *                      riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32
 *                      builds the runtime with picolibc; -mattr=+a makes it
 *                      RV32IMAC (the generated code uses no atomics, so the
 *                      object is the same apart from its arch attribute). */
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

/* No F: floats are soft (libgcc's __addsf3 and friends) and travel in
 * integer registers, the ilp32 calling convention picolibc's rv32imac/ilp32
 * multilib uses.  GCC for RISC-V does not shorten enums, so neither do
 * we.  Static relocations: the image is linked at QEMU virt's RAM
 * (runtime/riscv/virt_rv32.ld). */
const CgTarget cg_target_riscv32 = {
    .triple = "riscv32-none-elf",
    .llvm_triple = "riscv32-unknown-none-elf",
    .default_cpu = "generic-rv32",
    .base_features = "+m,+c",
    .vector_bytes = 0,
    .reloc = LLVMRelocStatic,
    .abi = "ilp32",
    .short_enums = false,
    .lower_node = riscv_lower_node,
};
