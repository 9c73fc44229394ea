/* fuzz_config.c - the TOML compile configuration (frontend/config.cc):
 * load, print the effective configuration, free. */
#include "fuzz.h"
#include "config.h"

#include <stdlib.h>

const char fuzz_target_name[] = "config";

int fuzz_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp(data, size, ".toml");
    QnncConfig cfg;
    config_defaults(&cfg);
    bool ok = config_load(path, &cfg);
    if (ok) {
        /* config_print promises a file config_load reads back. */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            qnn_die("open_memstream failed");
        config_print(f, &cfg);
        fclose(f);
        config_free(&cfg);
        config_defaults(&cfg);
        if (!config_load(fuzz_write_temp((const uint8_t *)text, len, ".toml"), &cfg))
            qnn_die("config_print wrote a file config_load rejects:\n%s", text);
        free(text);
    }
    config_free(&cfg);
    return ok ? FUZZ_ACCEPTED : FUZZ_REJECTED;
}
