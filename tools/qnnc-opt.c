/* qnnc-opt - run named passes over textual IR, like opt / mlir-opt.
 *
 * Each input (or each `// -----` chunk with --split-input-file) is parsed,
 * verified, put through the passes in order, verified again and printed.
 * Chunks keep their original line numbers, so diagnostics and inline
 * `expected-error` annotations refer to the file as written. */
#include "frontend.h"
#include "passes.h"
#include "samples.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: qnnc-opt [options] [FILE.qir | -]\n"
    "\n"
    "Parses qnnc IR, verifies it, runs the named passes and prints the result.\n"
    "\n"
    "options:\n"
    "  --passes=P1,P2,...     passes to run, in order (see the list below)\n"
    "  --config=FILE          the TOML compile configuration the passes read\n"
    "                         (calibration data, quantization scheme, tiling)\n"
    "  -o FILE                write the result to FILE (default: stdout)\n"
    "  --print-after-all      print the IR to stderr after every pass\n"
    "  --print-after=PASS     print the IR to stderr after PASS\n"
    "  --verify-each          run the verifier after every pass (default after the last)\n"
    "  --no-verify            do not run the verifier at all\n"
    "  --split-input-file     treat '// -----' lines as separators between independent inputs\n"
    "  --verify-diagnostics   check reported errors against '// expected-error@+N {{text}}'\n"
    "                         annotations in the input instead of printing them\n"
    "  --sidecar=FILE         write constants larger than --sidecar-threshold bytes to FILE\n"
    "  --sidecar-threshold=N  (default 0: all constants inline)\n"
    "  -h, --help             show this help\n"
    "\n"
    "examples:\n"
    "  qnnc-opt model.qir                          verify and print in canonical form\n"
    "  qnnc-opt model.qir --passes=dce -o out.qir  run dead code elimination\n"
    "  qnnc-opt bad.qir --split-input-file --verify-diagnostics\n"
    "\n"
    "passes:\n";

typedef struct Options {
    const char *input, *output;
    const char *passes;
    const char *print_after;
    const char *sidecar;
    const char *config;
    long long sidecar_threshold;
    bool print_after_all, verify_each, no_verify, split, verify_diags;
} Options;

static void print_usage(FILE *f)
{
    fputs(usage, f);
    for (int i = 0; i < pass_registry_count; i++)
        fprintf(f, "  %-22s %s\n", pass_registry[i].name, pass_registry[i].summary);
}

QNN_NORETURN static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "qnnc-opt: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see qnnc-opt --help)\n");
    exit(2);
}

static const char *flag_value(const char *arg, const char *flag)
{
    size_t n = strlen(flag);
    return strncmp(arg, flag, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static Options parse_args(int argc, char **argv)
{
    Options o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_usage(stdout);
            exit(0);
        } else if (!strcmp(a, "-o")) {
            if (++i == argc)
                usage_error("%s needs a file name", a);
            o.output = argv[i];
        } else if ((v = flag_value(a, "--passes")) || (v = flag_value(a, "-passes"))) {
            o.passes = v;
        } else if ((v = flag_value(a, "--config"))) {
            o.config = v;
        } else if ((v = flag_value(a, "--print-after"))) {
            o.print_after = v;
        } else if ((v = flag_value(a, "--sidecar"))) {
            o.sidecar = v;
        } else if ((v = flag_value(a, "--sidecar-threshold"))) {
            char *end;
            errno = 0;
            o.sidecar_threshold = strtoll(v, &end, 10);
            if (errno || *end || o.sidecar_threshold < 0)
                usage_error("bad --sidecar-threshold value '%s'", v);
        } else if (!strcmp(a, "--print-after-all")) {
            o.print_after_all = true;
        } else if (!strcmp(a, "--verify-each")) {
            o.verify_each = true;
        } else if (!strcmp(a, "--no-verify")) {
            o.no_verify = true;
        } else if (!strcmp(a, "--split-input-file")) {
            o.split = true;
        } else if (!strcmp(a, "--verify-diagnostics")) {
            o.verify_diags = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option '%s'", a);
        } else if (o.input) {
            usage_error("more than one input file ('%s')", a);
        } else {
            o.input = a;
        }
    }
    if (!o.input)
        o.input = "-";
    if (o.sidecar_threshold > 0 && !o.sidecar)
        usage_error("%s needs --sidecar=FILE", "--sidecar-threshold");
    /* Every chunk would write the same sidecar, leaving only the last's. */
    if (o.sidecar && o.split)
        usage_error("%s cannot be combined with --split-input-file (each input would overwrite the file)", "--sidecar");
    /* Check pass names up front, so a typo fails before any work. */
    for (const char *p = o.passes; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n && !pass_lookup(p, n)) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(n < 100 ? n : 100), p);
            usage_error("unknown pass '%s'", name);
        }
        p += n + (p[n] == ',');
    }
    return o;
}

