/* Atomics as a debug (-O0) build from LLVM (Rust, clang) executes them. At -O0 LLVM expands
 * every atomic read-modify-write into a compare-exchange loop, and its CMP_SWAP_32 pseudo
 * becomes ldrex / `cmp` / bne / strex / cmp / bne where the `cmp` is the 16-bit CMP (register)
 * encoding T2 even when both registers are low (0x4508, `cmp r0, r1`): UNPREDICTABLE in the
 * ARMv7-M ARM (A7.7.28), executed as CMP by Cortex-M3/M4/M7 and by QEMU. So `fetch_add` and
 * `compare_exchange` in heapless, static_cell, embassy or a SysTick counter all run through
 * it. The exact sequence is written out below (register use as LLVM allocates it); SysTick
 * interrupts the loops (exception entry and return clear the exclusive monitor, so some
 * store-exclusives fail and retry). `armlet run --strict` faults at the first `cmp r0, r1`
 * (UNDEFINSTR); the HardFault handler is the vendor-startup `b .`, so that is exit 126. */
#include "armv7m.h"
#include "semihost.h"

void HardFault_Handler(void)
{
    __asm__ volatile("b ."); /* the vendor-startup idle loop */
    __builtin_unreachable();
}

/* LLVM's -O0 `cmpxchg` (ARMExpandPseudo::ExpandCMP_SWAP, Thumb): returns the value seen. */
static uint32_t cmpxchg(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
    register uint32_t dest __asm__("r0");
    register uint32_t exp __asm__("r1") = expected;
    register volatile uint32_t *addr __asm__("r2") = p;
    register uint32_t status __asm__("r3");
    register uint32_t newv __asm__("r12") = desired;
    __asm__ volatile("1: ldrex r0, [r2]\n\t"
                     ".hword 0x4508\n\t" /* cmp r0, r1 (CMP T2, both low: tCMPhir) */
                     "bne 2f\n\t"
                     "strex r3, r12, [r2]\n\t"
                     "cmp.w r3, #0\n\t"
                     "bne 1b\n"
                     "2:"
                     : "=&r"(dest), "=&r"(status)
                     : "r"(exp), "r"(addr), "r"(newv)
                     : "cc", "memory");
    return dest;
}

/* AtomicU32::fetch_add at -O0: a compare-exchange loop. */
static uint32_t fetch_add(volatile uint32_t *p, uint32_t v)
{
    uint32_t old = *p;
    for (;;) {
        uint32_t seen = cmpxchg(p, old, old + v);
        if (seen == old) {
            return old;
        }
        old = seen;
    }
}

static volatile uint32_t counter, ticks;

void SysTick_Handler(void)
{
    fetch_add(&counter, 1);
    ticks++;
}

int main(void)
{
    /* One call before SysTick starts: under --strict the fault comes with nothing else
     * enabled, so the core is stuck in HardFault's `b .` for good. */
    fetch_add(&counter, 3);
    uint32_t n = 1;
    SYST_RVR = 997;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
    while (n < 2000 || ticks < 5) {
        fetch_add(&counter, 3);
        n++;
    }
    SYST_CSR = 0;
    int bad = 0;
    if (counter != 3 * n + ticks) {
        sh_puts("FAIL fetch_add: counter is not 3 * calls + ticks\n");
        bad = 1;
    }
    /* compare_exchange: succeeds when the value matches, else returns what it saw. */
    volatile uint32_t cell = 41;
    if (cmpxchg(&cell, 41, 42) != 41 || cell != 42) {
        sh_puts("FAIL compare_exchange(41, 42) on 41\n");
        bad = 1;
    }
    if (cmpxchg(&cell, 41, 43) != 42 || cell != 42) {
        sh_puts("FAIL compare_exchange(41, 43) on 42\n");
        bad = 1;
    }
    sh_puts(bad ? "FAIL atomic_o0\n" : "PASS atomic_o0\n");
    return bad;
}
