/* npy.c - NumPy .npy files for the harness, with only stdio and malloc so
 * that it runs under newlib semihosting as well as on Linux.
 *
 * Format (numpy/lib/format.py, "NPY format version 1.0-3.0"): the magic
 * "\x93NUMPY", a major and a minor version byte, a little-endian header
 * length (2 bytes in version 1, 4 in versions 2 and 3), then an ASCII
 * Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and a newline so that the data
 * starts on a 64-byte boundary.  The accepted dtypes and the f8/i8
 * conversions match qnnc-run's reader (frontend/npy.c), so one set of .npy
 * files drives both the interpreter and a compiled model. */
#include "qnn_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Element data is copied byte for byte, which is right only on a
 * little-endian target; all of qnnc's targets are. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader assumes a little-endian target"
#endif

static const char *const descr_of[] = {
    [QNN_F32] = "<f4", [QNN_I8] = "|i1", [QNN_U8] = "|u1", [QNN_I16] = "<i2", [QNN_I32] = "<i4",
};
static const char *const dtype_name[] = {
    [QNN_F32] = "f32", [QNN_I8] = "i8", [QNN_U8] = "u8", [QNN_I16] = "i16", [QNN_I32] = "i32",
};

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

/* Finds 'KEY': (or "KEY":) in HDR and returns a pointer past the colon. */
static const char *dict_value(const char *hdr, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = hdr; *p; p++) {
        if ((*p != '\'' && *p != '"') || strncmp(p + 1, key, kl) != 0 || p[kl + 1] != *p)
            continue;
        p += kl + 2;
        while (*p == ' ')
            p++;
        if (*p != ':')
            return NULL;
        p++;
        while (*p == ' ')
            p++;
        return p;
    }
    return NULL;
}

/* Does the quoted descr at P equal DESCR?  One-byte types may carry any
 * byte-order mark ('|i1', '<i1', '=i1'). */
static int descr_is(const char *p, const char *descr)
{
    char q = *p++;
    size_t n = strlen(descr);
    if (descr[0] == '|' && (*p == '|' || *p == '<' || *p == '='))
        return strncmp(p + 1, descr + 1, n - 1) == 0 && p[n] == q;
    return strncmp(p, descr, n) == 0 && p[n] == q;
}

/* Parses "(2, 3)", "(5,)" or "()" into DIMS; returns the rank or -1. */
static int parse_shape(const char *p, long long dims[QNN_MAX_RANK])
{
    if (!p || *p++ != '(')
        return -1;
    int rank = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            return rank;
        if (rank == QNN_MAX_RANK || *p < '0' || *p > '9')
            return -1;
        long long d = 0;
        while (*p >= '0' && *p <= '9') {
            if (d > 1000000000000LL)
                return -1;
            d = d * 10 + (*p++ - '0');
        }
        dims[rank++] = d;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return -1;
    }
}

static int64_t int_min(qnn_dtype dt)
{
    return dt == QNN_I8 ? INT8_MIN : dt == QNN_U8 ? 0 : dt == QNN_I16 ? INT16_MIN : INT32_MIN;
}
static int64_t int_max(qnn_dtype dt)
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
    void *out = NULL;
    const char *why = NULL;
    char *hdr = NULL;
    size_t hlen = 0, hstart = 0;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        why = "not a .npy file (bad magic)";
    } else if (buf[6] == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        why = "unsupported .npy version";
    }
    if (!why && hlen > len - hstart)
        why = "truncated header";
    if (!why && !(hdr = malloc(hlen + 1)))
        why = "out of memory";
    enum { SAME, FROM_F64, FROM_I64 } src = SAME;
    long long dims[QNN_MAX_RANK];
    int rank = -1;
    if (!why) {
        memcpy(hdr, buf + hstart, hlen);
        hdr[hlen] = '\0';
        const char *descr = dict_value(hdr, "descr");
        const char *fortran = dict_value(hdr, "fortran_order");
        rank = parse_shape(dict_value(hdr, "shape"), dims);
        if (!descr || (*descr != '\'' && *descr != '"'))
            why = "header has no 'descr'";
        else if (!fortran)
            why = "header has no 'fortran_order'";
        else if (strncmp(fortran, "False", 5) != 0)
            why = "Fortran-order arrays are not supported; save with order='C'";
        else if (rank < 0)
            why = "header has a malformed or unsupported 'shape'";
        else if (descr_is(descr, descr_of[t->dtype]))
            src = SAME;
        else if (t->dtype == QNN_F32 && descr_is(descr, "<f8"))
            src = FROM_F64;
        else if (t->dtype != QNN_F32 && descr_is(descr, "<i8"))
            src = FROM_I64;
        else
            why = "element type does not match";
    }
    if (!why && rank != t->rank)
        why = "shape does not match";
    for (int i = 0; !why && i < rank; i++)
        if (dims[i] != t->dims[i])
            why = "shape does not match";
    free(hdr);
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
    uint64_t n = t->nbytes / esize;
    size_t data_off = hstart + hlen;
    size_t src_esize = src == SAME ? esize : 8;
    if (n > (len - data_off) / src_esize) {
        free(buf);
        return fail(path, "file is shorter than its shape says");
    }
    /* One spare byte so a zero-sized tensor still gets a real pointer. */
    out = malloc(t->nbytes + 1);
    if (!out) {
        free(buf);
        return fail(path, "out of memory");
    }
    const unsigned char *d = buf + data_off;
    if (src == SAME) {
        memcpy(out, d, t->nbytes);
    } else if (src == FROM_F64) {
        for (uint64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, d + 8 * i, 8);
            ((float *)out)[i] = (float)v;
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, d + 8 * i, 8);
            if (v < int_min(t->dtype) || v > int_max(t->dtype)) {
                fprintf(stderr, "%s: error: element %llu (%lld) is out of range for %s\n", path,
                        (unsigned long long)i, (long long)v, dtype_name[t->dtype]);
                free(out);
                free(buf);
                return NULL;
            }
            switch (t->dtype) {
            case QNN_I8: ((int8_t *)out)[i] = (int8_t)v; break;
            case QNN_U8: ((uint8_t *)out)[i] = (uint8_t)v; break;
            case QNN_I16: ((int16_t *)out)[i] = (int16_t)v; break;
            default: ((int32_t *)out)[i] = (int32_t)v; break;
            }
        }
    }
    free(buf);
    return out;
}

int qnn_npy_write(const char *path, const qnn_tensor_info *t, const void *data)
{
    if (!known_dtype(t->dtype)) {
        fail(path, "the model's tensor has an unknown dtype");
        return 0;
    }
    char shape[8 * (QNN_MAX_RANK + 1) + 16];
    int off = snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < t->rank && i < QNN_MAX_RANK; i++)
        off += snprintf(shape + off, sizeof shape - (size_t)off, "%d%s", (int)t->dims[i],
                        t->rank == 1 ? "," : i + 1 < t->rank ? ", " : "");
    snprintf(shape + off, sizeof shape - (size_t)off, ")");
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr_of[t->dtype], shape);
    /* Pad with spaces so that magic, version, length and header fill a
     * multiple of 64 bytes, ending in a newline, as the format asks. */
    size_t padded = (10 + (size_t)dl + 1 + 63) / 64 * 64;
    unsigned char head[320];
    size_t hlen = padded - 10;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)dl);
    memset(head + 10 + dl, ' ', hlen - (size_t)dl - 1);
    head[padded - 1] = '\n';

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
