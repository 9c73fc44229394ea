/* tables.c - the op, attribute and dtype tables, generated from the .def
 * files, and name lookups over them. */
#include "ir.h"

#include <string.h>

const DTypeTraits dtype_traits[DT_COUNT] = {
#define DTYPE(id, nm, sz, isint, lo, hi) \
    [DT_##id] = {.name = nm, .size = sz, .is_int = isint, .min = lo, .max = hi},
#include "dtypes.def"
#undef DTYPE
};

static const char *const rounding_names[] = {"onnx", "tflite", NULL};
/* resize's enums, in the order of ResizeInterp, ResizeCoord, ResizeNearest (ir.h). */
static const char *const interp_names[] = {"nearest", "linear", NULL};
static const char *const coord_names[] = {"half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners",
                                          "tf_half_pixel_for_nn", NULL};
static const char *const nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL};
/* gelu's approximate, in the order of GeluApprox (ir.h). */
static const char *const approximate_names[] = {"none", "tanh", NULL};

#define ENUM_NAMES(id)                                                                 \
    ((id) == ATTR_ROUNDING ? rounding_names : (id) == ATTR_INTERP ? interp_names          \
     : (id) == ATTR_COORD  ? coord_names    : (id) == ATTR_NEAREST ? nearest_names      \
     : (id) == ATTR_APPROXIMATE ? approximate_names : NULL)

const AttrInfo attr_info[ATTR_COUNT] = {
/* Enum-valued attributes name their values; every other kind leaves
 * enum_names NULL. */
#define ATTR(id, nm, k) \
    [ATTR_##id] = {.name = nm, .kind = k, .enum_names = ENUM_NAMES(ATTR_##id)},
#include "attrs.def"
#undef ATTR
};

const OpInfo op_info[OP_COUNT] = {
#define OP(id, nm, mino, maxo, fl, at, check, interp) \
    [OP_##id] = {.name = nm, .min_operands = mino, .max_operands = maxo, .flags = fl, .attrs = at},
#include "ops.def"
#undef OP
};

static bool name_eq(const char *a, const char *b, size_t len)
{
    return strlen(a) == len && memcmp(a, b, len) == 0;
}

bool dtype_from_name(const char *name, size_t len, DType *out)
{
    for (int i = 0; i < DT_COUNT; i++)
        if (name_eq(dtype_traits[i].name, name, len))
            return *out = (DType)i, true;
    return false;
}

bool attr_from_name(const char *name, size_t len, AttrId *out)
{
    for (int i = 0; i < ATTR_COUNT; i++)
        if (name_eq(attr_info[i].name, name, len))
            return *out = (AttrId)i, true;
    return false;
}

bool op_from_name(const char *name, size_t len, OpId *out)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (name_eq(op_info[i].name, name, len))
            return *out = (OpId)i, true;
    return false;
}
