/* qnn_harness.h - the standalone runner `qnnc --emit=exe` links with a
 * compiled model: .npy inputs in, .npy outputs out, guard checks, timing.
 *
 * Unlike the runtime library this is hosted code (stdio, malloc): on Linux
 * it uses the C library, on Cortex-M newlib with semihosting, so files and
 * argv come from the host through the debugger interface. */
#ifndef QNN_HARNESS_H
#define QNN_HARNESS_H

#include "qnn_runtime.h"

/* Runs MODEL as the command line ARGV asks (see usage in harness.c or
 * docs/runtime.md) and returns the process exit status: 0 on success,
 * 1 when the model fails, a guard is overwritten or a file cannot be read
 * or written, 2 for a usage error. */
int qnn_harness_main(int argc, char **argv, const qnn_model_info *model);

/* .npy files (numpy/lib/format.py, format version 1.0-3.0).  npy_read
 * returns a malloc'd buffer of exactly T->nbytes holding the tensor in T's
 * dtype, converting '<f8' to f32 and '<i8' to any integer dtype with a
 * range check (NumPy's defaults); the shape must equal T's.  On failure it
 * prints "PATH: error: ..." to stderr and returns NULL.  npy_write writes a
 * version 1.0 C-order file and reports failures the same way. */
void *qnn_npy_read(const char *path, const qnn_tensor_info *t);
int qnn_npy_write(const char *path, const qnn_tensor_info *t, const void *data);

/* The harness's clock (harness/clock_posix.c, arm/clock_cortexm.c):
 * qnn_clock_start prepares it, qnn_clock_ticks reads a monotonic count,
 * qnn_clock_ticks_per_us converts, and qnn_clock_name says which source
 * is in use so that printed figures can be interpreted. */
void qnn_clock_start(void);
uint64_t qnn_clock_ticks(void);
double qnn_clock_ticks_per_us(void);
const char *qnn_clock_name(void);
/* What one tick is, for "MACs per tick": "ns" or "cycle". */
const char *qnn_clock_unit(void);

/* qnnc --profile (profile.c): qnn_harness_profile hands the harness a
 * profiled model's NAME_profile (main.c does when built with
 * -DQNN_MODEL_PROFILE); qnn_profile_begin allocates room for RUNS runs
 * (0: out of memory), qnn_profile_add_run keeps the last run's node times,
 * qnn_profile_report prints the per-node table on stdout (each node's
 * median over the kept runs) and frees it all. */
void qnn_harness_profile(const qnn_profile_info *p);
int qnn_profile_begin(const qnn_profile_info *p, long runs);
void qnn_profile_add_run(void);
void qnn_profile_report(const char *model);

/* What qnn_harness_profile hands harness.c: the table and the three
 * functions above.  harness.c reaches profile.c only through it, so a
 * runner without --profile does not link profile.c at all. */
typedef struct qnn_harness_profiler {
    const qnn_profile_info *info;
    int (*begin)(const qnn_profile_info *p, long runs);
    void (*add_run)(void);
    void (*report)(const char *model);
} qnn_harness_profiler;
extern qnn_harness_profiler qnn_harness_profiling; /* info NULL: not profiled */

/* qnnc --weights=external: the model's four-argument NAME_run, the
 * weights file to load when the command line gives no --weights FILE, and
 * the file's NAME_WEIGHTS_SIZE and NAME_WEIGHTS_FNV1A (main.c calls this
 * when built with -DQNN_MODEL_RUN_WEIGHTS=NAME_run and the others;
 * NAME_info.run is then NULL).  The file is read into a buffer aligned to
 * 64 bytes (NAME_WEIGHTS_ALIGN) and its tables checked once
 * (qnn_check_weights, as NAME_check_weights does) before the first run. */
typedef int (*qnn_run_weights_fn)(const void *const inputs[], void *const outputs[], void *scratch,
                                  const void *weights, size_t weights_size);
void qnn_harness_weights(qnn_run_weights_fn run, const char *default_file, size_t size, uint64_t content_fnv);

#endif /* QNN_HARNESS_H */
