/* harness.c - qnn_harness_main: runs a compiled model on .npy files.
 *
 * Besides moving data, the harness is where a compiled model's memory
 * claims get checked: scratch is exactly info->scratch_size bytes between
 * two 64-byte guard zones filled with a pattern, each output buffer is
 * exactly its nbytes between guards too, and the inputs must come back
 * unchanged.  Scratch itself is filled with a non-zero pattern before
 * every run, so a model that reads scratch before writing it gives
 * visibly wrong answers instead of passing by luck on zeroed memory. */
#include "qnn_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 64
#define GUARD_BYTE 0xA5
#define SCRATCH_FILL 0x5A
#define MAX_FILES 64

static const char usage[] =
    "usage: %s [--input X.npy]... [--output Y.npy]... [--print] [--bench N] [--profile]\n"
    "       %s --runs LIST\n"
    "\n"
    "Runs the compiled model '%s'.  Give one --input per model input and\n"
    "one --output per model output (or none), in signature order.  With\n"
    "--runs, each non-empty line of LIST names the input files and then the\n"
    "output files of one run, separated by spaces.\n"
    "\n"
    "options:\n"
    "  --input FILE.npy    the next model input (shape and dtype must match)\n"
    "  --output FILE.npy   where to write the next model output\n"
    "  --print             print every output as text on stdout\n"
    "  --bench N           run N more times and print the median latency in us\n"
    "                      (in instructions on Cortex-M under QEMU -icount)\n"
    "  --weights FILE      the weights file of a model compiled with\n"
    "                      qnnc --weights=external (default: the one qnnc wrote)\n"
    "  --profile           print each node's time, share, MACs and MACs per clock\n"
    "                      tick (the median of the --bench runs, else one run);\n"
    "                      needs a model compiled with qnnc --profile\n"
    "  -h, --help          show this help\n";

static qnn_run_weights_fn run_weights; /* NULL: the model embeds its weights */
static const char *weights_default;
static size_t weights_expected;
static uint64_t weights_fnv;

void qnn_harness_weights(qnn_run_weights_fn run, const char *default_file, size_t size, uint64_t content_fnv)
{
    run_weights = run;
    weights_default = default_file;
    weights_expected = size;
    weights_fnv = content_fnv;
}

typedef struct Buffer {
    unsigned char *raw; /* what malloc returned */
    unsigned char *p;   /* the aligned buffer handed to the model */
    size_t size;
} Buffer;

/* Allocates SIZE bytes aligned to ALIGN with GUARD bytes of pattern on
 * either side. */
static int guarded_alloc(Buffer *b, size_t size, size_t align)
{
    if (align < GUARD)
        align = GUARD; /* GUARD is a power of two, so this stays one */
    b->raw = malloc(size + 2 * GUARD + align);
    if (!b->raw)
        return 0;
    uintptr_t start = ((uintptr_t)b->raw + GUARD + align - 1) & ~(uintptr_t)(align - 1);
    b->p = b->raw + (start - (uintptr_t)b->raw);
    b->size = size;
    memset(b->p - GUARD, GUARD_BYTE, GUARD);
    memset(b->p + size, GUARD_BYTE, GUARD);
    return 1;
}

/* Reports the first damaged guard byte of B, if any. */
/* Reads the whole of PATH into B (64-byte aligned, guarded).  Reads in
 * chunks: no fseek/ftell, which semihosting's files may not support. */
