/* pipeline.c - the default compile pipeline, written out in one place.
 *
 * requires:   a verified graph, float or already quantized (imported QDQ
 *             or QLinear* models), and the compile configuration
 * guarantees: on success, a verified graph whose every requantization is
 *             folded (fuse-requantize) and whose every int32 accumulator
 *             is proven not to overflow (check-accumulators); on failure,
 *             the error of the pass that failed has been reported
 *
 * Read it top to bottom: this table IS the pipeline (like QBE's main.c).
 * A pass named in the configuration's [passes] disable list is skipped.
 * The verifier runs after every pass: a pass that leaves an invalid graph
 * is a compiler bug, and stopping right there names the culprit.
 */
#include "passes.h"

#include <string.h>

typedef enum {
    ALWAYS,
    WHEN_CALIBRATING, /* a scheme with calibrated activations (int8, int16x8) */
    WHEN_EQUALIZING,  /* calibrating, and [quantization] equalize */
    WHEN_MIXED,       /* calibrating, and [quantization] target_sqnr or max_accuracy_drop */
    UNLESS_MIXED,     /* the other case */
    /* Calibrating, [quantization] bias_correct, and no target_sqnr:
     * mixed-precision measures against the float graph it is given, which
     * bias-correct would already have changed. */
    WHEN_BIAS_CORRECTING,
    WHEN_MAX_SCRATCH, /* [limits] max_scratch is set */
} When;

static const struct {
    PassId pass;
    When when;
} default_pipeline[] = {
    /* Float graph clean-up: what quantization should not have to see. */
    {PASS_fold_constants, ALWAYS},   /* evaluate all-constant subgraphs */
    {PASS_fuse_layernorm, ALWAYS},   /* decomposed LayerNorm -> layer_norm */
    {PASS_fuse_gelu, ALWAYS},        /* x * 0.5 * (1 + erf(x / sqrt(2))) or its tanh form -> gelu */
    {PASS_fold_batchnorm, ALWAYS},   /* BN into the conv/dense weights before it */
    {PASS_fold_affine, ALWAYS},      /* bias adds and scalar muls into the dense/conv weights */
    {PASS_fuse_activation, ALWAYS},  /* relu/clip into the producer's clamp */
    {PASS_fold_transpose, ALWAYS},  /* transpose pairs that cancel */
    {PASS_dce, ALWAYS},
    /* Quantization. */
    {PASS_equalize, WHEN_EQUALIZING},   /* balance weight ranges across conv pairs */
    {PASS_calibrate, WHEN_CALIBRATING}, /* range(lo, hi) from the calibration set */
    {PASS_bias_correct, WHEN_BIAS_CORRECTING}, /* each channel's mean int8 error out of its bias */
    {PASS_mixed_precision, WHEN_MIXED}, /* quantize, searching the layers to raise to int16 */
    {PASS_quantize, UNLESS_MIXED},      /* float + ranges -> int8 (or the scheme's types) */
    /* What code generation relies on. */
    {PASS_fuse_requantize, ALWAYS},     /* multipliers, shifts and clamps folded */
    {PASS_check_accumulators, ALWAYS},  /* no int32 accumulator can overflow */
    {PASS_fuse_lut, ALWAYS},            /* elementwise chains on one i8 tensor -> one lut */
    {PASS_fold_pad, ALWAYS},            /* a pad of zeros into the conv2d reading it */
    {PASS_dce, ALWAYS},
    {PASS_stripe, WHEN_MAX_SCRATCH},    /* the largest stage by stripes, until scratch fits */
    {PASS_tile, ALWAYS},                /* conv/dense/matmul loop tiles for the target */
};

static bool disabled(const QnncConfig *cfg, const char *name)
{
    for (int i = 0; i < cfg->passes.num_disable; i++)
        if (!strcmp(cfg->passes.disable[i], name))
            return true;
    return false;
}

static bool wanted(const QnncConfig *cfg, When when)
{
    switch (when) {
    case ALWAYS: return true;
    case WHEN_EQUALIZING:
        return cfg->quant.equalize && wanted(cfg, WHEN_CALIBRATING);
    case WHEN_MIXED:
        return (cfg->quant.target_sqnr > 0 || cfg->quant.max_accuracy_drop >= 0) && wanted(cfg, WHEN_CALIBRATING);
    case UNLESS_MIXED:
        return !wanted(cfg, WHEN_MIXED);
    case WHEN_BIAS_CORRECTING:
        return cfg->quant.bias_correct && wanted(cfg, WHEN_CALIBRATING) && !wanted(cfg, WHEN_MIXED);
    case WHEN_MAX_SCRATCH:
        return cfg->limits.max_scratch > 0;
    case WHEN_CALIBRATING:
        /* Without a dataset, quantize says what to add (a float model) or
         * has nothing to calibrate (an imported quantized model). */
        return (cfg->quant.scheme == QSCHEME_INT8 || cfg->quant.scheme == QSCHEME_INT16X8) &&
               cfg->calib.num_dataset > 0;
    }
    return false;
}

bool pipeline_has_pass(const char *name)
{
    for (size_t i = 0; i < sizeof default_pipeline / sizeof *default_pipeline; i++)
        if (!strcmp(pass_registry[default_pipeline[i].pass].name, name))
            return true;
    return false;
}

bool run_pipeline(Graph *g, const PassContext *ctx, const PipelineHooks *hooks)
{
    static const PipelineHooks none = {0};
    if (!hooks)
        hooks = &none;
    if (hooks->stop_after && !strcmp(hooks->stop_after, "import"))
        return true;
    for (size_t i = 0; i < sizeof default_pipeline / sizeof *default_pipeline; i++) {
        const Pass *p = &pass_registry[default_pipeline[i].pass];
        const char *name = p->name;
        if (disabled(ctx->cfg, name) || !wanted(ctx->cfg, default_pipeline[i].when))
            continue;
        if (hooks->before)
            hooks->before(hooks->user, name, g);
        if (!p->run(g, ctx))
            return false;
        if (!ir_verify(g)) {
            diag_error(g->loc, "internal error: the graph is invalid after pass '%s'", name);
            return false;
        }
        if (hooks->print_after_all || (hooks->print_after && !strcmp(hooks->print_after, name))) {
            fprintf(stderr, "// ----- IR after %s -----\n", name);
            ir_print(stderr, g, NULL);
        }
        if (hooks->stop_after && !strcmp(hooks->stop_after, name))
            return true;
    }
    return true;
}
