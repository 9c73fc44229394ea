/* clock_cortexm.c - the harness clock on Cortex-M: the DWT cycle counter
 * when the core has one that counts; otherwise SysTick, which under
 * QEMU's -icount shift=0 counts executed instructions.
 *
 * DWT CYCCNT (Armv7-M ARM, C1.8): enable trace with DEMCR.TRCENA, then
 * DWT_CTRL.CYCCNTENA; it counts core cycles in 32 bits, extended here to
 * 64 by noticing wraps (it wraps after 2^32 cycles, over two minutes at
 * 25 MHz, longer than any run we time).  QEMU does not implement the DWT
 * (its registers read as zero), so the counter is tried first and SysTick
 * (B3.3) is the fallback: a 24-bit down-counter at the core clock whose
 * wraps the SysTick interrupt counts.
 *
 * SysTick follows QEMU's virtual clock.  Normally that tracks host time,
 * which says nothing about a Cortex-M4.  With `-icount shift=0` (as
 * scripts/run-target runs the board) QEMU advances it by exactly 1 ns per
 * executed instruction, so a SysTick tick at 25 MHz is exactly 40
 * instructions and every run of the same code reads the same count.
 * qnn_clock_start tells the two apart by a probe (icount_probe) and, under
 * icount, the clock's unit is the instruction: ticks are SysTick ticks
 * times 40, so a reading is exact to 40 instructions.  An instruction
 * count is not a cycle count: it has no flash wait states, no pipeline
 * refills after taken branches, no multi-cycle loads or multiplies
 * (docs/runtime.md, "Counting instructions"). */
#include "qnn_harness.h"

#define DEMCR (*(volatile uint32_t *)0xE000EDFC)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)

/* The core clock: the MPS2 FPGA images clock the core at 25 MHz (AN386,
 * "Clocks"), QEMU's MPS3 AN547 at 32 MHz; runtime/CMakeLists.txt passes
 * the board's as QNN_CORE_HZ. */
#ifdef QNN_CORE_HZ
#define CORE_HZ QNN_CORE_HZ
#else
#define CORE_HZ 25000000u
#endif
/* Under -icount shift=0: 1 instruction = 1 ns of virtual time, so a tick
 * is 1e9 / CORE_HZ instructions (40 at 25 MHz, 31.25 at 32 MHz). */
static uint64_t ticks_to_insns(uint64_t t) { return t * 1000000000u / CORE_HZ; }
#if CORE_HZ == 25000000u
#define CLOCK_MHZ "25 MHz"
#define TICK_STEP "40"
#define CORE_NAME "M4"
#else
#define CLOCK_MHZ "32 MHz"
#define TICK_STEP "31.25"
#define CORE_NAME "M55"
#endif
/* Ticks that 40,000 instructions take. */
#define PROBE_TICKS (40000ull * CORE_HZ / 1000000000u)

enum { CLOCK_SYSTICK, CLOCK_DWT, CLOCK_ICOUNT };
static int source;
static volatile uint32_t systick_wraps;
static uint32_t last_cyccnt, cyccnt_high;

void SysTick_Handler(void) { systick_wraps++; }

static uint64_t systick_ticks(void)
{
    /* Read the wrap count on both sides of the counter so that a wrap
     * between the two reads cannot pair an old count with a new value. */
    uint32_t w, v;
    do {
        w = systick_wraps;
        v = SYST_CVR;
    } while (w != systick_wraps);
    return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

/* Exactly 2 * N instructions: subs and bne per iteration. */
static void spin(uint32_t n)
{
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

/* Whether SysTick counts instructions.  Under -icount the virtual clock is
 * a function of the instructions executed alone: spinning 40,000 and
 * 120,000 instructions reads 1,000 and 3,000 ticks (give or take the
 * reads' own few instructions, one tick), and 200 semihosting calls, a
 * few instructions each but a trip out of the emulated CPU and back for
 * QEMU (microseconds of host time each), cost a few ticks.  Host time
 * passes both tests only by a double coincidence. */
static int icount_probe(void)
{
    uint64_t t0 = systick_ticks();
    spin(20000);
    uint64_t t1 = systick_ticks();
    spin(60000);
    uint64_t t2 = systick_ticks();
    for (int i = 0; i < 200; i++) {
        register uint32_t r0 __asm__("r0") = 0x13; /* SYS_ERRNO: no argument */
        register uint32_t r1 __asm__("r1") = 0;
        __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    }
    uint64_t t3 = systick_ticks();
    uint64_t d1 = t1 - t0, d2 = t2 - t1, d3 = t3 - t2;
    return d1 >= PROBE_TICKS && d1 <= PROBE_TICKS + 2 && d2 >= 3 * PROBE_TICKS && d2 <= 3 * PROBE_TICKS + 2 &&
           d3 <= 100;
}

void qnn_clock_start(void)
{
    DEMCR |= 1u << 24;   /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;      /* CYCCNTENA */
    for (volatile int i = 0; i < 100; i++) {
    }
    if (DWT_CYCCNT != 0 && !(DWT_CTRL & (1u << 25))) { /* NOCYCCNT clear */
        source = CLOCK_DWT;
        return;
    }
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt on wrap, enabled */
    /* The counter holds the 0 written above until its first reload (one
     * tick later), and a reload from 0 is not a wrap: wait for it, or the
     * first reading would be 0xFFFFFF ticks ahead of the next. */
    for (long i = 0; i < 1000000 && SYST_CVR == 0; i++) {
    }
    source = icount_probe() ? CLOCK_ICOUNT : CLOCK_SYSTICK;
}

uint64_t qnn_clock_ticks(void)
{
    if (source == CLOCK_DWT) {
        uint32_t now = DWT_CYCCNT;
        if (now < last_cyccnt)
            cyccnt_high++;
        last_cyccnt = now;
        return (uint64_t)cyccnt_high << 32 | now;
    }
    return source == CLOCK_ICOUNT ? ticks_to_insns(systick_ticks()) : systick_ticks();
}

/* Under icount a microsecond of virtual time is 1000 instructions. */
double qnn_clock_ticks_per_us(void) { return source == CLOCK_ICOUNT ? 1000.0 : CORE_HZ / 1e6; }

const char *qnn_clock_name(void)
{
    switch (source) {
    case CLOCK_DWT: return "DWT CYCCNT at " CLOCK_MHZ;
    case CLOCK_ICOUNT: return "SysTick under QEMU -icount shift=0: instructions, in steps of " TICK_STEP;
    default: return "SysTick at " CLOCK_MHZ " (under QEMU without -icount: host time, not " CORE_NAME " cycles)";
    }
}

/* DWT and SysTick count core clock cycles; under icount SysTick counts
 * instructions. */
const char *qnn_clock_unit(void) { return source == CLOCK_ICOUNT ? "instruction" : "cycle"; }
