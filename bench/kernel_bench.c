/* kernel_bench - int8 MACs per cycle of the compiled conv/dense kernels on
 * this machine, beside the peak a micro-loop of the same instruction
 * reaches in the same run.
 *
 * Each shape is one node, compiled in-process with codegen_compile for the
 * host CPU (LLVMGetHostCPUName/Features, so the kernels pick VNNI, AVX2,
 * sdot, ... as the machine has them) at -O3, linked into a shared object
 * with `cc -shared` and loaded with dlopen.  The peaks are loops of
 * independent accumulator chains of each int8 dot instruction the host
 * has: vpmaddwd on 16-bit lanes (AVX2, 16 MACs each; the widening form the
 * kernels use without VNNI), vpdpbusd ymm (AVX-VNNI, 32 MACs) and
 * vpdpbusd zmm (AVX-512 VNNI, 64 MACs), else one scalar multiply-add.
 * "of peak" is against the widest one measured (issue 13's yardstick).
 *
 * Cycles: the core cycle counter through perf_event_open when the kernel
 * allows it; otherwise elapsed time x the TSC's nominal frequency
 * (rdtsc ticks), which is reported as such.  Turbo makes TSC "cycles"
 * differ from core cycles, but kernel and peak are measured the same way,
 * so their ratio holds.
 *
 * The glue ops (elementwise, pooling, resize, concat, pad, transpose)
 * follow: bytes moved per second against a same-run memcpy ("glue" below).
 *
 *   build/bench/kernel_bench [runs] [glue|NAME]   (bench/kernel_bench.sh builds and runs it;
 *                                             "glue": only the glue ops; NAME: only the
 *                                             shapes whose names contain it, and
 *                                             depthwise3x3_56x56_128)
 *   build/bench/kernel_bench runs --qir FILE...   every node of each graph, each held to
 *                                             its kind's goal ("layers" below)
 *   build/bench/kernel_bench runs stream     vpdpbusd zmm's rate over weights in L1 and L2,
 *                                             beside plain loads' and the core's clock
 *                                             (stream --qir FILE...: then those layers)
 *   KB_CPU=haswell build/bench/kernel_bench ...  the kernels of that CPU (its features
 *                                             alone, e.g. AVX2 without VNNI on a VNNI
 *                                             host), judged against the widest peak
 *                                             that CPU has; a name LLVM does not know,
 *                                             or a CPU with an ISA this host lacks, is
 *                                             an error (exit 2)
 *                                             (stream: the ceiling of one-pixel layers, below)
 */
#define _GNU_SOURCE
#include "codegen.h"
#include "rewrite.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#endif
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* ------------------------------------------------------------ cycles */

static int perf_fd = -1;

static void cycles_init(void)
{
#if defined(__linux__)
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_HARDWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_HW_CPU_CYCLES;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    perf_fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (perf_fd >= 0)
        ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0);
#endif
}

#if !defined(__x86_64__)
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif

static unsigned long long cycles(void)
{
    if (perf_fd >= 0) {
        unsigned long long v = 0;
        if (read(perf_fd, &v, sizeof v) == sizeof v)
            return v;
    }
#if defined(__x86_64__)
    return __rdtsc();
#else
    return (unsigned long long)(now_s() * 1e9); /* ns: "cycles" at a nominal 1 GHz */
#endif
}

static const char *cycles_kind(void)
{
    if (perf_fd >= 0)
        return "core cycles (perf_event_open)";
#if defined(__x86_64__)
    return "TSC ticks (rdtsc; perf_event_open not permitted)";
#else
    return "nanoseconds at a nominal 1 GHz (no cycle counter)";
#endif
}

/* ------------------------------------------------------------ peak */

#if defined(__x86_64__)
/* N iterations of 8 independent vpmaddwd + vpaddd chains: 8 * 16 MACs. */
__attribute__((target("avx2"))) static void peak_pmaddwd(long n)
{
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
                     "vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n\t"
                     "vpcmpeqd %%ymm9, %%ymm9, %%ymm9\n\t"
                     "1:\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm10\n\t vpaddd %%ymm10, %%ymm0, %%ymm0\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm11\n\t vpaddd %%ymm11, %%ymm1, %%ymm1\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm12\n\t vpaddd %%ymm12, %%ymm2, %%ymm2\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm13\n\t vpaddd %%ymm13, %%ymm3, %%ymm3\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm10\n\t vpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm11\n\t vpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm12\n\t vpaddd %%ymm12, %%ymm6, %%ymm6\n\t"
                     "vpmaddwd %%ymm9, %%ymm8, %%ymm13\n\t vpaddd %%ymm13, %%ymm7, %%ymm7\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13", "cc");
}

/* 8 independent {vex} vpdpbusd chains: 8 * 32 MACs per iteration. */
__attribute__((target("avx2"))) static void peak_vpdpbusd(long n)
{
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
                     "vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n\t"
                     "1:\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm0\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm1\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm2\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm3\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm4\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm5\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm6\n\t"
                     "%{vex%} vpdpbusd %%ymm8, %%ymm8, %%ymm7\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "cc");
}

/* 12 independent EVEX vpdpbusd zmm chains: 12 * 64 MACs per iteration
 * (AVX-512 VNNI; 12 chains cover a 6-cycle latency at 2 per cycle). */
__attribute__((target("avx512f,avx512vnni"))) static void peak_vpdpbusd_zmm(long n)
{
    __asm__ volatile("vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16\n\t"
                     "1:\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm0\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm1\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm2\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm3\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm4\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm5\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm6\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm7\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm8\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm9\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm10\n\t"
                     "vpdpbusd %%zmm16, %%zmm16, %%zmm11\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm16", "cc");
}

/* One pass of OP (zmm) over N bytes at W (a multiple of 1 KiB), each 64
 * bytes a memory operand, into 16 independent chains. */
