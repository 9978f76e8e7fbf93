/* UNPREDICTABLE encodings that Cortex-M cores and QEMU execute, one of each class armlet's
 * policy executes (emulator/cpu/UNPREDICTABLE.md), with the architectural reading checked
 * (and recorded from qemu-system-arm 7.2 on mps2-an385), and the classes that stay UNDEFINED
 * (QEMU UNDEFs them too) checked to take UsageFault UNDEFINSTR. Each case runs with r0 = 0x11,
 * r1 = 0x22, r2 = &buf[0], r3 = 0 and NZCV = 1000 (`cmp r3, #1`), then r0-r3, APSR, and SP
 * or a label's address are captured. The raw encodings are .hword/.inst since the assembler
 * refuses to produce them. `armlet run --strict` makes every one of them UNDEFINED. */
#include "fault.h"

static volatile uint32_t out[6]; /* r0, r1, r2, r3, apsr, r8 */
static volatile uint32_t buf[4];

#define CASE(fn, body)                                                                     \
    static void fn(void)                                                                   \
    {                                                                                      \
        buf[0] = 0xb0;                                                                     \
        buf[1] = 0xb1;                                                                     \
        buf[2] = 0xb2;                                                                     \
        buf[3] = 0xb3;                                                                     \
        __asm__ volatile("ldr r0, =0x11\n\t ldr r1, =0x22\n\t mov r2, %[b]\n\t movs r3, #0\n\t" \
                         "mov r8, r3\n\t cmp r3, #1\n\t" body "\n\t"                      \
                         "mrs r12, apsr\n\t str r0, [%[o]]\n\t str r1, [%[o], #4]\n\t"     \
                         "str r2, [%[o], #8]\n\t str r3, [%[o], #12]\n\t"                  \
                         "str r12, [%[o], #16]\n\t str r8, [%[o], #20]"                    \
                         :                                                                 \
                         : [b] "r"(buf), [o] "r"(out)                                      \
                         : "r0", "r1", "r2", "r3", "r8", "r12", "memory", "cc");           \
    }

#define R0 out[0]
#define R1 out[1]
#define R2 out[2]
#define R3 out[3]
#define NZCV (out[4] >> 28)
#define R8 out[5]
#define BUF ((uint32_t)buf)

