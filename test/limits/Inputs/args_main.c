/* Every bad argument to a generated entry point, one at a time: each call
 * must return its status without reading or writing through the bad
 * pointer (the test builds this with AddressSanitizer). */
#include "tiny_cnn.h"

#include <stdint.h>
#include <stdio.h>

static _Alignas(64) unsigned char scratch[TINY_CNN_SCRATCH_SIZE + 64];

int main(void)
{
    static float image[TINY_CNN_INPUT_IMAGE_NUMEL], probs[TINY_CNN_OUTPUT_PROBS_NUMEL];
    const void *in[1] = {image}, *in_null[1] = {NULL};
    void *out[1] = {probs}, *out_null[1] = {NULL};
    printf("inputs NULL: %d\n", tiny_cnn_run(NULL, out, scratch));
    printf("outputs NULL: %d\n", tiny_cnn_run(in, NULL, scratch));
    printf("input entry NULL: %d\n", tiny_cnn_run(in_null, out, scratch));
    printf("output entry NULL: %d\n", tiny_cnn_run(in, out_null, scratch));
    printf("scratch NULL: %d\n", tiny_cnn_run(in, out, NULL));
    int refused = 0;
    for (int off = 1; off < 64; off++)
        refused += tiny_cnn_run(in, out, scratch + off) == QNN_ERR_MISALIGNED;
    printf("misaligned by 1..63 refused: %d of 63 (scratch alignment %d)\n", refused, TINY_CNN_SCRATCH_ALIGN);
    printf("good: %d\n", tiny_cnn_run(in, out, scratch));
    return 0;
}
