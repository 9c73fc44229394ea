/* fuzz_onnx.c - the ONNX importer (frontend/onnx*.c) on arbitrary bytes.
 * The model goes through a scratch file since onnx_import reads a path;
 * the bit 0 of the last byte picks the boundary layout (NCHW or NHWC) so
 * both transposing paths are exercised. */
#include "fuzz.h"
#include "frontend.h"

const char fuzz_target_name[] = "onnx";

int fuzz_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp(data, size, ".onnx");
    ImportOptions opts = {.batch = 1, .layout = size && (data[size - 1] & 1) ? LAYOUT_NHWC : LAYOUT_MODEL};
    Graph *g = onnx_import(path, &opts);
    if (!g)
        return FUZZ_REJECTED;
    graph_free(g);
    return FUZZ_ACCEPTED;
}
