/* test_config.c - unit tests for the TOML compile configuration reader
 * (config/config.h): defaults, every key landing in its struct field,
 * paths resolved against the file's directory, and errors reported through
 * the diag engine with their exact line, column and text.
 *
 * The lit tests in test/config/ check the same errors as a user sees them;
 * these check what the C API hands to the rest of the compiler, which the
 * printed form cannot show (field values, SrcLoc records, error counts). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int passed, failed;
static char tmpdir[] = "/tmp/qnnc-test-config-XXXXXX";

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            passed++;                                                                    \
        } else {                                                                         \
            failed++;                                                                    \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                \
    } while (0)

#define CHECK_STR(a, b) CHECK(str_eq((a), (b)))

static bool str_eq(const char *a, const char *b)
{
    if (a && b && strcmp(a, b) == 0)
        return true;
    printf("  \"%s\" != \"%s\"\n", a ? a : "(null)", b ? b : "(null)");
    return false;
}

/* Writes TEXT to a file NAME in the temporary directory; returns its path
 * (static storage, valid until the next call). */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads TEXT (as file NAME) into CFG over the defaults, with diagnostics
 * captured.  Returns config_load's result. */
static bool load(QnncConfig *cfg, const char *name, const char *text)
{
    config_defaults(cfg);
    diag_clear_captured();
    return config_load(write_tmp(name, text), cfg);
}

/* True if the captured diagnostics are exactly N errors; when N > 0 and
 * LINE > 0, the first must be at LINE:COL and contain WANT. */
static bool errors_are(int n, int line, int col, const char *want)
{
    int count;
    const Diagnostic *d = diag_captured(&count);
    bool ok = count == n;
    if (ok && n > 0 && line > 0)
        ok = d[0].kind == DIAG_ERROR && d[0].loc.line == line && d[0].loc.col == col &&
             strstr(d[0].message, want) != NULL;
    if (!ok) {
        printf("  expected %d error(s), first at %d:%d containing \"%s\"; got %d:\n", n, line, col,
               want ? want : "", count);
        for (int i = 0; i < count; i++)
            printf("    %d:%d: %s\n", d[i].loc.line, d[i].loc.col, d[i].message);
    }
    return ok;
}

static void test_defaults(void)
{
    QnncConfig c;
    config_defaults(&c);
    CHECK(c.path == NULL && c.model.path == NULL && c.model.name == NULL);
    CHECK(c.model.input_layout == LAYOUT_MODEL && c.model.batch == 1);
    CHECK(c.target.triple == NULL && c.target.cpu == NULL && c.target.num_features == 0);
    CHECK(c.quant.scheme == QSCHEME_INT8 && c.quant.per_channel && c.quant.activation_dtype == DT_I8);
    CHECK(c.quant.rounding == ROUND_TFLITE && c.quant.num_overrides == 0);
    CHECK(c.calib.num_dataset == 0 && c.calib.format == DATA_AUTO && c.calib.method == CALIB_MINMAX);
    CHECK(c.calib.percentile == 99.99 && c.calib.bins == 2048 && c.calib.samples == 1000);
    CHECK(c.model.input_scale == 1.0 / 255.0 && c.model.input_offset == 0.0);
    CHECK(c.output.object == NULL && c.output.header == NULL);
    CHECK(c.output.emit == (EMIT_OBJ | EMIT_HEADER) && c.output.weights == WEIGHTS_EMBEDDED);
    CHECK(c.passes.num_disable == 0 && c.passes.tile_m == 0 && c.passes.tile_n == 0 && c.passes.tile_k == 0);

    /* An empty file changes nothing. */
    CHECK(load(&c, "empty.toml", "# nothing here\n"));
    CHECK(errors_are(0, 0, 0, NULL));
    CHECK(c.model.batch == 1 && c.calib.bins == 2048 && c.output.emit == (EMIT_OBJ | EMIT_HEADER));
    config_free(&c);
}

