/* clock_cortexm.c - the harness clock on Cortex-M: the DWT cycle counter
 * when the core has one that counts, otherwise SysTick.
 *
 * DWT CYCCNT (Armv7-M ARM, C1.8): enable trace with DEMCR.TRCENA, then
 * DWT_CTRL.CYCCNTENA; it counts core cycles in 32 bits, extended here to
 * 64 by noticing wraps (it wraps after 2^32 cycles, over two minutes at
 * 25 MHz, longer than any run we time).  QEMU does not implement the DWT
 * (its registers read as zero), so the counter is tried first and SysTick
 * (B3.3) is the fallback: a 24-bit down-counter at the core clock whose
 * wraps the SysTick interrupt counts.
 *
 * Under QEMU neither figure is a measure of a Cortex-M4: SysTick follows
 * QEMU's virtual clock, which tracks host time while the emulator
 * translates and runs code.  Only figures from real silicon mean
 * anything. */
#include "qnn_harness.h"

#define DEMCR (*(volatile uint32_t *)0xE000EDFC)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)

/* The MPS2 FPGA images clock the core at 25 MHz (AN386, "Clocks"). */
#define CORE_HZ 25000000u

static int use_dwt;
static volatile uint32_t systick_wraps;
static uint32_t last_cyccnt, cyccnt_high;

void SysTick_Handler(void) { systick_wraps++; }

void qnn_clock_start(void)
{
    DEMCR |= 1u << 24;   /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;      /* CYCCNTENA */
    for (volatile int i = 0; i < 100; i++) {
    }
    use_dwt = DWT_CYCCNT != 0 && !(DWT_CTRL & (1u << 25)); /* NOCYCCNT clear */
    if (use_dwt)
        return;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt on wrap, enabled */
}

uint64_t qnn_clock_ticks(void)
{
    if (use_dwt) {
        uint32_t now = DWT_CYCCNT;
        if (now < last_cyccnt)
            cyccnt_high++;
        last_cyccnt = now;
        return (uint64_t)cyccnt_high << 32 | now;
    }
    /* Read the wrap count on both sides of the counter so that a wrap
     * between the two reads cannot pair an old count with a new value. */
    uint32_t w, v;
    do {
        w = systick_wraps;
        v = SYST_CVR;
    } while (w != systick_wraps);
    return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

double qnn_clock_ticks_per_us(void) { return CORE_HZ / 1e6; }

const char *qnn_clock_name(void)
{
    return use_dwt ? "DWT CYCCNT at 25 MHz" : "SysTick at 25 MHz (under QEMU: host time, not M4 cycles)";
}

/* DWT and SysTick both count core clock cycles. */
const char *qnn_clock_unit(void) { return "cycle"; }
