# Cross-compiling for a bare-metal RV32IMAC core (ilp32: soft float) with
# Debian's gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf.
#
# Programs link with picolibc's semihosting library and qnnc's startup
# code for QEMU's virt board (runtime/riscv/): see runtime/CMakeLists.txt's
# qnn-cc wrapper and docs/runtime.md.  The flags select picolibc's
# rv32imac/ilp32 multilib.  qnnc's riscv32-none-elf code is RV32IMC by
# default (-mattr=+a: RV32IMAC); both link with this runtime, and QEMU's
# default rv32 CPU runs either.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(QNN_TARGET riscv32-none-elf)
# (Not rv32imac_zicsr: GCC 12 finds no multilib for it; its assembler
# accepts the CSR instructions without.)
set(QNN_CPU_FLAGS "-march=rv32imac -mabi=ilp32 -mcmodel=medany --specs=picolibc.specs")
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_C_FLAGS_INIT "${QNN_CPU_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${QNN_CPU_FLAGS}")
# Executables need the startup code and linker script; CMake's compiler
# check only needs a library, so it must not try to link.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "--oslib=semihost -nostartfiles")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
