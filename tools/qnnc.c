/* qnnc - the compiler driver: a model and a configuration in, compiled
 * output out.
 *
 *   qnnc MODEL.onnx [--config qnnc.toml] [flags] [-o OUT]
 *
 * The driver reads the TOML configuration (frontend/config.h), lets the
 * command line override it, imports the model and verifies it, runs the
 * default pass pipeline (passes/pipeline.c: folding, calibration,
 * quantization, requantize folding, the accumulator proof) and compiles the
 * result with the LLVM back end (codegen/): an object, assembly or LLVM IR,
 * the C header (NAME.h), a standalone runner (--emit=exe, linked with the
 * runtime harness), or the graph as textual IR.  Every
 * output is built in memory first and written atomically, so a failed
 * compile leaves no file behind.
 *
 * Exit status: 0 on success, 1 on an error in the inputs (model, config,
 * unimplemented output), 2 on a bad command line. */
/* realpath() is X/Open, beyond the POSIX level the build asks for. */
#define _XOPEN_SOURCE 700

#include "codegen.h"
#include "config.h"
#include "frontend.h"
#include "jit.h"
#include "passes.h"
#include "report.h"
#include "samples.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: qnnc MODEL [options]\n"
    "\n"
    "Compiles a neural network (ONNX .onnx, or qnnc IR .qir) for int8 inference.\n"
    "Settings come from the configuration file given with --config (see\n"
    "docs/config.md); the flags below override it.\n"
    "\n"
    "options:\n"
    "  --config FILE           read the TOML compile configuration FILE\n"
    "  --print-config          print the effective configuration (file and flags\n"
    "                          combined) as TOML on stdout and exit\n"
    "  --emit=KIND[,KIND...]   what to write: obj, asm, llvm, qir, header, exe\n"
    "                          (default: [output] emit, else obj,header)\n"
    "  -o FILE                 output file; '-' is stdout (qir default: stdout)\n"
    "  --header=FILE           where the C header goes (default: [output] header,\n"
    "                          else beside the object)\n"
    "  -S                      same as --emit=asm\n"
    "  --name=NAME             symbol prefix (default: the model's file name)\n"
    "  --batch=N               value of a symbolic batch dimension (default 1)\n"
    "  --input-shape=NAME:D0,D1,...\n"
    "                          the full shape of graph input NAME, fixing its\n"
    "                          symbolic dimensions (repeatable; NAME ends at the\n"
    "                          last ':'; overrides [model] input_shapes)\n"
    "  --input-layout=LAYOUT   model, nchw or nhwc: layout of 4-D inputs and outputs\n"
    "  --target=TRIPLE         x86_64-linux-gnu, aarch64-linux-gnu, riscv64-linux-gnu,\n"
    "                          thumbv7em-none-eabi (Cortex-M4),\n"
    "                          thumbv8.1m.main-none-eabi (Cortex-M55, Helium) or\n"
    "                          riscv32-none-elf (RV32IMC; -mattr=+a: RV32IMAC)\n"
    "                          (default: the host)\n"
    "  -mcpu=CPU               target CPU (default: the triple's generic CPU;\n"
    "                          -mcpu=help lists them; -mcpu=native or host: this\n"
    "                          machine's CPU and features, for the host target)\n"
    "  -mattr=+F1,-F2,...      target features (-mattr=help lists them)\n"
    "  -O0, -O1, -O2, -O3      optimization level (default -O2)\n"
    "  --profile               instrument the object for per-node timing: NAME_run\n"
    "                          calls qnn_profile_mark() between nodes and NAME_profile\n"
    "                          lists them; an --emit=exe runner's --profile prints\n"
    "                          the report (docs/runtime.md)\n"
    "  -fno-float-output-stage keep the integer output stage on x86 with FMA (no\n"
    "                          vfmadd form; for A/B measurements, docs/codegen.md)\n"
    "  -fno-wide-depthwise     keep 16 channels a step in x86 depthwise kernels (no\n"
    "                          dw_channels4w; for A/B measurements, docs/codegen.md)\n"
    "  --weights=MODE          embedded (default) or external\n"
    "  --max-memory=BYTES      reject a model whose tensors need more (default 4 GiB;\n"
    "                          [limits] max_memory, docs/robustness.md)\n"
    "  --cc=COMMAND            C compiler for --emit=exe (default: the target's\n"
    "                          qnn-cc beside this qnnc, see docs/runtime.md)\n"
    "  -v                      print the commands qnnc runs (the --emit=exe link)\n"
    "  --print-memory-plan     print the scratch offset of every intermediate\n"
    "                          tensor, the scratch size and its lower bound, and exit\n"
    "  --print-after-all       print the IR to stderr after every pass\n"
    "  --print-after=PASS      print the IR to stderr after PASS (for bisecting)\n"
    "  --stop-after=PASS       run the pipeline up to PASS only; 'import' runs no\n"
    "                          pass (the imported graph as it is)\n"
    "  --report=FILE           write the quantization report and the object's\n"
    "                          flash per layer: JSON, or a text summary when FILE\n"
    "                          ends in .txt, a page for .html (docs/passes.md)\n"
    "  --list-ops              list the ONNX ops qnnc imports (op, domain, opsets)\n"
    "                          and exit\n"
    "  -h, --help              show this help\n"
    "\n"
    "-o names the object, or the only output when one kind is emitted; the other\n"
    "outputs are named after it (model.o -> model.h, model.s, model.ll,\n"
    "model.exe, model.weights.bin) or after NAME.  A .qir model is read as\n"
    "textual IR, which is handy for tests.\n"
    "\n"
    "examples:\n"
    "  qnnc model.onnx --emit=qir -o model.qir\n"
    "  qnnc model.onnx --config qnnc.toml --batch=4 --emit=qir -o -\n"
    "  qnnc --config qnnc.toml --print-config\n"
    "  qnnc model.qir --emit=qir -o -\n"
    "  qnnc model.qir --target=aarch64-linux-gnu -mattr=+dotprod -o model.o\n"
    "  qnnc model.qir --emit=exe -o model.exe\n";