#define STREAM_STEP(off, r) OP " " #off "(%0), %%zmm16, %%zmm" #r "\n\t"
#define STREAM_PASS(w, n)                                                                                       \
    __asm__ volatile("vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16\n\t"                                          \
                     "1:\n\t"                                                                                   \
                     STREAM_STEP(0, 0) STREAM_STEP(64, 1) STREAM_STEP(128, 2) STREAM_STEP(192, 3)               \
                     STREAM_STEP(256, 4) STREAM_STEP(320, 5) STREAM_STEP(384, 6) STREAM_STEP(448, 7)            \
                     STREAM_STEP(512, 8) STREAM_STEP(576, 9) STREAM_STEP(640, 10) STREAM_STEP(704, 11)          \
                     STREAM_STEP(768, 12) STREAM_STEP(832, 13) STREAM_STEP(896, 14) STREAM_STEP(960, 15)        \
                     "add $1024, %0\n\t"                                                                        \
                     "sub $1024, %1\n\t"                                                                        \
                     "jnz 1b\n\t"                                                                               \
                     "vzeroupper"                                                                               \
                     : "+r"(w), "+r"(n)                                                                         \
                     :                                                                                          \
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                       "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "cc", "memory")

/* vpdpbusd zmm with the weights as memory operands: what a layer of one
 * pixel does, where each weight byte is one MAC read once a call. */
__attribute__((target("avx512f,avx512vnni"))) static void stream_vpdpbusd_zmm(const char *w, long n)
{
#define OP "vpdpbusd"
    STREAM_PASS(w, n);
#undef OP
}

/* The same pass with plain loads (vpord, no multiply): the rate at which
 * the core takes bytes from that level of the cache, the bound of any
 * one-pixel layer. */
__attribute__((target("avx512f"))) static void stream_load_zmm(const char *w, long n)
{
#define OP "vpord"
    STREAM_PASS(w, n);
#undef OP
}

/* N x 8 dependent adds (one cycle each): core cycles = 8N. */
static void add_chain(long n)
{
    long a = 0;
    __asm__ volatile("1:\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "dec %1\n\t"
                     "jnz 1b"
                     : "+r"(a), "+r"(n)
                     :
                     : "cc");
}
#endif

static void peak_scalar(long n)
{
    volatile int32_t a = 3, b = 5;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (long i = 0; i < n; i++) {
        int32_t x = a, y = b;
        s0 += x * y, s1 += x * (y + 1), s2 += (x + 1) * y, s3 += (x + 2) * y;
    }
    a = s0 + s1 + s2 + s3;
}

/* The micro-loops this host can run, narrowest first: the kernels' %
 * of peak is against the last (widest) one. */
typedef struct Peak {
    const char *name;
    void (*fn)(long);
    double macs_per_iter;
    double mpc; /* measured MACs per cycle */
} Peak;

static double peak_run(const Peak *p)
{
    /* Many short runs, the best: on a shared machine some run uninterrupted. */
    long n = 200000;
    double best = 0;
    for (int r = 0; r < 40; r++) {
        unsigned long long c0 = cycles();
        p->fn(n);
        unsigned long long c1 = cycles();
        double v = p->macs_per_iter * (double)n / (double)(c1 - c0);
        if (v > best)
            best = v;
    }
    return best;
}

/* Without KB_CPU, true; with it, whether that CPU has FEATURE. */
static bool kb_cpu_has(const char *feature)
{
    const char *kb = getenv("KB_CPU");
    return !kb || !*kb || target_has_feature(config_host_triple(), kb, "", feature);
}

/* KB_CPU must be a CPU LLVM knows for the host's triple, and one whose
 * kernels this host can run: a feature the kernels use that the named CPU
 * has and the host lacks would trap on the first call. */
static bool kb_cpu_valid(const char *kb)
{
    const char *triple = config_host_triple();
    const char *const *cpus = codegen_target_names(triple, false);
    bool known = false;
    for (int i = 0; cpus && cpus[i] && !known; i++)
        known = strcmp(cpus[i], kb) == 0;
    if (!known) {
        fprintf(stderr, "kernel_bench: KB_CPU=%s: not a CPU LLVM knows for %s (qnnc -mcpu=help lists them)\n", kb,
                triple);
        return false;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    const struct {
        const char *name;
        bool host;
    } isa[] = {{"avx2", __builtin_cpu_supports("avx2")},
               {"avxvnni", __builtin_cpu_supports("avxvnni")},
               {"avx512f", __builtin_cpu_supports("avx512f")},
               {"avx512bw", __builtin_cpu_supports("avx512bw")},
               {"avx512vnni", __builtin_cpu_supports("avx512vnni")},
               {"avx512vbmi", __builtin_cpu_supports("avx512vbmi")}};
    for (size_t i = 0; i < sizeof isa / sizeof *isa; i++)
        if (!isa[i].host && target_has_feature(triple, kb, "", isa[i].name)) {
            fprintf(stderr, "kernel_bench: KB_CPU=%s: this host lacks %s, which that CPU's kernels use\n", kb,
                    isa[i].name);
            return false;
        }
#endif
    return true;
}

static int peaks(Peak *out)
{
    int n = 0;
    out[n++] = (Peak){"scalar multiply-add", peak_scalar, 4, 0};
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && kb_cpu_has("avx2"))
        out[n++] = (Peak){"vpmaddwd ymm (+ vpaddd)", peak_pmaddwd, 8 * 16, 0};
    if (__builtin_cpu_supports("avxvnni") && kb_cpu_has("avxvnni"))
        out[n++] = (Peak){"vpdpbusd ymm", peak_vpdpbusd, 8 * 32, 0};
    if (__builtin_cpu_supports("avx512vnni") && kb_cpu_has("avx512vnni"))
        out[n++] = (Peak){"vpdpbusd zmm", peak_vpdpbusd_zmm, 12 * 64, 0};
#endif
    for (int i = 0; i < n; i++)
        out[i].mpc = peak_run(&out[i]);
    return n;
}

/* `kernel_bench RUNS stream`: the rate at which vpdpbusd zmm takes its
 * weights from memory operands over buffers of 16 KiB to 768 KiB (L1, then
 * L2 on a 48 KiB-L1, 1 MiB-L2 core), best of RUNS passes, in bytes (= MACs
 * of a one-pixel layer) per cycle and as a share of the same run's peak:
 * the ceiling of a layer whose every weight is used once. */
static int stream_rates(int runs, double peak)
{
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx512vnni")) {
        printf("stream: needs AVX-512 VNNI\n");
        return 0;
    }
    static const long sizes[] = {16 << 10, 36 << 10, 80 << 10, 128 << 10, 192 << 10, 408 << 10, 768 << 10};
    char *w = aligned_alloc(64, 768 << 10);
    if (!w)
        return 1;
    memset(w, 1, 768 << 10);
    /* Core cycles a cycle of the counter: a chain of dependent adds (1
     * when the counter is the core's). */
    double cpt = 0;
    for (int r = 0; r < 40; r++) {
        unsigned long long c0 = cycles();
        add_chain(100000);
        double v = 800000.0 / (double)(cycles() - c0);
        cpt = v > cpt ? v : cpt;
    }
    printf("\ncore cycles a counter cycle: %.2f (dependent adds)\n", cpt);
    printf("\n%-10s %16s %10s %16s %16s\n", "weights", "bytes per cycle", "of peak", "per core cycle",
           "loads alone");
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned long long best = ~0ull, bestl = ~0ull;
        for (int r = 0; r < runs; r++) {
            unsigned long long c0 = cycles();
            for (int k = 0; k < 10; k++)
                stream_vpdpbusd_zmm(w, sizes[i]);
            unsigned long long c = cycles() - c0;
            best = c < best ? c : best;
            c0 = cycles();
            for (int k = 0; k < 10; k++)
                stream_load_zmm(w, sizes[i]);
            c = cycles() - c0;
            bestl = c < bestl ? c : bestl;
        }
        double bpc = 10.0 * (double)sizes[i] / (double)best, lpc = 10.0 * (double)sizes[i] / (double)bestl;
        printf("%6ld KiB %16.1f %9.0f%% %16.1f %16.1f\n", sizes[i] >> 10, bpc, 100 * bpc / peak, bpc / cpt, lpc / cpt);
    }
    free(w);
#else
    (void)runs, (void)peak;
    printf("stream: x86-64 only\n");
#endif
    return 0;
}

/* ------------------------------------------------------------ models */

typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;

static void bprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n + 64;
        b->s = realloc(b->s, b->cap);
    }
}

