# lit configuration for qnnc: every .qir and .test file under test/ is a
# test; the qnnc tools and LLVM's FileCheck and `not` are on PATH.
import os
import lit.formats

config.name = "qnnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".qir", ".test"]
config.excludes = ["Inputs", "unit", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qnnc_obj_root, "test")

path = os.pathsep.join([config.qnnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

# In the sanitizer build (QNNC_SANITIZE=ON), a memory error, undefined
# behaviour or a leak aborts the tool: a signal, which `not` does not
# accept, so an error test cannot pass on a sanitizer's exit status 1.
if getattr(config, "qnnc_sanitize", "OFF").upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("sanitize")
config.environment["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:disable_coredump=1"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:abort_on_error=1"
