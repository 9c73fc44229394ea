/* print.c - the canonical printer of the textual IR (docs/ir-syntax.md).
 *
 * The output is a function of the graph alone: inputs, constants and nodes
 * each in their list order, attributes in AttrId order, one `output` line,
 * fixed spacing.  Every number is spelled so that the parser gives back the
 * same bits, which makes print(parse(text)) a fixed point and
 * parse(print(g)) structurally equal to g.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

const char *text_format_float(char *buf, float f)
{
    uint32_t bits;
    _Static_assert(sizeof bits == sizeof f, "binary32 floats expected");
    memcpy(&bits, &f, sizeof bits);
    if (f != f) {
        if (bits == UINT32_C(0x7fc00000))
            snprintf(buf, TEXT_FLOAT_BUF, "nan");
        else
            snprintf(buf, TEXT_FLOAT_BUF, "0x%08" PRIX32, bits);
    } else {
        /* printf spells infinities "inf" and "-inf", and -0 as "-0". */
        snprintf(buf, TEXT_FLOAT_BUF, "%.9g", (double)f);
    }
    return buf;
}

static void print_float(FILE *out, float f)
{
    char buf[TEXT_FLOAT_BUF];
    fputs(text_format_float(buf, f), out);
}

/* The calibrated range annotation, when the value has one. */
static void print_range(FILE *out, const Value *v)
{
    if (!v->has_range)
        return;
    fputs(" range(", out);
    print_float(out, v->range_lo);
    fputs(", ", out);
    print_float(out, v->range_hi);
    fputc(')', out);
}

/* Reads one little-endian integer element at P, sign-extended. */
static int64_t load_int(const unsigned char *p, DType dt)
{
    switch (dt) {
    case DT_I8: return (int8_t)p[0];
    case DT_U8: return p[0];
    case DT_I16: return (int16_t)(uint16_t)(p[0] | p[1] << 8);
    case DT_I32: return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                  (uint32_t)p[3] << 24);
    default: qnn_unreachable();
    }
}

