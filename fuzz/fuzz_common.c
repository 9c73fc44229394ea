/* fuzz_common.c - scratch files and the tensor-type header of fuzz.h. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch_dir[64];
static char scratch_path[128];

static void remove_scratch(void)
{
    if (scratch_path[0])
        unlink(scratch_path);
    if (scratch_dir[0])
        rmdir(scratch_dir);
}

const char *fuzz_write_temp(const uint8_t *data, size_t size, const char *suffix)
{
    if (!scratch_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch_dir, sizeof scratch_dir, "%s/qnnc-fuzz-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
        if (!mkdtemp(scratch_dir))
            qnn_die("cannot create a scratch directory in %s", scratch_dir);
        atexit(remove_scratch);
    }
    if (scratch_path[0])
        unlink(scratch_path);
    snprintf(scratch_path, sizeof scratch_path, "%s/input%s", scratch_dir, suffix);
    FILE *f = fopen(scratch_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        qnn_die("cannot write %s", scratch_path);
    return scratch_path;
}

bool fuzz_take_type(const uint8_t **data, size_t *size, TensorType *want)
{
    if (*size < 2)
        return false;
    const uint8_t *p = *data;
    memset(want, 0, sizeof *want);
    want->dtype = (DType)(p[0] % DT_COUNT);
    want->rank = p[1] % (QNN_MAX_RANK + 1);
    size_t need = 2 + 2 * (size_t)want->rank;
    if (*size < need)
        return false;
    for (int i = 0; i < want->rank; i++)
        want->dims[i] = p[2 + 2 * i] | p[3 + 2 * i] << 8;
    *data += need;
    *size -= need;
    return true;
}
