/* requant.h - the folded requantization parameters of a node.
 *
 * fuse-requantize writes them as the attributes multiplier, shift, qmin and
 * qmax; the verifier checks attributes against them; the interpreter and
 * code generation read the attributes.  One function computes what a
 * node's types, rounding mode and act_min/act_max imply, so the three can
 * never disagree.  The exact meaning is in docs/ir-semantics.md, "Folded
 * requantization".
 */
#ifndef QNNC_REQUANT_H
#define QNNC_REQUANT_H

#include "ir.h"

/* Number of fractional bits of an onnx-mode multiplier: the whole 53-bit
 * significand of the double M = mult * 2^(shift - 53). */
#define REQUANT_ONNX_BITS 53

typedef struct Requant {
    int count;      /* entries in mult/shift; 0: no multiplier is folded */
    int64_t *mult;  /* malloc'd, COUNT entries */
    int64_t *shift;
    int64_t qmin, qmax; /* the output clamp (always defined on success) */
} Requant;

/* Fills R with what N implies.  Returns false, with a reason in ERR, when N
 * has no quantized requantizing form (a float op, a raw i32 accumulator,
 * an op without requantization) or a multiplier cannot be represented. */
bool requant_implied(const Node *n, Requant *r, char *err, size_t errlen);
void requant_free(Requant *r);

/* The real multiplier an onnx-mode (mult, shift) pair stands for, exactly:
 * mult * 2^(shift - 53). */
double requant_onnx_real(int64_t mult, int64_t shift);

#endif
