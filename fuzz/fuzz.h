/* fuzz.h - what the libFuzzer targets in fuzz/ share.
 *
 * Each target defines fuzz_one(), which feeds one input to one reader and
 * returns FUZZ_ACCEPTED or FUZZ_REJECTED.  The same source is linked two
 * ways (fuzz/CMakeLists.txt):
 *   - with libFuzzer (QNNC_FUZZ=ON, clang -fsanitize=fuzzer): fuzz_main.c
 *     defines LLVMFuzzerTestOneInput;
 *   - with replay_main.c into an ordinary program, fuzz-replay-TARGET FILE,
 *     that the test suite runs over test/fuzz/regressions/TARGET/.
 * Diagnostics are captured (diag_set_capture), not printed, so a fuzzing
 * run is not drowned in messages; a rejection without any error diagnostic
 * is a bug of its own (the user would get a silent exit status). */
#ifndef QNNC_FUZZ_H
#define QNNC_FUZZ_H

#include "ir.h"

#include <stddef.h>
#include <stdint.h>

enum { FUZZ_ACCEPTED = 0, FUZZ_REJECTED = 1 };

/* The target's name ("onnx") and entry point. */
extern const char fuzz_target_name[];
int fuzz_one(const uint8_t *data, size_t size);

/* Writes DATA to this process's scratch file (in a private temporary
 * directory removed at exit), named "input" + SUFFIX, and returns its path. */
const char *fuzz_write_temp(const uint8_t *data, size_t size, const char *suffix);

/* The readers of tensors (.npy, .pb, IDX) need the type the caller wants.
 * Their fuzz inputs therefore start with a small header that chooses it:
 *   byte 0: dtype (modulo DT_COUNT); byte 1: rank (modulo QNN_MAX_RANK+1);
 *   then RANK little-endian uint16 dimensions.
 * The rest is the file.  fuzz/seeds.py writes seeds in this form.  Returns
 * false when DATA is too short to hold the header. */
bool fuzz_take_type(const uint8_t **data, size_t *size, TensorType *want);

#endif
