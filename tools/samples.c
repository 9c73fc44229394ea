/* samples.c - the driver opens the datasets the passes run graphs on.
 *
 * passes/ depends only on the IR and the configuration struct, so a pass
 * that needs samples (calibrate, bias-correct, mixed-precision, the report)
 * asks PassContext.open_samples, which qnnc and qnnc-opt point here: the
 * configuration says which files and how to read them, frontend/dataset.c
 * reads them, and the pass sees a count and a read function. */
#include "samples.h"

#include "frontend.h"

static bool ds_read(void *h, int64_t i, void *buf)
{
    return dataset_read(h, i, buf);
}

static void ds_close(void *h)
{
    dataset_close(h);
}

bool driver_open_samples(const PassContext *ctx, SampleSet set, const Value *in, Samples *out)
{
    const QnncConfig *cfg = ctx->cfg;
    /* [validation] has its own files and sample count; the format and the
     * raw-data mapping are the calibration's (docs/config.md). */
    bool valid = set == SAMPLES_VALIDATION && cfg->valid.num_dataset > 0;
    DatasetOptions opts = {
        .idx = cfg->calib.format == DATA_IDX,
        .max_samples = set == SAMPLES_VALIDATION ? cfg->valid.samples : cfg->calib.samples,
        .scale = cfg->model.input_scale,
        .offset = cfg->model.input_offset,
    };
    Dataset *ds = dataset_open((const char *const *)(valid ? cfg->valid.dataset : cfg->calib.dataset),
                               valid ? cfg->valid.num_dataset : cfg->calib.num_dataset, &opts, in->name,
                               &in->type);
    if (!ds)
        return false;
    *out = (Samples){.count = dataset_count(ds), .read = ds_read, .close = ds_close, .h = ds};
    return true;
}
