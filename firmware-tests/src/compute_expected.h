/* Computed by building compute.c natively on the host (see compute.c). */
#define COMPUTE_EXPECTED 0x00d052d2u
