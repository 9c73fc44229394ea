/* qnnc-run - execute a model in the reference interpreter.
 *
 * The model is textual IR (.qir) or an ONNX model (.onnx, imported with
 * onnx_import).  Inputs and outputs are NumPy .npy files or ONNX TensorProto
 * .pb files (the format of ONNX's own test data), chosen by extension.  The
 * interpreter is the oracle every pass and every compiled object is checked
 * against, so this tool is how a test gets "the right answer". */
#include "frontend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: qnnc-run MODEL.qir|MODEL.onnx [--input X.npy|X.pb]... [--output Y.npy|Y.pb]...\n"
    "                [--print]\n"
    "       qnnc-run MODEL.qir|MODEL.onnx --runs LIST\n"
    "\n"
    "Runs MODEL in qnnc's reference interpreter.  Give one --input per graph\n"
    "input and one --output per graph output (or none, with --print), in\n"
    "signature order.  With --runs, each non-empty line of LIST names the\n"
    "input files and then the output files of one run, separated by\n"
    "whitespace: the model is read once for all of them.\n"
    "A .onnx model is imported first (NCHW inputs and outputs stay NCHW).\n"
    "Tensor files are NumPy .npy or ONNX TensorProto .pb, by extension.\n"
    "\n"
    "options:\n"
    "  --input FILE        the next graph input (shape and dtype must match)\n"
    "  --output FILE       where to write the next graph output\n"
    "  --batch N           ONNX: the value of a symbolic batch dimension (default 1)\n"
    "  --input-shape NAME:D0,D1,...\n"
    "                      ONNX: the full shape of graph input NAME, fixing its\n"
    "                      symbolic dimensions (repeatable; NAME ends at the last ':')\n"
    "  --layout=nhwc       ONNX: 4-D inputs and outputs in NHWC instead of the model's NCHW\n"
    "  --print             print every output as text on stdout\n"
    "  --runs LIST         one run per line of LIST (no --input, --output, --print)\n"
    "  --max-memory=BYTES  reject a model whose tensors need more (default 4 GiB)\n"
    "  --no-verify         skip the verifier (for debugging the verifier itself)\n"
    "  -h, --help          show this help\n"
    "\n"
    "examples:\n"
    "  qnnc-run examples/tiny_cnn.qir --input examples/tiny_cnn.input.npy --print\n"
    "  qnnc-run model.qir --input x.npy --output y.npy\n"
    "  qnnc-run model.onnx --input input_0.pb --output out_0.pb\n";

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static void *read_tensor(const char *path, const TensorType *t)
{
    return has_suffix(path, ".pb") ? tensorproto_read(path, t) : npy_read(path, t);
}

static bool write_tensor(const char *path, const Value *v, const void *data)
{
    return has_suffix(path, ".pb") ? tensorproto_write(path, v->name, &v->type, data)
                                   : npy_write(path, &v->type, data);
}

QNN_NORETURN static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "qnnc-run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see qnnc-run --help)\n");
    exit(2);
}

/* Prints "%name = TYPE [v0, v1, ...]": floats with 7 significant digits,
 * enough to read, while .npy output stays exact. */
static void print_tensor(const Value *v, const void *data)
{
    printf("%%%s = ", v->name);
    type_print(stdout, &v->type);
    fputs(" [", stdout);
    int64_t n = type_numel(&v->type);
    for (int64_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", stdout);
        switch (v->type.dtype) {
        case DT_F32: {
            float f = ((const float *)data)[i];
            if (isnan(f))
                fputs("nan", stdout);
            else if (isinf(f))
                fputs(f < 0 ? "-inf" : "inf", stdout);
            else
                printf("%.7g", (double)f);
            break;
        }
        case DT_I8: printf("%d", ((const int8_t *)data)[i]); break;
        case DT_U8: printf("%d", ((const uint8_t *)data)[i]); break;
        case DT_I16: printf("%d", ((const int16_t *)data)[i]); break;
        case DT_I32: printf("%d", (int)((const int32_t *)data)[i]); break;
        case DT_COUNT: qnn_unreachable();
        }
    }
    fputs("]\n", stdout);
}

