/* interp_bench - times the reference interpreter on a ~1M-parameter int8
 * CNN (bench/cnn1m.h).  The interpreter must run it in well under a second
 * per inference to be usable as the oracle in tests; the baseline printed
 * beside it is a plain memset of the same number of bytes as the MACs, a
 * rough "how fast is this machine" yardstick measured in the same run. */
#include "cnn1m.h"

#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    Cnn1m m = cnn1m_build();
    if (!ir_verify(m.g)) {
        fprintf(stderr, "interp_bench: the benchmark graph does not verify\n");
        return 1;
    }
    int8_t *x = malloc((size_t)m.in_bytes);
    for (int64_t i = 0; i < m.in_bytes; i++)
        x[i] = (int8_t)cnn1m_rand(-128, 127);
    int8_t y[100];
    const void *ins[1] = {x};
    void *outs[1] = {y};
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        if (interp_run(m.g, ins, outs) != 0)
            return 1;
        double t = now_ms() - t0;
        if (t < best)
            best = t;
    }
    char *buf = malloc((size_t)m.macs);
    double t0 = now_ms();
    memset(buf, 1, (size_t)m.macs);
    double base = now_ms() - t0;
    printf("interp_bench: cnn1m %lld params, %.1f M MACs: best of %d runs %.1f ms "
           "(%.2f ns/MAC); baseline memset of %lld bytes %.1f ms; y[0]=%d\n",
           (long long)m.params, (double)m.macs / 1e6, runs, best, best * 1e6 / (double)m.macs,
           (long long)m.macs, base, y[0] + buf[0] - 1);
    free(buf);
    free(x);
    graph_free(m.g);
    return 0;
}
