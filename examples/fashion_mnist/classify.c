/* classify - runs the Fashion-MNIST example model, compiled by qnnc, on the
 * test set and prints what a product engineer wants to know about it.
 *
 *   classify --images t10k-images-idx3-ubyte --labels t10k-labels-idx1-ubyte
 *            [--fp32 fp32_predictions.bin] [--report report.json]
 *            [--count N] [--predictions OUT.bin] [--quiet]
 *
 * The model comes in through its generated header only: fashion_mnist.h
 * (from `qnnc fashion_mnist.onnx --config qnnc.toml -o fashion_mnist.o`)
 * gives the entry point, the exact scratch size and the input and output
 * shapes.  The compiled model keeps the ONNX model's float interface: it
 * takes the image as f32[1,1,28,28] (pixels / 255, as in training) and
 * returns ten dequantized logits; everything in between is int8.
 *
 * Figures printed:
 *   - int8 top-1 accuracy: this program's predictions against the labels;
 *   - fp32 top-1 accuracy and agreement: with --fp32, a file of one byte
 *     per image holding the float model's predicted class, computed by
 *     qnnc's reference interpreter (`qnnc-run` on the ONNX model; scripts/
 *     demo and examples/fashion_mnist/fp32_predictions.sh make it);
 *   - latency: the median wall time of one fashion_mnist_run call (batch 1,
 *     one thread) over every image;
 *   - scratch bytes (FASHION_MNIST_SCRATCH_SIZE) and, with --report (the
 *     JSON `qnnc --report=` writes), the weight bytes before and after
 *     quantization.
 *
 * The IDX files are the uncompressed MNIST format (gunzip Debian's
 * dataset-fashion-mnist files first), so this program needs nothing but
 * C11 and POSIX's clock_gettime. */
#define _POSIX_C_SOURCE 200809L
#include "fashion_mnist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PIXELS (28 * 28)
#define CLASSES 10

_Static_assert(FASHION_MNIST_INPUT_IMAGE_DTYPE == QNN_F32 && FASHION_MNIST_INPUT_IMAGE_NUMEL == PIXELS,
               "the model takes one 28x28 float image");
_Static_assert(FASHION_MNIST_OUTPUT_LOGITS_DTYPE == QNN_F32 && FASHION_MNIST_OUTPUT_LOGITS_NUMEL == CLASSES,
               "the model returns ten float logits");

static const char *const class_names[CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "classify: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open '%s'", path);
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            die("out of memory reading '%s'", path);
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    if (ferror(f))
        die("cannot read '%s'", path);
    fclose(f);
    *len = n;
    return buf;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IDX file of unsigned bytes with RANK dimensions (yann.lecun.com/exdb/
 * mnist: magic 0x0000 0x08 RANK, then big-endian 32-bit dimensions, then
 * the data).  Returns the data; *COUNT is the first dimension. */
