/* startup_virt.c - bare-metal bring-up for an RV32 core on QEMU's virt
 * board (libqnn_virt.a, with virt_rv32.ld), for programs linked with
 * picolibc and its semihosting library (--specs=picolibc.specs
 * --oslib=semihost -nostartfiles).
 *
 * Reset (machine mode, from QEMU's reset code with -bios none): set gp,
 * sp and the trap vector, zero .tbss and .bss (everything else was loaded
 * in place), point tp at the thread-local block (picolibc's errno and
 * stdio state live there), run constructors, fetch the command line from
 * the host and call main(argc, argv); exit() then ends in picolibc's
 * _exit, a semihosting SYS_EXIT_EXTENDED, whose status QEMU makes its
 * own.  Traps print their cause and the faulting PC and exit with status 3.
 *
 * Semihosting on RISC-V ("RISC-V Semihosting", riscv-non-isa/
 * riscv-semihosting, after Arm's "Semihosting for AArch32 and AArch64"):
 * the operation in a0, a pointer to the parameter block in a1, then the
 * three uncompressed instructions slli x0,x0,0x1f; ebreak; srai x0,x0,7
 * in one page; the result comes back in a0. */
#include "semihost.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv);
void __libc_init_array(void);
void qnn_start(void);
void qnn_start_c(void);
void qnn_trap(void);

/* Linker-script symbols (virt_rv32.ld). */
extern uint32_t __bss_start[], __bss_end[];
extern char __tls_base[];

enum {
    SYS_OPEN = 0x01,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
};

/* Aligned to 16 bytes so that the three instructions never straddle a
 * page: QEMU reads the ones around the ebreak to recognise the call. */
__attribute__((noinline, aligned(16))) static int semihost(int op, void *arg)
{
    register int a0 __asm__("a0") = op;
    register void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n\t"
                     ".option norvc\n\t"
                     "slli x0, x0, 0x1f\n\t"
                     "ebreak\n\t"
                     "srai x0, x0, 7\n\t"
                     ".option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
}

static void put_str(const char *s) { semihost(SYS_WRITE0, (void *)s); }

/* stdin, stdout and stderr.  picolibc's semihosting library has all three
 * write the console one character at a time (SYS_WRITEC), which QEMU
 * sends to its own stderr: a test could not tell the program's output
 * from its errors.  These, defined here so that the library's are not
 * linked, open the host's three streams as semihosting's special file
 * ":tt" (mode 0 "r" is stdin, 4 "w" stdout, 8 "a" stderr) and write them
 * a line at a time. */
enum { OUT_BUF = 256 };
typedef struct {
    FILE file; /* first: picolibc passes &file to the callbacks */
    int mode, handle;
    int n;
    char buf[OUT_BUF];
} HostStream;

static int host_handle(HostStream *h)
{
    if (h->handle < 0) {
        struct {
            const char *name;
            int mode, len;
        } block = {":tt", h->mode, 3};
        h->handle = semihost(SYS_OPEN, &block);
    }
    return h->handle;
}

static int host_flush(FILE *f)
{
    HostStream *h = (HostStream *)f;
    struct {
        int handle;
        const char *buf;
        int len;
    } block = {host_handle(h), h->buf, h->n};
    int left = h->n && block.handle >= 0 ? semihost(SYS_WRITE, &block) : 0;
    h->n = 0;
    return block.handle < 0 || left ? EOF : 0;
}

static int host_put(char c, FILE *f)
{
    HostStream *h = (HostStream *)f;
    h->buf[h->n++] = c;
    if ((c == '\n' || h->n == OUT_BUF) && host_flush(f))
        return EOF;
    return (unsigned char)c;
}

static int host_get(FILE *f)
{
    HostStream *h = (HostStream *)f;
    unsigned char c;
    struct {
        int handle;
        unsigned char *buf;
        int len;
    } block = {host_handle(h), &c, 1};
    return block.handle >= 0 && semihost(SYS_READ, &block) == 0 ? c : EOF;
}

static HostStream host_in = {FDEV_SETUP_STREAM(NULL, host_get, NULL, _FDEV_SETUP_READ), 0, -1, 0, {0}};
static HostStream host_out = {FDEV_SETUP_STREAM(host_put, NULL, host_flush, _FDEV_SETUP_WRITE), 4, -1, 0, {0}};
static HostStream host_err = {FDEV_SETUP_STREAM(host_put, NULL, host_flush, _FDEV_SETUP_WRITE), 8, -1, 0, {0}};
FILE *const stdin = &host_in.file;
FILE *const stdout = &host_out.file;
FILE *const stderr = &host_err.file;

/* What is left in the buffers when the program exits (atexit). */
static void flush_streams(void)
{
    host_flush(stdout);
    host_flush(stderr);
}

/* The CSR instructions are written under ".option arch, +zicsr": the
 * toolchain's -march=rv32imac names no Zicsr (GCC 12 has no multilib for
 * rv32imac_zicsr), and binutils 2.40 wants it named.
 *
 * The entry point: registers C needs, then C.  gp is loaded with linker
 * relaxation off, or the linker would turn the load into one relative to
 * gp itself. */
__attribute__((naked, section(".text.qnn_start"))) void qnn_start(void)
{
    __asm__ volatile(".option push\n\t"
                     ".option norelax\n\t"
                     "la gp, __global_pointer$\n\t"
                     ".option pop\n\t"
                     "la sp, __stack_top\n\t"
                     "la t0, qnn_trap\n\t"
                     ".option push\n\t"
                     ".option arch, +zicsr\n\t"
                     "csrw mtvec, t0\n\t"
                     ".option pop\n\t"
                     "j qnn_start_c\n\t");
}

void qnn_start_c(void)
{
    /* Word loops rather than memset: the C library is not ready yet, and
     * the linker script keeps the range 8-byte aligned. */
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    __asm__ volatile("mv tp, %0" : : "r"(__tls_base));
    __libc_init_array();
    atexit(flush_streams);
    /* picolibc's own crt0-semihost would take 1 KiB of the command line,
     * too little for a graph with many inputs. */
    char **argv;
    int argc = qnn_semihost_args(semihost, &argv);
    exit(argc < 0 ? 2 : main(argc, argv));
}

static void put_hex(uint32_t v) { qnn_semihost_hex(semihost, v); }

void _exit(int status) __attribute__((noreturn));

/* Traps: say which and where, then exit with status 3.  Everything here
 * avoids the C library, whose state may be what got corrupted.  mcause is
 * the exception code (2 illegal instruction, 4/6 misaligned load/store,
 * 5/7 access fault, 3 a breakpoint outside semihosting), mepc the
 * faulting instruction, mtval the address or instruction bits. */
__attribute__((aligned(4))) void qnn_trap(void)
{
    uint32_t cause, epc, tval;
    __asm__ volatile(".option push\n\t.option arch, +zicsr\n\t"
                     "csrr %0, mcause\n\tcsrr %1, mepc\n\tcsrr %2, mtval\n\t.option pop"
                     : "=r"(cause), "=r"(epc), "=r"(tval));
    put_str("\nqnn: fatal trap, mcause ");
    put_hex(cause);
    put_str(" at pc ");
    put_hex(epc);
    put_str(", mtval ");
    put_hex(tval);
    put_str("\n");
    _exit(3);
}
