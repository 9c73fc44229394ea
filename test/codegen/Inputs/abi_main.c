/* Calls a compiled dense.qir through its header: argument checks, and
 * --weights=external against the embedded build (linked as dense_e). */
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

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    static unsigned char w[DENSE_WEIGHTS_SIZE + 1], bad[DENSE_WEIGHTS_SIZE];
    size_t n = fread(w, 1, sizeof w, f);
    fclose(f);
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
    fails += check("null inputs", dense_run(NULL, out1, scratch, w), QNN_ERR_NULL_ARGUMENT);
    const void *in_null[3] = {x, NULL, b};
    fails += check("null input entry", dense_run(in_null, out1, scratch, w), QNN_ERR_NULL_ARGUMENT);
    void *out_null[4] = {y1[0], y1[1], NULL, y1[3]};
    fails += check("null output entry", dense_e_run(in, out_null, scratch), QNN_ERR_NULL_ARGUMENT);
    fails += check("null weights", dense_run(in, out1, scratch, NULL), QNN_ERR_BAD_WEIGHTS);
    memcpy(bad, w, sizeof bad);
    bad[4] ^= 1; /* the payload size */
    fails += check("wrong weights size", dense_run(in, out1, scratch, bad), QNN_ERR_BAD_WEIGHTS);
    memcpy(bad, w, sizeof bad);
    bad[8] ^= 1; /* the layout hash */
    fails += check("weights of another layout", dense_run(in, out1, scratch, bad), QNN_ERR_BAD_WEIGHTS);
    fails += check("external run", dense_run(in, out1, scratch, w), QNN_OK);
    fails += check("embedded run", dense_e_run(in, out2, scratch), QNN_OK);
    fails += check("same outputs", memcmp(y1, y2, sizeof y1) == 0, 1);
    /* Retrained weights of the same layout are accepted and used. */
    memcpy(bad, w, sizeof bad);
    bad[DENSE_WEIGHTS_SIZE - 1] ^= 0x40;
    fails += check("swapped weights run", dense_run(in, out1, scratch, bad), QNN_OK);
    fails += check("info has no run for external weights", dense_info.run == NULL, 1);
    fails += check("info scratch", (int)dense_e_info.scratch_size, DENSE_E_SCRATCH_SIZE);
    return fails != 0;
}
