#include "semihost.h"

enum { SYS_WRITE0 = 0x04, SYS_GET_CMDLINE = 0x15, MAX_CMDLINE = 16384, MAX_ARGS = 256 };

static char cmdline[MAX_CMDLINE];
static char *args[MAX_ARGS + 1];

int qnn_semihost_args(QnnSemihost semihost, char ***argv)
{
    struct {
        char *buf;
        int len;
    } block = {cmdline, MAX_CMDLINE - 1};
    *argv = args;
    if (semihost(SYS_GET_CMDLINE, &block) != 0) {
        semihost(SYS_WRITE0, "qnn-harness: the semihosting command line is longer than 16383 bytes\n");
        return -1;
    }
    cmdline[MAX_CMDLINE - 1] = '\0';
    int argc = 0;
    for (char *p = cmdline; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == MAX_ARGS) {
            semihost(SYS_WRITE0, "qnn-harness: the command line has more than 256 arguments\n");
            return -1;
        }
        args[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    args[argc] = 0;
    return argc;
}

void qnn_semihost_hex(QnnSemihost semihost, uint32_t v)
{
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xF];
    buf[10] = '\0';
    semihost(SYS_WRITE0, buf);
}