static uint32_t rng = 12345;
static int rnd8(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (int)(rng >> 24) - 128;
}

static void consts(Buf *b, int64_t n)
{
    bprintf(b, "[");
    for (int64_t i = 0; i < n; i++)
        bprintf(b, i ? ", %d" : "%d", rnd8());
    bprintf(b, "]");
}

typedef struct Shape {
    const char *name;
    int64_t h, w, c, o, k, pad, group; /* conv: input HxWxC, O filters of KxK; dense: h rows, c -> o */
    bool dense;
    bool matmul; /* dense's shape as matmul(x, w) with w[c, o] a constant */
    int64_t stride; /* conv: both strides (0: 1); the output is ceil(H/stride) x ceil(W/stride), pads
                     * [0, 0, pad, pad] for a stride of 2 as TensorFlow's SAME does (M-LSD's stem) */
    bool perch; /* conv: per-channel weight scales (0.005-0.02) and an output scale of 0.08, so the
                 * outputs span most of the int8 range as a calibrated model's do (else one output
                 * scale of 8.0: most outputs near 0) */
} Shape;

static int64_t shape_stride(const Shape *s) { return s->stride > 1 ? s->stride : 1; }
static int64_t shape_oh(const Shape *s) { return (s->h + shape_stride(s) - 1) / shape_stride(s); }
static int64_t shape_ow(const Shape *s) { return (s->w + shape_stride(s) - 1) / shape_stride(s); }

static int64_t shape_macs(const Shape *s)
{
    if (s->dense)
        return s->h * s->c * s->o;
    return shape_oh(s) * shape_ow(s) * s->o * s->k * s->k * (s->c / s->group);
}

static char *shape_qir(const Shape *s, int64_t *in_bytes, int64_t *out_bytes)
{
    Buf b = {0};
    bprintf(&b, "graph @kb {\n");
    if (s->matmul) {
        bprintf(&b, "  input %%x : i8[%lld,%lld] q(0.05, -3)\n", (long long)s->h, (long long)s->c);
        bprintf(&b, "  const %%w : i8[%lld,%lld] q(0.01, 0) = ", (long long)s->c, (long long)s->o);
        consts(&b, s->o * s->c);
        bprintf(&b, "\n  %%y = matmul(%%x, %%w) {rounding=tflite} : i8[%lld,%lld] q(8.0, 0)\n", (long long)s->h,
                (long long)s->o);
        *in_bytes = s->h * s->c, *out_bytes = s->h * s->o;
    } else if (s->dense) {
        bprintf(&b, "  input %%x : i8[%lld,%lld] q(0.05, -3)\n", (long long)s->h, (long long)s->c);
        bprintf(&b, "  const %%w : i8[%lld,%lld] q(0.01, 0) = ", (long long)s->o, (long long)s->c);
        consts(&b, s->o * s->c);
        bprintf(&b, "\n  %%y = dense(%%x, %%w) {rounding=tflite} : i8[%lld,%lld] q(8.0, 0)\n", (long long)s->h,
                (long long)s->o);
        *in_bytes = s->h * s->c, *out_bytes = s->h * s->o;
    } else {
        int64_t cg = s->c / s->group;
        bprintf(&b, "  input %%x : i8[1,%lld,%lld,%lld] q(0.05, -3)\n", (long long)s->h, (long long)s->w,
                (long long)s->c);
        bprintf(&b, "  const %%w : i8[%lld,%lld,%lld,%lld] ", (long long)s->o, (long long)s->k, (long long)s->k,
                (long long)cg);
        if (s->perch) {
            bprintf(&b, "q(axis=0, scales=[");
            for (int64_t o = 0; o < s->o; o++)
                bprintf(&b, o ? ", %.5f" : "%.5f", 0.005 + 0.015 * (double)(rnd8() + 128) / 255);
            bprintf(&b, "], zero_points=[");
            for (int64_t o = 0; o < s->o; o++)
                bprintf(&b, o ? ", 0" : "0");
            bprintf(&b, "]) = ");
        } else {
            bprintf(&b, "q(0.01, 0) = ");
        }
        consts(&b, s->o * s->k * s->k * cg);
        int64_t st = shape_stride(s), pb = st > 1 ? 0 : s->pad; /* pads top/left */
        bprintf(&b,
                "\n  %%y = conv2d(%%x, %%w) {pads=[%lld, %lld, %lld, %lld], strides=[%lld, %lld], group=%lld, "
                "rounding=tflite} : i8[1,%lld,%lld,%lld] q(%s, 0)\n",
                (long long)pb, (long long)pb, (long long)s->pad, (long long)s->pad, (long long)st, (long long)st,
                (long long)s->group, (long long)shape_oh(s), (long long)shape_ow(s), (long long)s->o,
                s->perch ? "0.08" : "8.0");
        *in_bytes = s->h * s->w * s->c, *out_bytes = shape_oh(s) * shape_ow(s) * s->o;
    }
    bprintf(&b, "  output %%y\n}\n");
    return b.s;
}

typedef int (*RunFn)(const void *const *, void *const *, void *);

static bool build_so(const Shape *s, const char *dir, const char *cpu, const char *features, RunFn *run,
                     int64_t *scratch, int64_t *in_bytes, int64_t *out_bytes)
{
    char *text = shape_qir(s, in_bytes, out_bytes);
    Graph *g = ir_parse(s->name, text, strlen(text));
    free(text);
    if (!g || !ir_verify(g))
        return false;
    CodegenOptions o = {.name = "kb", .triple = config_host_triple(), .cpu = cpu, .features = features,
                        .opt_level = 3};
    CodegenOutput out;
    if (!codegen_compile(g, &o, CG_WANT_OBJ, &out))
        return false;
    *scratch = out.plan.scratch_size;
    char obj[512], so[512], cmd[1200];
    snprintf(obj, sizeof obj, "%s/%s.o", dir, s->name);
    snprintf(so, sizeof so, "%s/%s.so", dir, s->name);
    FILE *f = fopen(obj, "wb");
    if (!f || fwrite(out.obj, 1, out.obj_len, f) != out.obj_len || fclose(f) != 0)
        return false;
    codegen_output_free(&out);
    snprintf(cmd, sizeof cmd, "cc -shared -o %s %s", so, obj);
    if (system(cmd) != 0)
        return false;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "kernel_bench: %s\n", dlerror());
        return false;
    }
    *run = (RunFn)(uintptr_t)dlsym(h, "kb_run");
    return *run != NULL;
}

/* ------------------------------------------------------------ glue */

/* The ops between the convs (elementwise, pooling, resize, concat, pad,
 * transpose) at shapes from the zoo models (bench/zoo.sh), each one node
 * of int8 QIR.  They do little arithmetic per byte, so the figure is bytes
 * moved (every input read once plus the output written) per second,
 * beside a memcpy of the same total (half read, half written) measured in
 * the same run on buffers of the same size. */
typedef struct GlueCase {
    const char *name;
    const char *qir; /* "@T" becomes 256 random i8 (a lut's table) */
} GlueCase;