/* The command line, before it is merged into the configuration. */
typedef struct Args {
    const char *model, *config, *output;
    const char *name, *triple, *cpu, *mattr;
    const char *emit_flag; /* the --emit= text, for messages */
    const char *cc;        /* --emit=exe compiler command */
    bool print_plan;
    bool profile;          /* --profile */
    bool no_float_stage;   /* -fno-float-output-stage */
    bool no_dw_wide;       /* -fno-wide-depthwise */
    bool verbose;          /* -v */
    bool cpu_help, mattr_help; /* -mcpu=help, -mattr=help */
    unsigned emit;         /* 0: not given */
    bool asm_flag;
    bool print_config;
    bool print_after_all;
    const char *print_after; /* a pass name */
    const char *stop_after;  /* a pass name or "import" */
    const char *report;      /* --report= file */
    const char *header;      /* --header= file */
    int64_t batch;         /* 0: not given */
    InputShape *shapes;    /* --input-shape, in order (names malloc'd) */
    int num_shapes;
    int layout;            /* -1: not given */
    int weights;           /* -1: not given */
    int opt_level;
    int64_t max_memory;    /* 0: not given */
} Args;

QNN_NORETURN static void usage_error(const char *fmt, ...) QNN_PRINTF(1, 2);
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("qnnc: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see qnnc --help)\n", stderr);
    exit(2);
}

static void error(const char *fmt, ...) QNN_PRINTF(1, 2);
static void error(const char *fmt, ...)
{
    va_list ap;
    fputs("qnnc: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "a, b, c" from a NULL-terminated list, into BUF. */
static const char *join(char *buf, size_t size, const char *const *names)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

/* The value of "--flag=value" or "-flag=value", or NULL if A is not FLAG. */
static const char *flag_value(const char *a, const char *flag)
{
    size_t n = strlen(flag);
    return strncmp(a, flag, n) == 0 && a[n] == '=' ? a + n + 1 : NULL;
}

/* The value of a flag taking a separate or '='-joined argument
 * ("--config FILE", "--config=FILE"); advances *I past a separate one. */
static const char *flag_arg(int argc, char **argv, int *i, const char *flag)
{
    const char *a = argv[*i];
    const char *v = flag_value(a, flag);
    if (v)
        return v;
    if (strcmp(a, flag) != 0)
        return NULL;
    if (*i + 1 == argc)
        usage_error("%s needs an argument", flag);
    return argv[++*i];
}

static const char *const flag_names[] = {
    "--config", "--print-config", "--emit", "--name", "--batch", "--input-shape", "--input-layout", "--target",
    "-mcpu", "-mattr", "--weights", "--help", "--list-ops", "--print-after-all", "--print-after", "--stop-after", "--report", "--header", "--cc", "--print-memory-plan", "--max-memory", "--profile", "-fno-float-output-stage", "-fno-wide-depthwise", NULL};

QNN_NORETURN static void unknown_option(const char *a)
{
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(a, "="), a);
    const char *s = config_suggest(word, flag_names, (int)(sizeof flag_names / sizeof *flag_names) - 1);
    if (s)
        usage_error("unknown option '%s'; did you mean '%s'?", a, s);
    usage_error("unknown option '%s'", a);
}

/* Parses a comma-separated --emit= list into EmitKind bits. */
static unsigned parse_emit(const char *v)
{
    unsigned emit = 0;
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        int k = config_lookup(config_emit_names, p, n);
        if (k < 0) {
            char list[128];
            usage_error("unknown --emit kind '%.*s' (expected one of %s)", (int)n, p,
                        join(list, sizeof list, config_emit_names));
        }
        emit |= 1u << k;
        if (!p[n])
            break;
        p += n + 1;
    }
    return emit;
}

static int parse_enum_flag(const char *flag, const char *v, const char *const *names)
{
    int k = config_lookup(names, v, strlen(v));
    if (k < 0) {
        char list[160];
        usage_error("bad %s value '%s' (expected one of %s)", flag, v, join(list, sizeof list, names));
    }
    return k;
}

/* LLVM's feature syntax, as in the config: "+dotprod,-neon". */
static void check_mattr(const char *v)
{
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        bool ok = n >= 2 && (p[0] == '+' || p[0] == '-');
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                 (p[i] >= '0' && p[i] <= '9') || strchr("-_.", p[i]);
        if (!ok)
            usage_error("-mattr entries must be '+' or '-' and a feature name, like +dotprod, not '%.*s'", (int)n, p);
        if (!p[n])
            break;
        p += n + 1;
    }
}

