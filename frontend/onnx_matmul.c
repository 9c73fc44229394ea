/* onnx_matmul.c - matrix products: Gemm and MatMul.
 *
 * A constant right-hand side makes a dense layer (its weights re-laid to
 * [out, in] at import), anything else a matmul.  onnx_matmul_core and
 * onnx_gemm_core are shared with QLinearMatMul and MatMulInteger
 * (onnx_quantized.c) and with fused QDQ groups (onnx_qdq.c).
 */
#include "onnx_internal.h"

#include <stdlib.h>
#include <string.h>

static Value *transpose2(Imp *imp, Value *v, const char *name)
{
    static const int64_t p[2] = {1, 0};
    return onnx_emit_transpose(imp, v, p, name);
}

/* Gemm: Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (likewise B);
 * C broadcasts unidirectionally to [M, N]. */
bool import_gemm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *A = onnx_in(imp, n, 0), *B = onnx_in(imp, n, 1), *C = onnx_in(imp, n, 2);
    if (!A || !B || !onnx_need_float(imp, A) || !onnx_need_float(imp, B) || (C && !onnx_need_float(imp, C)))
        return false;
    if (A->rank != 2 || B->rank != 2) {
        onnx_node_error(imp, "A and B must be matrices");
        return false;
    }
    bool ta = onnx_attr_int(n, "transA", 0) != 0, tb = onnx_attr_int(n, "transB", 0) != 0;
    float alpha = onnx_attr_float(n, "alpha", 1.0f), beta = onnx_attr_float(n, "beta", 1.0f);
    int64_t M = ta ? A->dims[1] : A->dims[0], K = ta ? A->dims[0] : A->dims[1];
    int64_t KB = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (K != KB) {
        onnx_node_error(imp, "A' has %lld columns but B' has %lld rows", (long long)K, (long long)KB);
        return false;
    }
    int64_t od[2] = {M, N};
    if (C) {
        int64_t cd[2];
        int cr;
        OTensor tmp = {.name = "Y", .rank = 2, .dims = {M, N}};
        if (!onnx_shape_broadcast(imp, &tmp, C, cd, &cr) || cd[0] != M || cd[1] != N) {
            onnx_node_error(imp, "C does not broadcast to [%lld, %lld]", (long long)M, (long long)N);
            return false;
        }
    }
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, 2, od);
    if (!out)
        return false;
    Value *a = onnx_val(imp, A);
    if (!a)
        return false;
    if (ta)
        a = transpose2(imp, a, onnx_name(imp, A->name, ".t"));
    TensorType yt = onnx_tt(DT_F32, 2, od, NULL);
    bool last_is_y = alpha == 1.0f && (!C || beta == 0.0f);
    Value *y;
    bool bias_done = false;
    if (B->c) {
        /* dense wants w[N, K]: B' transposed, done at import. */
        static const int64_t p[2] = {1, 0};
        Value *w = tb ? onnx_val(imp, B) : onnx_const_perm(imp, B, p, ".t");
        Value *ops[3] = {a, w, NULL};
        int nops = 2;
        /* A constant C of shape [N] or [1, N] with alpha 1 is dense's bias. */
        if (C && C->c && alpha == 1.0f && beta != 0.0f && onnx_numel(C->dims, C->rank) == N &&
            (C->rank == 1 || (C->rank == 2 && C->dims[0] == 1))) {
            float *bias = xmalloc((size_t)N * sizeof *bias);
            for (int64_t j = 0; j < N; j++)
                bias[j] = beta == 1.0f ? (float)C->c->f[j] : beta * (float)C->c->f[j];
            ops[2] = onnx_const_f32(imp, C->name, 1, &N, bias);
            free(bias);
            nops = 3;
            bias_done = true;
            last_is_y = true;
        }
        if (!w)
            return false;
        y = onnx_emit(imp, OP_DENSE, ops, nops, onnx_name(imp, out->name, last_is_y ? NULL : ".mm"), yt)->result;
    } else {
        Value *b = onnx_val(imp, B);
        if (!b)
            return false;
        if (tb)
            b = transpose2(imp, b, onnx_name(imp, B->name, ".t"));
        Value *ops[2] = {a, b};
        y = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, last_is_y ? NULL : ".mm"), yt)->result;
    }
    bool add_c = C && beta != 0.0f && !bias_done;
    if (alpha != 1.0f) {
        Value *ops[2] = {y, onnx_scalar_f32(imp, out->name, ".alpha", alpha)};
        y = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, out->name, add_c ? ".scaled" : NULL), yt)->result;
    }
    if (add_c) {
        Value *c = onnx_val(imp, C);
        if (!c)
            return false;
        if (beta != 1.0f) {
            Value *ops[2] = {c, onnx_scalar_f32(imp, out->name, ".beta", beta)};
            c = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, C->name, ".beta"), c->type)->result;
        }
        Value *ops[2] = {y, c};
        y = onnx_emit(imp, OP_ADD, ops, 2, onnx_name(imp, out->name, NULL), yt)->result;
    }
    return onnx_finish(imp, out, y, false);
}