static const GlueCase glue_cases[] = {
    /* mobilenetv3_64: hard-swish as a table, the squeeze-excite scale,
     * residual add, global average pool. */
    {"lut_8x8x576", "  input %x : i8[1,8,8,576] q(0.05, 3)\n  const %t : i8[256] = @T\n"
                    "  %y = lut(%x, %t) : i8[1,8,8,576] q(0.04, -118)\n"},
    {"lut_32x32x16", "  input %x : i8[1,32,32,16] q(0.05, 3)\n  const %t : i8[256] = @T\n"
                     "  %y = lut(%x, %t) : i8[1,32,32,16] q(0.04, -118)\n"},
    {"add_16x16x32", "  input %a : i8[1,16,16,32] q(0.08, -3)\n  input %b : i8[1,16,16,32] q(0.07, 5)\n"
                     "  %y = add(%a, %b) {rounding=tflite} : i8[1,16,16,32] q(0.09, -3)\n"},
    {"add_relu_8x8x96", "  input %a : i8[1,8,8,96] q(0.08, -3)\n  input %b : i8[1,8,8,96] q(0.07, 5)\n"
                        "  %y = add(%a, %b) {rounding=tflite, act_min=0} : i8[1,8,8,96] q(0.09, -128)\n"},
    {"mul_se_8x8x576", "  input %a : i8[1,8,8,576] q(0.05, -118)\n  input %b : i8[1,1,1,576] q(0.004, -128)\n"
                       "  %y = mul(%a, %b) {rounding=tflite} : i8[1,8,8,576] q(0.035, -118)\n"},
    {"mul_16x16x16", "  input %a : i8[1,16,16,16] q(0.05, -118)\n  input %b : i8[1,16,16,16] q(0.004, -128)\n"
                     "  %y = mul(%a, %b) {rounding=tflite} : i8[1,16,16,16] q(0.019, -128)\n"},
    {"gavgpool_8x8x576", "  input %x : i8[1,8,8,576] q(0.05, -118)\n"
                         "  %y = global_avg_pool(%x) {rounding=tflite} : i8[1,1,1,576] q(0.02, -111)\n"},
    /* oww_embedding: max of two tensors at its first layers' shape, with
     * scales that differ (each operand through a table), that agree (a
     * plain byte max), and against a broadcast scalar. */
    {"max_74x32x24", "  input %a : i8[1,74,32,24] q(0.13, -92)\n  input %b : i8[1,74,32,24] q(0.12, -90)\n"
                     "  %y = max(%a, %b) : i8[1,74,32,24] q(0.115, -125)\n"},
    {"max_same_74x32x24", "  input %a : i8[1,74,32,24] q(0.13, -92)\n  input %b : i8[1,74,32,24] q(0.13, -92)\n"
                          "  %y = max(%a, %b) : i8[1,74,32,24] q(0.13, -92)\n"},
    {"min_bcast_74x32x24", "  input %a : i8[1,74,32,24] q(0.13, -92)\n  input %b : i8[1] q(0.0016, 127)\n"
                           "  %y = min(%a, %b) : i8[1,74,32,24] q(0.115, -125)\n"},
    /* unet: 2x2 max pool, resize x2 (nearest and bilinear), channel
     * concat; ConvTranspose's pad. */
    {"maxpool2_32x32x16", "  input %x : i8[1,32,32,16] q(0.05, -128)\n"
                          "  %y = max_pool(%x) {kernel=[2, 2], strides=[2, 2]} : i8[1,16,16,16] q(0.05, -128)\n"},
    {"avgpool3s2_16x16x32", "  input %x : i8[1,16,16,32] q(0.05, -128)\n"
                            "  %y = avg_pool(%x) {kernel=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], rounding=tflite} "
                            ": i8[1,8,8,32] q(0.05, -128)\n"},
    {"resize_nearest_16x16x32", "  input %x : i8[1,16,16,32] q(0.05, -128)\n"
                                "  %y = resize(%x) {coord=asymmetric, nearest=floor} : i8[1,32,32,32] q(0.05, -128)\n"},
    {"resize_linear_16x16x32", "  input %x : i8[1,16,16,32] q(0.05, -128)\n"
                               "  %y = resize(%x) {interp=linear} : i8[1,32,32,32] q(0.05, -128)\n"},
    {"concat_32x32x16+16", "  input %a : i8[1,32,32,16] q(0.05, -128)\n  input %b : i8[1,32,32,16] q(0.05, -128)\n"
                           "  %y = concat(%a, %b) {axis=3} : i8[1,32,32,32] q(0.05, -128)\n"},
    /* U-Net's decoder concat: both operands rescale (kernel_concat.c). */
    {"concat_q_32x32x8+8", "  input %a : i8[1,32,32,8] q(0.05, -128)\n  input %b : i8[1,32,32,8] q(0.03, -100)\n"
                           "  %y = concat(%a, %b) {axis=3, rounding=tflite} : i8[1,32,32,16] q(0.04, -128)\n"},
    {"pad1_32x32x16", "  input %x : i8[1,32,32,16] q(0.05, -128)\n"
                      "  %y = pad(%x) {pads=[0, 1, 1, 0, 0, 1, 1, 0]} : i8[1,34,34,16] q(0.05, -128)\n"},
    /* vit: attention's softmax over 49 tokens (4 heads), tflite rounding
     * (a reciprocal per row, a table exponential per element); its
     * residual add at [49, 64]. */
    {"softmax_4x49x49", "  input %x : i8[1,4,49,49] q(0.08, 3)\n"
                        "  %y = softmax(%x) {axis=-1, rounding=tflite} : i8[1,4,49,49] q(0.00390625, -128)\n"},
    {"add_49x64", "  input %a : i8[1,49,64] q(0.08, -3)\n  input %b : i8[1,49,64] q(0.07, 5)\n"
                  "  %y = add(%a, %b) {rounding=tflite} : i8[1,49,64] q(0.09, -3)\n"},
    {"sub_16x16x32", "  input %a : i8[1,16,16,32] q(0.08, -3)\n  input %b : i8[1,16,16,32] q(0.07, 5)\n"
                     "  %y = sub(%a, %b) {rounding=tflite} : i8[1,16,16,32] q(0.1, 2)\n"},
    /* vit: heads out of [tokens, heads, dim] and the NCHW output. */
    {"transpose_65x4x16", "  input %x : i8[65,4,16] q(0.05, -3)\n"
                          "  %y = transpose(%x) {perm=[1, 0, 2]} : i8[4,65,16] q(0.05, -3)\n"},
    /* M-LSD: the float32 input's quantize (320x320x4 there; its f32 input
     * is filled with values in [-4, 4), not random bytes), and a model's
     * dequantized output. */
    {"quantize_80x80x4", "  input %x : f32[1,80,80,4]\n  %y = quantize(%x) : i8[1,80,80,4] q(0.0078125, -1)\n"},
    {"quantize_tflite_80x80x4",
     "  input %x : f32[1,80,80,4]\n  %y = quantize(%x) {rounding=tflite} : u8[1,80,80,4] q(0.03, 128)\n"},
    {"dequantize_16x16x32", "  input %x : i8[1,16,16,32] q(0.05, -3)\n  %y = dequantize(%x) : f32[1,16,16,32]\n"},
    /* M-LSD tiny 320's decoder: its 1-channel 3x3 max pool (peak
     * suppression), its three bilinear 2x resizes, the two channel slices
     * of the 160x160x16 map. */
    {"maxpool3p1_160x160x1", "  input %x : i8[1,160,160,1] q(0.004, -128)\n"
                             "  %y = max_pool(%x) {kernel=[3, 3], pads=[1, 1, 1, 1]} : i8[1,160,160,1] q(0.004, -128)\n"},
    {"resize_linear_20x20x64", "  input %x : i8[1,20,20,64] q(0.5, 4)\n"
                               "  %y = resize(%x) {interp=linear} : i8[1,40,40,64] q(0.5, 4)\n"},
    {"resize_linear_40x40x64", "  input %x : i8[1,40,40,64] q(0.13, -128)\n"
                               "  %y = resize(%x) {interp=linear} : i8[1,80,80,64] q(0.13, -128)\n"},
    {"resize_linear_80x80x16", "  input %x : i8[1,80,80,16] q(1.3, 1)\n"
                               "  %y = resize(%x) {interp=linear} : i8[1,160,160,16] q(1.3, 1)\n"},
    {"slice_160x160x16_c8+4", "  input %x : i8[1,160,160,16] q(1.3, 1)\n"
                              "  %y = slice(%x) {starts=[0, 0, 0, 8]} : i8[1,160,160,4] q(1.3, 1)\n"},
    {"slice_160x160x16_c7+1", "  input %x : i8[1,160,160,16] q(1.3, 1)\n"
                              "  %y = slice(%x) {starts=[0, 0, 0, 7]} : i8[1,160,160,1] q(1.3, 1)\n"},
    /* Fashion-MNIST's head: 2x2 max pool, 2x2 average pool, NCHW out. */
    {"maxpool2_14x14x32", "  input %x : i8[1,14,14,32] q(0.04, -128)\n"
                          "  %y = max_pool(%x) {kernel=[2, 2], strides=[2, 2]} : i8[1,7,7,32] q(0.04, -128)\n"},
    {"avgpool2_7x7x64", "  input %x : i8[1,7,7,64] q(0.02, -128)\n"
                        "  %y = avg_pool(%x) {kernel=[2, 2], strides=[2, 2], rounding=tflite} : i8[1,3,3,64] q(0.02, -128)\n"},
    {"transpose_nhwc_nchw_8x8x64", "  input %x : i8[1,8,8,64] q(0.05, -3)\n"
                                   "  %y = transpose(%x) {perm=[0, 3, 1, 2]} : i8[1,64,8,8] q(0.05, -3)\n"},
};

