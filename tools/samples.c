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
    if (set != SAMPLES_VALIDATION || !cfg->valid.num_labels)
        return true;
    /* The labels match the dataset's samples one to one, all of them (not
     * only the [validation] samples used): another count means another
     * file's labels. */
    int64_t n = 0;
    out->labels = dataset_labels((const char *const *)cfg->valid.labels, cfg->valid.num_labels, &n);
    if (out->labels && n != dataset_total(ds)) {
        diag_error(config_key_loc(cfg, "validation.labels"),
                   "'labels' holds %lld labels but the validation dataset holds %lld samples; they must match "
                   "one to one", (long long)n, (long long)dataset_total(ds));
        samples_close(out);
        return false;
    }
    if (!out->labels) {
        samples_close(out);
        return false;
    }
    return true;
}
