#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "arm_nnfunctions.h"
/* Runs CMSIS-NN's arm_softmax_s8 (built for the host from its sources by
 * softmax-cmsis.test) on cases read from stdin: "rows depth mult shift
 * diff_min" followed by rows*depth int8 values; prints the outputs, one
 * line per case. */
int main(void)
{
    int rows, depth, mult, shift, dmin;
    while (scanf("%d %d %d %d %d", &rows, &depth, &mult, &shift, &dmin) == 5) {
        int8_t *x = malloc((size_t)rows * depth), *y = malloc((size_t)rows * depth);
        for (int i = 0; i < rows * depth; i++) { int v; if (scanf("%d", &v) != 1) return 1; x[i] = (int8_t)v; }
        arm_softmax_s8(x, rows, depth, mult, shift, dmin, y);
        for (int i = 0; i < rows * depth; i++) printf("%d%c", y[i], i + 1 < rows * depth ? ' ' : '\n');
        free(x); free(y);
    }
    return 0;
}
