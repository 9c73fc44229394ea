/* fuzz_pb.c - the ONNX TensorProto reader (frontend/tensorproto.c).
 * Input: the wanted type (fuzz.h) then the file. */
#include "fuzz.h"
#include "frontend.h"

#include <stdlib.h>

const char fuzz_target_name[] = "pb";

int fuzz_one(const uint8_t *data, size_t size)
{
    TensorType want;
    if (!fuzz_take_type(&data, &size, &want))
        return FUZZ_ACCEPTED;
    void *buf = tensorproto_read(fuzz_write_temp(data, size, ".pb"), &want);
    free(buf);
    return buf ? FUZZ_ACCEPTED : FUZZ_REJECTED;
}
