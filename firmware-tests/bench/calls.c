/* bench_calls: call-heavy code. Recursion (Fibonacci, Ackermann, a recursive quicksort with a
 * comparator called through a function pointer, a recursive-descent expression evaluator),
 * small non-inlined leaf and non-leaf functions, a dispatch table of function pointers, and
 * Thumb assembly helpers that return with BX LR, POP {pc} and a BLX through a register. At
 * -O2 for the Cortex-M3 these are BL/BLX, PUSH {..., lr} / POP {..., pc} and BX LR all day.
 * The host build runs the same C (the assembly helpers' C equivalents) for the known answer
 * (`make bench-expected`). */
#include "bench.h"

#ifndef REPS
#define REPS 240
#endif

#define NOINLINE __attribute__((noinline))

/* ---- recursion ---- */
NOINLINE static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

NOINLINE static uint32_t ack(uint32_t m, uint32_t n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

/* ---- small functions through pointers ---- */
typedef uint32_t (*op_fn)(uint32_t, uint32_t);
NOINLINE static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
NOINLINE static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b << 3); }
NOINLINE static uint32_t op_rot(uint32_t a, uint32_t b) { return a << (b & 15) | a >> (31 - (b & 15)) >> 1 | 1; }
NOINLINE static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
NOINLINE static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b * 7; }
NOINLINE static uint32_t op_nest(uint32_t a, uint32_t b) { return op_add(op_xor(a, b), op_rot(b, a)); }
static op_fn const ops[8] = {op_add, op_xor, op_rot, op_mul, op_sub, op_nest, op_xor, op_add};

/* ---- Thumb assembly: the return forms compilers emit and interworking returns ---- */
#ifdef HOST_BUILD
static uint32_t asm_leaf(uint32_t a, uint32_t b) { return a + b * 3; }
static uint32_t asm_popret(uint32_t a, uint32_t b) { return asm_leaf(a ^ b, b) + 1; }
static uint32_t asm_callreg(op_fn f, uint32_t a, uint32_t b) { return f(a, b) ^ 0x55u; }
#else
uint32_t asm_leaf(uint32_t a, uint32_t b);
uint32_t asm_popret(uint32_t a, uint32_t b);
uint32_t asm_callreg(op_fn f, uint32_t a, uint32_t b);
__asm__(".syntax unified\n"
        ".thumb\n"
        ".text\n"
        /* asm_leaf: r0 + 3 * r1; returns with BX LR */
        ".global asm_leaf\n.type asm_leaf, %function\n.thumb_func\n"
        "asm_leaf:\n"
        "  add r1, r1, r1, lsl #1\n"
        "  add r0, r0, r1\n"
        "  bx lr\n"
        /* asm_popret: asm_leaf(r0 ^ r1, r1) + 1; PUSH {r4, lr} ... POP {r4, pc} */
        ".global asm_popret\n.type asm_popret, %function\n.thumb_func\n"
        "asm_popret:\n"
        "  push {r4, lr}\n"
        "  eors r0, r1\n"
        "  bl asm_leaf\n"
        "  adds r0, #1\n"
        "  pop {r4, pc}\n"
        /* asm_callreg: f(a, b) ^ 0x55 through BLX r3; returns with LDR pc from the stack */
        ".global asm_callreg\n.type asm_callreg, %function\n.thumb_func\n"
        "asm_callreg:\n"
        "  str lr, [sp, #-8]!\n"
        "  mov r3, r0\n"
        "  mov r0, r1\n"
        "  mov r1, r2\n"
        "  blx r3\n"
        "  eor r0, r0, #0x55\n"
        "  ldr pc, [sp], #8\n");
#endif

/* ---- quicksort with a comparator through a pointer ---- */
typedef int (*cmp_fn)(const uint32_t *, const uint32_t *);
NOINLINE static int cmp_up(const uint32_t *a, const uint32_t *b) { return (*a > *b) - (*a < *b); }
NOINLINE static int cmp_down(const uint32_t *a, const uint32_t *b) { return cmp_up(b, a); }

NOINLINE static void swap(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

NOINLINE static void qsort_r32(uint32_t *v, int lo, int hi, cmp_fn cmp)
{
    if (lo >= hi)
        return;
    uint32_t *p = &v[(lo + hi) / 2];
    swap(p, &v[hi]);
    int store = lo;
    for (int i = lo; i < hi; i++)
        if (cmp(&v[i], &v[hi]) < 0)
            swap(&v[i], &v[store++]);
    swap(&v[store], &v[hi]);
    qsort_r32(v, lo, store - 1, cmp);
    qsort_r32(v, store + 1, hi, cmp);
}

/* ---- recursive-descent evaluator over a generated token string ---- */
static const char *tok;
static uint32_t expr(void);
NOINLINE static uint32_t primary(void)
{
    char c = *tok++;
    if (c == '(') {
        uint32_t v = expr();
        tok++; /* ')' */
        return v;
    }
    return (uint32_t)(c - '0');
}
NOINLINE static uint32_t term(void)
{
    uint32_t v = primary();
    while (*tok == '*') {
        tok++;
        v *= primary();
    }
    return v;
}
NOINLINE static uint32_t expr(void)
{
    uint32_t v = term();
    while (*tok == '+' || *tok == '-') {
        char op = *tok++;
        uint32_t w = term();
        v = op == '+' ? v + w : v - w;
    }
    return v;
}

static char text[4096]; /* gen() writes at most 2727 characters */
static int text_len;
NOINLINE static void gen(uint32_t *seed, int depth)
{
    int n = 1 + (int)(bench_lcg(seed) >> 30); /* 1..4 terms */
    for (int i = 0; i < n; i++) {
        if (i)
            text[text_len++] = "+-*+"[bench_lcg(seed) >> 30];
        if (depth < 4 && (bench_lcg(seed) >> 29) < 3) {
            text[text_len++] = '(';
            gen(seed, depth + 1);
            text[text_len++] = ')';
        } else {
            text[text_len++] = (char)('0' + (bench_lcg(seed) >> 28) % 10);
        }
    }
}

static uint32_t run(void)
{
    uint32_t h = 0, seed = 0xca11ab1e;
    static uint32_t v[200];
    for (uint32_t rep = 0; rep < REPS; rep++) {
        h = h * 31 + fib(17 + rep % 4);
        h = h * 31 + ack(2, 40 + rep % 8);
        uint32_t a = rep, b = h;
        for (int i = 0; i < 4000; i++) {
            a = ops[(a ^ b) & 7](a, b);
            b = asm_callreg(ops[(b >> 7) & 7], b, (uint32_t)i);
            a = asm_popret(a, b) + asm_leaf(b, (uint32_t)i);
        }
        h ^= a + b;
        for (int i = 0; i < 200; i++)
            v[i] = bench_lcg(&seed) >> 12;
        qsort_r32(v, 0, 199, (rep & 1) ? cmp_down : cmp_up);
        for (int i = 0; i < 200; i += 7)
            h = h * 31 + v[i];
        text_len = 0;
        while (text_len < 700)
            gen(&seed, 0), text[text_len++] = '+';
        text[text_len++] = '0';
        text[text_len] = 0;
        tok = text;
        h = h * 31 + expr();
    }
    return h;
}

int main(void) { return BENCH_REPORT("bench_calls", BENCH_CALLS_EXPECTED, run()); }