static char *read_input(const char *path, size_t *len)
{
    if (strcmp(path, "-") != 0)
        return read_file(path, len);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---------------------------------------------------------------- expected diagnostics */

typedef struct Expected {
    DiagKind kind;
    int line;
    char *text;
    bool seen;
} Expected;

/* Collects `expected-error@+N {{text}}` (also @-N, @above, @below, and no
 * offset for the annotation's own line) from a chunk of source. */
static int collect_expected(const char *file, const char *text, size_t len, Expected **out)
{
    static const struct { const char *word; DiagKind kind; } words[] = {
        {"expected-error", DIAG_ERROR}, {"expected-warning", DIAG_WARNING}, {"expected-note", DIAG_NOTE}};
    Expected *list = NULL;
    int count = 0, line = 1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        for (const char *s = p; s < eol; s++) {
            for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
                size_t wl = strlen(words[w].word);
                if ((size_t)(eol - s) < wl || memcmp(s, words[w].word, wl) != 0)
                    continue;
                const char *q = s + wl;
                int target = line;
                if (*q == '@') {
                    q++;
                    if (!strncmp(q, "above", 5)) {
                        target = line - 1;
                        q += 5;
                    } else if (!strncmp(q, "below", 5)) {
                        target = line + 1;
                        q += 5;
                    } else {
                        char *e;
                        long off = strtol(q, &e, 10);
                        target = line + (int)off;
                        q = e;
                    }
                }
                while (q < eol && *q == ' ')
                    q++;
                const char *close = q + 2 <= eol && !strncmp(q, "{{", 2) ? strstr(q, "}}") : NULL;
                if (!close || close > eol) {
                    fprintf(stderr, "%s:%d: error: malformed %s annotation (expected {{text}})\n", file,
                            line, words[w].word);
                    exit(1);
                }
                list = xrealloc(list, (size_t)(count + 1) * sizeof *list);
                size_t tl = (size_t)(close - q - 2);
                char *t = xmalloc(tl + 1);
                memcpy(t, q + 2, tl);
                t[tl] = '\0';
                list[count++] = (Expected){words[w].kind, target, t, false};
                s = close + 1;
                break;
            }
        }
        p = eol + 1;
        line++;
    }
    *out = list;
    return count;
}

/* Compares captured diagnostics with the annotations; returns true on a
 * perfect match and reports every difference otherwise. */
static bool check_expected(const char *file, Expected *exp, int nexp)
{
    int ncap;
    const Diagnostic *cap = diag_captured(&ncap);
    bool ok = true;
    for (int i = 0; i < ncap; i++) {
        bool matched = false;
        for (int j = 0; j < nexp && !matched; j++) {
            if (!exp[j].seen && exp[j].kind == cap[i].kind && exp[j].line == cap[i].loc.line &&
                strstr(cap[i].message, exp[j].text)) {
                exp[j].seen = matched = true;
            }
        }
        if (!matched) {
            fprintf(stderr, "%s:%d:%d: error: unexpected diagnostic: %s\n", file, cap[i].loc.line,
                    cap[i].loc.col, cap[i].message);
            ok = false;
        }
    }
    for (int j = 0; j < nexp; j++) {
        if (!exp[j].seen) {
            fprintf(stderr, "%s:%d: error: expected diagnostic was not produced: {{%s}}\n", file,
                    exp[j].line, exp[j].text);
            ok = false;
        }
    }
    return ok;
}

/* ---------------------------------------------------------------- the pipeline */

static bool verify(const Options *o, const Graph *g)
{
    return o->no_verify || ir_verify(g);
}

/* Parses, verifies and transforms one chunk.  Returns the graph, or NULL
 * after errors were reported. */
