# Cross-compiling for 64-bit RISC-V Linux with Debian's gcc-riscv64-linux-gnu.
#
# QNN_RISCV_MARCH picks the ISA: rv64gc (the default, no vectors) or
# rv64gcv (the V extension, 1.0).  qemu-riscv64 runs either; give it
# -cpu rv64,v=true,vext_spec=v1.0,vlen=128 for rv64gcv (scripts/run-target does).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(QNN_RISCV_MARCH rv64gc CACHE STRING "RISC-V -march: rv64gc or rv64gcv")
set_property(CACHE QNN_RISCV_MARCH PROPERTY STRINGS rv64gc rv64gcv)
if(QNN_RISCV_MARCH STREQUAL "rv64gcv")
  set(QNN_TARGET riscv64-linux-gnu+v)
  set(_qnn_qemu_cpu rv64,v=true,vext_spec=v1.0,vlen=128)
else()
  set(QNN_TARGET riscv64-linux-gnu)
  set(_qnn_qemu_cpu rv64,v=false)
endif()
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_C_FLAGS_INIT "-march=${QNN_RISCV_MARCH} -mabi=lp64d")
set(CMAKE_CXX_FLAGS_INIT "-march=${QNN_RISCV_MARCH} -mabi=lp64d")
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-riscv64 -cpu ${_qnn_qemu_cpu} -L /usr/riscv64-linux-gnu)