/* Executed classes. r3 or r8 receives SP or a label's address where the result needs it. */
CASE(cmp_low, ".hword 0x4508")                          /* cmp r0, r1 (T2, both low) */
CASE(cmp_low_eq, "mov r1, r0\n\t .hword 0x4508")        /* cmp r0, r0 */
CASE(cmp_pc, "adr.w r8, 1f\n\t 1: .hword 0x45f8")       /* cmp r8, pc: r8 - (1f + 4) */
CASE(movs_in_it, "cmp r3, #0\n\t it eq\n\t .inst.n 0x0008") /* movs r0, r1 in IT: mov, flags kept */
CASE(cps_none, ".hword 0xb660")                         /* cpsie (no I, no F): nothing */
CASE(cps_in_it, "cmp r3, #1\n\t it eq\n\t .inst.n 0xb672") /* it eq; cpsid i with eq false */
CASE(cbnz_in_it, "cmp r3, #0\n\t it eq\n\t .inst.n 0xb900\n\t adds r1, #1") /* taken */
CASE(cbnz_in_it_false, "cmp r3, #1\n\t it eq\n\t .inst.n 0xb900\n\t adds r1, #1") /* skipped */
CASE(ldr_wb_rt_rn, ".inst.w 0xf8522b04")                /* ldr.w r2, [r2], #4 */
CASE(ldrb_wb_rt_rn, ".inst.w 0xf8122b01")               /* ldrb.w r2, [r2], #1 */
CASE(str_wb_rt_rn, ".inst.w 0xf8422b04")                /* str.w r2, [r2], #4 */
CASE(ldrd_wb_rt2_rn, ".inst.w 0xe8f20202")              /* ldrd r0, r2, [r2], #8 */
CASE(ldrd_wb_rt_rn, ".inst.w 0xe8f22002")               /* ldrd r2, r0, [r2], #8 */
CASE(strd_wb_rt2_rn, ".inst.w 0xe8e20202")              /* strd r0, r2, [r2], #8 */
CASE(and_sp, "mov r3, sp\n\t .inst.w 0xea0d0001")       /* and.w r0, sp, r1 */
CASE(cmp_w_sp, "mov r3, sp\n\t .inst.w 0xebb30f0d")     /* cmp.w r3, sp */
CASE(add_pc, "adr.w r3, 1f\n\t 1: .inst.w 0xeb01000f")  /* add.w r0, r1, pc */
CASE(mul_sp, "mov r3, sp\n\t .inst.w 0xfb0df001")       /* mul r0, sp, r1 */
CASE(udiv_sp, "mov r3, sp\n\t .inst.w 0xfbbdf0f1")      /* udiv r0, sp, r1 */
CASE(lsr_sp, "mov r3, sp\n\t .inst.w 0xfa2df001")       /* lsr.w r0, sp, r1 */
CASE(ldr_reg_sp, "mov r3, sp\n\t subs r2, r2, r3\n\t .inst.w 0xf852000d") /* ldr.w r0, [r2, sp] */
CASE(str_pc, "adr.w r3, 1f\n\t 1: .inst.w 0xf8c2f000") /* str.w pc, [r2] */
CASE(strh_sp, "mov r3, sp\n\t .inst.w 0xf8a2d000")     /* strh.w sp, [r2] */
CASE(umull_same, "ldr r1, =0x80000001\n\t .inst.w 0xfba10001") /* umull r0, r0, r1, r1 */
CASE(mrs_reserved, ".inst.w 0xf3ef8004")                /* mrs r0, SYSm 4 */
CASE(stm_sp, "mov r3, sp\n\t .inst.w 0xe8822001")       /* stmia.w r2, {r0, sp} */
CASE(stm_pc, "adr.w r3, 1f\n\t 1: .inst.w 0xe8828001")  /* stmia.w r2, {r0, pc} */
/* Kept UNDEFINED: QEMU UNDEFs these too. */
CASE(strex_rd_rt, ".inst.w 0xe8420000")                 /* strex r0, r0, [r2] */
CASE(ldm_one, ".inst.w 0xe8920001")                     /* ldmia.w r2, {r0} */
CASE(ldm_wb_rn, ".inst.w 0xe8b20005")                   /* ldmia.w r2!, {r0, r2} */
CASE(bx_sbz, "adr.w r0, 1f + 1\n\t .hword 0x4701\n\t nop\n\t 1:") /* bx r0, bit 0 set */
CASE(bcond_in_it, "cmp r3, #0\n\t it eq\n\t .inst.n 0xd000\n\t adds r1, #1") /* beq in IT */
CASE(push_empty, ".hword 0xb400")                       /* push {} */

/* NZCV of a - b. */
static uint32_t sub_flags(uint32_t a, uint32_t b)
{
    uint32_t r = a - b;
    uint32_t n = r >> 31, z = r == 0, c = a >= b, v = ((a ^ b) & (a ^ r)) >> 31;
    return n << 3 | z << 2 | c << 1 | v;
}

static void run(const char *name, void (*fn)(void))
{
    fault_reset();
    fn();
    sh_puts(name);
    sh_puts(":\n");
    expect_eq("  no fault", fr.count, 0);
}

static void undefined(const char *name, void (*fn)(void))
{
    fault_reset();
    fn();
    sh_puts(name);
    sh_puts(":\n");
    expect_eq("  one fault", fr.count, 1);
    expect_eq("  UsageFault UNDEFINSTR", fr.cfsr, UFSR_UNDEFINSTR);
}

