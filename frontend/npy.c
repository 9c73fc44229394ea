/* npy.c - the NumPy .npy format, read and written directly.
 *
 * Format (numpy/lib/format.py, "NPY format version 1.0-3.0"): the magic
 * "\x93NUMPY", a major and minor version byte, a little-endian header length
 * (2 bytes in version 1, 4 bytes in versions 2 and 3), then an ASCII Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a newline so the data starts 64-byte aligned. */
#include "frontend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The descr strings for our dtypes; '|' (not applicable) for one byte. */
static const char *const npy_descr[DT_COUNT] = {
    [DT_F32] = "<f4", [DT_I8] = "|i1", [DT_U8] = "|u1", [DT_I16] = "<i2", [DT_I32] = "<i4",
};

typedef enum { SRC_SAME, SRC_F64, SRC_I64 } SrcKind;

static SrcLoc file_loc(const char *path) { return (SrcLoc){.file = path}; }

/* Finds 'KEY': in the header dict and returns a pointer just past the colon. */
static const char *dict_value(const char *hdr, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(hdr, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(hdr, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

/* Parses "(2, 3)" or "(5,)" or "()" into DIMS; returns the rank or -1. */
static int parse_shape(const char *p, int64_t dims[QNN_MAX_RANK])
{
    if (!p || *p != '(')
        return -1;
    p++;
    int rank = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            return rank;
        if (rank == QNN_MAX_RANK || *p < '0' || *p > '9')
            return -1;
        errno = 0;
        char *end;
        long long d = strtoll(p, &end, 10);
        if (errno || d < 0)
            return -1;
        dims[rank++] = d;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return -1;
    }
}

static bool descr_matches(const char *p, const char *descr)
{
    size_t n = strlen(descr);
    /* One-byte types may be written with any byte-order mark. */
    if (descr[0] == '|' && (p[1] == '|' || p[1] == '<' || p[1] == '=') &&
        strncmp(p + 2, descr + 1, n - 1) == 0 && p[n + 1] == p[0])
        return true;
    return strncmp(p + 1, descr, n) == 0 && p[n + 1] == p[0];
}

void *npy_read(const char *path, const TensorType *want)
{
    size_t len;
    unsigned char *buf = (unsigned char *)read_file(path, &len);
    if (!buf) {
        diag_error(file_loc(path), "cannot read file: %s", strerror(errno));
        return NULL;
    }
    void *out = NULL;
    const char *why = NULL;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        why = "not a .npy file (bad magic)";
        goto done;
    }
    size_t hlen, hstart;
    if (buf[6] == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        why = "unsupported .npy version";
        goto done;
    }
    if (hlen > len - hstart) {
        why = "truncated header";
        goto done;
    }
    char *hdr = xmalloc(hlen + 1);
    memcpy(hdr, buf + hstart, hlen);
    hdr[hlen] = '\0';

    const char *descr = dict_value(hdr, "descr");
    const char *fortran = dict_value(hdr, "fortran_order");
    int64_t dims[QNN_MAX_RANK];
    int rank = parse_shape(dict_value(hdr, "shape"), dims);
    SrcKind src = SRC_SAME;
    if (!descr || (*descr != '\'' && *descr != '"'))
        why = "header has no 'descr'";
    else if (!fortran)
        why = "header has no 'fortran_order'";
    else if (strncmp(fortran, "False", 5) != 0)
        why = "Fortran-order arrays are not supported; save with order='C'";
    else if (rank < 0)
        why = "header has a malformed or unsupported 'shape'";
    else if (descr_matches(descr, npy_descr[want->dtype]))
        src = SRC_SAME;
    else if (want->dtype == DT_F32 && descr_matches(descr, "<f8"))
        src = SRC_F64;
    else if (dtype_traits[want->dtype].is_int && descr_matches(descr, "<i8"))
        src = SRC_I64;
    else
        why = "element type does not match";

    TensorType got = {.dtype = want->dtype, .rank = rank};
    if (!why) {
        memcpy(got.dims, dims, (size_t)rank * sizeof *dims);
        if (!shape_equal(&got, want))
            why = "shape does not match";
    }
    free(hdr);
    if (why) {
        if (strcmp(why, "shape does not match") == 0 || strcmp(why, "element type does not match") == 0) {
            /* Say what was expected: the most useful part of the message. */
            char *t = NULL;
            size_t tl = 0;
            FILE *m = open_memstream(&t, &tl);
            TensorType plain = *want;
            plain.quant = NULL; /* .npy holds raw values; quantization is not its business */
            type_print(m, &plain);
            fclose(m);
            diag_error(file_loc(path), "%s: expected %s", why, t);
            free(t);
            why = NULL;
            goto fail;
        }
        goto done;
    }

    int64_t n = type_numel(want);
    size_t esize = src == SRC_SAME ? (size_t)dtype_traits[want->dtype].size : 8;
    size_t data_off = hstart + hlen;
    if (n < 0 || (uint64_t)n > (len - data_off) / esize) {
        why = "file is shorter than its shape says";
        goto done;
    }
    out = xmalloc((size_t)type_nbytes(want) + 1);
    const unsigned char *d = buf + data_off;
    if (src == SRC_SAME) {
        memcpy(out, d, (size_t)type_nbytes(want));
    } else if (src == SRC_F64) {
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, d + 8 * i, 8);
            ((float *)out)[i] = (float)v;
        }
    } else {
        const DTypeTraits *tr = &dtype_traits[want->dtype];
        for (int64_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, d + 8 * i, 8);
            if (v < tr->min || v > tr->max) {
                diag_error(file_loc(path), "element %lld (%lld) is out of range for %s", (long long)i,
                           (long long)v, tr->name);
                free(out);
                out = NULL;
                goto fail;
            }
            switch (want->dtype) {
            case DT_I8: ((int8_t *)out)[i] = (int8_t)v; break;
            case DT_U8: ((uint8_t *)out)[i] = (uint8_t)v; break;
            case DT_I16: ((int16_t *)out)[i] = (int16_t)v; break;
            case DT_I32: ((int32_t *)out)[i] = (int32_t)v; break;
            default: qnn_unreachable();
            }
        }
    }
done:
    if (why)
        diag_error(file_loc(path), "%s", why);
fail:
    free(buf);
    return out;
}

bool npy_write(const char *path, const TensorType *t, const void *data)
{
    char shape[256];
    int off = snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < t->rank; i++)
        off += snprintf(shape + off, sizeof shape - (size_t)off, "%lld%s", (long long)t->dims[i],
                        t->rank == 1 ? "," : i + 1 < t->rank ? ", " : "");
    snprintf(shape + off, sizeof shape - (size_t)off, ")");

    char dict[512];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      npy_descr[t->dtype], shape);
    /* Pad with spaces so magic + version + length + header is a multiple
     * of 64, ending in a newline, as the format asks. */
    size_t total = 10 + (size_t)dl + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    size_t nbytes = (size_t)type_nbytes(t);
    unsigned char *buf = xmalloc(padded + nbytes);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)dl);
    memset(buf + 10 + dl, ' ', hlen - (size_t)dl - 1);
    buf[padded - 1] = '\n';
    memcpy(buf + padded, data, nbytes);
    bool ok = write_file_atomic(path, buf, padded + nbytes);
    if (!ok)
        diag_error(file_loc(path), "cannot write file: %s", strerror(errno));
    free(buf);
    return ok;
}
