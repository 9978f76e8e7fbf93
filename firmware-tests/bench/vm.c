/* bench_vm: a branchy bytecode interpreter. A tiny stack machine (switch dispatch, operand
 * stack, locals, call/return stack) runs a fixed program: the total number of Collatz steps
 * for every start value 1..LIMIT, with the 3x+1 step as a subroutine. */
#include "bench.h"

#ifndef LIMIT
#define LIMIT 2800
#endif

enum {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_AND, OP_SHR, OP_XOR, OP_EQ, OP_GT,
    OP_DUP, OP_DROP, OP_SWAP, OP_JMP, OP_JZ, OP_JNZ, OP_CALL, OP_RET,
};

/* locals */
#define N 0
#define X 1
#define TOTAL 2
#define LIM 3
#define HASH 4

#define IMM(v) (uint8_t)((v) & 0xff), (uint8_t)((v) >> 8)
/* Label addresses (byte offsets in the listing below; vm_check_labels() checks them). */
#define L_OUTER 10
#define L_INNER 14
#define L_EVEN 38
#define L_COUNT 46
#define L_NEXT 69
#define L_TRIPLE 85

static const uint8_t program[] = {
    /*  0        */ OP_PUSH, IMM(1), OP_STORE, N,                      /* n = 1 */
    /*  5        */ OP_PUSH, IMM(0), OP_STORE, TOTAL,                  /* total = 0 */
    /* 10 outer  */ OP_LOAD, N, OP_STORE, X,                           /* x = n */
    /* 14 inner  */ OP_LOAD, X, OP_PUSH, IMM(1), OP_EQ, OP_JNZ, IMM(L_NEXT),
    /* 23        */ OP_LOAD, X, OP_PUSH, IMM(1), OP_AND, OP_JZ, IMM(L_EVEN),
    /* 32        */ OP_CALL, IMM(L_TRIPLE), OP_JMP, IMM(L_COUNT),      /* odd: x = 3x + 1 */
    /* 38 even   */ OP_LOAD, X, OP_PUSH, IMM(1), OP_SHR, OP_STORE, X,  /* x >>= 1 */
    /* 46 count  */ OP_LOAD, TOTAL, OP_PUSH, IMM(1), OP_ADD, OP_STORE, TOTAL,
    /* 54        */ OP_LOAD, HASH, OP_DUP, OP_ADD, OP_LOAD, X, OP_XOR, /* hash = (2 hash ^ x) + hash */
    /* 61        */ OP_LOAD, HASH, OP_ADD, OP_STORE, HASH, OP_JMP, IMM(L_INNER),
    /* 69 next   */ OP_LOAD, N, OP_PUSH, IMM(1), OP_ADD, OP_DUP, OP_STORE, N,
    /* 78        */ OP_LOAD, LIM, OP_GT, OP_JZ, IMM(L_OUTER), OP_HALT, /* until n > limit */
    /* 85 triple */ OP_LOAD, X, OP_DUP, OP_DUP, OP_ADD, OP_ADD, OP_PUSH, IMM(1), OP_ADD,
    /* 95        */ OP_STORE, X, OP_RET,
};
_Static_assert(sizeof program == 98, "program layout changed: update the labels");

static int vm_check_labels(void)
{
    return program[L_OUTER] == OP_LOAD && program[L_INNER] == OP_LOAD && program[L_EVEN] == OP_LOAD &&
           program[L_COUNT] == OP_LOAD && program[L_NEXT] == OP_LOAD && program[L_TRIPLE] == OP_LOAD &&
           program[L_OUTER - 2] == OP_STORE && program[L_NEXT - 3] == OP_JMP &&
           program[L_TRIPLE - 1] == OP_HALT && program[L_COUNT - 2] == OP_STORE;
}

#define STACK 32
static uint32_t vm_run(const uint8_t *code, uint32_t *locals)
{
    uint32_t stack[STACK], rstack[8];
    uint32_t sp = 0, rsp = 0, pc = 0;
    for (;;) {
        uint8_t op = code[pc++];
        switch (op) {
        case OP_PUSH:
            stack[sp++ & (STACK - 1)] = (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
            pc += 2;
            break;
        case OP_LOAD:
            stack[sp++ & (STACK - 1)] = locals[code[pc++] & 7];
            break;
        case OP_STORE:
            locals[code[pc++] & 7] = stack[--sp & (STACK - 1)];
            break;
#define BINOP(name, expr)                               \
    case name: {                                        \
        uint32_t b = stack[--sp & (STACK - 1)];         \
        uint32_t a = stack[(sp - 1) & (STACK - 1)];     \
        stack[(sp - 1) & (STACK - 1)] = (expr);         \
        break;                                          \
    }
            BINOP(OP_ADD, a + b)
            BINOP(OP_SUB, a - b)
            BINOP(OP_AND, a & b)
            BINOP(OP_SHR, a >> (b & 31))
            BINOP(OP_XOR, a ^ b)
            BINOP(OP_EQ, a == b)
            BINOP(OP_GT, a > b)
        case OP_DUP:
            stack[sp & (STACK - 1)] = stack[(sp - 1) & (STACK - 1)];
            sp++;
            break;
        case OP_DROP:
            sp--;
            break;
        case OP_SWAP: {
            uint32_t t = stack[(sp - 1) & (STACK - 1)];
            stack[(sp - 1) & (STACK - 1)] = stack[(sp - 2) & (STACK - 1)];
            stack[(sp - 2) & (STACK - 1)] = t;
            break;
        }
        case OP_JMP:
            pc = (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
            break;
        case OP_JZ:
            if (stack[--sp & (STACK - 1)] == 0)
                pc = (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
            else
                pc += 2;
            break;
        case OP_JNZ:
            if (stack[--sp & (STACK - 1)] != 0)
                pc = (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
            else
                pc += 2;
            break;
        case OP_CALL:
            rstack[rsp++ & 7] = pc + 2;
            pc = (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
            break;
        case OP_RET:
            pc = rstack[--rsp & 7];
            break;
        case OP_HALT:
        default:
            return sp;
        }
    }
}

uint32_t vm_bench(uint32_t limit)
{
    if (!vm_check_labels())
        return 0xbadbad;
    uint32_t locals[8];
    for (int i = 0; i < 8; i++)
        locals[i] = 0;
    locals[LIM] = limit;
    locals[HASH] = 0x811c9dc5u;
    uint32_t depth = vm_run(program, locals);
    return locals[TOTAL] * 2654435761u ^ locals[HASH] ^ locals[N] << 20 ^ depth;
}

int main(void)
{
    return BENCH_REPORT("bench_vm", BENCH_VM_EXPECTED, vm_bench(LIMIT));
}
