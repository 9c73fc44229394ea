/* What the bare-metal boards' startup code (runtime/arm/startup_mps2.c,
 * runtime/riscv/startup_virt.c) does through semihosting the same way on
 * every board: the command line, and hex numbers for the fault reports.
 * The command line: semihosting's SYS_GET_CMDLINE returns it as one
 * string, the arguments QEMU was given with -semihosting-config arg=...
 * joined by spaces, so an argument cannot itself contain a space. */
#ifndef QNN_SEMIHOST_H
#define QNN_SEMIHOST_H

#include <stdint.h>

/* A board's semihosting call: operation OP (SYS_GET_CMDLINE 0x15,
 * SYS_WRITE0 0x04) with its parameter block ARG; the host's result. */
typedef int (*QnnSemihost)(int op, void *arg);

/* Fetches the command line through SEMIHOST and splits it into *ARGV
 * (static storage, *ARGV[argc] = NULL); returns argc, or -1 after saying
 * why on the semihosting console when it is longer than 16,383 bytes
 * (QEMU then refuses to return it) or has more than 256 words: a graph
 * with many inputs and outputs must not reach main() as a silently
 * shorter command line. */
int qnn_semihost_args(QnnSemihost semihost, char ***argv);

/* Writes V as 0x%08x on the semihosting console; no C library (a fault
 * handler calls it, and the library's state may be what got corrupted). */
void qnn_semihost_hex(QnnSemihost semihost, uint32_t v);

#endif
