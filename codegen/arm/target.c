/* arm/target.c - Cortex-M4/M7 (Armv7E-M with the DSP extension), bare
 * metal, hard-float ABI with the single-precision FPU (fpv4-sp-d16), as
 * arm-none-eabi-gcc -mcpu=cortex-m4 -mfloat-abi=hard builds the runtime. */
#include "codegen.h"

const CgTarget cg_target_arm = {
    .triple = "thumbv7em-none-eabi",
    /* "eabihf": LLVM picks the hard-float ABI from the environment. */
    .llvm_triple = "thumbv7em-none-eabihf",
    .default_cpu = "cortex-m4",
    .base_features = "",
    .vector_bytes = 4,
    .reloc = LLVMRelocStatic,
    .short_enums = true,
    .lower_node = NULL,
};