/* MatMul with numpy semantics (1-D operands get a 1 prepended/appended and
 * removed again).  A 2-D constant B makes a dense layer. */
bool import_matmul(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *A = onnx_in(imp, n, 0), *B = onnx_in(imp, n, 1);
    if (!A || !B || !onnx_need_float(imp, A) || !onnx_need_float(imp, B))
        return false;
    if (A->rank < 1 || B->rank < 1) {
        onnx_node_error(imp, "operands must have rank at least 1");
        return false;
    }
    int64_t ad[QNN_MAX_RANK], bd[QNN_MAX_RANK];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof ad);
    memcpy(bd, B->dims, sizeof bd);
    if (ar == 1)
        ad[1] = ad[0], ad[0] = 1, ar = 2;
    if (br == 1)
        bd[1] = 1, br = 2;
    int64_t K = ad[ar - 1], M = ad[ar - 2], N = bd[br - 1];
    if (bd[br - 2] != K) {
        onnx_node_error(imp, "A has %lld columns but B has %lld rows", (long long)K, (long long)bd[br - 2]);
        return false;
    }
    /* The result: broadcast batch dims, then [M, N], minus the 1-D dims. */
    OTensor ba = {.name = A->name, .rank = ar - 2}, bb = {.name = B->name, .rank = br - 2};
    memcpy(ba.dims, ad, sizeof ad);
    memcpy(bb.dims, bd, sizeof bd);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, &ba, &bb, od, &r))
        return false;
    if (r + 2 > QNN_MAX_RANK) {
        onnx_node_error(imp, "result rank exceeds %d", QNN_MAX_RANK);
        return false;
    }
    od[r] = M, od[r + 1] = N;
    int full = r + 2;
    int64_t fd[QNN_MAX_RANK];
    int fr = 0;
    for (int i = 0; i < full; i++)
        if (!((i == full - 2 && A->rank == 1) || (i == full - 1 && B->rank == 1)))
            fd[fr++] = od[i];
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, fr, fd);
    if (!out)
        return false;
    OTensor *A2 = A->rank == 1 ? onnx_view(imp, A, 2, ad, ".2d") : A;
    OTensor *B2 = B->rank == 1 ? onnx_view(imp, B, 2, bd, ".2d") : B;
    if (!A2 || !B2)
        return false;
    Value *a = onnx_val(imp, A2), *y;
    if (!a)
        return false;
    bool reshape_out = fr != full;
    if (B2->c && br == 2) {
        /* dense over the flattened rows of A. */
        static const int64_t p[2] = {1, 0};
        Value *w = onnx_const_perm(imp, B2, p, ".t");
        int64_t rows = onnx_numel(ad, ar - 1), xd[2] = {rows, K}, yd[2] = {rows, N};
        if (!w)
            return false;
        if (ar != 2)
            a = onnx_emit_reshape(imp, a, 2, xd, onnx_name(imp, A->name, ".rows"));
        Value *ops[2] = {a, w};
        bool last = ar == 2 && !reshape_out;
        y = onnx_emit(imp, OP_DENSE, ops, 2, onnx_name(imp, out->name, last ? NULL : ".dense"),
                 onnx_tt(DT_F32, 2, yd, NULL))->result;
        reshape_out = !last;
    } else {
        Value *b = onnx_val(imp, B2);
        if (!b)
            return false;
        Value *ops[2] = {a, b};
        y = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, reshape_out ? ".mm" : NULL),
                 onnx_tt(DT_F32, full, od, NULL))->result;
    }
    if (reshape_out)
        y = onnx_emit_reshape(imp, y, fr, fd, onnx_name(imp, out->name, NULL));
    return onnx_finish(imp, out, y, false);
}