static Graph *process(const Options *o, const PassContext *ctx, const char *file, const char *text, size_t len)
{
    Graph *g = ir_parse(file, text, len);
    if (!g || !verify(o, g))
        goto fail;
    for (const char *p = o->passes; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n) {
            const Pass *pass = pass_lookup(p, n);
            if (!pass->run(g, ctx))
                goto fail;
            if ((o->verify_each || !p[n]) && !verify(o, g)) {
                fprintf(stderr, "qnnc-opt: the graph is invalid after pass '%s'\n", pass->name);
                goto fail;
            }
            if (o->print_after_all || (o->print_after && !strcmp(o->print_after, pass->name))) {
                fprintf(stderr, "// ----- IR after %s -----\n", pass->name);
                ir_print(stderr, g, NULL);
            }
        }
        p += n + (p[n] == ',');
    }
    return g;
fail:
    graph_free(g);
    return NULL;
}

/* Finds the next `// -----` separator line at or after P; returns its start
 * or END. */
static const char *next_separator(const char *p, const char *end)
{
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *s = p;
        while (s < eol && (*s == ' ' || *s == '\t'))
            s++;
        if (eol - s >= 8 && !strncmp(s, "// -----", 8))
            return p;
        p = eol + 1;
    }
    return end;
}

int main(int argc, char **argv)
{
    Options o = parse_args(argc, argv);
    QnncConfig cfg;
    config_defaults(&cfg);
    if (o.config && !config_load(o.config, &cfg)) {
        config_free(&cfg);
        return 1;
    }
    qnn_set_max_memory(cfg.limits.max_memory);
    PassContext ctx = {.cfg = &cfg, .open_samples = driver_open_samples};
    const char *file = strcmp(o.input, "-") ? o.input : "<stdin>";
    size_t len;
    char *text = read_input(o.input, &len);
    if (!text) {
        fprintf(stderr, "%s: error: cannot read file: %s\n", file, strerror(errno));
        return 1;
    }

    char *out_text = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);
    PrintOptions popts = {.sidecar_threshold = o.sidecar_threshold, .sidecar_path = o.sidecar};
    if (o.verify_diags)
        diag_set_capture(true);

    bool ok = true;
    int chunks = 0;
    const char *end = text + len;
    for (const char *start = text; start <= end;) {
        const char *sep = o.split ? next_separator(start, end) : end;
        /* The chunk is padded with the newlines before it, so that line
         * numbers in diagnostics are those of the whole file. */
        int lines_before = 0;
        for (const char *p = text; p < start; p++)
            lines_before += *p == '\n';
        size_t clen = (size_t)lines_before + (size_t)(sep - start);
        char *chunk = xmalloc(clen + 1);
        memset(chunk, '\n', (size_t)lines_before);
        memcpy(chunk + lines_before, start, (size_t)(sep - start));
        chunk[clen] = '\0';

        Expected *exp = NULL;
        int nexp = o.verify_diags ? collect_expected(file, chunk, clen, &exp) : 0;
        Graph *g = process(&o, &ctx, file, chunk, clen);
        if (o.verify_diags) {
            ok &= check_expected(file, exp, nexp);
            diag_clear_captured();
            for (int i = 0; i < nexp; i++)
                free(exp[i].text);
            free(exp);
        } else {
            ok &= g != NULL;
        }
        if (g) {
            if (chunks++)
                fputs("// -----\n", out);
            if (!ir_print(out, g, &popts))
                ok = false;
        }
        graph_free(g);
        free(chunk);
        if (sep == end)
            break;
        const char *eol = memchr(sep, '\n', (size_t)(end - sep));
        start = eol ? eol + 1 : end;
    }
    fclose(out);

    /* With --verify-diagnostics the output is only written when asked for. */
    if (ok && (!o.verify_diags || o.output)) {
        if (o.output && strcmp(o.output, "-")) {
            if (!write_file_atomic(o.output, out_text, out_len)) {
                fprintf(stderr, "%s: error: cannot write file: %s\n", o.output, strerror(errno));
                ok = false;
            }
        } else {
            fwrite(out_text, 1, out_len, stdout);
        }
    }
    free(out_text);
    free(text);
    config_free(&cfg);
    return ok ? 0 : 1;
}