static Args parse_args(int argc, char **argv)
{
    Args o = {.layout = -1, .weights = -1, .opt_level = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--list-ops")) {
            onnx_print_ops(stdout);
            exit(0);
        } else if (!strcmp(a, "-o")) {
            if (++i == argc)
                usage_error("-o needs a file name");
            o.output = argv[i];
        } else if (!strncmp(a, "-o", 2) && a[2]) {
            o.output = a + 2;
        } else if ((v = flag_arg(argc, argv, &i, "--config"))) {
            o.config = v;
        } else if (!strcmp(a, "--print-config")) {
            o.print_config = true;
        } else if (!strcmp(a, "--print-after-all")) {
            o.print_after_all = true;
        } else if ((v = flag_value(a, "--print-after"))) {
            if (!pipeline_has_pass(v))
                usage_error("--print-after names '%s', which is not a pass of the pipeline", v);
            o.print_after = v;
        } else if ((v = flag_value(a, "--stop-after"))) {
            if (strcmp(v, "import") != 0 && !pipeline_has_pass(v))
                usage_error("--stop-after names '%s', which is not a pass of the pipeline (or 'import')", v);
            o.stop_after = v;
        } else if ((v = flag_value(a, "--header"))) {
            if (!*v)
                usage_error("--header needs a file name");
            o.header = v;
        } else if ((v = flag_value(a, "--report"))) {
            if (!*v)
                usage_error("--report needs a file name");
            o.report = v;
        } else if ((v = flag_value(a, "--emit"))) {
            o.emit_flag = v;
            o.emit = parse_emit(v);
        } else if ((v = flag_value(a, "--cc"))) {
            if (!*v)
                usage_error("--cc needs a compiler command");
            o.cc = v;
        } else if (!strcmp(a, "--print-memory-plan")) {
            o.print_plan = true;
        } else if (!strcmp(a, "-S")) {
            o.asm_flag = true;
        } else if (!strcmp(a, "--profile")) {
            o.profile = true;
        } else if (!strcmp(a, "-fno-float-output-stage")) {
            o.no_float_stage = true;
        } else if (!strcmp(a, "-fno-wide-depthwise")) {
            o.no_dw_wide = true;
        } else if (!strcmp(a, "-v")) {
            o.verbose = true;
        } else if ((v = flag_value(a, "--name"))) {
            if (!config_is_identifier(v))
                usage_error("--name must be a C identifier (letters, digits and '_', not starting with a digit), "
                            "not '%s'", v);
            o.name = v;
        } else if ((v = flag_value(a, "--batch"))) {
            char *end;
            errno = 0;
            long long b = strtoll(v, &end, 10);
            if (errno || end == v || *end || b < 1 || b > INT32_MAX)
                usage_error("--batch must be an integer from 1 to %d, not '%s'", INT32_MAX, v);
            o.batch = b;
        } else if ((v = flag_value(a, "--input-shape"))) {
            InputShape sh;
            char err[256];
            if (!input_shape_parse(v, &sh, err, sizeof err))
                usage_error("--input-shape: %s", err);
            o.shapes = xrealloc(o.shapes, (size_t)(o.num_shapes + 1) * sizeof *o.shapes);
            o.shapes[o.num_shapes++] = sh;
        } else if ((v = flag_value(a, "--max-memory"))) {
            char *end;
            errno = 0;
            long long b = strtoll(v, &end, 10);
            if (errno || end == v || *end || b < 1)
                usage_error("--max-memory must be a positive number of bytes, not '%s'", v);
            o.max_memory = b;
        } else if ((v = flag_value(a, "--input-layout"))) {
            o.layout = parse_enum_flag("--input-layout", v, config_layout_names);
        } else if ((v = flag_value(a, "--target"))) {
            o.triple = config_triples[parse_enum_flag("--target", v, config_triples)];
        } else if ((v = flag_value(a, "-mcpu"))) {
            if (!*v)
                usage_error("-mcpu needs a CPU name");
            if (!strcmp(v, "help"))
                o.cpu_help = true;
            else
                o.cpu = v;
        } else if ((v = flag_value(a, "-mattr"))) {
            if (!strcmp(v, "help")) {
                o.mattr_help = true;
            } else {
                check_mattr(v);
                o.mattr = v;
            }
        } else if ((v = flag_value(a, "--weights"))) {
            o.weights = parse_enum_flag("--weights", v, config_weights_names);
        } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            o.opt_level = a[2] - '0';
        } else if (a[0] == '-' && a[1] != '\0') {
            unknown_option(a);
        } else if (o.model) {
            usage_error("more than one model ('%s' and '%s')", o.model, a);
        } else {
            o.model = a;
        }
    }
    if (o.asm_flag) {
        if (o.emit)
            usage_error("-S and --emit cannot be combined (-S means --emit=asm)");
        o.emit = EMIT_ASM;
        o.emit_flag = "asm";
    }
    return o;
}

static void free_args(Args *o)
{
    for (int i = 0; i < o->num_shapes; i++)
        free((char *)o->shapes[i].name);
    free(o->shapes);
    o->shapes = NULL;
    o->num_shapes = 0;
}

/* Command-line flags win over the file. */
static void apply_flags(const Args *o, QnncConfig *cfg)
{
    if (o->max_memory)
        cfg->limits.max_memory = o->max_memory;
    qnn_set_max_memory(cfg->limits.max_memory);
    if (o->model)
        config_set_string(&cfg->model.path, o->model);
    if (o->name)
        config_set_string(&cfg->model.name, o->name);
    if (o->batch)
        cfg->model.batch = o->batch;
    /* Per input: a later flag for the same name replaces an earlier one. */
    for (int i = 0; i < o->num_shapes; i++)
        config_set_input_shape(cfg, &o->shapes[i]);
    if (o->layout >= 0)
        cfg->model.input_layout = (InputLayout)o->layout;
    if (o->triple)
        config_set_string(&cfg->target.triple, o->triple);
    if (o->cpu)
        config_set_string(&cfg->target.cpu, o->cpu);
    if (o->mattr) {
        char *copy = xstrdup(o->mattr);
        int n = 0;
        const char **list = xcalloc(strlen(copy) + 1, sizeof *list);
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
            list[n++] = tok;
        config_set_strings(&cfg->target.features, &cfg->target.num_features, list, n);
        free(list);
        free(copy);
    }
    if (o->weights >= 0)
        cfg->output.weights = (WeightsMode)o->weights;
    if (o->emit)
        cfg->output.emit = o->emit;
    /* -o names the object (or the header, when only that is asked for);
     * the other outputs take their names from the config or NAME. */
    if (o->output && (cfg->output.emit & EMIT_OBJ))
        config_set_string(&cfg->output.object, o->output);
    else if (o->output && cfg->output.emit == EMIT_HEADER)
        config_set_string(&cfg->output.header, o->output);
    if (o->header)
        config_set_string(&cfg->output.header, o->header);
    if (cfg->model.path && !cfg->model.name)
        cfg->model.name = config_name_from_path(cfg->model.path);
}