static void test_every_key(void)
{
    QnncConfig c;
    bool ok = load(&c, "full.toml",
                   "[model]\n"
                   "path = \"nets/m.onnx\"\n"
                   "name = \"net_1\"\n"
                   "input_layout = \"nhwc\"\n"
                   "batch = 8\n"
                   "[target]\n"
                   "triple = \"riscv64-linux-gnu\"\n"
                   "cpu = \"sifive-x280\"\n"
                   "features = [\"+v\", \"-c\"]\n"
                   "[quantization]\n"
                   "scheme = \"int8\"\n"
                   "per_channel = false\n"
                   "activation_dtype = \"u8\"\n"
                   "rounding = \"onnx\"\n"
                   "[[quantization.override]]\n"
                   "node = \"softmax_1\"\n"
                   "dtype = \"f32\"\n"
                   "[[quantization.override]]\n"
                   "dtype = \"i16\"\n"
                   "node = \"conv_0\"\n"
                   "[calibration]\n"
                   "dataset = \"/data/train-images-idx3-ubyte\"\n"
                   "method = \"entropy\"\n"
                   "percentile = 100\n"
                   "bins = 128\n"
                   "samples = 50\n"
                   "scale = 0.5\n"
                   "offset = -1\n"
                   "[output]\n"
                   "object = \"/abs/m.o\"\n"
                   "header = \"inc/m.h\"\n"
                   "emit = [\"qir\", \"asm\"]\n"
                   "weights = \"external\"\n"
                   "[passes]\n"
                   "disable = [\"dce\", \"whatever\"]\n"
                   "tile_m = 1\n"
                   "tile_n = 65536\n"
                   "tile_k = 32\n");
    CHECK(ok);
    CHECK(errors_are(0, 0, 0, NULL));
    char want[600];
    snprintf(want, sizeof want, "%s/nets/m.onnx", tmpdir);
    CHECK_STR(c.model.path, want);
    CHECK_STR(c.model.name, "net_1");
    CHECK(c.model.input_layout == LAYOUT_NHWC && c.model.batch == 8);
    CHECK_STR(c.target.triple, "riscv64-linux-gnu");
    CHECK_STR(c.target.cpu, "sifive-x280");
    CHECK(c.target.num_features == 2);
    if (c.target.num_features == 2) {
        CHECK_STR(c.target.features[0], "+v");
        CHECK_STR(c.target.features[1], "-c");
    }
    CHECK(c.quant.scheme == QSCHEME_INT8 && !c.quant.per_channel && c.quant.activation_dtype == DT_U8);
    CHECK(c.quant.rounding == ROUND_ONNX);
    CHECK(c.quant.num_overrides == 2);
    if (c.quant.num_overrides == 2) {
        CHECK_STR(c.quant.overrides[0].node, "softmax_1");
        CHECK(c.quant.overrides[0].dtype == DT_F32 && c.quant.overrides[0].loc.line == 15);
        CHECK_STR(c.quant.overrides[1].node, "conv_0");
        CHECK(c.quant.overrides[1].dtype == DT_I16 && c.quant.overrides[1].loc.line == 18);
    }
    CHECK(c.calib.num_dataset == 1);
    if (c.calib.num_dataset == 1)
        CHECK_STR(c.calib.dataset[0], "/data/train-images-idx3-ubyte");
    CHECK(c.calib.format == DATA_IDX); /* inferred from the name */
    CHECK(c.calib.method == CALIB_ENTROPY && c.calib.percentile == 100.0);
    CHECK(c.calib.bins == 128 && c.calib.samples == 50 && c.model.input_scale == 0.5 && c.model.input_offset == -1.0);
    CHECK_STR(c.output.object, "/abs/m.o");
    snprintf(want, sizeof want, "%s/inc/m.h", tmpdir);
    CHECK_STR(c.output.header, want);
    CHECK(c.output.emit == (EMIT_QIR | EMIT_ASM) && c.output.weights == WEIGHTS_EXTERNAL);
    /* Pass names are the driver's to check: the loader keeps them all, with
     * their places. */
    CHECK(c.passes.num_disable == 2);
    if (c.passes.num_disable == 2) {
        CHECK_STR(c.passes.disable[1], "whatever");
        CHECK(c.passes.disable_loc[1].line == 35 && c.passes.disable_loc[1].col == 19);
    }
    CHECK(c.passes.tile_m == 1 && c.passes.tile_n == 65536 && c.passes.tile_k == 32);

    SrcLoc l = config_key_loc(&c, "model.batch");
    CHECK(l.file == c.path && l.line == 5 && l.col == 9);
    l = config_key_loc(&c, "model.cpu");
    CHECK(l.file == c.path && l.line == 0);
    config_free(&c);
    CHECK(c.path == NULL && c.model.path == NULL && c.num_locs == 0);
    l = config_key_loc(&c, "model.batch");
    CHECK(l.file == NULL);
}

