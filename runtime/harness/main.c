/* main.c - the main() of a standalone runner: compile with
 * -DQNN_MODEL_INFO=NAME_info (and, for a model compiled with --profile,
 * -DQNN_MODEL_PROFILE=NAME_profile) and link with the model, libqnn_harness.a and
 * libqnn_runtime.a (`qnnc --emit=exe` does this). */
#include "qnn_harness.h"

#ifndef QNN_MODEL_INFO
#error "define QNN_MODEL_INFO to the model's info symbol, e.g. -DQNN_MODEL_INFO=toy_info"
#endif

extern const qnn_model_info QNN_MODEL_INFO;

/* qnnc --emit=exe --profile also defines -DQNN_MODEL_PROFILE=NAME_profile. */
#ifdef QNN_MODEL_PROFILE
extern const qnn_profile_info QNN_MODEL_PROFILE;
#endif

int main(int argc, char **argv)
{
#ifdef QNN_MODEL_PROFILE
    qnn_harness_profile(&QNN_MODEL_PROFILE);
#endif
    return qnn_harness_main(argc, argv, &QNN_MODEL_INFO);
}
