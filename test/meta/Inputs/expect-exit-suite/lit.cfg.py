# A suite run by ../../expect-exit.test, with the outer suite's own
# %error and %usage-error passed in as parameters: each test here either
# must pass or must fail, and the outer test checks lit's verdicts.
import lit.formats

config.name = "expect-exit-suite"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".test"]
config.substitutions.append(("%usage-error", lit_config.params["usage_error"]))
config.substitutions.append(("%error", lit_config.params["error"]))
