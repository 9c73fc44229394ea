/* fuzz_idx.c - the IDX calibration-data reader (frontend/dataset.c), plain
 * or gzip.  Input: the wanted type (fuzz.h; the dtype is forced to f32,
 * the only one calibration takes) then the file.  Opens the dataset and
 * reads its first samples. */
#include "fuzz.h"
#include "frontend.h"

#include <stdlib.h>

const char fuzz_target_name[] = "idx";

int fuzz_one(const uint8_t *data, size_t size)
{
    TensorType want;
    if (!fuzz_take_type(&data, &size, &want))
        return FUZZ_ACCEPTED;
    want.dtype = DT_F32;
    int64_t nbytes = type_nbytes(&want);
    /* Empty inputs are skipped: dataset_read does pointer arithmetic on a
     * NULL chunk then (reported to the owner of dataset.c). */
    if (nbytes <= 0 || nbytes > (1 << 20))
        return FUZZ_ACCEPTED;
    const char *path = fuzz_write_temp(data, size, ".idx");
    DatasetOptions opts = {.idx = true, .max_samples = 4, .scale = 1.0 / 255, .offset = 0};
    Dataset *ds = dataset_open(&path, 1, &opts, "x", &want);
    if (!ds)
        return FUZZ_REJECTED;
    void *buf = malloc((size_t)nbytes + 1);
    bool ok = true;
    for (int64_t i = 0; ok && i < dataset_count(ds); i++)
        ok = dataset_read(ds, i, buf);
    free(buf);
    dataset_close(ds);
    return ok ? FUZZ_ACCEPTED : FUZZ_REJECTED;
}
