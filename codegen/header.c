/* header.c - NAME.h: the declarations and compile-time facts a product
 * build needs to call a compiled model.
 *
 * Plain C99 that is also valid C++ (no designated initialisers, no
 * compound literals), needing only qnn_runtime.h.  For every input and
 * output NAME_<TENSOR>_... macros give the rank, dims, element count, size
 * in bytes, dtype and per-tensor quantization; static inline helpers
 * quantize a float array into an input and dequantize an output, with the
 * ONNX rule (float32 division, round half to even, saturate).
 */
#include "codegen.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *ctype_of(DType dt)
{
    switch (dt) {
    case DT_F32: return "float";
    case DT_I8: return "int8_t";
    case DT_U8: return "uint8_t";
    case DT_I16: return "int16_t";
    case DT_I32: return "int32_t";
    default: qnn_unreachable();
    }
}

static const char *qnn_dtype_name(DType dt)
{
    switch (dt) {
    case DT_F32: return "QNN_F32";
    case DT_I8: return "QNN_I8";
    case DT_U8: return "QNN_U8";
    case DT_I16: return "QNN_I16";
    case DT_I32: return "QNN_I32";
    default: qnn_unreachable();
    }
}

/* An upper-case C identifier from a value name (other characters -> '_'). */
static void macro_name(char *buf, size_t size, const char *prefix, const char *name)
{
    size_t n = (size_t)snprintf(buf, size, "%s_", prefix);
    for (const char *s = name; *s && n + 1 < size; s++)
        buf[n++] = isalnum((unsigned char)*s) ? (char)toupper((unsigned char)*s) : '_';
    buf[n] = '\0';
}

static void lower_name(char *buf, size_t size, const char *prefix, const char *name)
{
    size_t n = (size_t)snprintf(buf, size, "%s_", prefix);
    for (const char *s = name; *s && n + 1 < size; s++)
        buf[n++] = isalnum((unsigned char)*s) ? *s : '_';
    buf[n] = '\0';
}

