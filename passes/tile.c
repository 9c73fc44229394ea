/* tile.c - choose the loop tiles of conv2d, dense and matmul.
 *
 * requires:   a verified graph; the compile target in ctx->cfg->target
 *             (NULL triple: the host)
 * guarantees: every conv2d, dense and matmul carries tile=[m, n, k]:
 *               m  output pixels (dense/matmul: rows) per block: the block's
 *                  n weight rows stay in the L1 cache while m pixels use them
 *               n  output channels per register block: one load of the
 *                  activations feeds n dot products
 *               k  reduction bytes per inner-loop iteration (a multiple of
 *                  the target's dot-product width)
 *             derived from the target's dot-product width, vector
 *             registers and L1 size, then overridden by [passes] tile_m /
 *             tile_n / tile_k of the configuration.  The kernels
 *             (codegen/<target>/kernels.c) honour them; the values never
 *             change a result, only the loop order.
 * invalidates: nothing
 */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

/* CPUs whose features -mattr need not spell out (the ones the tests and
 * docs name; anything else: give -mattr, or -mcpu=native, whose features
 * the driver takes from LLVM).  Each lists the features the kernels ask
 * about that are not implied by another of its list (implied[] below). */
#define X86_V3 "avx2,fma"
#define X86_ICL "avx512vnni,avx512vbmi,avx512vl,fma"
static const struct {
    const char *cpu, *features;
} cpu_features[] = {
    {"haswell", X86_V3}, {"broadwell", X86_V3}, {"skylake", X86_V3}, {"x86-64-v3", X86_V3},
    {"znver1", X86_V3}, {"znver2", X86_V3}, {"znver3", X86_V3}, {"x86-64-v4", "avx512bw,avx512vl"},
    {"skylake-avx512", "avx512bw,avx512vl"}, {"cascadelake", "avx512vnni,avx512bw,avx512vl"},
    {"icelake-server", X86_ICL}, {"icelake-client", X86_ICL}, {"tigerlake", X86_ICL},
    {"znver4", X86_ICL}, {"znver5", X86_ICL ",avxvnni"}, {"sapphirerapids", X86_ICL ",avxvnni"},
    {"graniterapids", X86_ICL ",avxvnni"}, {"emeraldrapids", X86_ICL ",avxvnni"},
    {"arrowlake", X86_V3 ",avxvnni"}, {"lunarlake", X86_V3 ",avxvnni"}, {"alderlake", X86_V3 ",avxvnni"},
    {"raptorlake", X86_V3 ",avxvnni"}, {"meteorlake", X86_V3 ",avxvnni"},
    {"cortex-a55", "dotprod"}, {"cortex-a76", "dotprod"}, {"neoverse-n1", "dotprod"},
    {"neoverse-v1", "dotprod,i8mm"}, {"neoverse-n2", "dotprod,i8mm"}, {"cortex-a710", "dotprod,i8mm"},
    {"apple-m1", "dotprod"}, {"apple-m2", "dotprod,i8mm"},
    {"cortex-m4", "dsp"}, {"cortex-m7", "dsp"}, {"cortex-m33", "dsp"}, {"cortex-m55", "dsp,mve.fp"},
    {"cortex-m85", "dsp,mve.fp"},
};
#undef X86_V3
#undef X86_ICL

/* A feature and what it implies, as LLVM's target descriptions say
 * (X86.td, ARM.td), for the features the kernels ask about: enabling
 * the first enables the second, disabling the second disables the
 * first. */
static const struct {
    const char *f, *implies;
} implied[] = {
    {"avx512vbmi", "avx512bw"}, {"avx512bw", "avx512f"}, {"avx512vnni", "avx512f"}, {"avx512vl", "avx512f"},
    {"avx512f", "avx2"}, {"avx512f", "fma"}, {"avxvnni", "avx2"}, {"avx2", "avx"}, {"fma", "avx"},
    {"avx", "sse4.2"}, {"sse4.2", "sse4.1"}, {"sse4.1", "ssse3"}, {"mve.fp", "mve"}, {"mve", "dsp"},
};

static bool in_list(const char *list, const char *f, char sep, int *sign)
{
    size_t fl = strlen(f);
    bool found = false;
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int s = 0;
        const char *q = p;
        if (*q == '+' || *q == '-')
            s = *q++ == '+' ? 1 : -1, len--;
        if (len == fl && !memcmp(q, f, fl)) {
            found = true;
            if (sign)
                *sign = s;
        }
        p = e ? e + 1 : NULL;
    }
    return found;
}

/* -mattr's last word on F: +1 enabled, -1 disabled, 0 silent. */
static int given(const char *features, const char *f)
{
    int sign = 0;
    return features && in_list(features, f, ',', &sign) ? (sign >= 0 ? 1 : -1) : 0;
}

/* F or something it needs is disabled by -mattr. */
static bool disabled(const char *features, const char *f)
{
    if (given(features, f) < 0)
        return true;
    for (size_t i = 0; i < sizeof implied / sizeof *implied; i++)
        if (!strcmp(implied[i].f, f) && disabled(features, implied[i].implies))
            return true;
    return false;
}

