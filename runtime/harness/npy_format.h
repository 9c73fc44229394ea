/* npy_format.h - the NumPy .npy container, without I/O or allocation, so
 * that qnnc-run's reader (frontend/npy.c) and the target harness's
 * (runtime/harness/npy.c, built with every cross compiler) parse and
 * write files the same way.
 *
 * Format (numpy/lib/format.py, "NPY format version 1.0-3.0"): the magic
 * "\x93NUMPY", a major and a minor version byte, a little-endian header
 * length (2 bytes in version 1, 4 in versions 2 and 3), then an ASCII
 * Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and a newline so that the data
 * starts on a 64-byte boundary.
 *
 * Element data is taken byte for byte, which is right on a little-endian
 * machine; the compiler's hosts and all of qnnc's targets are. */
#ifndef QNN_NPY_FORMAT_H
#define QNN_NPY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* The most dimensions a header may have; more is a malformed shape. */
#define QNN_NPY_MAX_RANK 6

/* How the file's elements become the wanted type. */
typedef enum {
    QNN_NPY_SAME,     /* the file holds the wanted type */
    QNN_NPY_FROM_F64, /* '<f8' for f32: rounded to float */
    QNN_NPY_FROM_I64, /* '<i8' for an integer type: range-checked */
} qnn_npy_source;

/* A parsed file, pointing into the caller's buffer. */
typedef struct qnn_npy_array {
    int rank;
    long long dims[QNN_NPY_MAX_RANK];
    qnn_npy_source source;
    const unsigned char *data; /* the first element */
    size_t data_bytes;         /* from data to the end of the buffer */
} qnn_npy_array;

/* Parses the .npy file BUF[0..LEN) for elements of DESCR ("<f4", "|i1",
 * "|u1", "<i2" or "<i4"; INTEGER says whether it is an integer type, which
 * may also come as '<i8', as '<f8' may for "<f4").  Returns NULL, or why
 * the file cannot be read so: one of the messages both readers print
 * ("element type does not match" is the one after which they name the
 * type they expected). */
const char *qnn_npy_parse(const unsigned char *buf, size_t len, const char *descr, int integer,
                          qnn_npy_array *a);

/* Copies N elements of ESIZE bytes (the wanted type's) from A to OUT,
 * converting as A->source says.  Returns 0; 1 when the file holds fewer
 * than N; 2 when a '<i8' element lies outside [MIN, MAX], with its index
 * in *BAD and its value in *BAD_VALUE. */
int qnn_npy_elements(const qnn_npy_array *a, uint64_t n, unsigned esize, long long min, long long max,
                     void *out, uint64_t *bad, long long *bad_value);

/* The largest header qnn_npy_header writes. */
#define QNN_NPY_HEADER_MAX 320

/* Writes the version 1.0 header for an array of DESCR and DIMS[0..RANK)
 * (RANK <= QNN_NPY_MAX_RANK) to HEAD, which has room for
 * QNN_NPY_HEADER_MAX bytes; returns its length, a multiple of 64. */
size_t qnn_npy_header(unsigned char *head, const char *descr, int rank, const long long *dims);

#endif /* QNN_NPY_FORMAT_H */
