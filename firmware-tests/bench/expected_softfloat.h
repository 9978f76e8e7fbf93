/* The known answer of bench_softfloat, recorded from qemu-system-arm by make bench-expected-softfloat. */
#define BENCH_SOFTFLOAT_EXPECTED 0x61a863dau
