/* PMSAv7 MPU (ARMv7-M ARM B3.5): eight regions set up through RBAR (with VALID/REGION) and
 * RASR; MemManage faults (exception 4) with MMFSR = DACCVIOL|MMARVALID and MMFAR = the
 * exact address for data accesses to no-access and read-only regions, IACCVIOL (MMFAR not
 * valid) for execution from an XN region, region priority (higher number wins), subregion
 * disable, PRIVDEFENA (privileged background map), unprivileged accesses to a
 * privileged-only region, and HFNMIENA = 0 (no MPU checks at negative priority: NMI and
 * FAULTMASK). */
#include "fault.h"

static uint8_t no_access[256] __attribute__((aligned(256)));
static uint8_t read_only[256] __attribute__((aligned(256)));
static uint16_t xn_code[32] __attribute__((aligned(64)));
static uint8_t priv_only[256] __attribute__((aligned(256)));
static uint8_t srd_buf[256] __attribute__((aligned(256)));
static uint32_t psp_stack[128] __attribute__((aligned(8)));

#define PSRAM 0x21000000u

static void region(unsigned n, uint32_t base, uint32_t rasr)
{
    MPU_RBAR = base | MPU_RBAR_VALID | n; /* VALID: REGION field selects the region */
    MPU_RASR = rasr;
}

#define ACCESS(name, insn)                                                            \
    static uint32_t name(uint32_t addr, uint32_t *at)                                 \
    {                                                                                 \
        uint32_t v = 0x5555;                                                          \
        __asm__ volatile("adr.w %0, 1f\n\t"                                           \
                         "1: " insn                                                   \
                         : "=&r"(*at), "+&r"(v)                                       \
                         : "r"(addr)                                                  \
                         : "memory");                                                 \
        return v;                                                                     \
    }
ACCESS(ldr_at, "ldr.w %1, [%2]")
ACCESS(ldrb_at, "ldrb.w %1, [%2]")
ACCESS(strb_at, "strb.w %1, [%2]")
ACCESS(strh_at, "strh.w %1, [%2]")

static volatile uint32_t nmi_val, nmi_faults;
void NMI_Handler(void)
{
    uint32_t at, before = fr.count;
    nmi_val = ldr_at((uint32_t)no_access + 0x40, &at);
    nmi_faults = fr.count - before;
}

void SVC_Handler(void) { set_control(get_control() & ~1u); }

static volatile uint32_t u_at1, u_at2, u_val_ro, u_cfsr1, u_mmfar1, u_cfsr2, u_mmfar2, u_exc_return, u_count;
static void unprivileged_part(void)
{
    uint32_t at;
    set_control(3);
    isb();
    uint32_t c0 = fr.count;
    ldr_at((uint32_t)priv_only + 8, &at);
    u_at1 = at;
    u_cfsr1 = fr.cfsr;
    u_mmfar1 = fr.mmfar;
    u_exc_return = fr.exc_return;
    u_val_ro = ldrb_at((uint32_t)read_only + 3, &at);
    strb_at((uint32_t)read_only + 5, &at);
    u_at2 = at;
    u_cfsr2 = fr.cfsr;
    u_mmfar2 = fr.mmfar;
    u_count = fr.count - c0;
    __asm__ volatile("svc #0" ::: "memory");
}

