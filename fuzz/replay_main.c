/* replay_main.c - fuzz-replay-TARGET: runs one fuzz target's harness on
 * saved inputs, outside libFuzzer, so the ordinary (and the sanitizer)
 * build replays the regression corpus (test/fuzz/).
 *
 * usage: fuzz-replay-TARGET FILE...
 * For each FILE prints "FILE: accepted" or "FILE: rejected: <the first
 * error>", one line.  Exits 0 when every file was handled (accepted or
 * rejected with a diagnostic), 3 when one was rejected without any error
 * diagnostic, 2 on a usage error; a crash is a signal, as in the tools. */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz-replay-%s FILE...\n", fuzz_target_name);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        size_t len;
        char *data = read_file(argv[i], &len);
        if (!data) {
            fprintf(stderr, "fuzz-replay-%s: %s: %s\n", fuzz_target_name, argv[i], strerror(errno));
            return 2;
        }
        diag_set_capture(true);
        int r = fuzz_one((const uint8_t *)data, len);
        int n;
        const Diagnostic *d = diag_captured(&n);
        const Diagnostic *first = NULL;
        for (int k = 0; k < n && !first; k++)
            if (d[k].kind == DIAG_ERROR)
                first = &d[k];
        if (r == FUZZ_ACCEPTED) {
            printf("%s: accepted\n", argv[i]);
        } else if (!first) {
            printf("%s: rejected without an error diagnostic\n", argv[i]);
            status = 3;
        } else {
            /* The message only: the scratch file's name changes per run. */
            printf("%s: rejected: %s\n", argv[i], first->message);
        }
        diag_clear_captured();
        diag_reset();
        free(data);
    }
    return status;
}
