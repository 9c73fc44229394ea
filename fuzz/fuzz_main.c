/* fuzz_main.c - the libFuzzer entry point around fuzz_one(). */
#include "fuzz.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    diag_set_capture(true);
    int r = fuzz_one(data, size);
    int n;
    diag_captured(&n);
    int errors = diag_error_count();
    diag_clear_captured();
    diag_reset();
    /* A rejection must tell the user why. */
    if (r == FUZZ_REJECTED && errors == 0)
        qnn_die("%s: input rejected without an error diagnostic", fuzz_target_name);
    (void)n;
    return 0;
}