/* One run: reads the graph's inputs from in_files, interprets, writes the
 * first nout outputs to out_files and prints them all when print is set.
 * Returns 0, or 1 after the error has been reported. */
static int run_once(const Graph *g, const char *const *in_files, const char *const *out_files, int nout,
                    bool print)
{
    int status = 1, nin = g->inputs.len;
    void **inputs = xcalloc((size_t)nin + 1, sizeof *inputs);
    void **outputs = xcalloc((size_t)g->outputs.len + 1, sizeof *outputs);
    for (int i = 0; i < nin; i++)
        if (!(inputs[i] = read_tensor(in_files[i], &((Value *)g->inputs.data[i])->type)))
            goto done;
    for (int i = 0; i < g->outputs.len; i++)
        outputs[i] = xmalloc((size_t)type_nbytes(&((Value *)g->outputs.data[i])->type));
    if (interp_run(g, (const void *const *)inputs, outputs) != 0)
        goto done;
    status = 0;
    for (int i = 0; i < g->outputs.len; i++) {
        const Value *v = g->outputs.data[i];
        if (i < nout && !write_tensor(out_files[i], v, outputs[i]))
            status = 1;
        if (print)
            print_tensor(v, outputs[i]);
    }
done:
    for (int i = 0; i < nin; i++)
        free(inputs[i]);
    for (int i = 0; i < g->outputs.len; i++)
        free(outputs[i]);
    free(inputs);
    free(outputs);
    return status;
}

/* --runs LIST: one run per non-empty line, "IN... OUT..." (as many of
 * each as the graph has), stopping at the first line that fails. */