static char *glue_qir(const GlueCase *gc)
{
    Buf b = {0};
    bprintf(&b, "graph @kb {\n");
    for (const char *p = gc->qir; *p; p++) {
        if (p[0] == '@' && p[1] == 'T') {
            consts(&b, 256);
            p++;
        } else {
            bprintf(&b, "%c", *p);
        }
    }
    bprintf(&b, "  output %%y\n}\n");
    return b.s;
}

/* Compiles CASE into DIR/NAME.so and returns its run function; the graph
 * stays alive for its signature. */
static RunFn build_graph(Graph *g, const char *name, const char *dir, const char *cpu, const char *features,
                         int64_t *scratch)
{
    CodegenOptions o = {.name = "kb", .triple = config_host_triple(), .cpu = cpu, .features = features,
                        .opt_level = 3};
    CodegenOutput out;
    if (!codegen_compile(g, &o, CG_WANT_OBJ, &out))
        return NULL;
    *scratch = out.plan.scratch_size;
    char obj[512], so[512], cmd[1200];
    snprintf(obj, sizeof obj, "%s/%s.o", dir, name);
    snprintf(so, sizeof so, "%s/%s.so", dir, name);
    FILE *f = fopen(obj, "wb");
    if (!f || fwrite(out.obj, 1, out.obj_len, f) != out.obj_len || fclose(f) != 0)
        return NULL;
    codegen_output_free(&out);
    snprintf(cmd, sizeof cmd, "cc -shared -o '%s' '%s'", so, obj);
    if (system(cmd) != 0)
        return NULL;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "kernel_bench: %s\n", dlerror());
        return NULL;
    }
    return (RunFn)(uintptr_t)dlsym(h, "kb_run");
}

static RunFn build_glue(const char *text, const char *name, const char *dir, const char *cpu, const char *features,
                        Graph **gout, int64_t *scratch)
{
    Graph *g = ir_parse(name, text, strlen(text));
    if (!g || !ir_verify(g))
        return NULL;
    *gout = g;
    return build_graph(g, name, dir, cpu, features, scratch);
}

static int64_t value_bytes(const Value *v)
{
    return type_numel(&v->type) * dtype_traits[v->type.dtype].size;
}

/* N bytes (and some slack) aligned to 64; C11's aligned_alloc wants a
 * size that is a multiple of the alignment. */
static void *alloc64(int64_t n)
{
    return aligned_alloc(64, (size_t)((n + 127) / 64 * 64));
}

/* Best-of-RUNS ticks of memcpy of N bytes (2N moved) between two buffers
 * that were just written (so both are in cache, as the glue's are). */
static unsigned long long memcpy_ticks(int64_t n, int runs)
{
    char *s = alloc64(n), *d = alloc64(n);
    memset(s, 1, (size_t)n);
    memset(d, 2, (size_t)n);
    unsigned long long best = ~0ull;
    for (int r = 0; r < runs; r++) {
        unsigned long long c0 = cycles();
        memcpy(d, s, (size_t)n);
        __asm__ volatile("" : : "r"(d) : "memory");
        unsigned long long c = cycles() - c0;
        if (c < best)
            best = c;
    }
    free(s);
    free(d);
    return best;
}

static double ticks_per_s(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    unsigned long long c0 = cycles();
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9 < 0.05);
    unsigned long long c1 = cycles();
    return (double)(c1 - c0) / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
}

/* One compiled graph's buffers: random inputs (f32 ones in [-4, 4)), the
 * output, the scratch; BYTES is every input and the output. */
typedef struct Operands {
    const void *ins[16];
    void *outs[1];
    void *sc;
    int nin;
    int64_t bytes;
} Operands;

static void operands_new(const Graph *g, int64_t scratch, Operands *o)
{
    o->nin = g->inputs.len < 16 ? g->inputs.len : 16;
    o->bytes = 0;
    for (int k = 0; k < o->nin; k++) {
        const Value *v = g->inputs.data[k];
        int64_t nb = value_bytes(v);
        int8_t *x = alloc64(nb);
        for (int64_t j = 0; j < nb; j++)
            x[j] = (int8_t)rnd8();
        if (v->type.dtype == DT_F32)
            for (int64_t j = 0; j < nb / 4; j++)
                ((float *)x)[j] = (float)(rnd8() & 0xff) / 32.0f - 4.0f;
        o->ins[k] = x;
        o->bytes += nb;
    }
    int64_t ob = value_bytes(g->outputs.data[0]);
    o->bytes += ob;
    o->outs[0] = alloc64(ob);
    o->sc = alloc64(scratch);
}

static void operands_free(Operands *o)
{
    for (int k = 0; k < o->nin; k++)
        free((void *)o->ins[k]);
    free(o->outs[0]);
    free(o->sc);
}

