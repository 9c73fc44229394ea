/* parse.c - the parser of the textual IR (grammar in docs/ir-syntax.md).
 *
 * A hand-written recursive-descent parser over the tokens of lex.c.  The
 * grammar is flat (a graph is a list of statements, and no construct nests
 * more than two levels), so no recursion depth depends on the input.
 *
 * The parser checks what the text alone decides: syntax, names, arities,
 * attribute names and kinds, literal ranges, element counts.  Shapes, dtypes
 * and quantization rules are left to the verifier (verify.c).
 *
 * The first error ends the parse.  It is reported through diag and then
 * unwinds with longjmp to ir_parse(), which frees the partial graph and the
 * scratch arena.  That keeps the many "expect this token" checks one line
 * each; everything the parser allocates lives in one of those two arenas or
 * in the Parser itself, so nothing leaks on the way out.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef struct Parser {
    Lexer lex;
    Token tok;        /* the current (lookahead) token */
    Graph *g;
    const char *file; /* the graph arena's copy of the file name */
    Arena scratch;    /* temporary lists, freed when the parse ends */
    jmp_buf fail;
    bool ok;

    /* Values by name: open addressing, linear probing, power-of-two size. */
    Value **names;
    int names_cap, names_len;

    /* The last sidecar file read, since many constants share one. */
    char *sidecar_path;
    char *sidecar_data;
    size_t sidecar_len;

    /* Bytes of every tensor type read so far, against qnn_max_memory(). */
    int64_t tensor_bytes;
} Parser;

/* ---------------------------------------------------------------- errors */

static QNN_NORETURN void fail_at(Parser *P, SrcLoc loc, const char *fmt, ...) QNN_PRINTF(3, 4);

static void fail_at(Parser *P, SrcLoc loc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(loc, "%s", msg);
    longjmp(P->fail, 1);
}

#define fail(P, ...) fail_at((P), (P)->tok.loc, __VA_ARGS__)

/* Locations stored in the graph name the graph arena's copy of the file
 * name, so they stay valid as long as the graph.  Diagnostics use the
 * caller's string, which outlives a failed parse's arena. */
static SrcLoc own_loc(const Parser *P, SrcLoc loc)
{
    loc.file = P->file;
    return loc;
}

/* ---------------------------------------------------------------- tokens */

static void next(Parser *P)
{
    if (!lex_next(&P->lex, &P->tok))
        longjmp(P->fail, 1);
}

static bool is_punct(const Parser *P, char c)
{
    return P->tok.kind == TK_PUNCT && P->tok.p[0] == c;
}

static bool accept(Parser *P, char c)
{
    if (!is_punct(P, c))
        return false;
    next(P);
    return true;
}

/* Consumes punctuation C or fails with "expected 'C' CONTEXT". */
static void expect(Parser *P, char c, const char *context)
{
    if (!accept(P, c))
        fail(P, "expected '%c' %s", c, context);
}

static bool is_word(const Token *t, const char *word)
{
    return t->kind == TK_IDENT && (size_t)t->len == strlen(word) &&
           memcmp(t->p, word, (size_t)t->len) == 0;
}

static void expect_word(Parser *P, const char *word)
{
    if (!is_word(&P->tok, word))
        fail(P, "expected '%s'", word);
    next(P);
}

/* ---------------------------------------------------------------- scratch lists */

/* Makes room for one more element in a list that lives in the scratch
 * arena, doubling it when full.  The old storage is abandoned, which costs
 * at most as much again as the final list. */
static void *grow(Parser *P, void *data, int len, int *cap, size_t size)
{
    if (len < *cap)
        return data;
    if (*cap > INT_MAX / 2)
        fail(P, "list is too long");
    int ncap = *cap ? *cap * 2 : 8;
    void *nd = arena_alloc(&P->scratch, (size_t)ncap * size);
    if (len)
        memcpy(nd, data, (size_t)len * size);
    *cap = ncap;
    return nd;
}

