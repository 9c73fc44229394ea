# qnnc_add_model: compile a neural network with qnnc as part of a CMake build.
#
#   find_package(qnnc REQUIRED)
#   qnnc_add_model(<target>
#                  MODEL model.onnx           # or .qir
#                  [CONFIG qnnc.toml]         # the compile configuration
#                  [TARGET triple]            # default: the toolchain's, else the host
#                  [NAME name]                # symbol prefix and header name
#                  [CALIBRATION files...]     # calibration data the config reads
#                  [OPTIONS flags...])        # more qnnc flags, e.g. -O3 -mcpu=...
#
# At build time (add_custom_command) runs
#
#   qnnc MODEL --config CONFIG --target=TRIPLE [--name=NAME] --emit=obj,header
#        --header=<dir>/NAME.h --report=NAME.report.json -o <dir>/NAME.o
#
# and makes <target> a static library holding NAME.o, with <dir> (where
# NAME.h is) and the qnn runtime's headers as PUBLIC include directories
# and the runtime library for TRIPLE as a PUBLIC link dependency.  When
# <target> already exists (any library target) the object is added to it
# instead.  The command depends on qnnc itself, MODEL, CONFIG and every
# CALIBRATION file, so changing any of them recompiles the model and
# relinks whatever uses it.  The calibration data is named here only as a
# dependency: which files calibrate the model is the config's business
# ([calibration] dataset, docs/config.md).
#
# TRIPLE is one of the triples qnnc supports (x86_64-linux-gnu,
# aarch64-linux-gnu, riscv64-linux-gnu, riscv64-linux-gnu+v,
# thumbv7em-none-eabi, thumbv8.1m.main-none-eabi, riscv32-none-elf).  Without TARGET it is QNN_TARGET when the
# toolchain file sets it (qnnc's cmake/toolchains/ do), else derived from
# CMAKE_SYSTEM_PROCESSOR.  "riscv64-linux-gnu+v" compiles with -mattr=+v.
#
# NAME defaults to the model's file name with every character that is not
# a letter, digit or '_' made '_' (qnnc's own default): fashion_mnist.onnx
# gives fashion_mnist.o, fashion_mnist.h and fashion_mnist_run().  Give
# NAME when the config sets [model] name to something else.
#
# Sets <target>_QNNC_HEADER and <target>_QNNC_REPORT in the caller's scope
# (the header and the quantization report's paths).
include_guard(GLOBAL)

function(qnnc_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MODEL;CONFIG;TARGET;NAME" "CALIBRATION;OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "qnnc_add_model(${target}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "qnnc_add_model(${target}): MODEL is required")
  endif()

  # Paths relative to the calling CMakeLists.txt, like add_executable's.
  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(depends "${model}")
  set(command "${QNNC_EXECUTABLE}" "${model}")
  if(arg_CONFIG)
    get_filename_component(config "${arg_CONFIG}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND depends "${config}")
    list(APPEND command --config "${config}")
  endif()
  foreach(file IN LISTS arg_CALIBRATION)
    get_filename_component(file "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND depends "${file}")
  endforeach()

  set(triple "${arg_TARGET}")
  if(NOT triple)
    if(QNN_TARGET)
      set(triple "${QNN_TARGET}")
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
      set(triple x86_64-linux-gnu)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
      set(triple aarch64-linux-gnu)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv64$")
      set(triple riscv64-linux-gnu)
    else()
      message(FATAL_ERROR "qnnc_add_model(${target}): cannot tell the target from CMAKE_SYSTEM_PROCESSOR "
                          "'${CMAKE_SYSTEM_PROCESSOR}'; give TARGET")
    endif()
  endif()
  if(NOT TARGET qnnc::runtime-${triple})
    message(FATAL_ERROR "qnnc_add_model(${target}): this qnnc installation has no runtime for '${triple}' "
                        "(it has: ${QNNC_TARGETS})")
  endif()
  if(triple STREQUAL "riscv64-linux-gnu+v")
    list(APPEND command --target=riscv64-linux-gnu -mattr=+v)
  else()
    list(APPEND command --target=${triple})
  endif()

  set(name "${arg_NAME}")
  if(name)
    list(APPEND command --name=${name})
  else()
    get_filename_component(name "${model}" NAME_WE)
    string(MAKE_C_IDENTIFIER "${name}" name)
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/qnnc/${target}")
  set(obj "${dir}/${name}.o")
  set(header "${dir}/${name}.h")
  set(report "${dir}/${name}.report.json")
  file(MAKE_DIRECTORY "${dir}")
  list(APPEND command --emit=obj,header --header=${header} --report=${report} ${arg_OPTIONS} -o "${obj}")

  add_custom_command(
    OUTPUT "${obj}" "${header}" "${report}"
    COMMAND ${command}
    DEPENDS ${depends} "${QNNC_EXECUTABLE}"
    COMMENT "qnnc: compiling ${arg_MODEL} for ${triple}"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)

  if(NOT TARGET ${target})
    add_library(${target} STATIC)
    # A library of nothing but an object still needs a linker language.
    set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  endif()
  target_sources(${target} PRIVATE "${obj}" "${header}")
  target_include_directories(${target} PUBLIC "${dir}")
  target_link_libraries(${target} PUBLIC qnnc::runtime-${triple})

  set(${target}_QNNC_HEADER "${header}" PARENT_SCOPE)
  set(${target}_QNNC_REPORT "${report}" PARENT_SCOPE)
endfunction()
