# install() rules: what `cmake --install` puts under the prefix, for a
# product build to use (docs/integration.md).
#
#   bin/qnnc, bin/qnnc-opt, bin/qnnc-run        the tools (tools/CMakeLists.txt)
#   include/qnnc/                               qnn_runtime.h and the runtime's headers
#   lib/qnnc/TRIPLE/                            libqnn_runtime.a, libqnn_harness.a, qnn-cc
#                                               (+ libqnn_mps2.a, mps2_an386.ld on Cortex-M4;
#                                                libqnn_mps3.a, mps3_an547.ld on Cortex-M55;
#                                                libqnn_virt.a, virt_rv32.ld on RV32)
#                                               for the host and every cross runtime built
#   lib/qnnc/TRIPLE/pkgconfig/qnn-runtime.pc    pkg-config, per target
#   lib/pkgconfig/qnn-runtime.pc                pkg-config for the host
#   lib/cmake/qnnc/                             find_package(qnnc): qnnc_add_model()
#   share/qnnc/harness/main.c                   the standalone runner's main()
#   share/qnnc/toolchains/                      CMake toolchain files for the cross targets
#
# Included from the top-level CMakeLists.txt after runtime/ and tools/.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QNNC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qnnc)
set(qnnc_runtime_dir ${PROJECT_SOURCE_DIR}/runtime)

install(FILES ${qnnc_runtime_dir}/qnn_runtime.h ${qnnc_runtime_dir}/qnn_kernels.h
              ${qnnc_runtime_dir}/harness/qnn_harness.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qnnc)
install(FILES ${qnnc_runtime_dir}/harness/main.c DESTINATION ${CMAKE_INSTALL_DATADIR}/qnnc/harness)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/cmake/toolchains/ DESTINATION ${CMAKE_INSTALL_DATADIR}/qnnc/toolchains
        FILES_MATCHING PATTERN "*.cmake")

# One pkg-config file per target; paths relative to the file (${pcfiledir})
# so that the installation can move.
function(qnnc_install_pkgconfig triple destination prefix_from_pc)
  set(pc "${PROJECT_BINARY_DIR}/pkgconfig/${destination}/qnn-runtime.pc")
  file(WRITE "${pc}"
"# pkg-config file for qnnc's runtime library, ${triple}: what a model
# compiled by qnnc links against (docs/integration.md).
prefix=\${pcfiledir}/${prefix_from_pc}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}/qnnc/${triple}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}/qnnc

Name: qnn-runtime
Description: Runtime library for models compiled by qnnc (${triple})
Version: ${PROJECT_VERSION}
Cflags: -I\${includedir}
Libs: -L\${libdir} -lqnn_runtime
")
  install(FILES "${pc}" DESTINATION "${destination}")
endfunction()

# The host runtime (runtime/CMakeLists.txt names its directory the same way).
set(QNN_TARGET ${CMAKE_SYSTEM_PROCESSOR}-linux-gnu)
install(TARGETS qnn_runtime qnn_harness ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${QNN_TARGET})
install(PROGRAMS ${PROJECT_BINARY_DIR}/runtime/targets/${QNN_TARGET}/qnn-cc.installed
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${QNN_TARGET} RENAME qnn-cc)
qnnc_install_pkgconfig(${QNN_TARGET} ${CMAKE_INSTALL_LIBDIR}/pkgconfig ../..)
qnnc_install_pkgconfig(${QNN_TARGET} ${CMAKE_INSTALL_LIBDIR}/qnnc/${QNN_TARGET}/pkgconfig ../../../..)

# The cross runtimes runtime/CMakeLists.txt builds as ExternalProjects
# (only those whose compiler is installed).
foreach(triple aarch64-linux-gnu riscv64-linux-gnu riscv64-linux-gnu+v thumbv7em-none-eabi thumbv8.1m.main-none-eabi
               riscv32-none-elf)
  string(MAKE_C_IDENTIFIER "${triple}" id)
  if(NOT TARGET qnn_runtime_${id})
    continue()
  endif()
  install(DIRECTORY ${PROJECT_BINARY_DIR}/runtime/targets/${triple}/lib/
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple} FILES_MATCHING PATTERN "*.a")
  install(PROGRAMS ${PROJECT_BINARY_DIR}/runtime/targets/${triple}/qnn-cc.installed
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple} RENAME qnn-cc)
  if(triple MATCHES "^thumbv8")
    install(FILES ${qnnc_runtime_dir}/arm/mps3_an547.ld DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple})
  elseif(triple STREQUAL "riscv32-none-elf")
    install(FILES ${qnnc_runtime_dir}/riscv/virt_rv32.ld DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple})
  elseif(triple MATCHES "none-eabi$")
    install(FILES ${qnnc_runtime_dir}/arm/mps2_an386.ld DESTINATION ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple})
  endif()
  qnnc_install_pkgconfig(${triple} ${CMAKE_INSTALL_LIBDIR}/qnnc/${triple}/pkgconfig ../../../..)
endforeach()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qnncConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/qnncConfig.cmake
  INSTALL_DESTINATION ${QNNC_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_DATADIR)
# The tools run on the build machine, so any architecture may use them.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/qnncConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/cmake/qnncConfig.cmake ${PROJECT_BINARY_DIR}/cmake/qnncConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/qnnc_add_model.cmake
        DESTINATION ${QNNC_INSTALL_CMAKEDIR})
