/* trap_arm.c - an undefined instruction: a UsageFault, escalated to a
 * HardFault (the startup leaves the configurable faults disabled), for the
 * fault report of runtime/arm/startup_mps2.c (toy-thumbv7em-none-eabi.test). */
int main(void)
{
    __asm__ volatile("udf #0");
    return 0;
}
