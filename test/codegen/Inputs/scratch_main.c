/* tiny_cnn needs scratch: NULL and misaligned scratch are refused before
 * anything is touched; an aligned one of exactly the reported size runs. */
#include "tiny_cnn.h"

#include <stdio.h>

static _Alignas(64) unsigned char scratch[TINY_CNN_SCRATCH_SIZE + 64];

int main(void)
{
    static float image[TINY_CNN_INPUT_IMAGE_NUMEL], probs[TINY_CNN_OUTPUT_PROBS_NUMEL];
    const void *in[1] = {image};
    void *out[1] = {probs};
    printf("%d %d %d\n", tiny_cnn_run(in, out, NULL), tiny_cnn_run(in, out, scratch + 1),
           tiny_cnn_run(in, out, scratch));
    return 0;
}
