/* check.h - the unit tests' CHECK(cond, fmt, ...): counts the checks that
 * pass and fail and prints each failure with its file, line and message.
 * A test's main prints the counts and returns failed != 0. */
#ifndef QNNC_UNIT_CHECK_H
#define QNNC_UNIT_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                    \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

#endif /* QNNC_UNIT_CHECK_H */