/* ---------------------------------------------------------------- names */

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Returns the slot for the name S[0..N): the value with that name, or the
 * empty slot where it would go. */
static Value **name_slot(Parser *P, const char *s, size_t n)
{
    uint32_t mask = (uint32_t)P->names_cap - 1;
    for (uint32_t i = hash_name(s, n) & mask;; i = (i + 1) & mask) {
        Value **slot = &P->names[i];
        if (!*slot || (strlen((*slot)->name) == n && memcmp((*slot)->name, s, n) == 0))
            return slot;
    }
}

static void name_insert(Parser *P, Value *v)
{
    if (2 * (P->names_len + 1) > P->names_cap) {
        Value **old = P->names;
        int old_cap = P->names_cap;
        P->names_cap = old_cap ? 2 * old_cap : 64;
        P->names = arena_alloc(&P->scratch, (size_t)P->names_cap * sizeof *P->names);
        for (int i = 0; i < old_cap; i++)
            if (old[i])
                *name_slot(P, old[i]->name, strlen(old[i]->name)) = old[i];
    }
    *name_slot(P, v->name, strlen(v->name)) = v;
    P->names_len++;
}

static Value *name_lookup(Parser *P, const Token *t)
{
    if (!P->names_cap)
        return NULL;
    return *name_slot(P, t->p + 1, (size_t)t->len - 1);
}

/* Checks that the %name token T does not name an existing value. */
static void check_new_name(Parser *P, const Token *t)
{
    Value *old = name_lookup(P, t);
    if (old) {
        diag_error(t->loc, "redefinition of value '%.*s'", t->len, t->p);
        diag_report(DIAG_NOTE, old->loc, "previous definition is here");
        longjmp(P->fail, 1);
    }
}

/* Returns the value named by the current %name token and consumes it. */
static Value *use_value(Parser *P, const char *what)
{
    if (P->tok.kind != TK_VALUE)
        fail(P, "expected %s", what);
    Value *v = name_lookup(P, &P->tok);
    if (!v)
        fail(P, "use of undefined value '%.*s'", P->tok.len, P->tok.p);
    next(P);
    return v;
}

/* ---------------------------------------------------------------- literals */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies the current token into a NUL-terminated string for strtoll and
 * strtof.  Short literals use BUF; long ones (a decimal may legitimately
 * have many digits) go to the scratch arena. */
static const char *token_cstr(Parser *P, char *buf, size_t size)
{
    const Token *t = &P->tok;
    if ((size_t)t->len < size) {
        memcpy(buf, t->p, (size_t)t->len);
        buf[t->len] = '\0';
        return buf;
    }
    return arena_strndup(&P->scratch, t->p, (size_t)t->len);
}

/* Integer literal: -?[0-9]+.  EXPECTED is the whole error message used when
 * the current token is not one. */
static int64_t int_lit(Parser *P, const char *expected)
{
    const Token *t = &P->tok;
    int i = t->len > 0 && t->p[0] == '-';
    bool ok = t->kind == TK_NUMBER && i < t->len;
    for (int j = i; ok && j < t->len; j++)
        ok = is_digit(t->p[j]);
    if (!ok)
        fail(P, "%s", expected);
    char buf[64];
    const char *s = token_cstr(P, buf, sizeof buf);
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        fail(P, "integer literal is out of range");
    next(P);
    return v;
}

/* True if T spells a decimal float: -?(D+(.D*)?|.D+)([eE][+-]?D+)? */
static bool is_decimal(const Token *t)
{
    const char *p = t->p, *end = t->p + t->len;
    if (p < end && *p == '-')
        p++;
    int digits = 0;
    while (p < end && is_digit(*p))
        p++, digits++;
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p))
            p++, digits++;
    }
    if (!digits)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
    }
    return p == end;
}

