/* frontend.h - readers and writers for the formats qnnc exchanges with the
 * outside world: ONNX models, ONNX TensorProto and NumPy .npy tensors.  The
 * TOML compile configuration has its own header, config.h. */
#ifndef QNNC_FRONTEND_H
#define QNNC_FRONTEND_H

#include "config.h" /* InputLayout, InputShape */
#include "ir.h"

/* Reads the .npy file PATH as a tensor of type WANT: the shape must match
 * exactly and the element type must be WANT's dtype, except that float64
 * converts to f32 and int64 to any integer dtype (range-checked), since
 * those are NumPy's defaults.  On success returns a malloc'd buffer of
 * type_nbytes(WANT) bytes; on failure reports "PATH: message" and returns
 * NULL. */
void *npy_read(const char *path, const TensorType *want);

/* Writes a C-order .npy file for a tensor of type T, atomically.  Reports
 * and returns false on failure. */
bool npy_write(const char *path, const TensorType *t, const void *data);

/* ---------------------------------------------------------------- ONNX */

typedef struct ImportOptions {
    int64_t batch;      /* value for a symbolic batch dimension; 0 means 1 */
    InputLayout layout; /* layout of 4-D graph inputs/outputs at the boundary:
                           LAYOUT_MODEL keeps the model's own (NCHW stays NCHW) */
    /* Shapes of graph inputs, at most one per name.  A symbolic dimension
     * of an input named here takes the given value, dimension 0 too: BATCH
     * only applies to the inputs not named here. */
    const InputShape *shapes;
    int num_shapes;
} ImportOptions;

/* Parses the value of --input-shape, "NAME:D0,D1,...", split at the last
 * ':' (ONNX names may contain ':'), into *OUT with a malloc'd OUT->name and
 * no location.  On a malformed value writes what is wrong into ERR (LEN
 * bytes) and returns false. */
bool input_shape_parse(const char *v, InputShape *out, char *err, size_t len);

/* Imports the ONNX model at PATH into a verified qnnc graph (NHWC inside).
 * On any error reports one-line diagnostics naming PATH and the node, and
 * returns NULL. */
Graph *onnx_import(const char *path, const ImportOptions *opts);

/* Prints every ONNX op onnx_import() supports, one per line in a stable
 * order: op type, domain, opset range, and "folds" when the op is
 * evaluated at import time whenever its inputs are known then
 * (`qnnc --list-ops`; docs/onnx.md has the same table). */
void onnx_print_ops(FILE *f);

/* Reads an ONNX TensorProto file (the .pb files of ONNX's test data) as a
 * tensor of type WANT, with the same conversions as npy_read (DOUBLE to
 * f32, INT64 to any integer dtype, range-checked).  Returns a malloc'd
 * buffer or, after reporting "PATH: message", NULL. */
void *tensorproto_read(const char *path, const TensorType *want);

/* Writes a TensorProto file (raw_data, the IR dtype's ONNX element type)
 * named NAME, atomically.  Reports and returns false on failure. */
bool tensorproto_write(const char *path, const char *name, const TensorType *t, const void *data);

/* ---------------------------------------------------------------- calibration datasets */

/* A dataset is the calibration samples for one graph input, read in a fixed
 * order (frontend/dataset.c; docs/passes.md, "calibrate"):
 *  - NumPy: each path is a .npy file (one sample, read with npy_read, so its
 *    shape must be the input's) or a directory, standing for the .npy files
 *    directly in it, sorted by name (strcmp).  Files are read when a sample
 *    is asked for, not kept.
 *  - IDX (MNIST, Fashion-MNIST): each path is an IDX file, plain or
 *    gzip-compressed (recognised by the gzip magic 1f 8b, not the name).
 *    Its first dimension counts samples; one sample (the product of the
 *    other dimensions, e.g. 28x28) must have as many elements as the input
 *    (f32[1,28,28,1] and f32[1,1,28,28] both fit 28x28 images), and fills
 *    it in C order.  Element x becomes x * scale + offset in f32.  Only the
 *    samples used are read (and decompressed), then kept in memory as bytes.
 * Several paths are concatenated in the order given.  At most MAX_SAMPLES
 * samples are used, but every path is opened (an IDX header, a directory's
 * listing) so that dataset_total counts them all. */
typedef struct DatasetOptions {
    bool idx;              /* IDX files; false: .npy files and directories */
    int64_t max_samples;   /* >= 1 */
    double scale, offset;  /* IDX preprocessing */
} DatasetOptions;

typedef struct Dataset Dataset;

/* Opens the NUM_PATHS datasets PATHS for an input of type WANT named NAME
 * (for messages).  Checks everything that can be checked without reading
 * every sample: IDX headers, lengths and shapes, that directories hold
 * .npy files.  On error reports one line "PATH: message" and returns NULL. */
Dataset *dataset_open(const char *const paths[], int num_paths, const DatasetOptions *opts,
                      const char *name, const TensorType *want);
/* How many samples the dataset yields (>= 1). */
int64_t dataset_count(const Dataset *ds);
/* How many the files hold in all (before max_samples). */
int64_t dataset_total(const Dataset *ds);
/* The class indices in the IDX files PATHS ([validation] labels: rank 1,
 * one integer >= 0 per sample, plain or gzip-compressed), concatenated;
 * *COUNT of them.  NULL after reporting "PATH: message". */
int32_t *dataset_labels(const char *const paths[], int num_paths, int64_t *count);
/* Writes sample I (0 <= I < dataset_count) as type_nbytes(WANT) bytes of
 * WANT's dtype into BUF.  Samples can be read in any order and more than
 * once.  Returns false after reporting "PATH: message". */
bool dataset_read(Dataset *ds, int64_t i, void *buf);
void dataset_close(Dataset *ds);

#endif
