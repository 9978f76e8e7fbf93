/* Known answers of the benchmarks, computed on the host by make bench-expected. */
#define BENCH_COREMARK_EXPECTED  0x21485234u /* bench_coremark */
#define BENCH_MEMCPY_EXPECTED    0x23948b32u /* bench_memcpy */
#define BENCH_VM_EXPECTED        0xdc6e956du /* bench_vm */
#define BENCH_IRQ_EXPECTED       0xeceae368u /* bench_irq */
#define BENCH_SLEEPY_EXPECTED    0xa11a0bd7u /* bench_sleepy */
#define BENCH_RTOS_EXPECTED      0xe4f62327u /* bench_rtos */
#define BENCH_CALLS_EXPECTED     0x0323bb9fu /* bench_calls */
