/* tensorproto.c - ONNX TensorProto: decoding into import-time tensors, and
 * the standalone .pb tensor files of ONNX's test data.
 *
 * A TensorProto (onnx.proto, "TensorProto") holds its elements in exactly
 * one place: raw_data (fixed-width little-endian), one of the typed repeated
 * fields (float_data, int32_data, int64_data, double_data, uint64_data), or
 * an external file (data_location = EXTERNAL with "location", "offset" and
 * "length" keys, the path relative to the model's directory).  Every count
 * and length is checked against the shape before anything is copied, so a
 * corrupt file is an error message, never an out-of-bounds read.
 */
#include "onnx_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* No real tensor is this big; a count above it means a corrupt model. */
#define MAX_ELEMENTS (INT64_C(1) << 31)

static const struct {
    const char *name;
    int size; /* bytes per element in raw_data; 0: not supported */
} otypes[] = {
    [OT_UNDEFINED] = {"UNDEFINED", 0}, [OT_FLOAT] = {"FLOAT", 4},   [OT_UINT8] = {"UINT8", 1},
    [OT_INT8] = {"INT8", 1},           [OT_UINT16] = {"UINT16", 2}, [OT_INT16] = {"INT16", 2},
    [OT_INT32] = {"INT32", 4},         [OT_INT64] = {"INT64", 8},   [OT_STRING] = {"STRING", 0},
    [OT_BOOL] = {"BOOL", 1},           [OT_FLOAT16] = {"FLOAT16", 0}, [OT_DOUBLE] = {"DOUBLE", 8},
    [OT_UINT32] = {"UINT32", 4},       [OT_UINT64] = {"UINT64", 8}, [14] = {"COMPLEX64", 0},
    [15] = {"COMPLEX128", 0},          [OT_BFLOAT16] = {"BFLOAT16", 0},
};
#define NUM_OTYPES ((int32_t)(sizeof otypes / sizeof *otypes))

const char *onnx_type_name(int32_t t)
{
    return t >= 0 && t < NUM_OTYPES && otypes[t].name ? otypes[t].name : "unknown";
}

static int otype_size(int32_t t) { return t >= 0 && t < NUM_OTYPES ? otypes[t].size : 0; }

bool onnx_type_is_float(int32_t t) { return t == OT_FLOAT || t == OT_DOUBLE; }

bool onnx_dtype(int32_t t, DType *out)
{
    switch (t) {
    case OT_FLOAT: *out = DT_F32; return true;
    case OT_UINT8: *out = DT_U8; return true;
    case OT_BOOL: *out = DT_U8; return true; /* qnnc's booleans are u8 0/1 */
    case OT_INT8: *out = DT_I8; return true;
    case OT_INT16: *out = DT_I16; return true;
    case OT_INT32: *out = DT_I32; return true;
    default: return false;
    }
}

static int32_t otype_of_dtype(DType dt)
{
    switch (dt) {
    case DT_F32: return OT_FLOAT;
    case DT_U8: return OT_UINT8;
    case DT_I8: return OT_INT8;
    case DT_I16: return OT_INT16;
    case DT_I32: return OT_INT32;
    case DT_COUNT: break;
    }
    qnn_unreachable();
}

int64_t onnx_numel(const int64_t *dims, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] != 0 && n > INT64_MAX / dims[i]))
            return -1;
        n *= dims[i];
    }
    return n;
}

CTensor *ctensor_new(Arena *a, int32_t type, int rank, const int64_t *dims)
{
    CTensor *c = arena_alloc(a, sizeof *c);
    c->type = type;
    c->rank = rank;
    if (rank)
        memcpy(c->dims, dims, (size_t)rank * sizeof *dims);
    c->numel = onnx_numel(dims, rank);
    if (c->numel < 0 || c->numel > MAX_ELEMENTS)
        qnn_die("import-time tensor too large");
    if (onnx_type_is_float(type))
        c->f = arena_alloc(a, (size_t)(c->numel ? c->numel : 1) * sizeof *c->f);
    else
        c->i = arena_alloc(a, (size_t)(c->numel ? c->numel : 1) * sizeof *c->i);
    return c;
}

