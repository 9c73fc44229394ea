/* samples.h - the driver's dataset reader for the passes (PassContext's
 * open_samples), shared by qnnc and qnnc-opt. */
#ifndef QNNC_TOOLS_SAMPLES_H
#define QNNC_TOOLS_SAMPLES_H

#include "passes.h"

/* Opens the dataset ctx->cfg names for SET (frontend/dataset.c) for graph
 * input IN.  False after dataset_open reported "PATH: message". */
bool driver_open_samples(const PassContext *ctx, SampleSet set, const Value *in, Samples *out);

#endif