/* Best of RUNS calls, after one to warm up. */
static unsigned long long best_ticks(RunFn run, Operands *o, int runs)
{
    run(o->ins, o->outs, o->sc);
    unsigned long long best = ~0ull;
    for (int r = 0; r < runs; r++) {
        unsigned long long c0 = cycles();
        run(o->ins, o->outs, o->sc);
        unsigned long long c = cycles() - c0;
        if (c < best)
            best = c;
    }
    return best;
}

/* Runs every glue case; returns nonzero when one failed to compile. */
static int run_glue(const char *dir, const char *cpu, const char *features, int runs)
{
    double tps = ticks_per_s();
    int rc = 0;
    printf("\n%-28s %8s %10s %10s %10s %8s\n", "glue (bytes read+written)", "bytes", "ticks", "MB/s",
           "memcpy MB/s", "of memcpy");
    for (size_t i = 0; i < sizeof glue_cases / sizeof *glue_cases; i++) {
        const GlueCase *gc = &glue_cases[i];
        char *text = glue_qir(gc);
        Graph *g = NULL;
        int64_t scratch = 0;
        RunFn run = build_glue(text, gc->name, dir, cpu, features, &g, &scratch);
        free(text);
        if (!run) {
            fprintf(stderr, "kernel_bench: %s: could not compile\n", gc->name);
            rc = 1;
            continue;
        }
        Operands o;
        operands_new(g, scratch, &o);
        int64_t bytes = o.bytes;
        unsigned long long best = best_ticks(run, &o, runs * 20);
        unsigned long long mc = memcpy_ticks(bytes / 2, runs * 20);
        double mbs = (double)bytes / ((double)best / tps) / 1e6, mmbs = (double)(bytes / 2 * 2) / ((double)mc / tps) / 1e6;
        printf("%-28s %8lld %10llu %10.0f %10.0f %7.0f%%\n", gc->name, (long long)bytes, best, mbs, mmbs,
               100 * mbs / mmbs);
        operands_free(&o);
        graph_free(g);
    }
    return rc;
}

