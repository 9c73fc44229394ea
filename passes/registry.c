/* registry.c - the table of passes qnnc-opt can run by name, generated
 * from passes.def and indexed by PassId. */
#include "passes.h"

#include <string.h>

const Pass pass_registry[] = {
#define PASS(NAME, FN, SUMMARY) [PASS_##FN] = {NAME, SUMMARY, FN},
#include "passes.def"
#undef PASS
};
const int pass_registry_count = sizeof pass_registry / sizeof pass_registry[0];
_Static_assert(sizeof pass_registry / sizeof pass_registry[0] == NUM_PASSES,
               "one registry entry per passes.def row");

const Pass *pass_lookup(const char *name, size_t len)
{
    for (int i = 0; i < pass_registry_count; i++)
        if (strlen(pass_registry[i].name) == len && memcmp(pass_registry[i].name, name, len) == 0)
            return &pass_registry[i];
    return NULL;
}