static int read_weights(const char *prog, const char *path, Buffer *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open weights file '%s'\n", prog, path);
        return 0;
    }
    size_t len = 0, cap = 1 << 16, got;
    unsigned char *data = malloc(cap);
    while (data && (got = fread(data + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap) {
            unsigned char *more = realloc(data, cap *= 2);
            if (!more)
                free(data);
            data = more;
        }
    int ok = data && !ferror(f) && guarded_alloc(b, len, 64);
    fclose(f);
    if (ok)
        memcpy(b->p, data, len);
    else
        fprintf(stderr, "%s: error: cannot read weights file '%s'\n", prog, path);
    free(data);
    return ok;
}

static int guards_intact(const Buffer *b, const char *what)
{
    for (int i = 0; i < GUARD; i++)
        if (b->p[b->size + (size_t)i] != GUARD_BYTE) {
            fprintf(stderr, "error: %s overrun: the guard byte at offset %u past its end (%u bytes) was overwritten\n",
                    what, (unsigned)i, (unsigned)b->size);
            return 0;
        }
    for (int i = 0; i < GUARD; i++)
        if (b->p[-GUARD + i] != GUARD_BYTE) {
            fprintf(stderr, "error: %s underrun: the guard byte %u bytes before its start was overwritten\n", what,
                    (unsigned)(GUARD - i));
            return 0;
        }
    return 1;
}

static const char *status_name(int st)
{
    switch (st) {
    case QNN_ERR_NULL_ARGUMENT: return "QNN_ERR_NULL_ARGUMENT";
    case QNN_ERR_MISALIGNED: return "QNN_ERR_MISALIGNED";
    case QNN_ERR_BAD_WEIGHTS: return "QNN_ERR_BAD_WEIGHTS";
    case QNN_ERR_BAD_PARAMS: return "QNN_ERR_BAD_PARAMS";
    default: return "unknown status";
    }
}

/* Prints "%name = dtype[dims] [v0, v1, ...]" like qnnc-run. */
static void print_tensor(const qnn_tensor_info *t, const void *data)
{
    static const char *const names[] = {"f32", "i8", "u8", "i16", "i32"};
    printf("%%%s = %s[", t->name ? t->name : "?", (unsigned)t->dtype < 5 ? names[t->dtype] : "?");
    for (int i = 0; i < t->rank; i++)
        printf("%s%d", i ? "," : "", (int)t->dims[i]);
    fputs("] [", stdout);
    uint32_t es = qnn_dtype_size(t->dtype);
    uint32_t n = es ? t->nbytes / es : 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", stdout);
        switch (t->dtype) {
        case QNN_F32: {
            float f = ((const float *)data)[i];
            /* Without <math.h>, whose classification macros call into
             * libm on some C libraries: NaN is unequal to itself, and
             * only an infinity minus itself is not 0. */
            if (f != f)
                fputs("nan", stdout);
            else if (f - f != 0)
                fputs(f < 0 ? "-inf" : "inf", stdout);
            else
                printf("%.7g", (double)f);
            break;
        }
        case QNN_I8: printf("%d", ((const int8_t *)data)[i]); break;
        case QNN_U8: printf("%d", ((const uint8_t *)data)[i]); break;
        case QNN_I16: printf("%d", ((const int16_t *)data)[i]); break;
        case QNN_I32: printf("%ld", (long)((const int32_t *)data)[i]); break;
        default: break; /* info_consistent rejected other dtypes */
        }
    }
    fputs("]\n", stdout);
}

/* The model info is generated code's promise; check it is self-consistent
 * before trusting its sizes for allocation. */
static int info_consistent(const qnn_model_info *m)
{
    if ((!m->run && !run_weights) || m->num_inputs < 0 || m->num_outputs < 0 || m->num_inputs > MAX_FILES ||
        m->num_outputs > MAX_FILES || (m->scratch_align & (m->scratch_align - 1)))
        return 0;
    for (int i = 0; i < m->num_inputs + m->num_outputs; i++) {
        const qnn_tensor_info *t = i < m->num_inputs ? &m->inputs[i] : &m->outputs[i - m->num_inputs];
        uint64_t n = qnn_dtype_size(t->dtype);
        if (!n || t->rank < 0 || t->rank > QNN_MAX_RANK)
            return 0;
        for (int d = 0; d < t->rank; d++) {
            if (t->dims[d] < 0)
                return 0;
            n *= (uint32_t)t->dims[d];
            if (n > UINT32_MAX) /* nbytes is 32 bits; also keeps n from wrapping */
                return 0;
        }
        if (n != t->nbytes)
            return 0;
    }
    return 1;
}

qnn_harness_profiler qnn_harness_profiling;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int qnn_harness_main(int argc, char **argv, const qnn_model_info *m);

/* --runs LIST: each non-empty line "IN... OUT..." is one run, as if given
 * with --input and --output; stops at the first run that fails.  (One
 * process for many runs: under QEMU, starting the program costs more than
 * running a small model.) */
static int run_list(const char *prog, const char *list, const qnn_model_info *m)
{
    FILE *f = fopen(list, "r");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open '%s'\n", prog, list);
        return 1;
    }
    static char line[8192];
    int rc = 0, lineno = 0, want = m->num_inputs + m->num_outputs;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "%s: %s:%d: line longer than %d bytes\n", prog, list, lineno, (int)sizeof line - 2);
            rc = 1;
            break;
        }
        char *args[4 * MAX_FILES + 1];
        int n = 0, argn = 1;
        args[0] = (char *)prog;
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n"), n++)
            if (n < want) {
                args[argn++] = (char *)(n < m->num_inputs ? "--input" : "--output");
                args[argn++] = tok;
            }
        if (n == 0)
            continue;
        if (n != want) {
            fprintf(stderr, "%s: %s:%d: %d files, but model '%s' takes %d inputs and gives %d outputs\n", prog,
                    list, lineno, n, m->name, (int)m->num_inputs, (int)m->num_outputs);
            rc = 1;
            break;
        }
        rc = qnn_harness_main(argn, args, m);
    }
    fclose(f);
    return rc;
}

