/* Branches: every condition code against every flag combination (the truth table below is
 * ARMv7-M ARM A7.3 Table A7-1, written out as data), B/BL/BX/BLX, CBZ/CBNZ, TBB/TBH through
 * switch tables, POP {pc}, LDR pc, MOV pc and ADD pc, branches at the end of IT blocks. */
#include "check.h"

/* Bit f of cond_table[cond] is 1 if cond passes with flags f = N<<3 | Z<<2 | C<<1 | V. */
static const uint16_t cond_table[14] = {0xf0f0, 0x0f0f, 0xcccc, 0x3333, 0xff00, 0x00ff, 0xaaaa,
                                        0x5555, 0x0c0c, 0xf3f3, 0xaa55, 0x55aa, 0x0a05, 0xf5fa};

#define BCOND(cc)                                                                                  \
    static uint32_t b_##cc(uint32_t apsr)                                                          \
    {                                                                                              \
        uint32_t taken;                                                                            \
        __asm__ volatile("msr apsr_nzcvq, %1\n\t"                                                  \
                         "mov %0, #0\n\t"                                                          \
                         "b" #cc " 1f\n\t"                                                         \
                         "b 2f\n"                                                                  \
                         "1: mov %0, #1\n"                                                         \
                         "2:\n"                                                                    \
                         : "=&r"(taken)                                                            \
                         : "r"(apsr)                                                               \
                         : "cc");                                                                  \
        return taken;                                                                              \
    }
BCOND(eq) BCOND(ne) BCOND(cs) BCOND(cc) BCOND(mi) BCOND(pl) BCOND(vs)
BCOND(vc) BCOND(hi) BCOND(ls) BCOND(ge) BCOND(lt) BCOND(gt) BCOND(le)

/* The same conditions through IT blocks: ITE<cond> selecting between two moves. */
#define ITCOND(cc, inv)                                                                            \
    static uint32_t it_##cc(uint32_t apsr)                                                         \
    {                                                                                              \
        uint32_t r;                                                                                \
        __asm__ volatile("msr apsr_nzcvq, %1\n\t"                                                  \
                         "ite " #cc "\n\t"                                                         \
                         "mov" #cc " %0, #1\n\t"                                                   \
                         "mov" #inv " %0, #0\n\t"                                                  \
                         : "=&r"(r)                                                                \
                         : "r"(apsr)                                                               \
                         : "cc");                                                                  \
        return r;                                                                                  \
    }
ITCOND(eq, ne) ITCOND(ne, eq) ITCOND(cs, cc) ITCOND(cc, cs) ITCOND(mi, pl) ITCOND(pl, mi)
ITCOND(vs, vc) ITCOND(vc, vs) ITCOND(hi, ls) ITCOND(ls, hi) ITCOND(ge, lt) ITCOND(lt, ge)
ITCOND(gt, le) ITCOND(le, gt)

typedef uint32_t (*cond_fn)(uint32_t);
static const cond_fn bfns[14] = {b_eq, b_ne, b_cs, b_cc, b_mi, b_pl, b_vs, b_vc, b_hi, b_ls, b_ge, b_lt, b_gt, b_le};
static const cond_fn itfns[14] = {it_eq, it_ne, it_cs, it_cc, it_mi, it_pl, it_vs,
                                  it_vc, it_hi, it_ls, it_ge, it_lt, it_gt, it_le};

__attribute__((noinline)) static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static uint32_t dense_switch(uint32_t x)
{
    switch (x) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 37;
    case 3: return 41;
    case 4: return 59;
    case 5: return 61;
    case 6: return 79;
    case 7: return 83;
    case 8: return 97;
    case 9: return 101;
    default: return 0;
    }
}

static uint32_t add1(uint32_t x) { return x + 1; }
static uint32_t dbl(uint32_t x) { return x * 2; }

int main(void)
{
    static const char *const names[14] = {"eq", "ne", "cs", "cc", "mi", "pl", "vs",
                                          "vc", "hi", "ls", "ge", "lt", "gt", "le"};
    for (int c = 0; c < 14; c++)
        for (uint32_t f = 0; f < 16; f++) {
            uint32_t want = (cond_table[c] >> f) & 1;
            check_eq(names[c], bfns[c](f << 28), want);
            check_eq(names[c], itfns[c](f << 28), want);
        }

    check_eq("bl/pop pc recursion", fib(15), 610);
    uint32_t sw = 0;
    for (uint32_t i = 0; i < 12; i++)
        sw = sw * 3 + dense_switch(i);
    check_eq("switch table", sw, 4506966);

    volatile cond_fn ops[2] = {add1, dbl};
    check_eq("blx register", ops[1](ops[0](20)), 42);

    uint32_t r;
    /* tbb with an explicit table */
    __asm__ volatile("mov r1, #2\n\t"
                     "tbb [pc, r1]\n"
                     "1: .byte (2f-1b)/2, (3f-1b)/2, (4f-1b)/2, 0\n"
                     "2: mov %0, #10\n\t b 5f\n"
                     "3: mov %0, #20\n\t b 5f\n"
                     "4: mov %0, #30\n"
                     "5:\n"
                     : "=&r"(r) : : "r1", "cc");
    check_eq("tbb", r, 30);
    __asm__ volatile("mov r1, #1\n\t"
                     "tbh [pc, r1, lsl #1]\n"
                     "1: .hword (2f-1b)/2, (3f-1b)/2\n"
                     "2: mov %0, #10\n\t b 5f\n"
                     "3: mov %0, #20\n"
                     "5:\n"
                     : "=&r"(r) : : "r1", "cc");
    check_eq("tbh", r, 20);
    /* cbz / cbnz */
    __asm__ volatile("mov %0, #0\n\t movs r1, #0\n\t cbz r1, 1f\n\t mov %0, #99\n"
                     "1: add %0, #1\n\t movs r1, #5\n\t cbnz r1, 2f\n\t mov %0, #99\n"
                     "2: add %0, #1\n\t cbz r1, 3f\n\t add %0, #1\n"
                     "3:\n"
                     : "=&r"(r) : : "r1", "cc");
    check_eq("cbz/cbnz", r, 3);
    /* ldr pc from a literal, mov pc, add pc */
    __asm__ volatile("ldr r1, =1f+1\n\t mov %0, #7\n\t ldr pc, =1f+1\n\t mov %0, #99\n"
                     "1: adr r1, 2f+1\n\t mov pc, r1\n\t mov %0, #98\n"
                     ".balign 4\n"
                     "2: add %0, #1\n"
                     : "=&r"(r) : : "r1", "cc");
    check_eq("ldr pc / mov pc", r, 8);
    /* bx to a label, branch at the end of an IT block */
    __asm__ volatile("adr r1, 1f+1\n\t mov %0, #1\n\t bx r1\n\t mov %0, #99\n"
                     ".balign 4\n"
                     "1: cmp %0, #1\n\t it eq\n\t beq 2f\n\t mov %0, #98\n"
                     "2: add %0, #1\n"
                     : "=&r"(r) : : "r1", "cc");
    check_eq("bx / it+beq", r, 2);
    return check_done("insn_branch");
}