/* The scheme decides the activation type when the file does not. */
static void test_scheme_activations(void)
{
    QnncConfig c;
    CHECK(load(&c, "s1.toml", "[quantization]\nscheme = \"int16x8\"\n"));
    CHECK(c.quant.activation_dtype == DT_I16);
    config_free(&c);
    CHECK(load(&c, "s2.toml", "[quantization]\nscheme = \"hybrid\"\n"));
    CHECK(c.quant.activation_dtype == DT_F32);
    config_free(&c);
    CHECK(load(&c, "s3.toml", "[quantization]\nscheme = \"int16x8\"\nactivation_dtype = \"i16\"\n"));
    config_free(&c);

    CHECK(!load(&c, "s4.toml", "[quantization]\nactivation_dtype = \"i16\"\n"));
    CHECK(errors_are(1, 2, 20, "'activation_dtype' \"i16\" needs scheme \"int16x8\""));
    config_free(&c);
    CHECK(!load(&c, "s5.toml", "[quantization]\nactivation_dtype = \"u8\"\nscheme = \"none\"\n"));
    CHECK(errors_are(1, 2, 20, "'activation_dtype' has no effect with scheme \"none\""));
    config_free(&c);
}

static void test_dataset_format(void)
{
    QnncConfig c;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/calib", tmpdir);
    mkdir(dir, 0755);
    CHECK(load(&c, "d1.toml", "[calibration]\ndataset = [\"calib\", \"x.npy\", \"more/\"]\n"));
    CHECK(c.calib.format == DATA_NPY && c.calib.num_dataset == 3);
    config_free(&c);
    CHECK(load(&c, "d2.toml", "[calibration]\ndataset = \"digits.bin\"\nformat = \"idx\"\n"));
    CHECK(c.calib.format == DATA_IDX);
    config_free(&c);
    CHECK(!load(&c, "d3.toml", "[calibration]\ndataset = \"digits.bin\"\n"));
    CHECK(errors_are(1, 2, 11, "cannot tell the format of"));
    config_free(&c);
    CHECK(!load(&c, "d4.toml", "[calibration]\ndataset = [\"a.npy\", \"t10k-images.idx3-ubyte\"]\n"));
    CHECK(errors_are(1, 2, 11, "'dataset' mixes .npy and IDX files"));
    config_free(&c);
}

/* Every error in a file is reported, in file order. */
static void test_all_errors(void)
{
    QnncConfig c;
    CHECK(!load(&c, "bad.toml",
                "[model]\n"
                "batch = \"2\"\n"         /* 2:9 wrong type */
                "nmae = \"x\"\n"          /* 3:1 unknown key */
                "[calibration]\n"
                "percentile = 0.0\n"      /* 5:14 out of range */
                "method = \"kl\"\n"       /* 6:10 bad enum */
                "[oputput]\n"             /* 7:2 unknown section */
                "[passes]\n"
                "tile_k = -3\n"));        /* 9:10 out of range */
    int n;
    const Diagnostic *d = diag_captured(&n);
    CHECK(n == 6);
    static const struct { int line, col; const char *msg; } want[] = {
        {2, 9, "'batch' must be an integer, not a string"},
        {3, 1, "unknown key 'nmae' in [model]; did you mean 'name'?"},
        {5, 14, "'percentile' must be in the range (0, 100], not 0"},
        {6, 10, "'method' must be one of \"minmax\", \"percentile\", \"entropy\" or \"mse\", not \"kl\""},
        {7, 2, "unknown section [oputput]; did you mean [output]?"},
        {9, 10, "'tile_k' must be between 1 and 65536, not -3"},
    };
    for (int i = 0; i < n && i < 6; i++) {
        bool ok = d[i].loc.line == want[i].line && d[i].loc.col == want[i].col && !strcmp(d[i].message, want[i].msg);
        CHECK(ok);
        if (!ok)
            printf("  got %d:%d: %s\n", d[i].loc.line, d[i].loc.col, d[i].message);
        CHECK(d[i].loc.file == c.path);
    }
    /* Values that were wrong keep their defaults. */
    CHECK(c.model.batch == 1 && c.calib.percentile == 99.99 && c.passes.tile_k == 0);
    config_free(&c);
}

