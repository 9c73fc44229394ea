/* arm/target.c - Cortex-M4/M7 (Armv7E-M with the DSP extension), bare
 * metal, hard-float ABI with the single-precision FPU (fpv4-sp-d16), as
 * arm-none-eabi-gcc -mcpu=cortex-m4 -mfloat-abi=hard builds the runtime. */
#include "codegen.h"

const char *arm_lower_node(Cg *cg, const Node *n); /* kernels.c */

const CgTarget cg_target_arm = {
    .triple = "thumbv7em-none-eabi",
    /* "eabihf": LLVM picks the hard-float ABI from the environment. */
    .llvm_triple = "thumbv7em-none-eabihf",
    .default_cpu = "cortex-m4",
    .base_features = "",
    .vector_bytes = 4,
    .reloc = LLVMRelocStatic,
    .short_enums = true,
    /* The C API cannot set TargetOptions.FloatABIType, and only an explicit
     * FloatABI::Hard makes the ARM printer emit Tag_ABI_VFP_args (the
     * eabihf triple already selects the AAPCS-VFP calling convention).
     * Without the tag GNU ld refuses to link with the hard-float newlib:
     * "uses VFP register arguments, ... does not".  Tag 28 = 1: VFP
     * registers. */
    /* For the same reason calls with float arguments (expf, tanhf) must
     * name AAPCS-VFP themselves, or LLVM passes floats in core registers. */
    .float_callconv = LLVMARMAAPCSVFPCallConv,
    .asm_prologue = "\t.eabi_attribute 28, 1\n",
    /* Tag 28 = 3: compatible with both the base and the VFP variant, no
     * function takes or returns a float (ARM IHI 0045, "Tag_ABI_VFP_args"):
     * an integer-only model links into a soft-float image for a Cortex-M
     * without FPU as well as into a hard-float one. */
    .asm_prologue_no_float = "\t.eabi_attribute 28, 3\n",
    .lower_node = arm_lower_node,
};

/* Cortex-M55 (Armv8.1-M Mainline with Helium, MVE): the same bare-metal
 * hard-float ABI.  -mcpu=cortex-m55 brings +mve.fp and the double-precision
 * FPU, as arm-none-eabi-gcc -mcpu=cortex-m55 -mfloat-abi=hard builds the
 * runtime (newlib's thumb/v8-m.main+dp/hard multilib).  Kernels:
 * kernels_mve.c when MVE is on, else the DSP ones above. */
const char *armv81m_lower_node(Cg *cg, const Node *n); /* kernels_mve.c */

const CgTarget cg_target_armv81m = {
    .triple = "thumbv8.1m.main-none-eabi",
    .llvm_triple = "thumbv8.1m.main-none-eabihf",
    .default_cpu = "cortex-m55",
    .base_features = "",
    .vector_bytes = 16, /* MVE's Q registers */
    .reloc = LLVMRelocStatic,
    .short_enums = true,
    .float_callconv = LLVMARMAAPCSVFPCallConv,
    .asm_prologue = "\t.eabi_attribute 28, 1\n",
    .asm_prologue_no_float = "\t.eabi_attribute 28, 3\n",
    .lower_node = armv81m_lower_node,
};
