/* npy.c - NumPy .npy files for the harness, with only stdio and malloc so
 * that it runs under newlib semihosting as well as on Linux.  The format
 * itself is npy_format.c, which qnnc-run's reader (frontend/npy.c) shares,
 * so one set of .npy files drives both the interpreter and a compiled
 * model. */
#include "qnn_harness.h"
#include "npy_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const descr_of[] = {
    [QNN_F32] = "<f4", [QNN_I8] = "|i1", [QNN_U8] = "|u1", [QNN_I16] = "<i2", [QNN_I32] = "<i4",
};
static const char *const dtype_name[] = {
    [QNN_F32] = "f32", [QNN_I8] = "i8", [QNN_U8] = "u8", [QNN_I16] = "i16", [QNN_I32] = "i32",
};

_Static_assert(QNN_NPY_MAX_RANK >= QNN_MAX_RANK, "a tensor of any rank must fit a .npy header");

static int known_dtype(qnn_dtype dt) { return (uint32_t)dt <= QNN_I32; }

/* Prints "dtype[d0,d1]", the form qnnc-run uses in the same messages. */
static void print_type(FILE *f, const qnn_tensor_info *t)
{
    fprintf(f, "%s[", known_dtype(t->dtype) ? dtype_name[t->dtype] : "?");
    for (int i = 0; i < t->rank; i++)
        fprintf(f, "%s%d", i ? "," : "", (int)t->dims[i]);
    fputc(']', f);
}

static void *fail(const char *path, const char *why)
{
    fprintf(stderr, "%s: error: %s\n", path, why);
    return NULL;
}

/* Reads all of PATH; chunked rather than fseek/ftell so that it also works
 * on pipes. */
static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (buf && bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The smallest and largest value of integer type DT. */
static long long int_min(qnn_dtype dt)
{
    return dt == QNN_I8 ? INT8_MIN : dt == QNN_U8 ? 0 : dt == QNN_I16 ? INT16_MIN : INT32_MIN;
}
static long long int_max(qnn_dtype dt)
{
    return dt == QNN_I8 ? INT8_MAX : dt == QNN_U8 ? UINT8_MAX : dt == QNN_I16 ? INT16_MAX : INT32_MAX;
}

void *qnn_npy_read(const char *path, const qnn_tensor_info *t)
{
    if (!known_dtype(t->dtype))
        return fail(path, "the model's tensor has an unknown dtype");
    size_t len;
    unsigned char *buf = read_all(path, &len);
    if (!buf) {
        fprintf(stderr, "%s: error: cannot read file: %s\n", path, strerror(errno));
        return NULL;
    }
    qnn_npy_array a;
    const char *why = qnn_npy_parse(buf, len, descr_of[t->dtype], t->dtype != QNN_F32, &a);
    if (!why && a.rank != t->rank)
        why = "shape does not match";
    for (int i = 0; !why && i < a.rank; i++)
        if (a.dims[i] != t->dims[i])
            why = "shape does not match";
    if (why) {
        if (!strcmp(why, "shape does not match") || !strcmp(why, "element type does not match")) {
            fprintf(stderr, "%s: error: %s: expected ", path, why);
            print_type(stderr, t);
            fputc('\n', stderr);
        } else {
            fprintf(stderr, "%s: error: %s\n", path, why);
        }
        free(buf);
        return NULL;
    }

    uint32_t esize = qnn_dtype_size(t->dtype);
    /* One spare byte so a zero-sized tensor still gets a real pointer. */
    void *out = malloc(t->nbytes + 1);
    uint64_t bad = 0;
    long long bad_value = 0;
    int st = out ? qnn_npy_elements(&a, t->nbytes / esize, esize, int_min(t->dtype), int_max(t->dtype), out, &bad,
                                    &bad_value)
                 : -1;
    free(buf);
    if (st == 0)
        return out;
    free(out);
    if (st == 2)
        fprintf(stderr, "%s: error: element %llu (%lld) is out of range for %s\n", path, (unsigned long long)bad,
                bad_value, dtype_name[t->dtype]);
    else
        fail(path, st == 1 ? "file is shorter than its shape says" : "out of memory");
    return NULL;
}

int qnn_npy_write(const char *path, const qnn_tensor_info *t, const void *data)
{
    if (!known_dtype(t->dtype)) {
        fail(path, "the model's tensor has an unknown dtype");
        return 0;
    }
    long long dims[QNN_NPY_MAX_RANK];
    int rank = t->rank < QNN_NPY_MAX_RANK ? t->rank : QNN_NPY_MAX_RANK;
    for (int i = 0; i < rank; i++)
        dims[i] = t->dims[i];
    unsigned char head[QNN_NPY_HEADER_MAX];
    size_t padded = qnn_npy_header(head, descr_of[t->dtype], rank, dims);

    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot write file: %s\n", path, strerror(errno));
        return 0;
    }
    int ok = fwrite(head, 1, padded, f) == padded && fwrite(data, 1, t->nbytes, f) == t->nbytes;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "%s: error: cannot write file: %s\n", path, strerror(errno));
        remove(path); /* no partial output for a later step to trust */
    }
    return ok;
}
