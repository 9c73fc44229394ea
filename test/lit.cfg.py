# lit configuration for qnnc: every .qir and .test file under test/ is a
# test; the qnnc tools and LLVM's FileCheck are on PATH.
import os
import lit.formats

config.name = "qnnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".qir", ".test"]
config.excludes = ["Inputs", "unit", "utils", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qnnc_obj_root, "test")

path = os.pathsep.join([config.qnnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%lit", config.lit_path))
config.substitutions.append(("%qnnc_obj_root", config.qnnc_obj_root))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

# Expected failures.  `%error CMD` passes only when CMD exits with status 1
# (bad input: a model, config, dataset or tensor file it refuses) and
# `%usage-error CMD` only with status 2 (a bad command line); a signal,
# status 0 or any other status fails the test (test/utils/expect-exit.c).
# lit's built-in `not` accepts any non-zero status, a crash included, so it
# is kept for plain shell checks (`not test -e FILE`, `not grep`) and never
# put in front of a qnnc tool or a generated program (test/meta/ checks both).
expect_exit = os.path.join(config.qnnc_test_tools_dir, "expect-exit")
config.substitutions.append(("%usage-error", expect_exit + " 2"))
config.substitutions.append(("%error", expect_exit + " 1"))

# In the sanitizer build (QNNC_SANITIZE=ON), a memory error, undefined
# behaviour or a leak aborts the tool (abort_on_error=1): a signal, which
# %error and %usage-error do not accept, so an error test cannot pass on a
# sanitizer's report.
if getattr(config, "qnnc_sanitize", "OFF").upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("sanitize")
config.environment["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:disable_coredump=1"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"

# CMSIS-NN's sources (never part of qnnc) as a second oracle for the int8
# kernels TFLite defines: $QNNC_CMSIS_NN, or shared/anchors/cmsis-nn beside
# the repository.  Tests that need them say `REQUIRES: cmsis-nn`.
cmsis = os.environ.get("QNNC_CMSIS_NN") or os.path.join(
    os.path.dirname(os.path.dirname(config.test_source_root)), "shared", "anchors", "cmsis-nn")
if os.path.isfile(os.path.join(cmsis, "Include", "arm_nnfunctions.h")):
    config.available_features.add("cmsis-nn")
    config.substitutions.append(("%cmsis_nn", os.path.abspath(cmsis)))

# The host CPU's x86 extensions (/proc/cpuinfo flags), for tests that run
# code compiled for them natively: cpu-avx512vnni (with AVX512F/BW/VL, which
# the AVX-512 VNNI kernels' code needs) and cpu-avxvnni.  Elsewhere those
# tests are UNSUPPORTED, never passed without running.
def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


host_flags = cpu_flags()
if {"avx512_vnni", "avx512f", "avx512bw", "avx512vl"} <= host_flags:
    config.available_features.add("cpu-avx512vnni")
if "avx_vnni" in host_flags:
    config.available_features.add("cpu-avxvnni")
# The JIT's ISA levels (codegen/jit.h, QNNC_JIT_ISA): AVX2, and AVX-512
# with the F, CD, BW, DQ and VL extensions its level enables.
if "avx2" in host_flags:
    config.available_features.add("cpu-avx2")
if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= host_flags:
    config.available_features.add("cpu-avx512")
# The table lookup of the 8-bit activations (vpermi2b on zmm).
if {"avx512vbmi", "avx512f", "avx512bw"} <= host_flags:
    config.available_features.add("cpu-avx512vbmi")