int main(void)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;

    run("cmp r0, r1 (CMP T2, both low)", cmp_low);
    expect_eq("  nzcv of 0x11 - 0x22", NZCV, sub_flags(0x11, 0x22));
    run("cmp r0, r0 (CMP T2, both low)", cmp_low_eq);
    expect_eq("  nzcv of 0x11 - 0x11", NZCV, sub_flags(0x11, 0x11));
    run("cmp r8, pc (CMP T2)", cmp_pc);
    expect_eq("  nzcv of (1f) - (1f + 4)", NZCV, sub_flags(R8, R8 + 4));
    run("movs r0, r1 in an IT block", movs_in_it);
    expect_eq("  r0", R0, 0x22);
    expect_eq("  flags unchanged (Z, C of cmp r3, #0)", NZCV, 0x6);
    run("cps with neither I nor F", cps_none);
    expect_eq("  primask", get_primask(), 0);
    run("cpsid i in an IT block, condition false", cps_in_it);
    expect_eq("  primask", get_primask(), 0);
    cpsie_i();
    run("cbnz in an IT block, condition true", cbnz_in_it);
    expect_eq("  branch taken", R1, 0x22);
    run("cbnz in an IT block, condition false", cbnz_in_it_false);
    expect_eq("  not executed", R1, 0x23);
    run("ldr.w r2, [r2], #4", ldr_wb_rt_rn);
    expect_eq("  r2 = the loaded value", R2, 0xb0);
    run("ldrb.w r2, [r2], #1", ldrb_wb_rt_rn);
    expect_eq("  r2 = the loaded value", R2, 0xb0);
    run("str.w r2, [r2], #4", str_wb_rt_rn);
    expect_eq("  stored the old r2", buf[0], BUF);
    expect_eq("  r2 written back", R2, BUF + 4);
    run("ldrd r0, r2, [r2], #8", ldrd_wb_rt2_rn);
    expect_eq("  r0", R0, 0xb0);
    expect_eq("  r2 written back last", R2, BUF + 8);
    run("ldrd r2, r0, [r2], #8", ldrd_wb_rt_rn);
    expect_eq("  r0", R0, 0xb1);
    expect_eq("  r2 written back last", R2, BUF + 8);
    run("strd r0, r2, [r2], #8", strd_wb_rt2_rn);
    expect_eq("  stored r0", buf[0], 0x11);
    expect_eq("  stored the old r2", buf[1], BUF);
    expect_eq("  r2 written back", R2, BUF + 8);
    run("and.w r0, sp, r1", and_sp);
    expect_eq("  r0 = sp & 0x22", R0, R3 & 0x22);
    run("cmp.w r3, sp", cmp_w_sp);
    expect_eq("  nzcv of sp - sp", NZCV, 0x6);
    run("add.w r0, r1, pc", add_pc);
    expect_eq("  r0 = 0x22 + (1f + 4)", R0, 0x22 + R3 + 4);
    run("mul r0, sp, r1", mul_sp);
    expect_eq("  r0 = sp * 0x22", R0, R3 * 0x22);
    run("udiv r0, sp, r1", udiv_sp);
    expect_eq("  r0 = sp / 0x22", R0, R3 / 0x22);
    run("lsr.w r0, sp, r1", lsr_sp);
    expect_eq("  r0 = sp >> 0x22 (= 0)", R0, 0);
    run("ldr.w r0, [r2, sp]", ldr_reg_sp);
    expect_eq("  r0 = buf[0] (r2 = buf - sp)", R0, 0xb0);
    run("str.w pc, [r2]", str_pc);
    expect_eq("  stored pc = address + 4", buf[0], R3 + 4);
    run("strh.w sp, [r2]", strh_sp);
    expect_eq("  stored sp's low half", buf[0], R3 & 0xffff);
    run("umull r0, r0, r1, r1", umull_same);
    expect_eq("  r0 = high word (written last)", R0, 0x40000001);
    run("mrs r0, <reserved SYSm 4>", mrs_reserved);
    expect_eq("  reads 0", R0, 0);
    run("stmia.w r2, {r0, sp}", stm_sp);
    expect_eq("  stored r0", buf[0], 0x11);
    expect_eq("  stored sp", buf[1], R3);
    run("stmia.w r2, {r0, pc}", stm_pc);
    expect_eq("  stored pc = address + 4", buf[1], R3 + 4);

    undefined("strex r0, r0, [r2]", strex_rd_rt);
    undefined("ldmia.w r2, {r0}", ldm_one);
    undefined("ldmia.w r2!, {r0, r2}", ldm_wb_rn);
    undefined("bx r0 with should-be-zero bit 0 set", bx_sbz);
    undefined("beq inside an IT block", bcond_in_it);
    undefined("push {}", push_empty);
    return check_done("unpredictable");
}
