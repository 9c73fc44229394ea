/* clock_posix.c - the harness clock on Linux: CLOCK_MONOTONIC in
 * nanoseconds.  Under qemu-user this is the host's clock, so it measures
 * emulation speed, not the target CPU. */
/* clock_gettime is POSIX, not C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "qnn_harness.h"

#include <time.h>

void qnn_clock_start(void) {}

uint64_t qnn_clock_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double qnn_clock_ticks_per_us(void) { return 1000.0; }

const char *qnn_clock_name(void) { return "clock_gettime(CLOCK_MONOTONIC)"; }

const char *qnn_clock_unit(void) { return "ns"; }