int qnn_harness_main(int argc, char **argv, const qnn_model_info *m)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "qnn-harness";
    const char *in_paths[MAX_FILES], *out_paths[MAX_FILES];
    int nin = 0, nout = 0, print = 0, profile = 0;
    long bench = 0;
    const char *weights_path = weights_default;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int is_in = !strncmp(a, "--input", 7), is_out = !strncmp(a, "--output", 8);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf(usage, prog, prog, m->name);
            return 0;
        } else if (!strcmp(a, "--print")) {
            print = 1;
            continue;
        } else if (!strcmp(a, "--runs")) {
            if (argc != 3) {
                fprintf(stderr, "%s: --runs LIST takes no other argument (see --help)\n", prog);
                return 2;
            }
            return run_list(prog, argv[2], m);
        } else if (!strcmp(a, "--profile")) {
            if (!qnn_harness_profiling.info) {
                fprintf(stderr, "%s: --profile needs a model compiled with qnnc --profile ('%s' was not)\n", prog,
                        m->name);
                return 2;
            }
            profile = 1;
            continue;
        } else if (!strcmp(a, "--weights") || !strncmp(a, "--weights=", 10)) {
            if (!run_weights) {
                fprintf(stderr, "%s: --weights: model '%s' embeds its weights\n", prog, m->name);
                return 2;
            }
            if (a[9] == '=')
                weights_path = a + 10;
            else if (i + 1 < argc)
                weights_path = argv[++i];
            else {
                fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, a);
                return 2;
            }
            continue;
        } else if (!strcmp(a, "--input") || !strcmp(a, "--output") || !strcmp(a, "--bench")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, a);
                return 2;
            }
            val = argv[++i];
        } else if (!strncmp(a, "--input=", 8) || !strncmp(a, "--output=", 9) || !strncmp(a, "--bench=", 8)) {
            val = strchr(a, '=') + 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", prog, a);
            return 2;
        }
        if (is_in || is_out) {
            if ((is_in ? nin : nout) == MAX_FILES) {
                fprintf(stderr, "%s: too many %s files\n", prog, is_in ? "--input" : "--output");
                return 2;
            }
            if (is_in)
                in_paths[nin++] = val;
            else
                out_paths[nout++] = val;
        } else {
            char *end;
            bench = strtol(val, &end, 10);
            if (*end || end == val || bench < 1 || bench > 100000000) {
                fprintf(stderr, "%s: --bench needs a positive count, not '%s'\n", prog, val);
                return 2;
            }
        }
    }
    if (!info_consistent(m)) {
        fprintf(stderr, "%s: error: the model info of '%s' is inconsistent (sizes, ranks or counts)\n", prog,
                m->name);
        return 1;
    }
    if (nin != m->num_inputs) {
        fprintf(stderr, "%s: model '%s' has %d input%s but %d --input file%s given\n", prog, m->name,
                (int)m->num_inputs, m->num_inputs == 1 ? "" : "s", nin, nin == 1 ? " was" : "s were");
        return 2;
    }
    if (nout != 0 && nout != m->num_outputs) {
        fprintf(stderr, "%s: model '%s' has %d output%s but %d --output file%s given\n", prog, m->name,
                (int)m->num_outputs, m->num_outputs == 1 ? "" : "s", nout, nout == 1 ? " was" : "s were");
        return 2;
    }
    if (nout == 0 && !print && !bench && !profile) {
        fprintf(stderr, "%s: nothing to do: give --output FILE.npy, --print or --bench N\n", prog);
        return 2;
    }

    int rc = 1;
    const void *inputs[MAX_FILES] = {0};
    void *outputs[MAX_FILES] = {0};
    void *in_copy[MAX_FILES] = {0};
    Buffer in_buf[MAX_FILES] = {{0}}, out_buf[MAX_FILES] = {{0}}, scratch = {0}, weights = {0};
    uint64_t *times = NULL;

    for (int i = 0; i < nin; i++) {
        /* The model gets an aligned copy; the read buffer stays as the
         * reference that the inputs come back unchanged. */
        const qnn_tensor_info *t = &m->inputs[i];
        if (!(in_copy[i] = qnn_npy_read(in_paths[i], t)))
            goto out;
        if (!guarded_alloc(&in_buf[i], t->nbytes, 64))
            goto oom;
        memcpy(in_buf[i].p, in_copy[i], t->nbytes);
        inputs[i] = in_buf[i].p;
    }
    for (int i = 0; i < m->num_outputs; i++) {
        if (!guarded_alloc(&out_buf[i], m->outputs[i].nbytes, 64))
            goto oom;
        memset(out_buf[i].p, SCRATCH_FILL, m->outputs[i].nbytes);
        outputs[i] = out_buf[i].p;
    }
    if (!guarded_alloc(&scratch, m->scratch_size, m->scratch_align))
        goto oom;
    if (run_weights && !weights_path) {
        fprintf(stderr, "%s: model '%s' needs its weights file: give --weights FILE\n", prog, m->name);
        rc = 2;
        goto out;
    }
    if (run_weights && !read_weights(prog, weights_path, &weights))
        goto out;
    if (run_weights) {
        int st = qnn_check_weights(weights.p, weights.size, weights_expected, weights_fnv);
        if (st != QNN_OK) {
            fprintf(stderr, "%s: error: weights file '%s': %s_check_weights returned %d (%s): truncated, or its "
                    "tables are not this compile's\n", prog, weights_path, m->name, st, status_name(st));
            goto out;
        }
    }
    if (bench && !(times = malloc((size_t)bench * sizeof *times)))
        goto oom;
    const qnn_harness_profiler *prof = &qnn_harness_profiling;
    if (profile && (prof->info->num_nodes < 0 || !prof->begin(prof->info, bench ? bench : 1)))
        goto oom;

    qnn_clock_start();
    for (long r = 0; r <= bench; r++) {
        memset(scratch.p, SCRATCH_FILL, scratch.size);
        uint64_t t0 = qnn_clock_ticks();
        int st = run_weights ? run_weights(inputs, outputs, scratch.p, weights.p, weights.size) : m->run(inputs, outputs, scratch.p);
        uint64_t t1 = qnn_clock_ticks();
        if (r > 0)
            times[r - 1] = t1 - t0; /* run 0 warms caches and is not timed */
        if (profile && (r > 0 || bench == 0))
            prof->add_run();
        if (st != QNN_OK) {
            fprintf(stderr, "%s: error: %s_run returned %d (%s)\n", prog, m->name, st, status_name(st));
            goto out;
        }
        /* Check after every run: a later run must not hide an earlier
         * overrun by chance, and failing fast names the first one. */
        int ok = guards_intact(&scratch, "scratch");
        for (int i = 0; ok && i < m->num_outputs; i++) {
            char what[64];
            snprintf(what, sizeof what, "output %d", i);
            ok = guards_intact(&out_buf[i], what);
        }
        for (int i = 0; ok && i < nin; i++) {
            char what[64];
            snprintf(what, sizeof what, "input %d", i);
            ok = guards_intact(&in_buf[i], what);
            if (ok && memcmp(in_buf[i].p, in_copy[i], in_buf[i].size) != 0) {
                fprintf(stderr, "error: input %d was modified by the model\n", i);
                ok = 0;
            }
        }
        if (!ok) {
            fprintf(stderr, "%s: error: model '%s' wrote outside its buffers (scratch_size %u)\n", prog, m->name,
                    (unsigned)m->scratch_size);
            goto out;
        }
    }

    for (int i = 0; i < nout; i++)
        if (!qnn_npy_write(out_paths[i], &m->outputs[i], outputs[i]))
            goto out;
    if (print)
        for (int i = 0; i < m->num_outputs; i++)
            print_tensor(&m->outputs[i], outputs[i]);
    if (bench) {
        qsort(times, (size_t)bench, sizeof *times, cmp_u64);
        /* The median of an even count is the mean of the middle two. */
        double med = bench % 2 ? (double)times[bench / 2] : ((double)times[bench / 2 - 1] + (double)times[bench / 2]) / 2;
        if (!strcmp(qnn_clock_unit(), "instruction")) /* Cortex-M under QEMU -icount: exact counts */
            printf("bench: %s: %ld runs, median %.0f instructions, min %.0f instructions (clock: %s)\n", m->name,
                   bench, med, (double)times[0], qnn_clock_name());
        else
            printf("bench: %s: %ld runs, median %.3f us, min %.3f us (clock: %s)\n", m->name, bench,
                   med / qnn_clock_ticks_per_us(), (double)times[0] / qnn_clock_ticks_per_us(), qnn_clock_name());
    }
    if (profile)
        prof->report(m->name);
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "%s: error: out of memory\n", prog);
out:
    for (int i = 0; i < MAX_FILES; i++) {
        free(in_copy[i]);
        free(in_buf[i].raw);
        free(out_buf[i].raw);
    }
    free(scratch.raw);
    free(weights.raw);
    free(times);
    fflush(stdout);
    return rc;
}
