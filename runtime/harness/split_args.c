#include "split_args.h"

int qnn_split_args(char *cmdline, char **args, int max)
{
    int argc = 0;
    for (char *p = cmdline; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == max)
            return -1;
        args[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    args[argc] = 0;
    return argc;
}