double ctensor_f(const CTensor *c, int64_t i) { return c->f ? c->f[i] : (double)c->i[i]; }
int64_t ctensor_i(const CTensor *c, int64_t i) { return c->i ? c->i[i] : (int64_t)c->f[i]; }

void *ctensor_pack(const CTensor *c, DType dt)
{
    size_t es = (size_t)dtype_traits[dt].size;
    unsigned char *p = xmalloc((size_t)(c->numel ? c->numel : 1) * es);
    for (int64_t k = 0; k < c->numel; k++) {
        switch (dt) {
        case DT_F32: ((float *)p)[k] = (float)ctensor_f(c, k); break;
        case DT_U8: p[k] = (uint8_t)ctensor_i(c, k); break;
        case DT_I8: ((int8_t *)p)[k] = (int8_t)ctensor_i(c, k); break;
        case DT_I16: ((int16_t *)p)[k] = (int16_t)ctensor_i(c, k); break;
        case DT_I32: ((int32_t *)p)[k] = (int32_t)ctensor_i(c, k); break;
        case DT_COUNT: qnn_unreachable();
        }
    }
    return p;
}

/* Stores raw little-endian element K of TYPE at P into C. */
static void store_raw(CTensor *c, int64_t k, const unsigned char *p)
{
    switch (c->type) {
    case OT_FLOAT: { float f; memcpy(&f, p, 4); c->f[k] = f; break; }
    case OT_DOUBLE: { double d; memcpy(&d, p, 8); c->f[k] = d; break; }
    case OT_UINT8: c->i[k] = p[0]; break;
    case OT_BOOL: c->i[k] = p[0] != 0; break;
    case OT_INT8: c->i[k] = (int8_t)p[0]; break;
    case OT_UINT16: { uint16_t v; memcpy(&v, p, 2); c->i[k] = v; break; }
    case OT_INT16: { int16_t v; memcpy(&v, p, 2); c->i[k] = v; break; }
    case OT_INT32: { int32_t v; memcpy(&v, p, 4); c->i[k] = v; break; }
    case OT_UINT32: { uint32_t v; memcpy(&v, p, 4); c->i[k] = v; break; }
    case OT_INT64: case OT_UINT64: { int64_t v; memcpy(&v, p, 8); c->i[k] = v; break; }
    default: qnn_unreachable();
    }
}

/* Parses a decimal key of external_data. */
static bool parse_u64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return false;
    *out = v;
    return true;
}

/* Reads the NBYTES bytes of external data for TP into *BUF, a malloc'd
 * buffer allocated only once the file is known to hold them. */
static bool read_external(const char *path, const char *dir, const Onnx__TensorProto *tp,
                          const char *what, unsigned char **bufp, int64_t nbytes)
{
    unsigned char *buf = NULL;
    SrcLoc loc = {.file = path};
    const char *location = NULL;
    int64_t offset = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key || !e->value)
            continue;
        if (!strcmp(e->key, "location")) {
            location = e->value;
        } else if (!strcmp(e->key, "offset")) {
            if (!parse_u64(e->value, &offset)) {
                diag_error(loc, "tensor '%s': external data offset '%s' is not a number", what, e->value);
                return false;
            }
        } else if (!strcmp(e->key, "length")) {
            if (!parse_u64(e->value, &length)) {
                diag_error(loc, "tensor '%s': external data length '%s' is not a number", what, e->value);
                return false;
            }
        }
    }
    if (!dir) {
        diag_error(loc, "tensor '%s': external data is not allowed here", what);
        return false;
    }
    if (!location || !*location) {
        diag_error(loc, "tensor '%s': external data has no 'location'", what);
        return false;
    }
    if (length >= 0 && length != nbytes) {
        diag_error(loc, "tensor '%s': external data length %lld does not match the %lld bytes its shape needs",
                   what, (long long)length, (long long)nbytes);
        return false;
    }
    size_t plen = strlen(dir) + strlen(location) + 2;
    char *full = xmalloc(plen);
    snprintf(full, plen, "%s/%s", dir, location);
    FILE *f = fopen(full, "rb");
    bool ok = false;
    if (!f) {
        diag_error(loc, "tensor '%s': cannot open external data file '%s': %s", what, full, strerror(errno));
        goto out;
    }
    if (fseeko(f, 0, SEEK_END) != 0) {
        diag_error(loc, "tensor '%s': cannot seek in external data file '%s'", what, full);
        goto out;
    }
    int64_t fsize = (int64_t)ftello(f);
    if (offset > fsize || nbytes > fsize - offset) {
        diag_error(loc, "tensor '%s': external data (offset %lld, %lld bytes) lies beyond the end of '%s' (%lld bytes)",
                   what, (long long)offset, (long long)nbytes, full, (long long)fsize);
        goto out;
    }
    buf = xmalloc((size_t)(nbytes ? nbytes : 1));
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(buf, 1, (size_t)nbytes, f) != (size_t)nbytes) {
        diag_error(loc, "tensor '%s': cannot read external data file '%s'", what, full);
        goto out;
    }
    ok = true;