static void tensor(FILE *f, const char *name, const Value *v, int index, bool is_input)
{
    char M[256], L[256], pre[200];
    snprintf(pre, sizeof pre, "%s_%s", name, is_input ? "INPUT" : "OUTPUT");
    macro_name(M, sizeof M, pre, v->name);
    for (char *p = M; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(pre, sizeof pre, "%s_%s", name, is_input ? "input" : "output");
    for (char *p = pre; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    lower_name(L, sizeof L, pre, v->name);
    const TensorType *t = &v->type;
    fprintf(f, "/* %s %d: %%%s : ", is_input ? "input" : "output", index, v->name);
    type_print(f, t);
    fprintf(f, " */\n");
    fprintf(f, "#define %s_INDEX %d\n", M, index);
    fprintf(f, "#define %s_DTYPE %s\n", M, qnn_dtype_name(t->dtype));
    fprintf(f, "#define %s_RANK %d\n", M, t->rank);
    for (int d = 0; d < t->rank; d++)
        fprintf(f, "#define %s_DIM%d %lld\n", M, d, (long long)t->dims[d]);
    fprintf(f, "#define %s_NUMEL %lld\n", M, (long long)type_numel(t));
    fprintf(f, "#define %s_SIZE %lld\n", M, (long long)type_nbytes(t));
    bool per_tensor = t->quant && t->quant->count == 1;
    if (t->quant && !per_tensor) {
        fprintf(f, "/* per-axis quantization along axis %d */\n", t->quant->axis);
        fprintf(f, "#define %s_QUANT_AXIS %d\n", M, t->quant->axis);
        fprintf(f, "static const float %s_scales[%d] = {", L, t->quant->count);
        for (int c = 0; c < t->quant->count; c++)
            fprintf(f, "%s%.9gf", c ? ", " : "", (double)t->quant->scale[c]);
        fprintf(f, "};\nstatic const int32_t %s_zero_points[%d] = {", L, t->quant->count);
        for (int c = 0; c < t->quant->count; c++)
            fprintf(f, "%s%d", c ? ", " : "", t->quant->zero_point[c]);
        fprintf(f, "};\n");
    }
    if (!per_tensor || t->dtype == DT_F32) {
        fputc('\n', f);
        return;
    }
    float s = t->quant->scale[0];
    int32_t z = t->quant->zero_point[0];
    fprintf(f, "#define %s_SCALE %.9gf\n", M, (double)s);
    fprintf(f, "#define %s_ZERO_POINT %d\n", M, z);
    const char *ct = ctype_of(t->dtype);
    long long lo = dtype_traits[t->dtype].min, hi = dtype_traits[t->dtype].max;
    if (is_input) {
        fprintf(f,
                "/* x / scale in float32, rounded half to even, plus the zero point,\n"
                " * saturated (ONNX QuantizeLinear); NaN gives the zero point. */\n"
                "static inline void %s_quantize(const float *x, %s *q, size_t n)\n"
                "{\n"
                "    for (size_t i = 0; i < n; i++) {\n"
                "        float v = x[i] / %.9gf;\n"
                "        double r;\n"
                "        if (v != v) {\n"
                "            r = 0.0;\n"
                "        } else if (v >= 4194304.0f || v <= -4194304.0f) {\n"
                "            r = v; /* already an integer, or saturating */\n"
                "        } else {\n"
                "            double t = (double)(long)v;\n"
                "            double d = (double)v - t;\n"
                "            if (d > 0.5 || (d == 0.5 && ((long)t & 1)))\n"
                "                t += 1.0;\n"
                "            else if (d < -0.5 || (d == -0.5 && ((long)t & 1)))\n"
                "                t -= 1.0;\n"
                "            r = t;\n"
                "        }\n"
                "        r += %d;\n"
                "        q[i] = (%s)(r < %lld ? %lld : r > %lld ? %lld : (long)r);\n"
                "    }\n"
                "}\n\n",
                L, ct, (double)s, z, ct, lo, lo, hi, hi);
    }
    fprintf(f,
            "/* real = scale * (q - zero_point), in float32. */\n"
            "static inline void %s_dequantize(const %s *q, float *x, size_t n)\n"
            "{\n"
            "    for (size_t i = 0; i < n; i++)\n"
            "        x[i] = (float)((int32_t)q[i] - %d) * %.9gf;\n"
            "}\n\n",
            L, ct, z, (double)s);
}

uint64_t codegen_weights_fnv(const char *blob)
{
    uint64_t h = 0;
    for (int k = 7; k >= 0; k--)
        h = h << 8 | (unsigned char)blob[16 + k];
    return h;
}

char *codegen_header(const Graph *g, const CodegenOptions *o, const MemoryPlan *plan, const char *weights,
                     size_t weights_size, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    const char *name = o->name;
    char U[256];
    snprintf(U, sizeof U, "%s", name);
    for (char *p = U; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    fprintf(f, "/* %s.h - generated by qnnc from graph @%s; do not edit.\n", name, g->name ? g->name : name);
    fprintf(f, " *\n * Call %s_run with one pointer per input and output (in the order\n"
               " * below) and a scratch buffer of %s_SCRATCH_SIZE bytes aligned to\n"
               " * %s_SCRATCH_ALIGN.  Returns QNN_OK (0) or a negative qnn_status. */\n",
            name, U, U);
    fprintf(f, "#ifndef %s_H\n#define %s_H\n\n", U, U);
    fprintf(f, "#include <stddef.h>\n#include <stdint.h>\n\n#include \"qnn_runtime.h\"\n\n");
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(f, "#define %s_SCRATCH_SIZE %lld\n", U, (long long)plan->scratch_size);
    fprintf(f, "#define %s_SCRATCH_ALIGN %d\n", U, plan->align);
    fprintf(f, "#define %s_NUM_INPUTS %d\n", U, g->inputs.len);
    fprintf(f, "#define %s_NUM_OUTPUTS %d\n\n", U, g->outputs.len);
    if (o->external_weights) {
        fprintf(f, "/* --weights=external: pass the contents of %s.weights.bin (%zu bytes)\n"
                   " * as WEIGHTS, at an address aligned to %s_WEIGHTS_ALIGN (else\n"
                   " * QNN_ERR_MISALIGNED), and how many bytes are readable there as\n"
                   " * WEIGHTS_SIZE.  QNN_ERR_BAD_WEIGHTS if WEIGHTS is NULL, WEIGHTS_SIZE is\n"
                   " * less than %s_WEIGHTS_SIZE (truncated) or the file's header is not\n"
                   " * this compile's (another model, target or qnnc; a damaged header). */\n",
                name, weights_size, U, U);
        fprintf(f, "#define %s_WEIGHTS_SIZE %zu\n", U, weights_size);
        fprintf(f, "#define %s_WEIGHTS_ALIGN %d\n", U, CG_WEIGHTS_ALIGN);
        fprintf(f, "#define %s_WEIGHTS_FNV1A UINT64_C(0x%016llx)\n", U,
                (unsigned long long)(weights ? codegen_weights_fnv(weights) : 0));
        fprintf(f, "int %s_run(const void *const inputs[], void *const outputs[], void *scratch, "
                   "const void *weights, size_t weights_size);\n", name);
        fprintf(f, "/* The tables themselves: QNN_ERR_BAD_WEIGHTS when WEIGHTS is NULL,\n"
                   " * WEIGHTS_SIZE is less than %s_WEIGHTS_SIZE or the FNV-1a-64 of bytes\n"
                   " * 64 .. %s_WEIGHTS_SIZE is not %s_WEIGHTS_FNV1A (a damaged table under\n"
                   " * an intact header), else QNN_OK.  It reads every byte, %s_run only\n"
                   " * the header: call it once after loading the file (libqnn_runtime.a). */\n"
                   "static inline int %s_check_weights(const void *weights, size_t weights_size)\n"
                   "{\n"
                   "    return qnn_check_weights(weights, weights_size, %s_WEIGHTS_SIZE, %s_WEIGHTS_FNV1A);\n"
                   "}\n",
                U, U, U, name, name, U, U);
    } else {
        fprintf(f, "int %s_run(const void *const inputs[], void *const outputs[], void *scratch);\n", name);
    }
    fprintf(f, "extern const qnn_model_info %s_info;\n\n", name);
    for (int i = 0; i < g->inputs.len; i++)
        tensor(f, U, g->inputs.data[i], i, true);
    for (int i = 0; i < g->outputs.len; i++)
        tensor(f, U, g->outputs.data[i], i, false);
    fprintf(f, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n", U);
    fclose(f);
    return text;
}
