/* npy.c - NumPy .npy tensors for qnnc-run and calibration, read and
 * written with the format code the target harness uses
 * (runtime/harness/npy_format.c), so both accept the same files. */
#include "frontend.h"
#include "npy_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The descr strings for our dtypes; '|' (not applicable) for one byte. */
static const char *const npy_descr[DT_COUNT] = {
    [DT_F32] = "<f4", [DT_I8] = "|i1", [DT_U8] = "|u1", [DT_I16] = "<i2", [DT_I32] = "<i4",
};

_Static_assert(QNN_NPY_MAX_RANK >= QNN_MAX_RANK, "a tensor of any rank must fit a .npy header");

static SrcLoc file_loc(const char *path) { return (SrcLoc){.file = path}; }

/* Reports WHY, followed by the expected type where that helps. */
static void report(const char *path, const char *why, const TensorType *want)
{
    if (strcmp(why, "shape does not match") != 0 && strcmp(why, "element type does not match") != 0) {
        diag_error(file_loc(path), "%s", why);
        return;
    }
    char *t = NULL;
    size_t tl = 0;
    FILE *m = open_memstream(&t, &tl);
    TensorType plain = *want;
    plain.quant = NULL; /* .npy holds raw values; quantization is not its business */
    type_print(m, &plain);
    fclose(m);
    diag_error(file_loc(path), "%s: expected %s", why, t);
    free(t);
}

void *npy_read(const char *path, const TensorType *want)
{
    size_t len;
    unsigned char *buf = (unsigned char *)read_file(path, &len);
    if (!buf) {
        diag_error(file_loc(path), "cannot read file: %s", strerror(errno));
        return NULL;
    }
    const DTypeTraits *tr = &dtype_traits[want->dtype];
    qnn_npy_array a;
    const char *why = qnn_npy_parse(buf, len, npy_descr[want->dtype], tr->is_int, &a);
    if (!why && a.rank != want->rank)
        why = "shape does not match";
    for (int i = 0; !why && i < a.rank; i++)
        if (a.dims[i] != want->dims[i])
            why = "shape does not match";
    void *out = NULL;
    uint64_t bad = 0;
    long long bad_value = 0;
    if (why) {
        report(path, why, want);
    } else {
        out = xmalloc((size_t)type_nbytes(want) + 1);
        int st = qnn_npy_elements(&a, (uint64_t)type_numel(want), (unsigned)tr->size, tr->min, tr->max, out, &bad,
                                  &bad_value);
        if (st == 1)
            diag_error(file_loc(path), "file is shorter than its shape says");
        else if (st == 2)
            diag_error(file_loc(path), "element %llu (%lld) is out of range for %s", (unsigned long long)bad,
                       bad_value, tr->name);
        if (st != 0) {
            free(out);
            out = NULL;
        }
    }
    free(buf);
    return out;
}

bool npy_write(const char *path, const TensorType *t, const void *data)
{
    long long dims[QNN_NPY_MAX_RANK];
    for (int i = 0; i < t->rank; i++)
        dims[i] = t->dims[i];
    unsigned char head[QNN_NPY_HEADER_MAX];
    size_t hlen = qnn_npy_header(head, npy_descr[t->dtype], t->rank, dims);
    size_t nbytes = (size_t)type_nbytes(t);
    unsigned char *buf = xmalloc(hlen + nbytes);
    memcpy(buf, head, hlen);
    memcpy(buf + hlen, data, nbytes);
    bool ok = write_file_atomic(path, buf, hlen + nbytes);
    if (!ok)
        diag_error(file_loc(path), "cannot write file: %s", strerror(errno));
    free(buf);
    return ok;
}
