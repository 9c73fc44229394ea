/* frontend.h - readers and writers for the formats qnnc exchanges with the
 * outside world: ONNX models, ONNX TensorProto and NumPy .npy tensors.  The
 * TOML compile configuration has its own header, config.h. */
#ifndef QNNC_FRONTEND_H
#define QNNC_FRONTEND_H

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

typedef enum { LAYOUT_MODEL = 0, LAYOUT_NCHW, LAYOUT_NHWC } InputLayout;

typedef struct ImportOptions {
    int64_t batch;      /* value for a symbolic batch dimension; 0 means 1 */
    InputLayout layout; /* layout of 4-D graph inputs/outputs at the boundary:
                           LAYOUT_MODEL keeps the model's own (NCHW stays NCHW) */
} ImportOptions;

/* Imports the ONNX model at PATH into a verified qnnc graph (NHWC inside).
 * On any error reports one-line diagnostics naming PATH and the node, and
 * returns NULL. */
Graph *onnx_import(const char *path, const ImportOptions *opts);

/* Reads an ONNX TensorProto file (the .pb files of ONNX's test data) as a
 * tensor of type WANT, with the same conversions as npy_read (DOUBLE to
 * f32, INT64 to any integer dtype, range-checked).  Returns a malloc'd
 * buffer or, after reporting "PATH: message", NULL. */
void *tensorproto_read(const char *path, const TensorType *want);

/* Writes a TensorProto file (raw_data, the IR dtype's ONNX element type)
 * named NAME, atomically.  Reports and returns false on failure. */
bool tensorproto_write(const char *path, const char *name, const TensorType *t, const void *data);

#endif