out:
    if (f)
        fclose(f);
    free(full);
    if (ok)
        *bufp = buf;
    else
        free(buf);
    return ok;
}

bool ctensor_from_proto(Arena *a, const char *path, const char *dir, const Onnx__TensorProto *tp, CTensor *c)
{
    SrcLoc loc = {.file = path};
    const char *what = tp->name && *tp->name ? tp->name : "<unnamed>";
    int32_t type = tp->has_data_type ? tp->data_type : OT_UNDEFINED;
    int esize = otype_size(type);
    if (esize == 0) {
        diag_error(loc, "tensor '%s': element type %s (%d) is not supported", what, onnx_type_name(type),
                   (int)type);
        return false;
    }
    if (tp->n_dims > QNN_MAX_RANK) {
        diag_error(loc, "tensor '%s': rank %zu exceeds the maximum of %d", what, tp->n_dims, QNN_MAX_RANK);
        return false;
    }
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0) {
            diag_error(loc, "tensor '%s': dimension %zu is negative (%lld)", what, i, (long long)tp->dims[i]);
            return false;
        }
    }
    int64_t n = onnx_numel(tp->dims, (int)tp->n_dims);
    if (n < 0 || n > MAX_ELEMENTS) {
        diag_error(loc, "tensor '%s': element count of shape overflows (more than %lld elements)", what,
                   (long long)MAX_ELEMENTS);
        return false;
    }
    int64_t nbytes = n * esize;

    /* The data must be there before the tensor is allocated: a few bytes of
     * protobuf can claim 2^31 elements. */
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        unsigned char *buf = NULL;
        if (!read_external(path, dir, tp, what, &buf, nbytes))
            return false;
        *c = *ctensor_new(a, type, (int)tp->n_dims, tp->dims);
        for (int64_t k = 0; k < n; k++)
            store_raw(c, k, buf + k * esize);
        free(buf);
        return true;
    }
    if (tp->has_raw_data) {
        if ((int64_t)tp->raw_data.len != nbytes) {
            diag_error(loc, "tensor '%s': raw_data has %zu bytes but shape and type need %lld", what,
                       tp->raw_data.len, (long long)nbytes);
            return false;
        }
        *c = *ctensor_new(a, type, (int)tp->n_dims, tp->dims);
        for (int64_t k = 0; k < n; k++)
            store_raw(c, k, tp->raw_data.data + k * esize);
        return true;
    }
    /* The typed fields; each is legal for certain types only. */
    size_t count;
    const char *field;
    switch (type) {
    case OT_FLOAT: count = tp->n_float_data, field = "float_data"; break;
    case OT_DOUBLE: count = tp->n_double_data, field = "double_data"; break;
    case OT_INT64: count = tp->n_int64_data, field = "int64_data"; break;
    case OT_UINT32: case OT_UINT64: count = tp->n_uint64_data, field = "uint64_data"; break;
    default: count = tp->n_int32_data, field = "int32_data"; break;
    }
    if ((int64_t)count != n) {
        diag_error(loc, "tensor '%s': %s has %zu elements but the shape has %lld", what, field, count,
                   (long long)n);
        return false;
    }
    *c = *ctensor_new(a, type, (int)tp->n_dims, tp->dims);
    for (int64_t k = 0; k < n; k++) {
        switch (type) {
        case OT_FLOAT: c->f[k] = tp->float_data[k]; break;
        case OT_DOUBLE: c->f[k] = tp->double_data[k]; break;
        case OT_INT64: c->i[k] = tp->int64_data[k]; break;
        case OT_UINT32: case OT_UINT64: c->i[k] = (int64_t)tp->uint64_data[k]; break;
        default: c->i[k] = tp->int32_data[k]; break;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- .pb files */

void *tensorproto_read(const char *path, const TensorType *want)
{
    SrcLoc loc = {.file = path};
    size_t len;
    char *buf = read_file(path, &len);
    if (!buf) {
        diag_error(loc, "cannot read file: %s", strerror(errno));
        return NULL;
    }
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!tp) {
        diag_error(loc, "not a valid ONNX TensorProto (protobuf parse failed)");
        return NULL;
    }
    void *out = NULL;
    Arena a;
    arena_init(&a);
    CTensor c;
    if (!ctensor_from_proto(&a, path, NULL, tp, &c))
        goto done;
    TensorType got = {.dtype = want->dtype, .rank = c.rank};
    memcpy(got.dims, c.dims, sizeof got.dims);
    int32_t wt = otype_of_dtype(want->dtype);
    bool type_ok = c.type == wt || (want->dtype == DT_F32 && c.type == OT_DOUBLE) ||
                   (dtype_traits[want->dtype].is_int && c.type == OT_INT64) ||
                   (want->dtype == DT_U8 && c.type == OT_BOOL);
    if (!type_ok || !shape_equal(&got, want)) {
        char *t = NULL;
        size_t tl = 0;
        FILE *m = open_memstream(&t, &tl);
        TensorType plain = *want;
        plain.quant = NULL;
        type_print(m, &plain);
        fclose(m);
        diag_error(loc, "%s does not match: expected %s, got %s with %d dimensions",
                   type_ok ? "shape" : "element type", t, onnx_type_name(c.type), c.rank);
        free(t);
        goto done;
    }
    if (dtype_traits[want->dtype].is_int) {
        for (int64_t k = 0; k < c.numel; k++) {
            if (c.i[k] < dtype_traits[want->dtype].min || c.i[k] > dtype_traits[want->dtype].max) {
                diag_error(loc, "element %lld (%lld) is out of range for %s", (long long)k, (long long)c.i[k],
                           dtype_traits[want->dtype].name);
                goto done;
            }
        }
    }
    out = ctensor_pack(&c, want->dtype);
done:
    arena_free(&a);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return out;
}

bool tensorproto_write(const char *path, const char *name, const TensorType *t, const void *data)
{
    Onnx__TensorProto tp;
    onnx__tensor_proto__init(&tp);
    tp.n_dims = (size_t)t->rank;
    tp.dims = (int64_t *)t->dims;
    tp.has_data_type = 1;
    tp.data_type = otype_of_dtype(t->dtype);
    tp.name = (char *)(name ? name : "");
    tp.has_raw_data = 1;
    tp.raw_data.len = (size_t)type_nbytes(t);
    tp.raw_data.data = (uint8_t *)data;
    size_t n = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *buf = xmalloc(n ? n : 1);
    onnx__tensor_proto__pack(&tp, buf);
    bool ok = write_file_atomic(path, buf, n);
    if (!ok)
        diag_error((SrcLoc){.file = path}, "cannot write file: %s", strerror(errno));
    free(buf);
    return ok;
}