static float load_f32(const unsigned char *p)
{
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void print_data(FILE *out, const Value *v)
{
    const TensorType *t = &v->type;
    const DTypeTraits *dt = &dtype_traits[t->dtype];
    int64_t n = type_numel(t);
    const unsigned char *p = v->data;
    fputc('[', out);
    for (int64_t i = 0; i < n; i++, p += dt->size) {
        if (i)
            fputs(", ", out);
        if (dt->is_int)
            fprintf(out, "%" PRId64, load_int(p, t->dtype));
        else
            print_float(out, load_f32(p));
    }
    fputc(']', out);
}

/* Strings escape '"' and '\' and every byte outside printable ASCII, which
 * decode_string() in parse.c turns back into the same bytes. */
static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\x%02X", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_attr(FILE *out, const Attr *a)
{
    const AttrInfo *info = &attr_info[a->id];
    fprintf(out, "%s=", info->name);
    switch (info->kind) {
    case AK_INT: fprintf(out, "%" PRId64, a->u.i); return;
    case AK_FLOAT: print_float(out, a->u.f); return;
    case AK_INTS:
        fputc('[', out);
        for (int i = 0; i < a->count; i++)
            fprintf(out, "%s%" PRId64, i ? ", " : "", a->u.ints[i]);
        fputc(']', out);
        return;
    case AK_FLOATS:
        fputc('[', out);
        for (int i = 0; i < a->count; i++) {
            if (i)
                fputs(", ", out);
            print_float(out, a->u.floats[i]);
        }
        fputc(']', out);
        return;
    case AK_ENUM: {
        /* An out-of-range index is a bug elsewhere; printing the number
         * keeps it visible (the parser will reject it). */
        int64_t n = 0;
        while (info->enum_names[n])
            n++;
        if (a->u.i >= 0 && a->u.i < n)
            fputs(info->enum_names[a->u.i], out);
        else
            fprintf(out, "%" PRId64, a->u.i);
        return;
    }
    }
    qnn_unreachable();
}

static void print_node(FILE *out, const Node *n)
{
    fprintf(out, "  %%%s = %s(", n->result->name, op_info[n->op].name);
    for (int i = 0; i < n->num_operands; i++)
        fprintf(out, "%s%%%s", i ? ", " : "", n->operands[i]->name);
    fputc(')', out);
    if (n->num_attrs) {
        fputs(" {", out);
        for (int i = 0; i < n->num_attrs; i++) {
            if (i)
                fputs(", ", out);
            print_attr(out, &n->attrs[i]);
        }
        fputc('}', out);
    }
    fputs(" : ", out);
    type_print(out, &n->result->type);
    print_range(out, n->result);
    fputc('\n', out);
}

/* Decides which constants go to the sidecar file and writes it, all at once
 * and before any text, so a failure leaves neither half-written.  Returns
 * the sidecar offset of every constant (-1: inline) in *OFFSETS, which the
 * caller frees. */
static bool write_sidecar(const Graph *g, const PrintOptions *opts, int64_t **offsets)
{
    int nconsts = g->consts.len;
    *offsets = xmalloc((size_t)(nconsts ? nconsts : 1) * sizeof **offsets);
    size_t size = 0;
    for (int i = 0; i < nconsts; i++) {
        const Value *v = g->consts.data[i];
        int64_t nbytes = type_nbytes(&v->type);
        (*offsets)[i] = -1;
        if (opts && opts->sidecar_threshold > 0 && opts->sidecar_path &&
            nbytes > opts->sidecar_threshold) {
            /* 16-byte alignment lets a loader map the file and use the
             * payloads in place. */
            size = (size + 15) & ~(size_t)15;
            (*offsets)[i] = (int64_t)size;
            size += (size_t)nbytes;
        }
    }
    if (size == 0)
        return true;

    unsigned char *buf = xcalloc(1, size);
    for (int i = 0; i < nconsts; i++) {
        const Value *v = g->consts.data[i];
        if ((*offsets)[i] >= 0)
            memcpy(buf + (*offsets)[i], v->data, (size_t)type_nbytes(&v->type));
    }
    bool ok = write_file_atomic(opts->sidecar_path, buf, size);
    if (!ok) {
        SrcLoc loc = {opts->sidecar_path, 0, 0};
        diag_error(loc, "cannot write sidecar file: %s", strerror(errno));
    }
    free(buf);
    return ok;
}

bool ir_print(FILE *out, const Graph *g, const PrintOptions *opts)
{
    int64_t *offsets;
    if (!write_sidecar(g, opts, &offsets)) {
        free(offsets);
        return false;
    }
    const char *base = NULL;
    if (opts && opts->sidecar_path) {
        base = strrchr(opts->sidecar_path, '/');
        base = base ? base + 1 : opts->sidecar_path;
    }

    fprintf(out, "graph @%s {\n", g->name);
    for (int i = 0; i < g->inputs.len; i++) {
        const Value *v = g->inputs.data[i];
        fprintf(out, "  input %%%s : ", v->name);
        type_print(out, &v->type);
        print_range(out, v);
        fputc('\n', out);
    }
    for (int i = 0; i < g->consts.len; i++) {
        const Value *v = g->consts.data[i];
        fprintf(out, "  const %%%s : ", v->name);
        type_print(out, &v->type);
        fputs(" = ", out);
        if (offsets[i] >= 0) {
            fputs("file(", out);
            print_string(out, base);
            fprintf(out, ", offset=%" PRId64 ")", offsets[i]);
        } else {
            print_data(out, v);
        }
        fputc('\n', out);
    }
    for (int i = 0; i < g->nodes.len; i++)
        print_node(out, g->nodes.data[i]);
    if (g->outputs.len) {
        fputs("  output", out);
        for (int i = 0; i < g->outputs.len; i++)
            fprintf(out, "%s %%%s", i ? "," : "", ((const Value *)g->outputs.data[i])->name);
        fputc('\n', out);
    }
    fputs("}\n", out);
    free(offsets);
    return !ferror(out);
}
