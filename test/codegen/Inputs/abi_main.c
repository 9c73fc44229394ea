/* Calls a compiled dense.qir through its header: argument checks, and
 * --weights=external against the embedded build (linked as dense_e).
 *
 * usage: abi OWN.weights.bin [OTHER_MODEL.weights.bin OTHER_TARGET.weights.bin
 *            OTHER_ISA.weights.bin RETRAINED.weights.bin]
 * (without the other files, their checks are left out). */
#include "dense.h"
#include "dense_e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *what, int got, int want)
{
    if (got != want) {
        printf("FAIL %s: %d, expected %d\n", what, got, want);
        return 1;
    }
    printf("ok %s: %d\n", what, got);
    return 0;
}

#define CAP (1 << 16)

/* Reads PATH into BUF (CAP bytes); returns its length, or -1. */
static long load(const char *path, unsigned char *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, CAP, f);
    fclose(f);
    return n == CAP ? -1 : (long)n;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 6)
        return 2;
    _Alignas(DENSE_WEIGHTS_ALIGN) static unsigned char w[CAP], bad[CAP + DENSE_WEIGHTS_ALIGN];
    long n = load(argv[1], w);
    int fails = check("weights file size", (int)n, DENSE_WEIGHTS_SIZE);
    int8_t x[DENSE_INPUT_X_NUMEL], a[DENSE_INPUT_A_NUMEL], b[DENSE_INPUT_BM_NUMEL];
    for (int i = 0; i < DENSE_INPUT_X_NUMEL; i++)
        x[i] = (int8_t)(i * 37 - 100);
    for (int i = 0; i < DENSE_INPUT_A_NUMEL; i++)
        a[i] = (int8_t)(i * 11 - 60);
    for (int i = 0; i < DENSE_INPUT_BM_NUMEL; i++)
        b[i] = (int8_t)(50 - i * 7);
    int8_t y1[4][30] = {{0}}, y2[4][30] = {{0}};
    const void *in[3] = {x, a, b};
    void *out1[4] = {y1[0], y1[1], y1[2], y1[3]}, *out2[4] = {y2[0], y2[1], y2[2], y2[3]};
    _Alignas(16) static unsigned char scratch[DENSE_SCRATCH_SIZE + 16];
    size_t size = DENSE_WEIGHTS_SIZE;
    fails += check("null inputs", dense_run(NULL, out1, scratch, w, size), QNN_ERR_NULL_ARGUMENT);
    const void *in_null[3] = {x, NULL, b};
    fails += check("null input entry", dense_run(in_null, out1, scratch, w, size), QNN_ERR_NULL_ARGUMENT);
    void *out_null[4] = {y1[0], y1[1], NULL, y1[3]};
    fails += check("null output entry", dense_e_run(in, out_null, scratch), QNN_ERR_NULL_ARGUMENT);
    fails += check("null weights", dense_run(in, out1, scratch, NULL, size), QNN_ERR_BAD_WEIGHTS);
    fails += check("truncated weights", dense_run(in, out1, scratch, w, size - 1), QNN_ERR_BAD_WEIGHTS);
    fails += check("only a header", dense_run(in, out1, scratch, w, 64), QNN_ERR_BAD_WEIGHTS);
    memcpy(bad + 16, w, size);
    fails += check("misaligned weights", dense_run(in, out1, scratch, bad + 16, size), QNN_ERR_MISALIGNED);
    /* Every bit of the header matters: each flipped one is refused. */
    int refused = 0;
    for (int i = 0; i < 64 * 8; i++) {
        memcpy(bad, w, size);
        bad[i / 8] ^= (unsigned char)(1u << (i % 8));
        refused += dense_run(in, out1, scratch, bad, size) == QNN_ERR_BAD_WEIGHTS;
    }
    fails += check("header bit flips refused (of 512)", refused, 512);
    static const char *const others[] = {"", "", "another model's weights", "another target's weights",
                                         "another ISA's weights", "retrained weights (another bias)"};
    for (int k = 2; k < argc; k++) {
        long m = load(argv[k], bad);
        if (m < 0)
            return 2;
        /* Each at least as long as ours, so the header is what refuses it. */
        fails += check(others[k], dense_run(in, out1, scratch, bad, m > (long)size ? (size_t)m : size),
                       QNN_ERR_BAD_WEIGHTS);
    }
    /* A damaged table under an intact header: dense_run (header only) runs
     * it, dense_check_weights (the tables' hash) refuses it. */
    fails += check("check_weights intact", dense_check_weights(w, size), QNN_OK);
    fails += check("check_weights null", dense_check_weights(NULL, size), QNN_ERR_BAD_WEIGHTS);
    fails += check("check_weights truncated", dense_check_weights(w, size - 1), QNN_ERR_BAD_WEIGHTS);
    int missed = 0, caught = 0;
    for (size_t k = 0; k < 8; k++) { /* from the first table byte to the last */
        memcpy(bad, w, size);
        bad[64 + k * (size - 65) / 7] ^= (unsigned char)(1u << k);
        missed += dense_run(in, out1, scratch, bad, size) == QNN_OK;
        caught += dense_check_weights(bad, size) == QNN_ERR_BAD_WEIGHTS;
    }
    fails += check("table byte flips run by dense_run (of 8)", missed, 8);
    fails += check("table byte flips refused by check_weights (of 8)", caught, 8);
    fails += check("external run", dense_run(in, out1, scratch, w, size), QNN_OK);
    fails += check("embedded run", dense_e_run(in, out2, scratch), QNN_OK);
    fails += check("same outputs", memcmp(y1, y2, sizeof y1) == 0, 1);
    fails += check("external run, a larger size given", dense_run(in, out1, scratch, w, size + 100), QNN_OK);
    fails += check("info has no run for external weights", dense_info.run == NULL, 1);
    fails += check("info scratch", (int)dense_e_info.scratch_size, DENSE_E_SCRATCH_SIZE);
    return fails != 0;
}
