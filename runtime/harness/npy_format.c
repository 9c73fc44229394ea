/* npy_format.c - the .npy container: header parsing and writing, element
 * conversion (npy_format.h). */
#include "npy_format.h"

#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy format code assumes a little-endian machine"
#endif

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

/* Parses "(2, 3)", "(5,)" or "()" into DIMS; returns the rank or -1.  A
 * dimension above 10^12 is refused here: no model has one, and it keeps
 * the arithmetic below far from overflow. */
static int parse_shape(const char *p, long long dims[QNN_NPY_MAX_RANK])
{
    if (!p || *p++ != '(')
        return -1;
    int rank = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            return rank;
        if (rank == QNN_NPY_MAX_RANK || *p < '0' || *p > '9')
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

const char *qnn_npy_parse(const unsigned char *buf, size_t len, const char *descr, int integer,
                          qnn_npy_array *a)
{
    size_t hlen, hstart;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return "not a .npy file (bad magic)";
    if (buf[6] == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return "unsupported .npy version";
    }
    if (hlen > len - hstart)
        return "truncated header";

    /* The dict, as a C string.  numpy writes it in under 200 bytes for
     * the types read here (the rest is padding), so only the first 511
     * bytes are searched, without allocating. */
    char hdr[512];
    size_t take = hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1;
    memcpy(hdr, buf + hstart, take);
    hdr[take] = '\0';
    const char *d = dict_value(hdr, "descr");
    const char *fortran = dict_value(hdr, "fortran_order");
    a->rank = parse_shape(dict_value(hdr, "shape"), a->dims);
    if (!d || (*d != '\'' && *d != '"'))
        return "header has no 'descr'";
    if (!fortran)
        return "header has no 'fortran_order'";
    if (strncmp(fortran, "False", 5) != 0)
        return "Fortran-order arrays are not supported; save with order='C'";
    if (a->rank < 0)
        return "header has a malformed or unsupported 'shape'";
    if (descr_is(d, descr))
        a->source = QNN_NPY_SAME;
    else if (!integer && descr_is(d, "<f8"))
        a->source = QNN_NPY_FROM_F64;
    else if (integer && descr_is(d, "<i8"))
        a->source = QNN_NPY_FROM_I64;
    else
        return "element type does not match";
    a->data = buf + hstart + hlen;
    a->data_bytes = len - hstart - hlen;
    return NULL;
}

int qnn_npy_elements(const qnn_npy_array *a, uint64_t n, unsigned esize, long long min, long long max,
                     void *out, uint64_t *bad, long long *bad_value)
{
    size_t src_esize = a->source == QNN_NPY_SAME ? esize : 8;
    if (n > a->data_bytes / src_esize)
        return 1;
    const unsigned char *d = a->data;
    if (a->source == QNN_NPY_SAME) {
        memcpy(out, d, (size_t)n * esize);
    } else if (a->source == QNN_NPY_FROM_F64) {
        for (uint64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, d + 8 * i, 8);
            ((float *)out)[i] = (float)v;
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, d + 8 * i, 8);
            if (v < min || v > max) {
                *bad = i;
                *bad_value = v;
                return 2;
            }
            /* In range, so the low ESIZE bytes are the value. */
            if (esize == 1)
                ((uint8_t *)out)[i] = (uint8_t)v;
            else if (esize == 2)
                ((int16_t *)out)[i] = (int16_t)v;
            else
                ((int32_t *)out)[i] = (int32_t)v;
        }
    }
    return 0;
}

size_t qnn_npy_header(unsigned char *head, const char *descr, int rank, const long long *dims)
{
    char shape[24 * QNN_NPY_MAX_RANK + 8];
    int off = snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < rank && i < QNN_NPY_MAX_RANK; i++)
        off += snprintf(shape + off, sizeof shape - (size_t)off, "%lld%s", dims[i],
                        rank == 1 ? "," : i + 1 < rank ? ", " : "");
    snprintf(shape + off, sizeof shape - (size_t)off, ")");
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    /* Pad with spaces so that magic, version, length and header fill a
     * multiple of 64 bytes, ending in a newline, as the format asks. */
    size_t padded = (10 + (size_t)dl + 1 + 63) / 64 * 64;
    size_t hlen = padded - 10;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)dl);
    memset(head + 10 + dl, ' ', hlen - (size_t)dl - 1);
    head[padded - 1] = '\n';
    return padded;
}