static const unsigned char *idx_data(const char *path, const unsigned char *buf, size_t len, int rank,
                                     uint32_t item_bytes, uint32_t *count)
{
    size_t header = 4 + 4 * (size_t)rank;
    if (len < header || be32(buf) != (0x0800u | (uint32_t)rank))
        die("'%s' is not an uncompressed IDX file of bytes with the expected rank (gunzip it first?)", path);
    *count = be32(buf + 4);
    for (int i = 1; i < rank; i++)
        if (be32(buf + 4 + 4 * i) != (rank == 3 ? 28u : 0u))
            die("'%s' does not hold 28x28 images", path);
    if ((len - header) / item_bytes < *count)
        die("'%s' is shorter than its header says", path);
    return buf + header;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "weight_bytes": {"before": N, "after": M} from qnnc's JSON report. */
static int report_weights(const char *path, long *before, long *after)
{
    size_t len;
    unsigned char *buf = read_file(path, &len);
    char *text = realloc(buf, len + 1);
    if (!text)
        die("out of memory reading '%s'", path);
    text[len] = '\0';
    const char *p = strstr(text, "\"weight_bytes\"");
    int ok = p && sscanf(p, "\"weight_bytes\": {\"before\": %ld, \"after\": %ld}", before, after) == 2;
    free(text);
    return ok;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

int main(int argc, char **argv)
{
    const char *images_path = NULL, *labels_path = NULL, *fp32_path = NULL, *report_path = NULL,
               *pred_path = NULL;
    long limit = -1;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--images")        ? &images_path
                            : !strcmp(a, "--labels")      ? &labels_path
                            : !strcmp(a, "--fp32")        ? &fp32_path
                            : !strcmp(a, "--report")      ? &report_path
                            : !strcmp(a, "--predictions") ? &pred_path
                                                          : NULL;
        if (slot && i + 1 < argc) {
            *slot = argv[++i];
        } else if (!strcmp(a, "--count") && i + 1 < argc) {
            char *end;
            limit = strtol(argv[++i], &end, 10);
            if (*end || limit < 1)
                die("--count needs a positive number, not '%s'", argv[i]);
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            fprintf(stderr, "usage: classify --images IDX --labels IDX [--fp32 FILE] [--report FILE.json]\n"
                            "                [--count N] [--predictions OUT] [--quiet]\n");
            return 2;
        }
    }
    if (!images_path || !labels_path)
        die("%s", "--images and --labels are required");

    size_t ilen, llen;
    unsigned char *ibuf = read_file(images_path, &ilen), *lbuf = read_file(labels_path, &llen);
    uint32_t n, nl;
    const unsigned char *images = idx_data(images_path, ibuf, ilen, 3, PIXELS, &n);
    const unsigned char *labels = idx_data(labels_path, lbuf, llen, 1, 1, &nl);
    if (nl != n)
        die("'%s' and the images hold different numbers of items", labels_path);
    if (limit > 0 && (uint32_t)limit < n)
        n = (uint32_t)limit;
    unsigned char *fp32 = NULL;
    if (fp32_path) {
        size_t flen;
        fp32 = read_file(fp32_path, &flen);
        if (flen < n)
            die("'%s' holds fewer predictions than there are images", fp32_path);
    }

    /* The caller owns scratch: exactly the size the header promises, at
     * its alignment (aligned_alloc wants a multiple of the alignment). */
    size_t scratch_bytes = (FASHION_MNIST_SCRATCH_SIZE + FASHION_MNIST_SCRATCH_ALIGN - 1) /
                           FASHION_MNIST_SCRATCH_ALIGN * FASHION_MNIST_SCRATCH_ALIGN;
    void *scratch = aligned_alloc(FASHION_MNIST_SCRATCH_ALIGN, scratch_bytes ? scratch_bytes : FASHION_MNIST_SCRATCH_ALIGN);
    double *times = malloc(n * sizeof *times);
    unsigned char *pred = malloc(n);
    if (!scratch || !times || !pred)
        die("%s", "out of memory");

    float input[PIXELS], logits[CLASSES];
    const void *inputs[1] = {input};
    void *outputs[1] = {logits};
    long right = 0, right_fp32 = 0, agree = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (int p = 0; p < PIXELS; p++)
            input[p] = images[(size_t)i * PIXELS + p] / 255.0f;
        double t0 = now_us();
        int status = fashion_mnist_run(inputs, outputs, scratch);
        times[i] = now_us() - t0;
        if (status != QNN_OK) {
            fprintf(stderr, "classify: error: fashion_mnist_run returned %d on image %u\n", status, i);
            return 1;
        }
        pred[i] = (unsigned char)argmax(logits, CLASSES);
        right += pred[i] == labels[i];
        if (fp32) {
            right_fp32 += fp32[i] == labels[i];
            agree += fp32[i] == pred[i];
        }
    }
    if (pred_path) {
        FILE *f = fopen(pred_path, "wb");
        if (!f || fwrite(pred, 1, n, f) != n || fclose(f) != 0)
            die("cannot write '%s'", pred_path);
    }
    qsort(times, n, sizeof *times, cmp_double);
    double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;

    printf("fashion_mnist: %u test images, compiled by qnnc (int8 inside, float in and out)\n", n);
    if (!quiet)
        printf("  image 0: %s, predicted %s\n", class_names[labels[0]], class_names[pred[0]]);
    printf("  int8 top-1 accuracy   %6.2f%%\n", 100.0 * right / n);
    if (fp32) {
        printf("  fp32 top-1 accuracy   %6.2f%%   (the ONNX model in qnnc's reference interpreter)\n",
               100.0 * right_fp32 / n);
        printf("  int8 vs fp32          %+6.2f points; same class on %.2f%% of images\n",
               100.0 * (right - right_fp32) / n, 100.0 * agree / n);
    }
    printf("  latency               %6.1f us per image (median of %u runs; batch 1, one thread)\n", median, n);
    printf("  scratch               %6d bytes (FASHION_MNIST_SCRATCH_SIZE)\n", FASHION_MNIST_SCRATCH_SIZE);
    long before, after;
    if (report_path && report_weights(report_path, &before, &after))
        printf("  weights               %6ld bytes int8 (%ld bytes fp32, %.1fx smaller)\n", after, before,
               (double)before / after);
    else if (report_path)
        die("'%s' has no weight_bytes entry", report_path);
    free(pred);
    free(times);
    free(scratch);
    free(fp32);
    free(ibuf);
    free(lbuf);
    return 0;
}