static float bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Float literal: a decimal, `inf`, `-inf`, `nan` (the quiet NaN 0x7fc00000)
 * or a 0x-prefixed bit pattern of 1 to 8 hex digits, which is how the
 * printer spells every other NaN.  Decimals are converted with strtof, which
 * rounds correctly, so the "%.9g" the printer uses comes back bit-exact. */
static float float_lit(Parser *P, const char *expected)
{
    const Token *t = &P->tok;
    float f;
    if (is_word(t, "nan")) {
        f = bits_to_float(UINT32_C(0x7fc00000));
    } else if (is_word(t, "inf") || (t->kind == TK_NUMBER && t->len == 4 && !memcmp(t->p, "-inf", 4))) {
        f = t->p[0] == '-' ? -INFINITY : INFINITY;
    } else if (t->kind == TK_NUMBER && t->len > 2 && t->p[0] == '0' &&
               (t->p[1] == 'x' || t->p[1] == 'X')) {
        if (t->len > 10)
            fail(P, "hexadecimal float bit pattern has more than 8 digits");
        uint32_t bits = 0;
        for (int i = 2; i < t->len; i++) {
            int d = hex_digit(t->p[i]);
            if (d < 0)
                fail(P, "%s", expected);
            bits = bits << 4 | (uint32_t)d;
        }
        f = bits_to_float(bits);
    } else if (t->kind == TK_NUMBER && is_decimal(t)) {
        char buf[64];
        const char *s = token_cstr(P, buf, sizeof buf);
        errno = 0;
        f = strtof(s, NULL);
        /* glibc also sets ERANGE for results that are merely subnormal;
         * those are exact enough to keep, only overflow and underflow to
         * zero lose the value. */
        if (errno == ERANGE && (isinf(f) || f == 0))
            fail(P, "float literal is out of range for f32");
    } else {
        fail(P, "%s", expected);
    }
    next(P);
    return f;
}

/* ---------------------------------------------------------------- types */

/* Parses the quantization suffix `q(...)` of type T; the current token is
 * the `q`. */
static void parse_quant(Parser *P, TensorType *t)
{
    next(P);
    expect(P, '(', "after 'q'");
    if (!is_word(&P->tok, "axis")) {
        float scale = float_lit(P, "expected a scale");
        expect(P, ',', "after the scale");
        SrcLoc zp_loc = P->tok.loc;
        int64_t zp = int_lit(P, "expected a zero point");
        if (zp < INT32_MIN || zp > INT32_MAX)
            fail_at(P, zp_loc, "zero point %lld is out of range for int32", (long long)zp);
        expect(P, ')', "after the zero point");
        int32_t zp32 = (int32_t)zp;
        t->quant = quant_new(&P->scratch, -1, 1, &scale, &zp32);
        return;
    }

    next(P);
    expect(P, '=', "after 'axis'");
    SrcLoc axis_loc = P->tok.loc;
    int64_t axis = int_lit(P, "expected a quantization axis");
    if (axis < 0 || axis >= t->rank)
        fail_at(P, axis_loc, "quantization axis %lld is out of range for rank %d", (long long)axis,
                t->rank);
    expect(P, ',', "after the quantization axis");

    expect_word(P, "scales");
    expect(P, '=', "after 'scales'");
    SrcLoc scales_loc = P->tok.loc;
    expect(P, '[', "before the scales");
    float *scales = NULL;
    int nscales = 0, scap = 0;
    if (!accept(P, ']')) {
        do {
            scales = grow(P, scales, nscales, &scap, sizeof *scales);
            scales[nscales++] = float_lit(P, "expected a scale");
        } while (accept(P, ','));
        expect(P, ']', "after the scales");
    }
    if (nscales != t->dims[axis])
        fail_at(P, scales_loc, "per-axis quantization has %d scales but dimension %d has size %lld",
                nscales, (int)axis, (long long)t->dims[axis]);
    expect(P, ',', "after the scales");

    expect_word(P, "zero_points");
    expect(P, '=', "after 'zero_points'");
    SrcLoc zps_loc = P->tok.loc;
    expect(P, '[', "before the zero points");
    int32_t *zps = NULL;
    int nzps = 0, zcap = 0;
    if (!accept(P, ']')) {
        do {
            SrcLoc loc = P->tok.loc;
            int64_t zp = int_lit(P, "expected a zero point");
            if (zp < INT32_MIN || zp > INT32_MAX)
                fail_at(P, loc, "zero point %lld is out of range for int32", (long long)zp);
            zps = grow(P, zps, nzps, &zcap, sizeof *zps);
            zps[nzps++] = (int32_t)zp;
        } while (accept(P, ','));
        expect(P, ']', "after the zero points");
    }
    if (nzps != nscales)
        fail_at(P, zps_loc, "per-axis quantization has %d scales but %d zero points", nscales, nzps);
    expect(P, ')', "after the zero points");
    t->quant = quant_new(&P->scratch, (int)axis, nscales, scales, zps);
}