/* [passes] disable must name passes qnnc has. */
static bool check_disabled_passes(const QnncConfig *cfg)
{
    const char **names = xcalloc((size_t)pass_registry_count + 1, sizeof *names);
    for (int i = 0; i < pass_registry_count; i++)
        names[i] = pass_registry[i].name;
    bool ok = true;
    for (int i = 0; i < cfg->passes.num_disable; i++) {
        const char *p = cfg->passes.disable[i];
        if (pass_lookup(p, strlen(p)))
            continue;
        const char *s = config_suggest(p, names, pass_registry_count);
        char list[256];
        if (s)
            diag_error(cfg->passes.disable_loc[i], "unknown pass \"%s\" in 'disable'; did you mean \"%s\"?", p, s);
        else
            diag_error(cfg->passes.disable_loc[i], "unknown pass \"%s\" in 'disable' (qnnc's passes: %s)", p,
                       join(list, sizeof list, names));
        ok = false;
    }
    free(names);
    return ok;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* An error about the given shape S (dimension DIM, or -1 for the whole
 * shape) of an input of MODEL, worded as the ONNX importer's. */
static void shape_error(const char *model, const InputShape *s, int dim, const char *fmt, ...) QNN_PRINTF(4, 5);
static void shape_error(const char *model, const InputShape *s, int dim, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->loc.file)
        diag_error(dim >= 0 && s->dim_loc[dim].file ? s->dim_loc[dim] : s->loc, "input_shapes: %s (in %s)", buf,
                   model);
    else
        diag_error((SrcLoc){.file = model}, "--input-shape: %s", buf);
}

/* A .qir model has fixed shapes: input_shapes may only restate them. */
static bool check_qir_shapes(const QnncConfig *cfg, const Graph *g)
{
    const char *model = cfg->model.path;
    const char **names = xcalloc((size_t)g->inputs.len + 1, sizeof *names);
    for (int i = 0; i < g->inputs.len; i++)
        names[i] = ((const Value *)g->inputs.data[i])->name;
    bool ok = true;
    for (int k = 0; k < cfg->model.num_input_shapes; k++) {
        const InputShape *s = &cfg->model.input_shapes[k];
        const Value *in = NULL;
        for (int i = 0; i < g->inputs.len && !in; i++)
            if (!strcmp(names[i], s->name))
                in = g->inputs.data[i];
        if (!in) {
            const char *sugg = config_suggest(s->name, names, g->inputs.len);
            if (sugg)
                shape_error(model, s, -1, "'%s' is not a graph input; did you mean '%s'?", s->name, sugg);
            else
                shape_error(model, s, -1, "'%s' is not a graph input", s->name);
            ok = false;
        } else if (in->type.rank != s->rank) {
            shape_error(model, s, -1, "graph input '%s' has %d dimension%s, not %d", s->name, in->type.rank,
                        in->type.rank == 1 ? "" : "s", s->rank);
            ok = false;
        } else {
            for (int d = 0; d < s->rank; d++) {
                if (in->type.dims[d] == s->dims[d])
                    continue;
                shape_error(model, s, d, "dimension %d of graph input '%s' is %lld in the model, not %lld", d,
                            s->name, (long long)in->type.dims[d], (long long)s->dims[d]);
                ok = false;
            }
        }
    }
    free(names);
    return ok;
}

static Graph *load_model(const Args *o, const QnncConfig *cfg)
{
    const char *path = cfg->model.path;
    if (has_suffix(path, ".qir")) {
        if (o->batch || o->layout >= 0)
            fprintf(stderr, "qnnc: warning: --batch and --input-layout apply to ONNX models only; '%s' is "
                            "textual IR with fixed shapes\n", path);
        Graph *g = ir_parse_file(path);
        if (g && !check_qir_shapes(cfg, g)) {
            graph_free(g);
            return NULL;
        }
        return g;
    }
    if (has_suffix(path, ".onnx")) {
        ImportOptions io = {.batch = cfg->model.batch,
                            .layout = cfg->model.input_layout,
                            .shapes = cfg->model.input_shapes,
                            .num_shapes = cfg->model.num_input_shapes};
        return onnx_import(path, &io);
    }
    error("cannot tell the format of '%s' from its name (expected .onnx or .qir)", path);
    return NULL;
}

static bool write_output(const char *path, const Graph *g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    bool ok = ir_print(mem, g, NULL);
    fclose(mem);
    if (ok) {
        if (!path || !strcmp(path, "-")) {
            ok = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0;
            if (!ok)
                error("cannot write the output: %s", strerror(errno));
        } else if (!write_file_atomic(path, text, len)) {
            error("cannot write '%s': %s", path, strerror(errno));
            ok = false;
        }
    }
    free(text);
    return ok;
}

/* ------------------------------------------------------------ native outputs */

/* The name of an output: -o when it is the only kind emitted (or the
 * object), else the stem of -o (or NAME) with EXT. */
static char *output_name(const Args *o, const QnncConfig *cfg, unsigned kind, const char *ext)
{
    if (o->output && cfg->output.emit == kind)
        return xstrdup(o->output);
    if (kind == EMIT_OBJ && cfg->output.object)
        return xstrdup(cfg->output.object);
    if (kind == EMIT_HEADER && cfg->output.header)
        return xstrdup(cfg->output.header);
    const char *base = cfg->output.object ? cfg->output.object : o->output;
    size_t n;
    if (base && strcmp(base, "-")) {
        const char *slash = strrchr(base, '/'), *dot = strrchr(base, '.');
        n = dot && (!slash || dot > slash) ? (size_t)(dot - base) : strlen(base);
    } else {
        base = cfg->model.name;
        n = strlen(base);
    }
    char *s = xmalloc(n + strlen(ext) + 1);
    memcpy(s, base, n);
    strcpy(s + n, ext);
    return s;
}

