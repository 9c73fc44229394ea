/* main.c - the main() of a standalone runner: compile with
 * -DQNN_MODEL_INFO=NAME_info and link with the model, libqnn_harness.a and
 * libqnn_runtime.a (`qnnc --emit=exe` does this). */
#include "qnn_harness.h"

#ifndef QNN_MODEL_INFO
#error "define QNN_MODEL_INFO to the model's info symbol, e.g. -DQNN_MODEL_INFO=toy_info"
#endif

extern const qnn_model_info QNN_MODEL_INFO;

int main(int argc, char **argv) { return qnn_harness_main(argc, argv, &QNN_MODEL_INFO); }