/* TYPE := DTYPE '[' dims ']' quant? ; the quant record lives in the scratch
 * arena until a builder copies it into the graph. */
static TensorType parse_type(Parser *P)
{
    TensorType t = {0};
    if (P->tok.kind != TK_IDENT)
        fail(P, "expected a type");
    if (!dtype_from_name(P->tok.p, (size_t)P->tok.len, &t.dtype))
        fail(P, "unknown dtype '%.*s'", P->tok.len, P->tok.p);
    SrcLoc type_loc = P->tok.loc;
    next(P);
    expect(P, '[', "after the dtype");
    if (!accept(P, ']')) {
        do {
            if (t.rank == QNN_MAX_RANK)
                fail(P, "tensor rank exceeds the maximum of %d", QNN_MAX_RANK);
            SrcLoc loc = P->tok.loc;
            int64_t d = int_lit(P, "expected a dimension size");
            if (d < 0)
                fail_at(P, loc, "negative dimension %lld", (long long)d);
            t.dims[t.rank++] = d;
        } while (accept(P, ','));
        expect(P, ']', "after the dimensions");
    }
    int64_t nbytes = type_nbytes(&t);
    if (nbytes < 0)
        fail_at(P, type_loc, "tensor size overflows int64");
    /* Every type read declares one tensor, checked before its data (a
     * constant's) is read: the limit holds before any allocation. */
    if (nbytes > qnn_max_memory() - P->tensor_bytes)
        fail_at(P, type_loc, "the graph's tensors need more than the memory limit of %lld bytes "
                "(this one has %lld; raise it with --max-memory or [limits] max_memory)",
                (long long)qnn_max_memory(), (long long)nbytes);
    P->tensor_bytes += nbytes;
    if (is_word(&P->tok, "q"))
        parse_quant(P, &t);
    return t;
}

/* ---------------------------------------------------------------- constants */

/* Stores V as SIZE little-endian bytes: constant payloads are little-endian
 * whatever the host. */
