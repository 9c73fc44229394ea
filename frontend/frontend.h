/* frontend.h - readers and writers for the formats qnnc exchanges with the
 * outside world.  Today: NumPy .npy tensors. */
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

#endif