static int run_list(const Graph *g, const char *list)
{
    FILE *f = fopen(list, "r");
    if (!f) {
        fprintf(stderr, "qnnc-run: %s: %s\n", list, strerror(errno));
        return 1;
    }
    int want = g->inputs.len + g->outputs.len, status = 0, lineno = 0;
    const char **files = xcalloc((size_t)want + 1, sizeof *files);
    char *line = NULL;
    size_t cap = 0;
    while (status == 0 && getline(&line, &cap, f) != -1) {
        lineno++;
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok;
             tok = strtok_r(NULL, " \t\r\n", &save))
            if (n++ < want)
                files[n - 1] = tok;
        if (n == 0)
            continue;
        if (n != want) {
            fprintf(stderr, "qnnc-run: %s:%d: %d file%s, but the model takes %d input%s and gives %d output%s\n",
                    list, lineno, n, n == 1 ? "" : "s", g->inputs.len, g->inputs.len == 1 ? "" : "s",
                    g->outputs.len, g->outputs.len == 1 ? "" : "s");
            status = 1;
            break;
        }
        status = run_once(g, files, files + g->inputs.len, g->outputs.len, false);
    }
    if (status == 0 && ferror(f)) {
        fprintf(stderr, "qnnc-run: %s: read error\n", list);
        status = 1;
    }
    free(line);
    free(files);
    fclose(f);
    return status;
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    const char **in_files = xcalloc((size_t)argc, sizeof *in_files);
    const char **out_files = xcalloc((size_t)argc, sizeof *out_files);
    int nin = 0, nout = 0;
    bool print = false, no_verify = false;
    const char *runs = NULL;
    ImportOptions iopts = {0};
    InputShape *shapes = xcalloc((size_t)argc, sizeof *shapes);
    int nshapes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            free(in_files);
            free(out_files);
            for (int k = 0; k < nshapes; k++)
                free((char *)shapes[k].name);
            free(shapes);
            return 0;
        } else if (!strcmp(a, "--input") || !strcmp(a, "--output")) {
            if (++i == argc)
                usage_error("%s needs a file name", a);
            if (a[2] == 'i')
                in_files[nin++] = argv[i];
            else
                out_files[nout++] = argv[i];
        } else if (!strncmp(a, "--input=", 8)) {
            in_files[nin++] = a + 8;
        } else if (!strncmp(a, "--output=", 9)) {
            out_files[nout++] = a + 9;
        } else if (!strcmp(a, "--batch") || !strncmp(a, "--batch=", 8)) {
            const char *num = a[7] == '=' ? a + 8 : (++i < argc ? argv[i] : NULL);
            char *end;
            if (!num || (iopts.batch = strtoll(num, &end, 10)) < 1 || *end)
                usage_error("%s needs a positive number", "--batch");
        } else if (!strcmp(a, "--input-shape") || !strncmp(a, "--input-shape=", 14)) {
            const char *v = a[13] == '=' ? a + 14 : (++i < argc ? argv[i] : NULL);
            if (!v)
                usage_error("%s needs NAME:D0,D1,...", "--input-shape");
            InputShape sh;
            char err[256];
            if (!input_shape_parse(v, &sh, err, sizeof err))
                usage_error("--input-shape: %s", err);
            /* A later flag for the same input replaces an earlier one. */
            int k = 0;
            while (k < nshapes && strcmp(shapes[k].name, sh.name))
                k++;
            if (k < nshapes)
                free((char *)shapes[k].name);
            else
                nshapes++;
            shapes[k] = sh;
        } else if (!strcmp(a, "--layout=nhwc")) {
            iopts.layout = LAYOUT_NHWC;
        } else if (!strcmp(a, "--layout=model") || !strcmp(a, "--layout=nchw")) {
            iopts.layout = LAYOUT_MODEL;
        } else if (!strncmp(a, "--max-memory=", 13)) {
            char *end;
            long long b = strtoll(a + 13, &end, 10);
            if (b < 1 || *end || end == a + 13)
                usage_error("%s needs a positive number of bytes", "--max-memory");
            qnn_set_max_memory(b);
        } else if (!strcmp(a, "--print")) {
            print = true;
        } else if (!strcmp(a, "--runs") || !strncmp(a, "--runs=", 7)) {
            runs = a[6] == '=' ? a + 7 : (++i < argc ? argv[i] : NULL);
            if (!runs || !*runs)
                usage_error("%s needs a file name", "--runs");
        } else if (!strcmp(a, "--no-verify")) {
            no_verify = true;
        } else if (a[0] == '-' && a[1]) {
            usage_error("unknown option '%s'", a);
        } else if (model) {
            usage_error("more than one model ('%s')", a);
        } else {
            model = a;
        }
    }
    if (!model)
        usage_error("%s", "no model given");
    if (runs && (nin || nout || print))
        usage_error("%s", "--runs takes the files from its list: no --input, --output or --print");
    if (nout == 0 && !print && !runs)
        usage_error("%s", "nothing to do: give --output FILE.npy or --print");

    iopts.shapes = shapes;
    iopts.num_shapes = nshapes;
    int status = 1;
    Graph *g = has_suffix(model, ".onnx") ? onnx_import(model, &iopts) : ir_parse_file(model);
    if (!g || (!no_verify && !ir_verify(g)))
        goto done;
    if (runs) {
        status = run_list(g, runs);
        goto done;
    }
    if (nin != g->inputs.len) {
        fprintf(stderr, "qnnc-run: %s has %d input%s but %d --input file%s given\n", model,
                g->inputs.len, g->inputs.len == 1 ? "" : "s", nin, nin == 1 ? " was" : "s were");
        goto done;
    }
    /* A missing --output would silently drop an output a test meant to
     * compare (test/codegen/Inputs/check.py once compared one of four). */
    if (nout != 0 && nout != g->outputs.len) {
        fprintf(stderr, "qnnc-run: %s has %d output%s but %d --output file%s given\n", model,
                g->outputs.len, g->outputs.len == 1 ? "" : "s", nout, nout == 1 ? " was" : "s were");
        status = 2;
        goto done;
    }
    status = run_once(g, in_files, out_files, nout, print);
done:
    graph_free(g);
    free(in_files);
    free(out_files);
    for (int i = 0; i < nshapes; i++)
        free((char *)shapes[i].name);
    free(shapes);
    return status;
}