/* Whether NAME contains one of the comma-separated strings of ONLY. */
static bool matches(const char *name, const char *only)
{
    for (const char *p = only; *p;) {
        size_t n = strcspn(p, ",");
        char part[64];
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        if (n && strstr(name, part))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* ------------------------------------------------------------ layers */

/* `kernel_bench RUNS --qir FILE`: every node of a model's quantized graph
 * (bench/zoo.sh keeps each model's in WORK/NAME/q.qir) compiled alone, as
 * one node whose non-constant operands become inputs (random bytes; f32
 * in [-4, 4)), and measured as the shapes and the glue cases above are:
 * best of the runs, in the same run as the peak and a memcpy of the same
 * total.  Each node is held to issue 13's goal for its kind:
 *   conv     conv2d/dense/matmul with >= 32 input channels (per group) and
 *            >= 32 outputs: 70% of the widest dot peak;
 *   dw       depthwise conv2d: 40%;
 *   stem     conv2d with 1-4 input channels per group: 30%;
 *   narrow   the other MAC layers: no goal (listed);
 *   norm     softmax and layer_norm: row normalizations, which issue 13's
 *            byte-rate goal (elementwise, pooling, resize, concat) does
 *            not name: listed with their % of memcpy's rate, not judged
 *            (docs/benchmarks.md, session 15: an exact row of 49 or 64
 *            takes dozens of vector steps, a memcpy of it one or two);
 *   glue     every other op but reshape (free): bytes read + written at
 *            50% of memcpy's rate.
 * Best of RUNS calls, so the operands are in cache, as the previous node
 * usually leaves them in the model.  Columns: "per tick" is MACs (MAC
 * kinds) or bytes read + written (glue, norm) per TSC tick; "of goal" is
 * the node's fraction of its goal (100% meets it; for narrow, norm and
 * tiny nodes, % of the peak or of memcpy).
 * A node under 100 ticks is listed, not judged: that is mostly the clock's
 * own cost. */
typedef enum { LK_FREE, LK_CONV, LK_DW, LK_STEM, LK_NARROW, LK_NORM, LK_GLUE, LK_COUNT } LayerKind;

static const struct {
    const char *name;
    double goal; /* fraction of peak (MAC kinds) or of memcpy (glue); 0: none */
} layer_kinds[LK_COUNT] = {
    [LK_FREE] = {"free", 0},   [LK_CONV] = {"conv", 0.70},     [LK_DW] = {"dw", 0.40},
    [LK_STEM] = {"stem", 0.30}, [LK_NARROW] = {"narrow", 0}, [LK_NORM] = {"norm", 0},
    [LK_GLUE] = {"glue", 0.50},
};

static LayerKind layer_kind(const Node *n, int64_t *macs)
{
    const TensorType *x = &n->operands[0]->type, *y = &n->result->type;
    int64_t out = type_numel(y), k, o;
    *macs = 0;
    switch (n->op) {
    case OP_CONV2D: {
        const TensorType *w = &n->operands[1]->type; /* [O, KH, KW, C/group] */
        int64_t group = node_int(n, ATTR_GROUP, 1), c = x->dims[x->rank - 1];
        *macs = out * w->dims[1] * w->dims[2] * w->dims[3];
        if (group > 1 && group == c)
            return LK_DW;
        k = w->dims[3], o = w->dims[0];
        if (k <= 4)
            return LK_STEM;
        break;
    }
    case OP_DENSE: case OP_MATMUL:
        k = x->dims[x->rank - 1], o = y->dims[y->rank - 1];
        *macs = out * k;
        break;
    case OP_RESHAPE:
        return LK_FREE;
    case OP_SOFTMAX: case OP_LAYER_NORM:
        return LK_NORM;
    default:
        return LK_GLUE;
    }
    return k >= 32 && o >= 32 ? LK_CONV : LK_NARROW;
}

/* N alone: its operands (constants stay constants) and N (graph_clone_node). */
static Graph *node_graph(const Node *n)
{
    Graph *g = graph_new("layer");
    graph_add_output(g, graph_clone_node(g, n)->result);
    return g;
}

/* The kernel the object's per-node symbol names (NAME_run.NODE.KERNEL). */
static void kernel_of(const char *obj, char *out, size_t cap)
{
    char cmd[700], line[512];
    snprintf(cmd, sizeof cmd, "nm '%s' 2>/dev/null", obj);
    snprintf(out, cap, "generic");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    while (fgets(line, sizeof line, p)) {
        char *k = strstr(line, " kb_run."), *dot = k ? strchr(k + 8, '.') : NULL;
        if (dot) {
            dot[strcspn(dot, "\r\n")] = 0;
            snprintf(out, cap, "%s", dot + 1);
        }
    }
    pclose(p);
}

static int run_layers(const char *path, const char *dir, const char *cpu, const char *features, int runs,
                      double peak)
{
    static int graphs;
    graphs++;
    Graph *model = ir_parse_file(path);
    if (!model || !ir_verify(model)) {
        fprintf(stderr, "kernel_bench: %s: cannot read the graph\n", path);
        return 1;
    }
    double tps = ticks_per_s();
    int met[LK_COUNT] = {0}, seen[LK_COUNT] = {0}, judged[LK_COUNT] = {0}, tinies = 0, rc = 0;
    double worst[LK_COUNT];
    for (int k = 0; k < LK_COUNT; k++)
        worst[k] = 1e9;
    printf("\nlayers of %s (goal: conv 70%%, dw 40%%, stem 30%% of the peak; glue 50%% of memcpy; norm none)\n",
           path);
    printf("%4s  %-40s %-16s %-6s %-34s %10s %10s %8s %6s\n", "#", "node", "op", "kind", "kernel", "ticks",
           "per tick", "of goal", "met");
    for (int i = 0; i < model->nodes.len; i++) {
        const Node *n = model->nodes.data[i];
        int64_t macs;
        LayerKind kind = layer_kind(n, &macs);
        if (kind == LK_FREE)
            continue;
        Graph *g = node_graph(n);
        char name[32], obj[600], kern[128];
        snprintf(name, sizeof name, "g%d_layer%d", graphs, i); /* a new path: dlopen keeps loaded ones */
        snprintf(obj, sizeof obj, "%s/%s.o", dir, name);
        int64_t scratch = 0;
        RunFn run = g && ir_verify(g) ? build_graph(g, name, dir, cpu, features, &scratch) : NULL;
        Graph *gk = g;
        if (!run) {
            graph_free(g);
            fprintf(stderr, "kernel_bench: %s: node %d (%s): could not compile\n", path, i, n->result->name);
            rc = 1;
            continue;
        }
        kernel_of(obj, kern, sizeof kern);
        Operands o;
        operands_new(gk, scratch, &o);
        int64_t bytes = o.bytes;
        unsigned long long best = best_ticks(run, &o, runs);
        double frac, rate;
        bool by_bytes = kind == LK_GLUE || kind == LK_NORM;
        if (by_bytes) {
            unsigned long long mc = memcpy_ticks(bytes / 2 > 0 ? bytes / 2 : 1, runs);
            rate = (double)bytes / (double)best;
            frac = rate / ((double)(bytes / 2 * 2) / (double)mc);
        } else {
            rate = (double)macs / (double)best;
            frac = rate / peak;
        }
        seen[kind]++;
        /* Under 100 ticks the figure is mostly the clock's own cost (an
         * empty call measures about 20): shown, not judged. */
        bool tiny = best < 100;
        double goal = tiny ? 0 : layer_kinds[kind].goal;
        bool ok = goal == 0 || frac >= goal;
        tinies += tiny;
        if (goal > 0) {
            judged[kind]++;
            met[kind] += ok;
            if (frac / goal < worst[kind])
                worst[kind] = frac / goal;
        }
        char shown[41];
        snprintf(shown, sizeof shown, "%s", n->result->name);
        printf("%4d  %-40s %-16s %-6s %-34.34s %10llu %10.2f %7.0f%% %6s\n", i, shown, op_info[n->op].name,
               layer_kinds[kind].name, kern, best, by_bytes ? rate : (double)macs / (double)best,
               goal > 0 ? 100 * frac / goal : 100 * frac, tiny ? "tiny" : goal == 0 ? "-" : ok ? "yes" : "NO");
        operands_free(&o);
        graph_free(gk);
    }
    (void)tps;
    printf("summary %s:", path);
    for (int k = LK_CONV; k < LK_COUNT; k++)
        if (judged[k])
            printf("  %s %d/%d met (worst %.0f%% of goal)", layer_kinds[k].name, met[k], judged[k], 100 * worst[k]);
        else if (seen[k])
            printf("  %s %d (none judged)", layer_kinds[k].name, seen[k]);
    printf("  (%d tiny, not judged)\n", tinies);
    graph_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    bool layers = argc > 3 && strcmp(argv[2], "--qir") == 0; /* argv[3..]: models' graphs, node by node */
    bool glue_only = argc > 2 && strcmp(argv[2], "glue") == 0; /* skip the conv/dense shapes */
    /* Any other second argument: only the shapes whose names contain it (or one of its
     * comma-separated parts), no glue. */
    const char *only = argc > 2 && !glue_only && !layers ? argv[2] : NULL;
    static const Shape shapes[] = {
        {"conv3x3_28x28_128to128", 28, 28, 128, 128, 3, 1, 1, false, false, 1, false},
        {"conv1x1_28x28_256to256", 28, 28, 256, 256, 1, 0, 1, false, false, 1, false},
        {"conv3x3_56x56_64to64", 56, 56, 64, 64, 3, 1, 1, false, false, 1, false},
        {"depthwise3x3_56x56_128", 56, 56, 128, 128, 3, 1, 128, false, false, 1, false},
        {"dense_16x1024to1024", 16, 1, 1024, 1024, 1, 0, 1, true, false, 1, false},
        /* Few input channels: the Fashion-MNIST example's first layer and
         * an RGB-like stem. */
        {"conv3x3_28x28_1to16", 28, 28, 1, 16, 3, 1, 1, false, false, 1, false},
        {"conv3x3_56x56_3to32", 56, 56, 3, 32, 3, 1, 1, false, false, 1, false},
        /* The zoo U-Net's stem and its 8-output-channel layers. */
        {"conv3x3_32x32_1to8", 32, 32, 1, 8, 3, 1, 1, false, false, 1, false},
        {"conv3x3_32x32_2to16", 32, 32, 2, 16, 3, 1, 1, false, false, 1, false},
        {"conv3x3_32x32_8to8", 32, 32, 8, 8, 3, 1, 1, false, false, 1, false},
        {"conv3x3_32x32_16to8", 32, 32, 16, 8, 3, 1, 1, false, false, 1, false},
        {"conv1x1_32x32_8to1", 32, 32, 8, 1, 1, 0, 1, false, false, 1, false},
        {"matmul_16x1024to1024", 16, 1, 1024, 1024, 1, 0, 1, true, true, 1, false},
        /* M-LSD tiny 320 (bench/zoo.sh's mlsd_320_tiny): the 4-channel
         * stride-2 stem, depthwise 3x3 at stride 1 and 2, the 1x1
         * expand/project convs with few channels, the decoder's 3x3s. */
        {"mlsd_conv3x3s2_320x320_4to32", 320, 320, 4, 32, 3, 1, 1, false, false, 2, false},
        {"mlsd_dw3x3_160x160_32", 160, 160, 32, 32, 3, 1, 32, false, false, 1, false},
        {"mlsd_dw3x3s2_160x160_96", 160, 160, 96, 96, 3, 1, 96, false, false, 2, false},
        {"mlsd_dw3x3_80x80_144", 80, 80, 144, 144, 3, 1, 144, false, false, 1, false},
        {"mlsd_dw3x3_20x20_384", 20, 20, 384, 384, 3, 1, 384, false, false, 1, false},
        {"mlsd_conv1x1_160x160_16to96", 160, 160, 16, 96, 1, 0, 1, false, false, 1, false},
        {"mlsd_conv1x1_160x160_32to16", 160, 160, 32, 16, 1, 0, 1, false, false, 1, false},
        {"mlsd_conv1x1_80x80_24to144", 80, 80, 24, 144, 1, 0, 1, false, false, 1, false},
        {"mlsd_conv1x1_80x80_144to24", 80, 80, 144, 24, 1, 0, 1, false, false, 1, false},
        {"mlsd_conv3x3_40x40_128to128", 40, 40, 128, 128, 3, 1, 1, false, false, 1, false},
        {"mlsd_conv3x3_80x80_64to64", 80, 80, 64, 64, 3, 1, 1, false, false, 1, false},
        /* Every depthwise and stem shape of the zoo's conv nets (bench/zoo.sh:
         * fashion_mnist, unet, mobilenetv3_64, mlsd_320_tiny) with per-channel
         * weight scales and outputs spanning the int8 range, as in the
         * calibrated models (pc_: the output stage's share is the models'). */
        {"pc_fm_conv3x3_28x28_1to16", 28, 28, 1, 16, 3, 1, 1, false, false, 1, true},
        {"pc_fm_dw3x3_14x14_32", 14, 14, 32, 32, 3, 1, 32, false, false, 1, true},
        {"pc_unet_conv3x3_32x32_1to8", 32, 32, 1, 8, 3, 1, 1, false, false, 1, true},
        {"pc_unet_conv3x3_32x32_2to16", 32, 32, 2, 16, 3, 1, 1, false, false, 1, true},
        {"pc_mnv3_conv3x3s2_64x64_1to16", 64, 64, 1, 16, 3, 1, 1, false, false, 2, true},
        {"pc_mnv3_dw3x3s2_32x32_16", 32, 32, 16, 16, 3, 1, 16, false, false, 2, true},
        {"pc_mnv3_dw3x3_16x16_96", 16, 16, 96, 96, 3, 1, 96, false, false, 1, true},
        {"pc_mnv3_dw5x5_16x16_128", 16, 16, 128, 128, 5, 2, 128, false, false, 1, true},
        {"pc_mnv3_dw5x5s2_16x16_192", 16, 16, 192, 192, 5, 3, 192, false, false, 2, true},
        {"pc_mnv3_dw5x5_8x8_384", 8, 8, 384, 384, 5, 2, 384, false, false, 1, true},
        {"pc_mnv3_dw5x5_8x8_576", 8, 8, 576, 576, 5, 2, 576, false, false, 1, true},
        {"pc_mlsd_conv3x3s2_320x320_4to32", 320, 320, 4, 32, 3, 1, 1, false, false, 2, true},
        {"pc_mlsd_dw3x3_160x160_32", 160, 160, 32, 32, 3, 1, 32, false, false, 1, true},
        {"pc_mlsd_dw3x3s2_160x160_96", 160, 160, 96, 96, 3, 1, 96, false, false, 2, true},
        {"pc_mlsd_dw3x3_80x80_144", 80, 80, 144, 144, 3, 1, 144, false, false, 1, true},
        {"pc_mlsd_dw3x3s2_80x80_144", 80, 80, 144, 144, 3, 1, 144, false, false, 2, true},
        {"pc_mlsd_dw3x3_40x40_192", 40, 40, 192, 192, 3, 1, 192, false, false, 1, true},
        {"pc_mlsd_dw3x3s2_40x40_192", 40, 40, 192, 192, 3, 1, 192, false, false, 2, true},
        {"pc_mlsd_dw3x3_20x20_384", 20, 20, 384, 384, 3, 1, 384, false, false, 1, true},
        /* M-LSD tiny's inverted-residual 1x1 convs (expand: few input
         * channels, a short reduction; project: few output channels). */
        {"pc_mlsd_conv1x1_160x160_16to96", 160, 160, 16, 96, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_160x160_32to16", 160, 160, 32, 16, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_80x80_24to144", 80, 80, 24, 144, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_80x80_96to24", 80, 80, 96, 24, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_80x80_144to24", 80, 80, 144, 24, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_40x40_32to192", 40, 40, 32, 192, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_40x40_192to32", 40, 40, 192, 32, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_20x20_64to384", 20, 20, 64, 384, 1, 0, 1, false, false, 1, true},
        {"pc_mlsd_conv1x1_20x20_384to64", 20, 20, 384, 64, 1, 0, 1, false, false, 1, true},
    };
    char dir[] = "/tmp/qnnc-kbench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("kernel_bench: mkdtemp");
        return 1;
    }
    const char *kb_cpu = getenv("KB_CPU");
    if (kb_cpu && *kb_cpu && !kb_cpu_valid(kb_cpu)) {
        rmdir(dir);
        return 2;
    }
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    if (kb_cpu && *kb_cpu) { /* that CPU's own features, not the host's */
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(features);
        cpu = LLVMCreateMessage(kb_cpu);
        features = LLVMCreateMessage("");
    }
    cycles_init();
    Peak pks[4];
    int npk = peaks(pks);
    double pk = pks[npk - 1].mpc;
    printf("host cpu %s; cycles are %s\n", cpu, cycles_kind());
    for (int i = npk > 1; i < npk; i++)
        printf("peak: %.1f int8 MACs/cycle (%s micro-loop, independent chains)\n", pks[i].mpc, pks[i].name);
    printf("(\"of peak\": of the %s peak)\n", pks[npk - 1].name);
    int rc = 0;
    if (argc > 2 && strcmp(argv[2], "stream") == 0) {
        rc = stream_rates(runs, pk);
        /* stream --qir FILE...: the layers too, in the same run */
        for (int i = 4; argc > 4 && strcmp(argv[3], "--qir") == 0 && i < argc; i++)
            if (run_layers(argv[i], dir, cpu, features, runs, pk) != 0)
                rc = 1;
        goto done;
    }
    for (int i = 3; layers && i < argc; i++)
        if (run_layers(argv[i], dir, cpu, features, runs, pk) != 0)
            rc = 1;
    if (layers)
        goto done;
    printf("\n%-34s %10s %12s %10s %8s\n", "shape", "MMACs", "cycles", "MACs/cyc", "of peak");
    for (size_t i = 0; !glue_only && i < sizeof shapes / sizeof *shapes; i++) {
        const Shape *s = &shapes[i];
        if (only && !matches(s->name, only) && !strstr("depthwise3x3_56x56_128", s->name))
            continue;
        RunFn run;
        int64_t scratch, ib, ob;
        if (!build_so(s, dir, cpu, features, &run, &scratch, &ib, &ob)) {
            fprintf(stderr, "kernel_bench: %s: could not compile\n", s->name);
            rc = 1;
            continue;
        }
        int8_t *x = malloc((size_t)ib), *y = malloc((size_t)ob);
        void *sc = alloc64(scratch);
        for (int64_t k = 0; k < ib; k++)
            x[k] = (int8_t)rnd8();
        const void *ins[1] = {x};
        void *outs[1] = {y};
        run(ins, outs, sc);
        unsigned long long best = ~0ull;
        for (int r = 0; r < runs; r++) {
            unsigned long long c0 = cycles();
            run(ins, outs, sc);
            unsigned long long c = cycles() - c0;
            if (c < best)
                best = c;
        }
        double macs = (double)shape_macs(s), mpc = macs / (double)best;
        printf("%-34s %10.1f %12llu %10.2f %7.0f%%\n", s->name, macs / 1e6, best, mpc, 100 * mpc / pk);
        free(x);
        free(y);
        free(sc);
    }
    if (!only && run_glue(dir, cpu, features, runs) != 0)
        rc = 1;
done:
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