/* F is enabled by -mattr or the CPU, directly or through what implies it. */
static bool enabled(const char *cpu_list, const char *features, const char *f)
{
    if (given(features, f) > 0 || (cpu_list && in_list(cpu_list, f, ',', NULL)))
        return true;
    for (size_t i = 0; i < sizeof implied / sizeof *implied; i++)
        if (!strcmp(implied[i].implies, f) && !disabled(features, implied[i].f) &&
            enabled(cpu_list, features, implied[i].f))
            return true;
    return false;
}

bool target_has_feature(const char *triple, const char *cpu, const char *features, const char *f)
{
    (void)triple;
    const char *cpu_list = NULL;
    if (cpu)
        for (size_t i = 0; i < sizeof cpu_features / sizeof *cpu_features; i++)
            if (!strcmp(cpu, cpu_features[i].cpu))
                cpu_list = cpu_features[i].features;
    return !disabled(features, f) && enabled(cpu_list, features, f);
}

/* The target's int8 dot-product width in bytes, accumulator register
 * blocks, and L1 data cache (0: none, tightly coupled memory). */
typedef struct TileTarget {
    int step, regs_n, l1;
} TileTarget;

static TileTarget tile_target(const char *triple, const char *cpu, const char *features)
{
    const char *t = triple ? triple : "";
#define HAS(f) target_has_feature(triple, cpu, features, f)
    if (!strncmp(t, "x86_64", 6)) {
        if (HAS("avx512vnni"))
            return (TileTarget){64, 8, 32768};  /* vpdpbusd zmm: 32 registers */
        if (HAS("avxvnni"))
            return (TileTarget){32, 4, 32768};  /* vpdpbusd ymm: 16 registers */
        if (HAS("avx2"))
            return (TileTarget){16, 4, 32768};  /* 16 i32 lanes: 2 ymm per accumulator */
        return (TileTarget){16, 2, 32768};      /* SSE2: 4 xmm per accumulator */
    }
    if (!strncmp(t, "aarch64", 7))
        return HAS("dotprod") ? (TileTarget){16, 8, 65536} : (TileTarget){16, 4, 65536};
    if (!strncmp(t, "riscv64", 7))
        return HAS("v") ? (TileTarget){16, 4, 32768} : (TileTarget){4, 4, 32768};
    if (!strncmp(t, "riscv32", 7)) /* RV32IMC (codegen/riscv/target.c): no vectors, so gemm_scalar's step */
        return (TileTarget){4, 4, 0};           /* of 4 bytes into 4 channels' i32 registers (riscv/kernels.c); SRAM */
    if (!strncmp(t, "thumbv7em", 9))
        return (TileTarget){4, 2, 0};           /* smlad on words; 13 core registers; SRAM */
    if (!strncmp(t, "thumbv8.1m", 10)) /* the default CPU is the Cortex-M55 (codegen/arm/target.c) */
        return target_has_feature(triple, cpu ? cpu : "cortex-m55", features, "mve")
                   ? (TileTarget){16, 1, 0} /* vmlava over 16 bytes into a core register; one channel a tile measured fewest instructions; TCM */
                   : (TileTarget){4, 2, 0};
#undef HAS
    return (TileTarget){16, 4, 32768};
}

void tile_defaults(const Node *n, const char *triple, const char *cpu, const char *features, int64_t tile[3])
{
    TileTarget tt = tile_target(triple, cpu, features);
    const TensorType *a = &n->operands[0]->type, *w = &n->operands[1]->type, *y = &n->result->type;
    int64_t K, P, O;
    if (n->op == OP_CONV2D) {
        K = w->dims[1] * w->dims[2] * w->dims[3], P = y->dims[1] * y->dims[2], O = w->dims[0];
    } else if (n->op == OP_DENSE) {
        K = w->dims[1], P = a->dims[0], O = w->dims[0];
    } else { /* matmul */
        K = a->dims[a->rank - 1], P = a->dims[a->rank - 2], O = w->dims[w->rank - 1];
    }
    if (K < 1)
        K = 1;
    int64_t tn = tt.regs_n < O ? tt.regs_n : O;
    if (tn < 1)
        tn = 1;
    /* m pixels' activations (m*K bytes) and the block's weights (n*K)
     * share half the L1; no cache: no reuse to block for. */
    int64_t tm = tt.l1 ? (tt.l1 / 2 - tn * K) / K : 1;
    tm = tm < 1 ? 1 : tm > P ? (P < 1 ? 1 : P) : tm;
    int64_t tk = K >= 2 * tt.step ? 2 * tt.step : tt.step;
    tile[0] = tm, tile[1] = tn, tile[2] = tk;
}

static char *join_features(const QnncConfig *cfg)
{
    size_t len = 1;
    for (int i = 0; i < cfg->target.num_features; i++)
        len += strlen(cfg->target.features[i]) + 1;
    char *s = xcalloc(1, len);
    for (int i = 0; i < cfg->target.num_features; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, cfg->target.features[i]);
    }
    return s;
}

bool tile(Graph *g, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    const char *triple = cfg->target.triple ? cfg->target.triple : config_host_triple();
    char *features = join_features(cfg);
    const int over[3] = {cfg->passes.tile_m, cfg->passes.tile_n, cfg->passes.tile_k};
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL)
            continue;
        int64_t t[3];
        tile_defaults(n, triple, cfg->target.cpu, features, t);
        for (int k = 0; k < 3; k++)
            if (over[k] > 0)
                t[k] = over[k];
        node_set_ints(g, n, ATTR_TILE, t, 3);
    }
    free(features);
    return true;
}
