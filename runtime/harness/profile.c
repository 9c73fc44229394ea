/* profile.c - the harness's side of qnnc --profile: qnn_profile_mark
 * reads the clock between nodes, and the report takes each node's median
 * over the timed runs (a loaded machine's outliers do not move it) and
 * prints one line per node (time, share of the sum of the medians, MACs,
 * MACs per tick) like Vela's and STM32Cube.AI's per-layer reports.
 *
 * A tick is the harness clock's unit (qnn_clock_unit): nanoseconds on
 * Linux (CLOCK_MONOTONIC: core cycles are not available to a process
 * without perf privileges, and a TSC tick is not a core cycle), core
 * cycles on Cortex-M.  The report names the unit it divides by. */
#include "qnn_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const qnn_profile_info *info;
static uint64_t *marks;          /* num_nodes + 1 */
static uint64_t *times;          /* [node][run], max_runs per node */
static long max_runs, runs;

void qnn_harness_profile(const qnn_profile_info *p)
{
    qnn_harness_profiling = (qnn_harness_profiler){p, qnn_profile_begin, qnn_profile_add_run, qnn_profile_report};
}

void qnn_profile_mark(int32_t node)
{
    if (marks && node >= 0 && node <= info->num_nodes)
        marks[node] = qnn_clock_ticks();
}

int qnn_profile_begin(const qnn_profile_info *p, long n)
{
    info = p;
    max_runs = n, runs = 0;
    marks = calloc((size_t)p->num_nodes + 1, sizeof *marks);
    times = calloc((size_t)p->num_nodes * (size_t)n + 1, sizeof *times);
    return marks && times;
}

void qnn_profile_add_run(void)
{
    if (runs == max_runs)
        return;
    for (int32_t k = 0; k < info->num_nodes; k++)
        times[(size_t)k * (size_t)max_runs + (size_t)runs] = marks[k + 1] - marks[k];
    runs++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of node K's times (the mean of the middle two of an even
 * count), in ticks. */
static double node_median(int32_t k)
{
    uint64_t *t = times + (size_t)k * (size_t)max_runs;
    qsort(t, (size_t)runs, sizeof *t, cmp_u64);
    return runs % 2 ? (double)t[runs / 2] : ((double)t[runs / 2 - 1] + (double)t[runs / 2]) / 2;
}

void qnn_profile_report(const char *model)
{
    const char *unit = qnn_clock_unit();
    double per_us = qnn_clock_ticks_per_us(), ticks = 0;
    uint64_t macs = 0;
    double *med = calloc((size_t)info->num_nodes + 1, sizeof *med);
    if (!med || runs < 1) {
        fprintf(stderr, "profile: %s\n", med ? "no runs" : "out of memory");
        free(med);
        return;
    }
    int wname = 4, wop = 2, wkern = 6;
    for (int32_t k = 0; k < info->num_nodes; k++) {
        const qnn_profile_node *n = &info->nodes[k];
        med[k] = node_median(k);
        ticks += med[k];
        macs += n->macs;
        int l;
        if ((l = (int)strlen(n->name)) > wname)
            wname = l < 40 ? l : 40;
        if ((l = (int)strlen(n->op)) > wop)
            wop = l;
        if ((l = (int)strlen(n->kernel)) > wkern)
            wkern = l;
    }
    printf("profile: %s: %d nodes, median of %ld run%s (clock: %s; MACs per %s)\n", model, (int)info->num_nodes,
           runs, runs == 1 ? "" : "s", qnn_clock_name(), unit);
    char col[32];
    snprintf(col, sizeof col, "MACs/%s", unit);
    /* Under QEMU -icount the clock counts instructions: print counts, not
     * a time. */
    int insns = !strcmp(unit, "instruction");
    if (insns)
        per_us = 1;
    printf("%5s  %-*s  %-*s  %-*s  %10s  %6s  %12s  %10s\n", "#", wname, "node", wop, "op", wkern, "kernel",
           insns ? "insns" : "time_us", "share", "MACs", col);
    for (int32_t k = 0; k < info->num_nodes; k++) {
        const qnn_profile_node *n = &info->nodes[k];
        double t = med[k];
        printf(insns ? "%5d  %-*.*s  %-*s  %-*s  %10.0f  %5.1f%%  %12llu  " : "%5d  %-*.*s  %-*s  %-*s  %10.3f  %5.1f%%  %12llu  ",
               (int)k, wname, wname, n->name, wop, n->op, wkern, n->kernel, t / per_us, ticks > 0 ? 100.0 * t / ticks : 0.0,
               (unsigned long long)n->macs);
        if (n->macs && t > 0)
            printf("%10.3f\n", (double)n->macs / t);
        else
            printf("%10s\n", "-");
    }
    double t = ticks;
    printf(insns ? "%5s  %-*s  %-*s  %-*s  %10.0f  %5.1f%%  %12llu  " : "%5s  %-*s  %-*s  %-*s  %10.3f  %5.1f%%  %12llu  ", "total", wname, "", wop, "", wkern, "", t / per_us,
           100.0, (unsigned long long)macs);
    if (macs && ticks > 0)
        printf("%10.3f\n", (double)macs / t);
    else
        printf("%10s\n", "-");
    free(med);
    free(marks);
    free(times);
    marks = times = NULL;
}