/* QLinearMatMul / MatMulInteger: integer matmul of a[..., M, K] and
 * b[..., K, N] (both rank >= 2), b's per-column quantization on its last
 * axis as the IR matmul wants it. */
bool onnx_matmul_core(Imp *imp, const Onnx__NodeProto *n, OTensor *A, OTensor *B, int32_t otype, const Quant *oq,
                  bool rounding)
{
    if (A->rank < 2 || B->rank < 2) {
        onnx_node_error(imp, "1-D operands are not supported by quantized matmul");
        return false;
    }
    int64_t K = A->dims[A->rank - 1];
    if (B->dims[B->rank - 2] != K) {
        onnx_node_error(imp, "A has %lld columns but B has %lld rows", (long long)K, (long long)B->dims[B->rank - 2]);
        return false;
    }
    OTensor ba = {.name = A->name, .rank = A->rank - 2}, bb = {.name = B->name, .rank = B->rank - 2};
    memcpy(ba.dims, A->dims, sizeof ba.dims);
    memcpy(bb.dims, B->dims, sizeof bb.dims);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, &ba, &bb, od, &r) || r + 2 > QNN_MAX_RANK)
        return false;
    od[r] = A->dims[A->rank - 2];
    od[r + 1] = B->dims[B->rank - 1];
    OTensor *out = onnx_define_out(imp, n, 0, otype, r + 2, od);
    if (!out)
        return false;
    out->quant = oq;
    Value *ops[2] = {onnx_val(imp, A), onnx_val(imp, B)};
    if (!ops[0] || !ops[1])
        return false;
    DType dt;
    onnx_dtype(otype, &dt);
    Node *nd = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, NULL), onnx_tt(dt, r + 2, od, oq));
    if (rounding)
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return onnx_finish(imp, out, nd->result, false);
}

/* A fused QDQ Gemm (alpha = beta = 1, A not transposed): dense with the
 * constant B re-laid to [N, K] and an int32 bias C of shape [N]. */
bool onnx_gemm_core(Imp *imp, const Onnx__NodeProto *n, OTensor *A, OTensor *B, OTensor *C, int32_t otype,
                const Quant *oq)
{
    bool tb = onnx_attr_int(n, "transB", 0) != 0;
    if (A->rank != 2 || B->rank != 2 || !B->c) {
        onnx_node_error(imp, "A and B must be matrices, B a constant");
        return false;
    }
    int64_t K = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (A->dims[1] != K) {
        onnx_node_error(imp, "A has %lld columns but B' has %lld rows", (long long)A->dims[1], (long long)K);
        return false;
    }
    if (C && (C->rank != 1 || C->dims[0] != N)) {
        onnx_node_error(imp, "the quantized bias must have shape [%lld]", (long long)N);
        return false;
    }
    int64_t od[2] = {A->dims[0], N};
    OTensor *out = onnx_define_out(imp, n, 0, otype, 2, od);
    if (!out)
        return false;
    out->quant = oq;
    static const int64_t p[2] = {1, 0};
    Value *ops[3] = {onnx_val(imp, A), tb ? onnx_val(imp, B) : onnx_const_perm(imp, B, p, ".t"),
                     C ? onnx_val(imp, C) : NULL};
    if (!ops[0] || !ops[1] || (C && !ops[2]))
        return false;
    DType dt;
    onnx_dtype(otype, &dt);
    Node *nd = onnx_emit(imp, OP_DENSE, ops, C ? 3 : 2, onnx_name(imp, out->name, NULL), onnx_tt(dt, 2, od, oq));
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    onnx_set_act(imp, nd);
    return onnx_finish(imp, out, nd->result, false);
}
