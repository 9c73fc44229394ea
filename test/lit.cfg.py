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
