/* The bare-metal boards' command line (runtime/arm/startup_mps2.c,
 * runtime/riscv/startup_virt.c): semihosting returns it as one string, the
 * arguments QEMU was given with -semihosting-config arg=... joined by
 * spaces, so an argument cannot itself contain a space. */
#ifndef QNN_SPLIT_ARGS_H
#define QNN_SPLIT_ARGS_H

/* Splits CMDLINE in place (spaces become NULs) into ARGS[0 .. argc-1],
 * ARGS[argc] = NULL, and returns argc; -1 when it has more than MAX
 * words (ARGS holds MAX + 1 pointers): a graph with many inputs and
 * outputs must not reach main() as a silently shorter command line. */
int qnn_split_args(char *cmdline, char **args, int max);

#endif