int main(void)
{
    uint32_t at, v;
    for (unsigned i = 0; i < 256; i++) {
        no_access[i] = (uint8_t)i;
        read_only[i] = (uint8_t)(0x80 + i);
        srd_buf[i] = (uint8_t)i;
    }
    for (unsigned i = 0; i < 32; i++)
        xn_code[i] = 0x4770; /* bx lr */
    SCB_SHCSR |= SHCSR_MEMFAULTENA;

    expect_eq("mpu_type: 8 data regions, unified", MPU_TYPE, 8u << 8);
    expect_eq("mpu disabled at reset", MPU_CTRL, 0);

    /* 0: code, read-only for everyone, executable. 1: SRAM, read-write, XN. 2: no access.
     * 3: read-only. 4: XN. 5: privileged only. 6: the first 32 bytes of region 2, read-write
     * (higher region number wins). 7: no access with subregion 0 (first 32 bytes) disabled. */
    region(0, 0x00000000u, MPU_RASR_AP(6) | MPU_RASR_SIZE(22) | MPU_RASR_ENABLE);
    region(1, 0x20000000u, MPU_RASR_XN | MPU_RASR_AP(3) | MPU_RASR_S | MPU_RASR_C | MPU_RASR_SIZE(22) | MPU_RASR_ENABLE);
    region(2, (uint32_t)no_access, MPU_RASR_XN | MPU_RASR_AP(0) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(3, (uint32_t)read_only, MPU_RASR_XN | MPU_RASR_AP(6) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(4, (uint32_t)xn_code, MPU_RASR_XN | MPU_RASR_AP(3) | MPU_RASR_SIZE(6) | MPU_RASR_ENABLE);
    region(5, (uint32_t)priv_only, MPU_RASR_XN | MPU_RASR_AP(1) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(6, (uint32_t)no_access, MPU_RASR_XN | MPU_RASR_AP(3) | MPU_RASR_SIZE(5) | MPU_RASR_ENABLE);
    region(7, (uint32_t)srd_buf, MPU_RASR_XN | MPU_RASR_AP(0) | MPU_RASR_SRD(0x01) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    expect_eq("rbar with valid selects the region (rnr)", MPU_RNR, 7);
    MPU_RNR = 3;
    expect_eq("rbar reads back (region 3)", MPU_RBAR, (uint32_t)read_only | 3);
    expect_eq("rasr reads back (region 3)", MPU_RASR, MPU_RASR_XN | MPU_RASR_AP(6) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);

    fault_reset();
    expect_eq("mpu off: no-access region readable", ldr_at((uint32_t)no_access + 0x40, &at), 0x43424140u);
    expect_eq("  no fault", fr.count, 0);

    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    dsb();
    isb();
    expect_eq("mpu_ctrl", MPU_CTRL, MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA);

    fault_reset();
    v = ldr_at((uint32_t)no_access + 0x40, &at);
    expect_fault("ldr from a no-access region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, 0, at);
    expect_eq("  mmfar", fr.mmfar, (uint32_t)no_access + 0x40);
    expect_eq("  destination unchanged", v, 0x5555);
    expect_eq("  exc_return thread/msp", fr.exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("  cfsr cleared by writing ones", SCB_CFSR, 0);

    fault_reset();
    strb_at((uint32_t)no_access + 0x81, &at);
    expect_fault("strb to a no-access region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, 0, at);
    expect_eq("  mmfar", fr.mmfar, (uint32_t)no_access + 0x81);

    fault_reset();
    expect_eq("higher region 6 opens the first 32 bytes", ldrb_at((uint32_t)no_access + 0x1F, &at), 0x1F);
    expect_eq("  no fault", fr.count, 0);

    fault_reset();
    expect_eq("read-only region: read", ldrb_at((uint32_t)read_only + 7, &at), 0x87);
    expect_eq("  no fault", fr.count, 0);
    strh_at((uint32_t)read_only + 6, &at);
    expect_fault("strh to a read-only region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, 0, at);
    expect_eq("  mmfar", fr.mmfar, (uint32_t)read_only + 6);
    expect_eq("  memory unchanged", read_only[6], 0x86);

    fault_reset();
    expect_eq("disabled subregion falls through to region 1", ldrb_at((uint32_t)srd_buf + 0x10, &at), 0x10);
    expect_eq("  no fault", fr.count, 0);
    ldrb_at((uint32_t)srd_buf + 0x30, &at);
    expect_fault("enabled subregion of a no-access region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, 0, at);
    expect_eq("  mmfar", fr.mmfar, (uint32_t)srd_buf + 0x30);

    /* Execute from an XN region: IACCVIOL, MMFAR not valid; resume at the return address. */
    fault_reset();
    uint32_t back;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "str %0, [%2]\n\t"
                     "blx %1\n\t"
                     "1:"
                     : "=&r"(back)
                     : "r"((uint32_t)xn_code | 1), "r"(&fault_resume)
                     : "r0", "r1", "r2", "r3", "r12", "lr", "memory");
    expect_fault("execute from an xn region", EXC_MEMMANAGE, MMFSR_IACCVIOL, 0, (uint32_t)xn_code);
    expect_eq("  stacked lr is the return address", fr.lr, back | 1);

    /* PRIVDEFENA: privileged accesses outside every region use the default map, or fault. */
    fault_reset();
    ldr_at(PSRAM, &at);
    expect_eq("privdefena 1: psram (no region) readable", fr.count, 0);
    MPU_CTRL = MPU_CTRL_ENABLE;
    dsb();
    isb();
    v = ldr_at(PSRAM + 0x10, &at);
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    dsb();
    isb();
    expect_fault("privdefena 0: psram (no region)", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, 0, at);
    expect_eq("  mmfar", fr.mmfar, PSRAM + 0x10);

    /* Unprivileged accesses. */
    fault_reset();
    call_on_psp(unprivileged_part, &psp_stack[128]);
    sh_puts("unprivileged:\n");
    expect_eq("  two faults", u_count, 2);
    expect_eq("  read of a privileged-only region: cfsr", u_cfsr1, MMFSR_DACCVIOL | MMFSR_MMARVALID);
    expect_eq("  mmfar", u_mmfar1, (uint32_t)priv_only + 8);
    expect_eq("  exc_return thread/psp", u_exc_return, EXC_RETURN_THREAD_PSP);
    expect_eq("  read-only region readable", u_val_ro, 0x83);
    expect_eq("  write to read-only region: cfsr", u_cfsr2, MMFSR_DACCVIOL | MMFSR_MMARVALID);
    expect_eq("  mmfar", u_mmfar2, (uint32_t)read_only + 5);
    fault_reset();
    expect_eq("privileged read of the privileged-only region", ldrb_at((uint32_t)priv_only + 8, &at), 0);
    expect_eq("  no fault", fr.count, 0);

    /* HFNMIENA = 0: at negative execution priority the MPU is not used. */
    SCB_ICSR = ICSR_NMIPENDSET;
    isb();
    expect_eq("nmi reads a no-access region", nmi_val, 0x43424140u);
    expect_eq("  no fault", nmi_faults, 0);
    fault_reset();
    __asm__ volatile("cpsid f" ::: "memory");
    v = ldr_at((uint32_t)no_access + 0x40, &at);
    __asm__ volatile("cpsie f" ::: "memory");
    expect_eq("faultmask set: no-access region readable", v, 0x43424140u);
    expect_eq("  no fault", fr.count, 0);

    MPU_CTRL = 0;
    dsb();
    isb();
    expect_eq("mpu off again: readable", ldrb_at((uint32_t)no_access + 0x41, &at), 0x41);
    expect_eq("memmanage faults do not touch hfsr", SCB_HFSR, 0);
    return check_done("sys_fault_mpu");
}
