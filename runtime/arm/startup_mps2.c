/* startup_mps2.c - bare-metal bring-up for a Cortex-M4 on QEMU's
 * mps2-an386 (libqnn_mps2.a, with mps2_an386.ld) and for a Cortex-M55 on
 * its mps3-an547 (libqnn_mps3.a, with mps3_an547.ld), for programs linked
 * with newlib's semihosting library (--specs=rdimon.specs -nostartfiles).
 * Nothing here differs between the two: the System Control Space is the
 * same, CPACR's CP10/CP11 enable both the FPU and the M55's MVE, and the
 * external interrupts past the first 32 (AN547 has more) stay disabled.
 *
 * Reset: enable the FPU (and MVE), copy .data, zero .bss, open the semihosting
 * stdio handles, run constructors, fetch the command line from the host
 * and call main(argc, argv); main's return value becomes QEMU's exit
 * status.  Faults print their name and the faulting PC and exit with
 * status 3.
 *
 * Semihosting (Arm "Semihosting for AArch32 and AArch64", v2): on
 * M-profile the call is BKPT 0xAB with the operation in r0 and a pointer
 * to the parameter block in r1; the result comes back in r0. */
#include "semihost.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);
void initialise_monitor_handles(void);
static void put_str(const char *s);
void __libc_init_array(void);
void qnn_reset_handler(void);

/* Linker-script symbols (mps2_an386.ld, mps3_an547.ld). */
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start__[], __bss_end__[];
extern char __stack_top[], __heap_start[], __heap_end[];

enum {
    SYS_WRITE0 = 0x04,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    ADP_STOPPED_RUN_TIME_ERROR = 0x20023,
};

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* newlib's exit() ends here after flushing stdio.  SYS_EXIT on AArch32
 * can only say "success" or "failure"; SYS_EXIT_EXTENDED (semihosting v2,
 * implemented by QEMU) carries the status, which qemu-system-arm then
 * uses as its own exit status.  Defining _exit here keeps librdimon's,
 * which may not know the extension, out of the link. */
void _exit(int status)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
    /* A host without the extension returns; fall back to plain SYS_EXIT. */
    semihost(SYS_EXIT, (void *)(uintptr_t)(status ? ADP_STOPPED_RUN_TIME_ERROR : ADP_STOPPED_APPLICATION_EXIT));
    for (;;)
        __asm__ volatile("wfi");
}

/* The heap is all of PSRAM (see the linker script).  librdimon's weak
 * _sbrk bounds the heap by the stack pointer, which would refuse a heap
 * placed above the stack, as ours is. */
void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __heap_start;
    if (incr > __heap_end - brk || incr < __heap_start - brk)
        return (void *)-1;
    char *old = brk;
    brk += incr;
    return old;
}

/* crti.o's _init/_fini are not linked with -nostartfiles, but
 * __libc_init_array and __libc_fini_array still call them. */
void _init(void) {}
void _fini(void) {}

void qnn_reset_handler(void)
{
    /* CPACR (0xE000ED88): full access to CP10 and CP11, the FPU, before
     * any floating-point instruction runs (Armv7-M ARM, B3.2.20).  The
     * barriers make the change visible to the next instruction. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    /* Word loops rather than memcpy/memset: the C library is not ready
     * yet, and the linker script keeps both ranges 8-byte aligned. */
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start__; d < __bss_end__;)
        *d++ = 0;

    initialise_monitor_handles();
    __libc_init_array();
    char **argv;
    int argc = qnn_semihost_args(semihost, &argv);
    exit(argc < 0 ? 2 : main(argc, argv));
}

/* Faults: say which and where, then exit with status 3.  Everything here
 * avoids the C library, whose state may be what got corrupted. */
static void put_str(const char *s) { semihost(SYS_WRITE0, (void *)s); }

static void put_hex(uint32_t v) { qnn_semihost_hex(semihost, v); }

/* FRAME is the exception stack frame: r0-r3, r12, lr, pc, xpsr. */
void qnn_fault_report(const uint32_t *frame, uint32_t ipsr)
{
    static const char *const names[] = {"", "", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault"};
    put_str("\nqnn: fatal exception ");
    put_str(ipsr < 7 && ipsr >= 2 ? names[ipsr] : "(unexpected interrupt)");
    put_str(" ");
    put_hex(ipsr);
    put_str(" at pc ");
    put_hex(frame[6]);
    put_str(", CFSR ");
    put_hex(*(volatile uint32_t *)0xE000ED28);
    put_str("\n");
    _exit(3);
}

/* Finds the stacked frame (MSP or PSP, by EXC_RETURN bit 2) and the
 * exception number, then reports in C. */
__attribute__((naked)) void qnn_fault_handler(void)
{
    __asm__ volatile("tst lr, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "mrs r1, ipsr\n\t"
                     "b qnn_fault_report\n\t");
}

/* The harness's clock (clock_cortexm.c) overrides this when it uses SysTick. */
void SysTick_Handler(void) __attribute__((weak, alias("qnn_fault_handler")));

/* The vector table (Armv7-M ARM, B1.5.3): initial SP, then handlers for
 * exceptions 1-15 and the board's 32 external interrupts (AN386). */
typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) const vector qnn_vectors[16 + 32] = {
    (vector)(uintptr_t)__stack_top,
    qnn_reset_handler,
    qnn_fault_handler, /* NMI */
    qnn_fault_handler, /* HardFault */
    qnn_fault_handler, /* MemManage */
    qnn_fault_handler, /* BusFault */
    qnn_fault_handler, /* UsageFault */
    [11] = qnn_fault_handler, /* SVCall */
    [12] = qnn_fault_handler, /* DebugMonitor */
    [14] = qnn_fault_handler, /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 47] = qnn_fault_handler,
};