static bool write_bytes(const char *path, const char *data, size_t len)
{
    if (!strcmp(path, "-"))
        return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0;
    if (!write_file_atomic(path, data, len)) {
        error("cannot write '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

static bool has_feature(const QnncConfig *cfg, const char *f)
{
    bool on = false;
    for (int i = 0; i < cfg->target.num_features; i++)
        if (!strcmp(cfg->target.features[i] + 1, f))
            on = cfg->target.features[i][0] == '+';
    return on;
}

/* Runs CMD through the shell; true when it exits 0. */
static bool run_command(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Single-quotes S for the shell into BUF. */
static void shell_quote(char *buf, size_t size, const char *s)
{
    size_t n = 0;
    buf[n++] = '\'';
    for (; *s && n + 5 < size; s++) {
        if (*s == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *s;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

/* What --emit=exe links a model with, for one target: the runner's
 * main.c, the target's qnn-cc, and the headers and libraries for --cc. */
typedef struct Runner {
    char main_c[4096], cc[4096], inc[8192], libdir[4096];
} Runner;

/* snprintf that says whether the text fit. */
static bool fits(char *buf, size_t size, const char *fmt, ...) QNN_PRINTF(3, 4);
static bool fits(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

/* An installed qnnc finds the runner beside itself (QNNC_BIN_TO_* are the
 * install layout's paths relative to its bin directory; cmake/install.cmake
 * puts qnn-cc in each target's library directory); one that is not
 * installed uses the build and source trees it was built from.  False
 * when a path is too long. */
static bool find_runner(const char *target_dir, Runner *r)
{
    char exe[4096], dir[4096 + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    if (!slash || !fits(r->main_c, sizeof r->main_c, "%s/%s/harness/main.c", exe, QNNC_BIN_TO_DATA) ||
        access(r->main_c, R_OK) != 0)
        return fits(r->main_c, sizeof r->main_c, "%s/runtime/harness/main.c", QNNC_SOURCE_DIR) &&
               fits(r->libdir, sizeof r->libdir, "%s/runtime/targets/%s/lib", QNNC_BINARY_DIR, target_dir) &&
               fits(r->cc, sizeof r->cc, "%s/runtime/targets/%s/qnn-cc", QNNC_BINARY_DIR, target_dir) &&
               fits(r->inc, sizeof r->inc, "-I%s/runtime -I%s/runtime/harness", QNNC_SOURCE_DIR, QNNC_SOURCE_DIR);
    /* PREFIX/bin/../lib/qnnc/T becomes PREFIX/lib/qnnc/T where it exists,
     * for -v and messages. */
    if (!fits(dir, sizeof dir, "%s/%s/%s", exe, QNNC_BIN_TO_LIB, target_dir) ||
        (!realpath(dir, r->libdir) && !fits(r->libdir, sizeof r->libdir, "%s", dir)))
        return false;
    return fits(r->cc, sizeof r->cc, "%s/qnn-cc", r->libdir) &&
           fits(r->inc, sizeof r->inc, "-I%s/%s", exe, QNNC_BIN_TO_INC);
}

/* --emit=exe: the object and the harness's main.c through the target's
 * qnn-cc (or --cc), linked into a temporary renamed over PATH on success. */
static bool link_exe(const Args *o, const QnncConfig *cfg, const char *triple, const CodegenOutput *out,
                     const char *weights_path, const char *path)
{
    char obj[4096], tmp[4096], cmd[65536], q1[4096], q2[4096], q3[4096];
    const char *suffix = !strcmp(triple, "riscv64-linux-gnu") && has_feature(cfg, "v") ? "+v" : "";
    char target_dir[256], cc[16384];
    char libs[8400] = "";
    Runner r;
    if (!fits(obj, sizeof obj, "%s.%ld.tmp.o", path, (long)getpid()) ||
        !fits(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) ||
        !fits(target_dir, sizeof target_dir, "%s%s", triple, suffix) || !find_runner(target_dir, &r)) {
        error("cannot link '%s': a path is too long", path);
        return false;
    }
    if (o->cc) {
        /* With --cc the headers and the harness libraries must be named too. */
        snprintf(cc, sizeof cc, "%s %s", o->cc, r.inc);
        snprintf(libs, sizeof libs, " %s/libqnn_harness.a %s/libqnn_runtime.a", r.libdir, r.libdir);
    } else {
        snprintf(cc, sizeof cc, "%s", r.cc);
        if (access(cc, X_OK) != 0) {
            error("no compiler for %s: '%s' does not exist (build the cross runtimes, or give --cc=)", target_dir,
                  cc);
            return false;
        }
    }
    if (!write_file_atomic(obj, out->obj, out->obj_len)) {
        error("cannot write '%s': %s", obj, strerror(errno));
        return false;
    }
    shell_quote(q1, sizeof q1, tmp);
    shell_quote(q2, sizeof q2, obj);
    shell_quote(q3, sizeof q3, r.main_c);
    char prof[600] = "", wdef[4200] = "", wq[8500] = "";
    if (o->profile)
        snprintf(prof, sizeof prof, " -DQNN_MODEL_PROFILE=%s_profile", cfg->model.name);
    if (weights_path) {
        /* The harness loads the weights file from where qnnc wrote it
         * (an absolute path, since the runner may start elsewhere). */
        char abs[4096];
        if (!realpath(weights_path, abs) ||
            !fits(wdef, sizeof wdef, "-DQNN_MODEL_WEIGHTS_FILE=\"%s\"", abs)) {
            error("cannot link '%s': no absolute path for '%s'", path, weights_path);
            remove(obj);
            return false;
        }
        shell_quote(wq + 1, sizeof wq - 1, wdef);
        wq[0] = ' ';
        /* and checks its tables once (qnn_check_weights, as NAME_check_weights). */
        snprintf(prof + strlen(prof), sizeof prof - strlen(prof),
                 " -DQNN_MODEL_RUN_WEIGHTS=%s_run -DQNN_MODEL_WEIGHTS_SIZE=%zu -DQNN_MODEL_WEIGHTS_FNV1A=0x%016llxULL",
                 cfg->model.name, out->weights_len, (unsigned long long)codegen_weights_fnv(out->weights));
    }
    snprintf(cmd, sizeof cmd, "%s -DQNN_MODEL_INFO=%s_info%s%s -o %s %s %s%s -lm", cc, cfg->model.name, prof, wq, q1,
             q2, q3, libs);
    if (o->verbose)
        fprintf(stderr, "%s\n", cmd);
    bool ok = run_command(cmd);
    remove(obj);
    if (!ok) {
        error("linking '%s' failed: %s", path, cmd);
        remove(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        error("cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

/* The triple to compile for: the config's or --target's, else the host's;
 * NULL (reported) when the host is not a target. */
static const char *target_triple(const QnncConfig *cfg)
{
    const char *triple = cfg->target.triple ? cfg->target.triple : config_host_triple();
    if (!triple)
        error("the host is not a supported target; give --target=");
    return triple;
}

/* -mcpu=help, -mattr=help: the names LLVM accepts for the target. */
static bool print_target_names(const QnncConfig *cfg, bool features)
{
    const char *triple = target_triple(cfg);
    if (!triple)
        return false;
    printf("%s known to LLVM for %s:\n", features ? "target features (-mattr=+F,-F)" : "CPUs (-mcpu=)", triple);
    for (const char *const *p = codegen_target_names(triple, features); *p; p++)
        printf("  %s\n", *p);
    return true;
}

/* -mcpu=native and -mcpu=host (as in clang): the CPU qnnc runs on, as
 * LLVM names it, with its features ahead of -mattr's (a later mention
 * wins, so -mattr=-avx512vnni still turns one off).  Only for the host's
 * triple: the host says nothing about a cross target's CPU. */
static bool resolve_native_cpu(const Args *o, QnncConfig *cfg)
{
    const char *cpu = cfg->target.cpu;
    if (!cpu || (strcmp(cpu, "native") != 0 && strcmp(cpu, "host") != 0))
        return true;
    SrcLoc loc = o->cpu ? (SrcLoc){0} : config_key_loc(cfg, "target.cpu");
    const char *host = config_host_triple();
    const char *triple = cfg->target.triple ? cfg->target.triple : host;
    if (!host || !triple || strcmp(triple, host) != 0) {
        diag_error(loc, "-mcpu=%s is the CPU qnnc runs on (%s), so it cannot be used with --target=%s; name a CPU of %s "
                   "(-mcpu=help lists them)", cpu, host ? host : "not a supported target", triple ? triple : "?",
                   triple ? triple : "target");
        return false;
    }
    char *name, *features;
    if (!codegen_host_cpu(triple, &name, &features)) {
        diag_error(loc, "LLVM cannot describe the host CPU for %s", triple);
        return false;
    }
    int n = 0;
    const char **list = xcalloc(strlen(features) / 2 + (size_t)cfg->target.num_features + 2, sizeof *list);
    for (char *tok = strtok(features, ","); tok; tok = strtok(NULL, ","))
        list[n++] = tok;
    for (int i = 0; i < cfg->target.num_features; i++)
        list[n++] = cfg->target.features[i];
    config_set_strings(&cfg->target.features, &cfg->target.num_features, list, n); /* copies, then frees */
    if (o->verbose) { /* what the compile will use */
        fprintf(stderr, "qnnc: -mcpu=%s: %s, ", cpu, name);
        for (int i = 0; i < cfg->target.num_features; i++)
            fprintf(stderr, "%s%s", i ? "," : "", cfg->target.features[i]);
        fputc('\n', stderr);
    }
    config_set_string(&cfg->target.cpu, name); /* CPU points into the old value */
    free(list);
    free(features);
    free(name);
    return true;
}

/* Compiles G into the files --emit asks for; with FLASH (--report), also
 * reads the object back into it: its flash per layer (codegen/flash.c). */
static bool compile(const Args *o, const QnncConfig *cfg, Graph *g, FlashReport *flash)
{
    unsigned emit = cfg->output.emit;
    const char *triple = target_triple(cfg);
    if (!triple)
        return false;
    size_t nf = 1;
    for (int i = 0; i < cfg->target.num_features; i++)
        nf += strlen(cfg->target.features[i]) + 1;
    char *features = xcalloc(1, nf);
    for (int i = 0; i < cfg->target.num_features; i++) {
        if (i)
            strcat(features, ",");
        strcat(features, cfg->target.features[i]);
    }
    CodegenOptions co = {
        .name = cfg->model.name,
        .triple = triple,
        .cpu = cfg->target.cpu,
        .features = features,
        /* Where a bad name is reported: the config key, unless a flag set it. */
        .cpu_loc = o->cpu ? (SrcLoc){0} : config_key_loc(cfg, "target.cpu"),
        .features_loc = o->mattr ? (SrcLoc){0} : config_key_loc(cfg, "target.features"),
        .opt_level = o->opt_level,
        .external_weights = cfg->output.weights == WEIGHTS_EXTERNAL,
        .profile = o->profile,
        .no_float_stage = o->no_float_stage,
        .no_dw_wide = o->no_dw_wide,
    };
    unsigned want = ((emit & (EMIT_OBJ | EMIT_EXE)) ? CG_WANT_OBJ : 0) | ((emit & EMIT_ASM) ? CG_WANT_ASM : 0) |
                    ((emit & EMIT_LLVM) ? CG_WANT_LLVM : 0);
    if (want && flash) /* the report's flash is the object's, even when only assembly is written */
        want |= CG_WANT_OBJ;
    CodegenOutput out;
    bool ok = false;
    char *header = NULL;
    size_t header_len = 0;
    char *qir_text = NULL;
    size_t qir_len = 0;
    if (!want && (emit & EMIT_HEADER) && co.external_weights)
        want = CG_WANT_OBJ; /* the header gives the weights file's size: compile (and write it) */
    if (want && !codegen_compile(g, &co, want, &out))
        goto done;
    if (!want)
        out = (CodegenOutput){.plan = plan_memory(g, 16)};
    if (want && flash && codegen_flash(g, cfg->model.name, out.obj, out.obj_len, flash)) {
        flash->weights_file = (int64_t)out.weights_len;
        if (out.node_stack) {
            flash->stack = xcalloc((size_t)g->nodes.len + 1, sizeof *flash->stack);
            memcpy(flash->stack, out.node_stack, (size_t)g->nodes.len * sizeof *flash->stack);
        }
    }
    if (emit & EMIT_HEADER)
        header = codegen_header(g, &co, &out.plan, out.weights, out.weights_len, &header_len);
    if (emit & EMIT_QIR) {
        FILE *mem = open_memstream(&qir_text, &qir_len);
        bool printed = ir_print(mem, g, NULL);
        fclose(mem);
        if (!printed)
            goto done_out;
    }
    /* Everything is in memory: now write, each file atomically. */
    ok = true;
    struct { unsigned kind; const char *ext; const char *data; size_t len; } files[] = {
        {EMIT_OBJ, ".o", out.obj, out.obj_len},
        {EMIT_ASM, ".s", out.asm_text, out.asm_len},
        {EMIT_LLVM, ".ll", out.ll, out.ll_len},
        {EMIT_HEADER, ".h", header, header_len},
        {EMIT_QIR, ".qir", qir_text, qir_len},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files && ok; i++) {
        if (!(emit & files[i].kind))
            continue;
        char *path = output_name(o, cfg, files[i].kind, files[i].ext);
        ok = write_bytes(path, files[i].data, files[i].len);
        free(path);
    }
    char *wpath = NULL;
    if (ok && out.weights) {
        wpath = output_name(o, cfg, 0, ".weights.bin");
        ok = write_bytes(wpath, out.weights, out.weights_len);
    }
    if (ok && (emit & EMIT_EXE)) {
        char *path = output_name(o, cfg, EMIT_EXE, ".exe");
        ok = link_exe(o, cfg, triple, &out, wpath, path);
        free(path);
    }
    free(wpath);
done_out:
    codegen_output_free(&out);
done:
    free(header);
    free(qir_text);
    free(features);
    return ok;
}

/* The report compares the float graph quantization starts from with the
 * final one: a snapshot of it in text form, taken by the pipeline's hook
 * before bias-correct (which changes the float biases) or, without it,
 * before quantize. */
typedef struct Snapshot {
    char *text;
    size_t len;
} Snapshot;

static void snapshot_before_quantize(void *user, const char *pass, const Graph *g)
{
    Snapshot *s = user;
    if (strcmp(pass, "bias-correct") != 0 &&
        ((strcmp(pass, "quantize") != 0 && strcmp(pass, "mixed-precision") != 0) || s->text))
        return;
    free(s->text);
    FILE *mem = open_memstream(&s->text, &s->len);
    ir_print(mem, g, NULL);
    fclose(mem);
}

/* The techniques the report compares ([quantization] keys): for each, the
 * final graph of the pipeline run again on INPUT (the imported graph's
 * text) with that key switched; NULL where that run failed.  With MIXED
 * (the build's mixed-precision search ran: target_sqnr or
 * max_accuracy_drop), the runs keep the precision set it chose instead
 * of searching again: its raised layers become per-node overrides and the
 * criterion is unset, so a report costs one search, not three
 * (docs/passes.md, "The quantization report"). */
static const char *const report_technique_names[] = {"equalize", "bias_correct"};
#define NUM_REPORT_TECHNIQUES 2

static bool *technique_flag(QnncConfig *cfg, int t)
{
    return t == 0 ? &cfg->quant.equalize : &cfg->quant.bias_correct;
}

/* CFG with MIXED's chosen set pinned, as [[quantization.override]] tables
 * after the configured ones, no criterion, and bias_correct off as the
 * build had it (the pipeline skips bias-correct when mixed-precision
 * runs): the configuration whose plain pipeline gives the build's graph.
 * The override array is new (the caller frees it), its names MIXED's. */
static QnncConfig pin_chosen_precision(const QnncConfig *cfg, const MixedReport *mixed)
{
    QnncConfig c = *cfg;
    int n = cfg->quant.num_overrides;
    c.quant.overrides = xmalloc(((size_t)n + (size_t)mixed->num_layers + 1) * sizeof *c.quant.overrides);
    if (n > 0)
        memcpy(c.quant.overrides, cfg->quant.overrides, (size_t)n * sizeof *c.quant.overrides);
    SrcLoc loc =
        config_key_loc(cfg, mixed->target_db > 0 ? "quantization.target_sqnr" : "quantization.max_accuracy_drop");
    for (int k = 0; k < mixed->num_layers; k++)
        if (mixed->layers[k].chosen != mixed->layers[k].base)
            c.quant.overrides[n++] = (QuantOverride){mixed->layers[k].name, mixed->layers[k].chosen, loc};
    c.quant.num_overrides = n;
    c.quant.target_sqnr = 0;
    c.quant.max_accuracy_drop = -1;
    c.quant.bias_correct = false;
    return c;
}

static void report_techniques(const QnncConfig *cfg, const MixedReport *mixed, const Snapshot *input,
                              ReportTechnique *techs, Graph **others)
{
    bool pinned = mixed && mixed->ran;
    QnncConfig base = pinned ? pin_chosen_precision(cfg, mixed) : *cfg;
    for (int t = 0; t < NUM_REPORT_TECHNIQUES; t++) {
        QnncConfig c = base;
        bool *flag = technique_flag(&c, t);
        techs[t] = (ReportTechnique){.name = report_technique_names[t], .on = *flag, .chosen_set = pinned};
        others[t] = NULL;
        if (!input->text)
            continue;
        *flag = !*flag;
        MixedReport searched = {0}; /* a search this run made (none when pinned) */
        PassContext ctx = {
            .cfg = &c, .mixed = &searched, .eval = &jit_evaluator, .open_samples = driver_open_samples};
        /* The build itself printed the pipeline's notes and warnings;
         * these runs' would repeat them (or be about a build not made). */
        DiagCapture cap = diag_capture_push();
        Graph *g = ir_parse("<imported graph>", input->text, input->len);
        if (g && run_pipeline(g, &ctx, NULL))
            others[t] = g;
        else
            graph_free(g);
        diag_capture_pop(cap);
        techs[t].other = others[t];
        techs[t].search_evaluations = searched.ran ? searched.evaluations : 0;
        mixed_report_free(&searched);
    }
    if (pinned)
        free(base.quant.overrides);
}

/* What the report needs from the pipeline's run: it is written after the
 * compile, which adds the object's flash. */
typedef struct PendingReport {
    MixedReport mixed;
    StripeReport stripe;
    Snapshot snap, input;
} PendingReport;

/* The default pipeline (passes/pipeline.c), keeping what the report needs
 * in PR. */
static bool run_passes(const Args *o, const QnncConfig *cfg, Graph *g, PendingReport *pr)
{
    PassContext ctx = {.cfg = cfg, .mixed = &pr->mixed, .stripe = &pr->stripe, .eval = &jit_evaluator, .open_samples = driver_open_samples};
    Snapshot *input = &pr->input;
    /* The techniques are compared only where they can run: a calibrated
     * scheme with data, the whole pipeline. */
    if (o->report && !o->stop_after && cfg->calib.num_dataset > 0 &&
        (cfg->quant.scheme == QSCHEME_INT8 || cfg->quant.scheme == QSCHEME_INT16X8)) {
        FILE *mem = open_memstream(&input->text, &input->len);
        ir_print(mem, g, NULL);
        fclose(mem);
    }
    PipelineHooks hooks = {
        .print_after_all = o->print_after_all,
        .print_after = o->print_after,
        .stop_after = o->stop_after,
        .before = o->report ? snapshot_before_quantize : NULL,
        .user = &pr->snap,
    };
    return run_pipeline(g, &ctx, &hooks);
}

/* Writes --report for G, which PR's pipeline run produced; FLASH is the
 * object's flash, or NULL when there is no object. */
static bool finish_report(const Args *o, const QnncConfig *cfg, const Graph *g, PendingReport *pr,
                          const FlashReport *flash)
{
    PassContext ctx = {.cfg = cfg, .mixed = &pr->mixed, .stripe = &pr->stripe, .eval = &jit_evaluator, .open_samples = driver_open_samples};
    Snapshot *snap = &pr->snap;
    Graph *fg = snap->text ? ir_parse("<graph before quantize>", snap->text, snap->len) : NULL;
    ReportTechnique techs[NUM_REPORT_TECHNIQUES];
    Graph *others[NUM_REPORT_TECHNIQUES];
    report_techniques(cfg, &pr->mixed, &pr->input, techs, others);
    ReportFormat fmt = has_suffix(o->report, ".txt")                                    ? REPORT_TEXT
                       : has_suffix(o->report, ".html") || has_suffix(o->report, ".htm") ? REPORT_HTML
                                                                                       : REPORT_JSON;
    bool ok = (!snap->text || fg) && write_report(o->report, fg, g, &ctx, fmt, techs, NUM_REPORT_TECHNIQUES, flash);
    for (int t = 0; t < NUM_REPORT_TECHNIQUES; t++)
        graph_free(others[t]);
    graph_free(fg);
    return ok;
}

int main(int argc, char **argv)
{
    Args o = parse_args(argc, argv);
    QnncConfig cfg;
    config_defaults(&cfg);
    int status = 1;
    Graph *g = NULL;
    PendingReport pending = {0};
    FlashReport flash = {0};

    if (o.config && !config_load(o.config, &cfg))
        goto out;
    apply_flags(&o, &cfg);
    if (!check_disabled_passes(&cfg))
        goto out;
    if (o.print_config) {
        config_print(stdout, &cfg);
        status = 0;
        goto out;
    }
    if (o.cpu_help || o.mattr_help) {
        status = print_target_names(&cfg, o.mattr_help) ? 0 : 1;
        goto out;
    }
    if (!resolve_native_cpu(&o, &cfg))
        goto out;
    if (!cfg.model.path) {
        config_free(&cfg);
        free_args(&o);
        usage_error("no model to compile: name one on the command line or set [model] path in the config");
    }
    g = load_model(&o, &cfg);
    if (!g)
        goto out;
    if (!ir_verify(g))
        goto out;
    if (!run_passes(&o, &cfg, g, &pending))
        goto out;
    if (o.print_plan) {
        MemoryPlan plan = plan_memory(g, 16);
        memory_plan_print(stdout, g, &plan);
        memory_plan_free(&plan);
        status = 0;
    } else if (cfg.output.emit == EMIT_QIR) {
        if (write_output(o.output, g))
            status = 0;
    } else if (compile(&o, &cfg, g, o.report ? &flash : NULL)) {
        status = 0;
    }
    /* The report last: it describes the object the compile built. */
    if (o.report && !finish_report(&o, &cfg, g, &pending, flash.num_sections ? &flash : NULL))
        status = 1;
out:
    free(pending.snap.text);
    free(pending.input.text);
    mixed_report_free(&pending.mixed);
    flash_report_free(&flash);
    graph_free(g);
    config_free(&cfg);
    free_args(&o);
    return status;
}
