/* diag.c - the one diagnostics engine.
 *
 * User errors name the file and place: "file:line:col: error: message",
 * then the source line and a caret under the column when the text of the
 * file is known (chibicc's verror_at).  qnnc-opt --verify-diagnostics
 * switches the engine into capture mode and compares what was reported with
 * the expected-error annotations in the input. */
#include "ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct Source {
    char *file;
    const char *text; /* borrowed: the caller keeps it alive while diagnosing */
    size_t len;
} Source;

static struct {
    Source *sources;
    int num_sources;
    int errors;
    bool capture;
    Diagnostic *captured;
    int num_captured, cap_captured;
} D;

void diag_add_source(const char *file, const char *text, size_t len)
{
    for (int i = 0; i < D.num_sources; i++) {
        if (strcmp(D.sources[i].file, file) == 0) {
            D.sources[i].text = text;
            D.sources[i].len = len;
            return;
        }
    }
    D.sources = xrealloc(D.sources, (size_t)(D.num_sources + 1) * sizeof *D.sources);
    D.sources[D.num_sources++] = (Source){xstrdup(file), text, len};
}

static const Source *find_source(const char *file)
{
    for (int i = 0; file && i < D.num_sources; i++)
        if (strcmp(D.sources[i].file, file) == 0)
            return &D.sources[i];
    return NULL;
}

/* Prints source line LINE of S and a caret under column COL. */
static void print_caret(const Source *s, int line, int col)
{
    const char *p = s->text, *end = s->text + s->len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    if (p >= end && line > 1)
        return;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    /* Tabs are echoed in the caret line so the caret lines up. */
    fprintf(stderr, "%.*s\n", (int)(eol - p), p);
    for (int c = 1; c < col && p + c - 1 < eol; c++)
        fputc(p[c - 1] == '\t' ? '\t' : ' ', stderr);
    fputs("^\n", stderr);
}

static const char *kind_name(DiagKind k)
{
    switch (k) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    }
    qnn_unreachable();
}

void diag_report(DiagKind kind, SrcLoc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);

    if (kind == DIAG_ERROR)
        D.errors++;
    if (D.capture) {
        if (D.num_captured == D.cap_captured) {
            D.cap_captured = D.cap_captured ? 2 * D.cap_captured : 16;
            D.captured = xrealloc(D.captured, (size_t)D.cap_captured * sizeof *D.captured);
        }
        D.captured[D.num_captured++] = (Diagnostic){kind, loc, msg};
        return;
    }
    if (loc.file && loc.line > 0)
        fprintf(stderr, "%s:%d:%d: %s: %s\n", loc.file, loc.line, loc.col, kind_name(kind), msg);
    else if (loc.file)
        fprintf(stderr, "%s: %s: %s\n", loc.file, kind_name(kind), msg);
    else
        fprintf(stderr, "%s: %s\n", kind_name(kind), msg);
    const Source *s = find_source(loc.file);
    if (s && loc.line > 0)
        print_caret(s, loc.line, loc.col);
    free(msg);
}

int diag_error_count(void) { return D.errors; }
void diag_reset(void) { D.errors = 0; }
void diag_set_capture(bool on) { D.capture = on; }

const Diagnostic *diag_captured(int *count)
{
    *count = D.num_captured;
    return D.captured;
}

void diag_clear_captured(void)
{
    for (int i = 0; i < D.num_captured; i++)
        free(D.captured[i].message);
    D.num_captured = 0;
}

DiagCapture diag_capture_push(void)
{
    DiagCapture c = {D.capture, D.num_captured};
    D.capture = true;
    return c;
}

const Diagnostic *diag_capture_since(const DiagCapture *c, int *count)
{
    *count = D.num_captured - c->first;
    return D.captured + c->first;
}

void diag_capture_pop(DiagCapture c)
{
    int errors = 0;
    for (int i = c.first; i < D.num_captured; i++) {
        errors += D.captured[i].kind == DIAG_ERROR;
        free(D.captured[i].message);
    }
    D.num_captured = c.first;
    D.errors = errors < D.errors ? D.errors - errors : 0;
    D.capture = c.was_capturing;
}
