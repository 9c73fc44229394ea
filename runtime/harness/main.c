/* main.c - the main() of a standalone runner: compile with
 * -DQNN_MODEL_INFO=NAME_info (and, for a model compiled with --profile,
 * -DQNN_MODEL_PROFILE=NAME_profile; for --weights=external see below) and link with the model, libqnn_harness.a and
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

/* qnnc --emit=exe --weights=external also defines -DQNN_MODEL_RUN_WEIGHTS=NAME_run,
 * -DQNN_MODEL_WEIGHTS_FILE="PATH" (where it wrote NAME.weights.bin) and the
 * file's size and content hash, NAME.h's NAME_WEIGHTS_SIZE and
 * NAME_WEIGHTS_FNV1A (-DQNN_MODEL_WEIGHTS_SIZE, -DQNN_MODEL_WEIGHTS_FNV1A). */
#ifdef QNN_MODEL_RUN_WEIGHTS
int QNN_MODEL_RUN_WEIGHTS(const void *const inputs[], void *const outputs[], void *scratch, const void *weights,
                          size_t weights_size);
#ifndef QNN_MODEL_WEIGHTS_FILE
#define QNN_MODEL_WEIGHTS_FILE NULL
#endif
#endif

int main(int argc, char **argv)
{
#ifdef QNN_MODEL_RUN_WEIGHTS
    qnn_harness_weights(QNN_MODEL_RUN_WEIGHTS, QNN_MODEL_WEIGHTS_FILE, QNN_MODEL_WEIGHTS_SIZE, QNN_MODEL_WEIGHTS_FNV1A);
#endif
#ifdef QNN_MODEL_PROFILE
    qnn_harness_profile(&QNN_MODEL_PROFILE);
#endif
    return qnn_harness_main(argc, argv, &QNN_MODEL_INFO);
}