static void store_le(unsigned char *p, int size, uint64_t v)
{
    for (int i = 0; i < size; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* DATA := '[' elements ']' with exactly numel(T) elements in row-major
 * order.  Returns the little-endian payload. */
static void *parse_list_data(Parser *P, const TensorType *t, const char *name)
{
    const DTypeTraits *dt = &dtype_traits[t->dtype];
    int64_t numel = type_numel(t);
    /* Each element takes at least two bytes of text ("1,"), which bounds
     * the buffer whatever the type claims. */
    int64_t room = (int64_t)(P->lex.end - P->lex.cur) / 2 + 1;
    int64_t cap = numel < room ? numel : room;
    unsigned char *data = arena_alloc(&P->scratch, (size_t)(cap * dt->size));

    SrcLoc list_loc = P->tok.loc;
    next(P);
    int64_t n = 0;
    if (!accept(P, ']')) {
        do {
            uint64_t bits;
            if (dt->is_int) {
                SrcLoc loc = P->tok.loc;
                int64_t v = int_lit(P, "expected an integer element");
                if (v < dt->min || v > dt->max)
                    fail_at(P, loc, "value %lld is out of range for %s", (long long)v, dt->name);
                bits = (uint64_t)v;
            } else {
                float f = float_lit(P, "expected a float element");
                uint32_t u;
                memcpy(&u, &f, sizeof u);
                bits = u;
            }
            if (n < cap)
                store_le(data + n * dt->size, dt->size, bits);
            n++;
        } while (accept(P, ','));
        expect(P, ']', "after the constant elements");
    }
    if (n != numel)
        fail_at(P, list_loc, "constant '%s' has %lld elements but its type has %lld", name,
                (long long)n, (long long)numel);
    return data;
}

/* Decodes the string token T (escapes \\, \" and \xHH) into the scratch
 * arena. */
static char *decode_string(Parser *P, const Token *t)
{
    char *out = arena_alloc(&P->scratch, (size_t)t->len);
    int n = 0;
    for (int i = 1; i < t->len - 1; i++) {
        char c = t->p[i];
        if (c == '\\') {
            SrcLoc loc = {t->loc.file, t->loc.line, t->loc.col + i};
            char e = t->p[i + 1];
            if (e == '\\' || e == '"') {
                c = e;
                i++;
            } else if (e == 'x' && i + 3 < t->len && hex_digit(t->p[i + 2]) >= 0 &&
                       hex_digit(t->p[i + 3]) >= 0) {
                c = (char)(hex_digit(t->p[i + 2]) * 16 + hex_digit(t->p[i + 3]));
                i += 3;
                if (c == '\0')
                    fail_at(P, loc, "NUL byte in string");
            } else {
                fail_at(P, loc, "invalid escape sequence in string");
            }
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return out;
}

/* Sidecar paths are relative to the directory of the .qir file, so a model
 * and its weights can move together. */
static char *resolve_path(Parser *P, const char *path)
{
    const char *slash = strrchr(P->file, '/');
    if (path[0] == '/' || !slash)
        return arena_strdup(&P->scratch, path);
    size_t dir = (size_t)(slash - P->file) + 1, n = strlen(path);
    char *s = arena_alloc(&P->scratch, dir + n + 1);
    memcpy(s, P->file, dir);
    memcpy(s + dir, path, n + 1);
    return s;
}

/* DATA := 'file' '(' STRING ',' 'offset' '=' INT ')'.  Returns a pointer
 * into the (cached) sidecar contents. */
static const void *parse_file_data(Parser *P, const TensorType *t, const char **sidecar)
{
    next(P);
    expect(P, '(', "after 'file'");
    if (P->tok.kind != TK_STRING)
        fail(P, "expected a file name string");
    Token str = P->tok;
    char *path = resolve_path(P, decode_string(P, &str));
    next(P);
    expect(P, ',', "after the file name");
    expect_word(P, "offset");
    expect(P, '=', "after 'offset'");
    SrcLoc off_loc = P->tok.loc;
    int64_t offset = int_lit(P, "expected a byte offset");
    if (offset < 0)
        fail_at(P, off_loc, "negative sidecar offset %lld", (long long)offset);
    expect(P, ')', "after the offset");

    if (!P->sidecar_path || strcmp(P->sidecar_path, path) != 0) {
        free(P->sidecar_path);
        free(P->sidecar_data);
        P->sidecar_path = NULL;
        P->sidecar_data = read_file(path, &P->sidecar_len);
        if (!P->sidecar_data)
            fail_at(P, str.loc, "cannot read sidecar file '%s': %s", path, strerror(errno));
        P->sidecar_path = xstrdup(path);
    }
    int64_t nbytes = type_nbytes(t);
    if ((uint64_t)offset > P->sidecar_len || (uint64_t)nbytes > P->sidecar_len - (uint64_t)offset)
        fail_at(P, str.loc,
                "sidecar file '%s' is too short: %lld bytes at offset %lld, but it has %zu bytes",
                path, (long long)nbytes, (long long)offset, P->sidecar_len);
    *sidecar = path;
    return P->sidecar_data + offset;
}

/* ---------------------------------------------------------------- statements */

/* [ `range` `(` FLOAT `,` FLOAT `)` ] after the type of an input or node. */
static void parse_range(Parser *P, Value *v)
{
    if (!is_word(&P->tok, "range"))
        return;
    next(P);
    expect(P, '(', "after 'range'");
    v->range_lo = float_lit(P, "the low end of the range");
    expect(P, ',', "between the ends of the range");
    v->range_hi = float_lit(P, "the high end of the range");
    expect(P, ')', "after the range");
    v->has_range = true;
}

/* `input %name : TYPE` and `const %name : TYPE = DATA`; the current token
 * is the keyword. */
static void parse_input_or_const(Parser *P, bool is_const)
{
    next(P);
    if (P->tok.kind != TK_VALUE)
        fail(P, "expected a value name after '%s'", is_const ? "const" : "input");
    Token name_tok = P->tok;
    check_new_name(P, &name_tok);
    char *name = arena_strndup(&P->scratch, name_tok.p + 1, (size_t)name_tok.len - 1);
    next(P);
    expect(P, ':', "after the value name");
    TensorType t = parse_type(P);

    Value *v;
    if (!is_const) {
        v = graph_add_input(P->g, name, t);
        parse_range(P, v);
    } else {
        expect(P, '=', "after the constant's type");
        const void *data;
        const char *sidecar = NULL;
        if (is_punct(P, '['))
            data = parse_list_data(P, &t, name);
        else if (is_word(&P->tok, "file"))
            data = parse_file_data(P, &t, &sidecar);
        else
            fail(P, "expected '[' or 'file' for the constant's data");
        v = graph_add_const(P->g, name, t, data);
        if (sidecar)
            v->sidecar = arena_strdup(&P->g->arena, sidecar);
    }
    v->loc = own_loc(P, name_tok.loc);
    name_insert(P, v);
}

/* `output %a, %b, ...`; the current token is the keyword. */
static void parse_output(Parser *P)
{
    next(P);
    do
        graph_add_output(P->g, use_value(P, "a value name in the output list"));
    while (accept(P, ','));
}

/* An attribute parsed but not yet attached: the node does not exist until
 * its result type, which follows the attributes, has been parsed. */
typedef struct PendingAttr {
    AttrId id;
    int count;
    int64_t i;
    float f;
    int64_t *ints;
    float *floats;
} PendingAttr;

static void parse_attr_value(Parser *P, PendingAttr *a)
{
    const AttrInfo *info = &attr_info[a->id];
    char expected[128];
    switch (info->kind) {
    case AK_INT:
        snprintf(expected, sizeof expected, "attribute '%s' expects an integer", info->name);
        a->i = int_lit(P, expected);
        return;
    case AK_FLOAT:
        snprintf(expected, sizeof expected, "attribute '%s' expects a float", info->name);
        a->f = float_lit(P, expected);
        return;
    case AK_INTS:
    case AK_FLOATS: {
        bool ints = info->kind == AK_INTS;
        snprintf(expected, sizeof expected, "attribute '%s' expects a list of %s", info->name,
                 ints ? "integers" : "floats");
        if (!accept(P, '['))
            fail(P, "%s", expected);
        int cap = 0;
        if (accept(P, ']'))
            return;
        do {
            if (ints) {
                a->ints = grow(P, a->ints, a->count, &cap, sizeof *a->ints);
                a->ints[a->count++] = int_lit(P, expected);
            } else {
                a->floats = grow(P, a->floats, a->count, &cap, sizeof *a->floats);
                a->floats[a->count++] = float_lit(P, expected);
            }
        } while (accept(P, ','));
        expect(P, ']', "after the list elements");
        return;
    }
    case AK_ENUM: {
        /* The message lists the allowed names: "one of: onnx, tflite". */
        int n = snprintf(expected, sizeof expected, "attribute '%s' expects one of: ", info->name);
        for (int i = 0; info->enum_names[i] && n < (int)sizeof expected; i++)
            n += snprintf(expected + n, sizeof expected - (size_t)n, "%s%s", i ? ", " : "",
                          info->enum_names[i]);
        if (P->tok.kind == TK_IDENT) {
            for (int i = 0; info->enum_names[i]; i++) {
                if (is_word(&P->tok, info->enum_names[i])) {
                    a->i = i;
                    next(P);
                    return;
                }
            }
        }
        fail(P, "%s", expected);
    }
    }
    qnn_unreachable();
}

/* ATTRS := '{' (attr (',' attr)*)? '}' ; the current token is the '{'. */
static PendingAttr *parse_attrs(Parser *P, OpId op, int *count)
{
    PendingAttr *attrs = NULL;
    int n = 0, cap = 0;
    next(P);
    if (accept(P, '}')) {
        *count = 0;
        return NULL;
    }
    do {
        if (P->tok.kind != TK_IDENT)
            fail(P, "expected an attribute name");
        AttrId id;
        if (!attr_from_name(P->tok.p, (size_t)P->tok.len, &id))
            fail(P, "unknown attribute '%.*s'", P->tok.len, P->tok.p);
        if (!(op_info[op].attrs & (UINT64_C(1) << id)))
            fail(P, "attribute '%s' is not allowed on op '%s'", attr_info[id].name,
                 op_info[op].name);
        for (int i = 0; i < n; i++)
            if (attrs[i].id == id)
                fail(P, "duplicate attribute '%s'", attr_info[id].name);
        next(P);
        expect(P, '=', "after the attribute name");
        attrs = grow(P, attrs, n, &cap, sizeof *attrs);
        attrs[n] = (PendingAttr){.id = id};
        parse_attr_value(P, &attrs[n]);
        n++;
    } while (accept(P, ','));
    expect(P, '}', "after the attributes");
    *count = n;
    return attrs;
}

/* Says how many operands OP takes: "1 operand", "2 to 3 operands", "at
 * least 1 operand". */
static const char *arity_text(char *buf, size_t size, const OpInfo *info)
{
    int lo = info->min_operands, hi = info->max_operands;
    if (hi < 0)
        snprintf(buf, size, "at least %d operand%s", lo, lo == 1 ? "" : "s");
    else if (lo == hi)
        snprintf(buf, size, "%d operand%s", lo, lo == 1 ? "" : "s");
    else
        snprintf(buf, size, "%d to %d operands", lo, hi);
    return buf;
}

/* `%name = OP(%a, ...) {ATTRS}? : TYPE`; the current token is the %name. */
static void parse_node(Parser *P)
{
    Token name_tok = P->tok;
    check_new_name(P, &name_tok);
    next(P);
    expect(P, '=', "after the value name");
    if (P->tok.kind != TK_IDENT)
        fail(P, "expected an op name");
    OpId op;
    Token op_tok = P->tok;
    if (!op_from_name(op_tok.p, (size_t)op_tok.len, &op))
        fail(P, "unknown op '%.*s'", op_tok.len, op_tok.p);
    const OpInfo *info = &op_info[op];
    next(P);

    expect(P, '(', "after the op name");
    Value **operands = NULL;
    int n = 0, cap = 0;
    if (!accept(P, ')')) {
        do {
            operands = grow(P, operands, n, &cap, sizeof *operands);
            operands[n++] = use_value(P, "an operand");
        } while (accept(P, ','));
        expect(P, ')', "after the operands");
    }
    if (n < info->min_operands || (info->max_operands >= 0 && n > info->max_operands)) {
        char arity[64];
        fail_at(P, op_tok.loc, "op '%s' expects %s but got %d", info->name,
                arity_text(arity, sizeof arity, info), n);
    }

    PendingAttr *attrs = NULL;
    int nattrs = 0;
    if (is_punct(P, '{'))
        attrs = parse_attrs(P, op, &nattrs);
    expect(P, ':', "before the result type");
    TensorType t = parse_type(P);

    char *name = arena_strndup(&P->scratch, name_tok.p + 1, (size_t)name_tok.len - 1);
    Node *node = graph_add_node(P->g, op, operands, n, name, t);
    node->loc = own_loc(P, name_tok.loc);
    node->result->loc = node->loc;
    parse_range(P, node->result);
    for (int i = 0; i < nattrs; i++) {
        PendingAttr *a = &attrs[i];
        switch (attr_info[a->id].kind) {
        case AK_INT: node_set_int(P->g, node, a->id, a->i); break;
        case AK_ENUM: node_set_enum(P->g, node, a->id, a->i); break;
        case AK_FLOAT: node_set_float(P->g, node, a->id, a->f); break;
        case AK_INTS: node_set_ints(P->g, node, a->id, a->ints, a->count); break;
        case AK_FLOATS: node_set_floats(P->g, node, a->id, a->floats, a->count); break;
        }
    }
    name_insert(P, node->result);
}

/* GRAPH := 'graph' '@' NAME '{' statement* '}' EOF */
static void parse_graph(Parser *P)
{
    next(P);
    if (!is_word(&P->tok, "graph"))
        fail(P, "expected 'graph'");
    P->g->loc = own_loc(P, P->tok.loc);
    next(P);
    if (P->tok.kind != TK_GLOBAL)
        fail(P, "expected a graph name after 'graph'");
    P->g->name = arena_strndup(&P->g->arena, P->tok.p + 1, (size_t)P->tok.len - 1);
    next(P);
    expect(P, '{', "after the graph name");

    while (!is_punct(P, '}')) {
        if (is_word(&P->tok, "input"))
            parse_input_or_const(P, false);
        else if (is_word(&P->tok, "const"))
            parse_input_or_const(P, true);
        else if (is_word(&P->tok, "output"))
            parse_output(P);
        else if (P->tok.kind == TK_VALUE)
            parse_node(P);
        else
            fail(P, "expected a statement or '}'");
    }
    if (P->g->outputs.len == 0)
        fail(P, "graph '@%s' has no output statement", P->g->name);
    next(P);
    if (P->tok.kind != TK_EOF)
        fail(P, "expected end of input after the graph");
    P->ok = true;
}

/* ---------------------------------------------------------------- entry points */

Graph *ir_parse(const char *file, const char *text, size_t len)
{
    if (!file)
        file = "<input>";
    diag_add_source(file, text, len);
    /* Token lengths and columns are ints. */
    if (len > INT_MAX) {
        SrcLoc loc = {file, 0, 0};
        diag_error(loc, "input is too large");
        return NULL;
    }

    /* The parser state lives on the heap: longjmp may leave automatic
     * variables of ir_parse that changed after setjmp indeterminate. */
    Parser *P = xcalloc(1, sizeof *P);
    arena_init(&P->scratch);
    P->g = graph_new(NULL);
    P->file = arena_strdup(&P->g->arena, file);
    lex_init(&P->lex, file, text, len);
    if (setjmp(P->fail) == 0)
        parse_graph(P);

    Graph *g = P->g;
    if (!P->ok) {
        graph_free(g);
        g = NULL;
    }
    arena_free(&P->scratch);
    free(P->sidecar_path);
    free(P->sidecar_data);
    free(P);
    return g;
}

Graph *ir_parse_file(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        SrcLoc loc = {path, 0, 0};
        diag_error(loc, "cannot read file: %s", strerror(errno));
        return NULL;
    }
    Graph *g = ir_parse(path, text, len);
    /* diag borrows the source text to print the lines of later diagnostics
     * (the verifier's, say), so the graph keeps a copy of it.  After a
     * failed parse nothing can refer to the file any more. */
    if (g)
        diag_add_source(path, arena_memdup(&g->arena, text, len), len);
    else
        diag_add_source(path, "", 0);
    free(text);
    return g;
}
