/* clock_rv32.c - the harness clock on RV32 under QEMU: the instret
 * counter when it counts instructions, otherwise the CLINT's mtime.
 *
 * instret (the Zicntr counter, read with rdinstret/rdinstreth) counts
 * retired instructions on hardware.  QEMU 7.2 does not count them: it
 * returns its virtual clock for cycle and instret alike, which tracks host
 * time -- unless it runs with `-icount shift=0` (as scripts/run-target
 * runs the board), when the virtual clock advances exactly 1 ns per
 * executed instruction.  Then instret is an exact instruction count, the
 * same on every run of the same code (docs/runtime.md, "Counting
 * instructions").  qnn_clock_start tells the two apart by a probe
 * (icount_probe).  Without icount the clock is mtime (the virt board's
 * CLINT at 0x0200bff8, 10 MHz), which is host time, not RV32 cycles.
 *
 * An instruction count is not a cycle count: no load-use or branch
 * penalties, no multi-cycle multiplies, no memory wait states. */
#include "qnn_harness.h"

/* The virt board's CLINT mtime and its rate (QEMU's device tree:
 * timebase-frequency = 10000000). */
#define MTIME_LO (*(volatile uint32_t *)0x0200BFF8)
#define MTIME_HI (*(volatile uint32_t *)0x0200BFFC)
#define MTIME_HZ 10000000u

enum { CLOCK_MTIME, CLOCK_ICOUNT };
static int source;

static uint64_t instret(void)
{
    /* (".option arch, +zicsr": see startup_virt.c.)  Read high, low, high until the high word holds still, so that a
     * carry between the reads cannot pair an old half with a new one. */
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile(".option push\n\t.option arch, +zicsr\n\t"
                         "rdinstreth %0\n\trdinstret %1\n\trdinstreth %2\n\t.option pop"
                         : "=r"(hi), "=r"(lo), "=r"(hi2));
    } while (hi != hi2);
    return (uint64_t)hi << 32 | lo;
}

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = MTIME_HI;
        lo = MTIME_LO;
    } while (hi != MTIME_HI);
    return (uint64_t)hi << 32 | lo;
}

/* Exactly 2 * N instructions: addi and bnez per iteration. */
static void spin(uint32_t n)
{
    __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
}

/* Whether instret counts instructions.  Under -icount it is a function of
 * the instructions executed alone: spinning 40,000 and 120,000
 * instructions reads 40,000 and 120,000 more (plus the calls' and reads'
 * own: 7 at -O2, more unoptimized), and 200 semihosting calls, a few
 * instructions each but a trip out of the emulated CPU and back for QEMU
 * (microseconds of host time each), add about 1,600.  Host time passes all three only by a
 * triple coincidence. */
static int icount_probe(void)
{
    uint64_t t0 = instret();
    spin(20000);
    uint64_t t1 = instret();
    spin(60000);
    uint64_t t2 = instret();
    for (int i = 0; i < 200; i++) {
        register uint32_t a0 __asm__("a0") = 0x13; /* SYS_ERRNO: no argument */
        register uint32_t a1 __asm__("a1") = 0;
        __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                         "slli x0, x0, 0x1f\n\tebreak\n\tsrai x0, x0, 7\n\t.option pop"
                         : "+r"(a0)
                         : "r"(a1)
                         : "memory");
    }
    uint64_t t3 = instret();
    uint64_t d1 = t1 - t0, d2 = t2 - t1, d3 = t3 - t2;
    return d1 >= 40000 && d1 <= 40000 + 256 && d2 >= 120000 && d2 <= 120000 + 256 && d3 <= 200 * 64;
}

void qnn_clock_start(void) { source = icount_probe() ? CLOCK_ICOUNT : CLOCK_MTIME; }

uint64_t qnn_clock_ticks(void) { return source == CLOCK_ICOUNT ? instret() : mtime(); }

/* Under icount a microsecond of virtual time is 1000 instructions. */
double qnn_clock_ticks_per_us(void) { return source == CLOCK_ICOUNT ? 1000.0 : MTIME_HZ / 1e6; }

const char *qnn_clock_name(void)
{
    return source == CLOCK_ICOUNT ? "instret under QEMU -icount shift=0: instructions, in steps of 1"
                                  : "mtime at 10 MHz (under QEMU without -icount: host time, not RV32 cycles)";
}

const char *qnn_clock_unit(void) { return source == CLOCK_ICOUNT ? "instruction" : "cycle"; }