static void test_other_errors(void)
{
    QnncConfig c;
    CHECK(!load(&c, "syn.toml", "[model]\nbatch = = 1\n"));
    CHECK(errors_are(1, 2, 9, "TOML syntax error in value: could not determine value type"));
    config_free(&c);

    config_defaults(&c);
    diag_clear_captured();
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such.toml", tmpdir);
    CHECK(!config_load(missing, &c));
    int n;
    const Diagnostic *d = diag_captured(&n);
    CHECK(n == 1 && d[0].loc.line == 0 && !strcmp(d[0].message, "cannot read file: No such file or directory"));
    CHECK(n == 1 && d[0].loc.file && !strcmp(d[0].loc.file, missing));
    config_free(&c);

    CHECK(!load(&c, "ov.toml",
                "[[quantization.override]]\nnode = \"a\"\ndtype = \"i8\"\n"
                "[[quantization.override]]\nnode = \"a\"\ndtype = \"f32\"\n"));
    CHECK(errors_are(1, 5, 8, "a second override for node \"a\" (the first is at line 1)"));
    CHECK(c.quant.num_overrides == 1);
    config_free(&c);

    CHECK(!load(&c, "ov2.toml", "[[quantization.override]]\ndtype = \"i8\"\nnode = 7\n"));
    CHECK(errors_are(1, 3, 8, "'node' must be a string, not an integer"));
    CHECK(c.quant.num_overrides == 0);
    config_free(&c);

    CHECK(!load(&c, "feat.toml", "[target]\nfeatures = \"+v\"\n"));
    CHECK(errors_are(1, 2, 12, "'features' must be an array of strings, not a string"));
    config_free(&c);

    CHECK(!load(&c, "dtime.toml", "[model]\nbatch = 1979-05-27\n"));
    CHECK(errors_are(1, 2, 9, "'batch' must be an integer, not a date"));
    config_free(&c);

    CHECK(!load(&c, "big.toml", "[model]\nbatch = 2147483648\n"));
    CHECK(errors_are(1, 2, 9, "'batch' must be at most 2147483647, not 2147483648"));
    config_free(&c);
}

/* config_print writes what config_load reads back to the same values. */
static void test_print_roundtrip(void)
{
    QnncConfig c;
    CHECK(load(&c, "rt.toml",
                "[model]\npath = \"/m \\\"q\\\".onnx\"\nbatch = 3\n"
                "[target]\ntriple = \"thumbv7em-none-eabi\"\nfeatures = [\"+dsp\"]\n"
                "[quantization]\nscheme = \"int16x8\"\n"
                "[[quantization.override]]\nnode = \"n\\t1\"\ndtype = \"i8\"\n"
                "[calibration]\ndataset = [\"/d/a.npy\"]\npercentile = 99.9\nscale = 0.1\noffset = -0.5\n"
                "[output]\nemit = [\"exe\"]\n[passes]\ntile_n = 8\n"));
    char *t1 = NULL, *t2 = NULL;
    size_t n1 = 0, n2 = 0;
    FILE *f = open_memstream(&t1, &n1);
    config_print(f, &c);
    fclose(f);
    config_free(&c);
    CHECK(load(&c, "rt2.toml", t1));
    CHECK(errors_are(0, 0, 0, NULL));
    CHECK_STR(c.model.path, "/m \"q\".onnx");
    CHECK(c.calib.percentile == 99.9 && c.model.input_scale == 0.1 && c.model.input_offset == -0.5);
    CHECK(c.quant.activation_dtype == DT_I16 && c.passes.tile_n == 8 && c.output.emit == EMIT_EXE);
    f = open_memstream(&t2, &n2);
    config_print(f, &c);
    fclose(f);
    CHECK(n1 == n2 && strcmp(t1, t2) == 0);
    config_free(&c);
    free(t1);
    free(t2);
}

static void test_helpers(void)
{
    char *s = config_name_from_path("models/mobilenet-v2.onnx");
    CHECK_STR(s, "mobilenet_v2");
    free(s);
    s = config_name_from_path("3d.unet.onnx");
    CHECK_STR(s, "_3d_unet");
    free(s);
    s = config_name_from_path("dir.x/model");
    CHECK_STR(s, "model");
    free(s);
    CHECK(config_is_identifier("_a1") && !config_is_identifier("1a") && !config_is_identifier("") &&
          !config_is_identifier("a-b"));

    static const char *const keys[] = {"dataset", "format", "method", "percentile", "bins", "samples"};
    CHECK_STR(config_suggest("sampels", keys, 6), "samples");
    CHECK_STR(config_suggest("percentil", keys, 6), "percentile");
    CHECK_STR(config_suggest("bin", keys, 6), "bins");
    CHECK(config_suggest("zzz", keys, 6) == NULL);
    CHECK(config_suggest("learning_rate", keys, 6) == NULL);

    CHECK(config_lookup(config_emit_names, "header", 6) == 4);
    CHECK(config_lookup(config_emit_names, "headers", 7) == -1);
    CHECK((1 << config_lookup(config_emit_names, "qir", 3)) == EMIT_QIR);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    diag_set_capture(true);
    test_defaults();
    test_every_key();
    test_scheme_activations();
    test_dataset_format();
    test_all_errors();
    test_other_errors();
    test_print_roundtrip();
    test_helpers();
    diag_clear_captured();

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", tmpdir);
    printf("test_config: %d checks passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
