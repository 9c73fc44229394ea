/* trap_riscv32.c - loads from address 0x10, where QEMU's virt board maps
 * nothing: a load access fault for the trap handler in
 * runtime/riscv/startup_virt.c (toy-riscv32-none-elf.test). */
#include <stdint.h>

int main(void)
{
    volatile int *p = (volatile int *)(uintptr_t)0x10;
    return *p;
}
