/* expect-exit STATUS COMMAND [ARG...]
 *
 * Runs COMMAND and succeeds only when it exits normally with exactly
 * STATUS.  It is what the lit substitutions %error (status 1: bad input)
 * and %usage-error (status 2: bad command line) expand to.
 *
 * lit's built-in `not` accepts any non-zero status, so a tool that
 * crashes (SIGSEGV, or the SIGABRT a sanitizer raises with
 * abort_on_error=1) would pass an expected-error test.  This program
 * fails on every signal, on status 0 and on any status other than the
 * one asked for, and says which in one line on stderr.  The command's
 * own stdout and stderr are not touched, so their interleaving is the
 * same as when it runs alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: expect-exit STATUS COMMAND [ARG...]\n");
        return 2;
    }
    char *end;
    long want = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || want < 1 || want > 255) {
        fprintf(stderr, "expect-exit: STATUS must be 1 to 255, not '%s'\n", argv[1]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "expect-exit: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "expect-exit: cannot run '%s': %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "expect-exit: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        fprintf(stderr, "expect-exit: '%s' was killed by signal %d (%s); expected exit status %ld\n",
                argv[2], sig, strsignal(sig), want);
        return 1;
    }
    int got = WEXITSTATUS(status);
    if (got != want) {
        fprintf(stderr, "expect-exit: '%s' exited with status %d; expected %ld\n", argv[2], got, want);
        return 1;
    }
    return 0;
}
