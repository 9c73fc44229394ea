/* fuzz_npy.c - the .npy reader (frontend/npy.c).  Input: the wanted type
 * (fuzz.h) then the file. */
#include "fuzz.h"
#include "frontend.h"

#include <stdlib.h>

const char fuzz_target_name[] = "npy";

int fuzz_one(const uint8_t *data, size_t size)
{
    TensorType want;
    if (!fuzz_take_type(&data, &size, &want))
        return FUZZ_ACCEPTED; /* nothing to read */
    void *buf = npy_read(fuzz_write_temp(data, size, ".npy"), &want);
    free(buf);
    return buf ? FUZZ_ACCEPTED : FUZZ_REJECTED;
}
