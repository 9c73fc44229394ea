/* driver.c - runs every case of cases.c through CMSIS-NN and through the
 * qnnc model of the same layer, on the same int8 inputs; compares the
 * outputs byte for byte and counts instructions with the harness clock
 * (SysTick under QEMU -icount shift=0, docs/runtime.md).  REPS
 * back-to-back runs per measurement: the clock steps by 40 instructions,
 * so the per-run count is exact to 40 / REPS.  Prints one line per case:
 *
 *   case K insns CMSIS QNNC scratch CMSIS_BYTES QNNC_BYTES mismatches M of N
 */
#include "driver.h"
#include "qnn_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REPS
#define REPS 8
#endif

static void *aligned(size_t n, size_t align)
{
    char *p = malloc(n + align);
    return p ? (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1)) : NULL;
}

int main(void)
{
    qnn_clock_start();
    if (strcmp(qnn_clock_unit(), "instruction") != 0) {
        printf("error: the clock does not count instructions (%s): run under scripts/run-target\n",
               qnn_clock_name());
        return 1;
    }
    int failures = 0;
    for (int k = 0; k < num_cases; k++) {
        const layer_case *c = &cases[k];
        int32_t bs = c->cmsis_bufsize();
        cmsis_nn_context ctx = {bs > 0 ? aligned((size_t)bs, 16) : NULL, bs};
        void *scratch = aligned(c->qnnc->scratch_size + 1, c->qnnc->scratch_align > 16 ? c->qnnc->scratch_align : 16);
        int8_t *want = malloc((size_t)c->out_bytes), *got = malloc((size_t)c->out_bytes);
        if ((bs > 0 && !ctx.buf) || !scratch || !want || !got) {
            printf("error: out of memory\n");
            return 1;
        }
        memset(want, 0x5A, (size_t)c->out_bytes);
        memset(got, 0x5A, (size_t)c->out_bytes);
        void *const outs[1] = {got};
        uint64_t t0 = qnn_clock_ticks();
        for (int r = 0; r < REPS; r++)
            if (c->cmsis(ctx, want) != ARM_CMSIS_NN_SUCCESS) {
                printf("case %d: CMSIS-NN returned an error\n", k);
                return 1;
            }
        uint64_t t1 = qnn_clock_ticks();
        for (int r = 0; r < REPS; r++)
            if (c->qnnc->run(c->inputs, outs, scratch) != QNN_OK) {
                printf("case %d: qnnc's model returned an error\n", k);
                return 1;
            }
        uint64_t t2 = qnn_clock_ticks();
        int bad = 0;
        for (int32_t i = 0; i < c->out_bytes; i++)
            if (want[i] != got[i]) {
                if (!bad)
                    printf("case %d (%s): first mismatch at %ld: CMSIS-NN %d, qnnc %d\n", k, c->kind, (long)i,
                           want[i], got[i]);
                bad++;
            }
        failures += bad != 0;
        printf("case %d insns %llu %llu scratch %ld %lu mismatches %d of %ld\n", k,
               (unsigned long long)((t1 - t0 + REPS / 2) / REPS), (unsigned long long)((t2 - t1 + REPS / 2) / REPS),
               (long)bs, (unsigned long)c->qnnc->scratch_size, bad, (long)c->out_bytes);
    }
    printf("%d of %d cases mismatched\n", failures, num_cases);
    return 0;
}
