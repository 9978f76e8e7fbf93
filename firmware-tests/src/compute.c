/* A compute workload with a known checksum: linked lists, matrix multiply, CRC32, a state
 * machine and sorting. The expected value was computed by the same code built natively for
 * the host (gcc -O2, x86-64) and is hard-coded here. */
#include "semihost.h"

#define N_NODES 512
#define MAT 24
#define ROUNDS 12

struct node {
    struct node *next;
    uint32_t value;
};

static struct node nodes[N_NODES];
static int32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];
static uint32_t arr[1024];
static uint8_t bytes[4096];
static uint32_t crc_table[256];

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static uint32_t list_work(uint32_t seed)
{
    for (int i = 0; i < N_NODES; i++) {
        nodes[i].value = lcg(&seed);
        nodes[i].next = &nodes[(i * 7 + 3) % N_NODES];
    }
    /* reverse-walk and accumulate */
    uint32_t acc = 0;
    struct node *n = &nodes[0];
    for (int i = 0; i < 4 * N_NODES; i++) {
        acc = (acc << 3 | acc >> 29) ^ n->value;
        n->value += acc;
        n = n->next;
    }
    return acc;
}

static uint32_t matrix_work(uint32_t seed)
{
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            ma[i][j] = (int32_t)(lcg(&seed) >> 20) - 2048;
            mb[i][j] = (int32_t)(lcg(&seed) >> 22) - 512;
        }
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT; k++)
                s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t acc = 0;
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++)
            acc = acc * 31u + (uint32_t)mc[i][j];
    return acc;
}

static uint32_t crc32(const uint8_t *p, int n)
{
    uint32_t c = 0xffffffffu;
    for (int i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

static uint32_t crc_work(uint32_t seed)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (int i = 0; i < (int)sizeof bytes; i++)
        bytes[i] = (uint8_t)(lcg(&seed) >> 24);
    return crc32(bytes, sizeof bytes);
}

static uint32_t state_work(uint32_t seed)
{
    /* a tokenizer-like state machine over pseudo-random input */
    enum { IDLE, NUM, WORD, PUNCT } st = IDLE;
    uint32_t nums = 0, words = 0, puncts = 0, value = 0;
    for (int i = 0; i < 6000; i++) {
        uint32_t c = lcg(&seed) >> 27; /* 0..31 */
        switch (st) {
        case IDLE:
            st = c < 10 ? NUM : c < 26 ? WORD : PUNCT;
            value = c;
            break;
        case NUM:
            if (c < 10)
                value = value * 10 + c;
            else {
                nums += value & 0xffff;
                st = IDLE;
            }
            break;
        case WORD:
            if (c >= 26) {
                words++;
                st = PUNCT;
            }
            break;
        case PUNCT:
            puncts++;
            st = c & 1 ? IDLE : WORD;
            break;
        }
    }
    return nums * 7u + words * 13u + puncts * 17u;
}

static uint32_t sort_work(uint32_t seed)
{
    for (int i = 0; i < 1024; i++)
        arr[i] = lcg(&seed);
    /* shell sort then insertion check */
    for (int gap = 512; gap > 0; gap /= 2)
        for (int i = gap; i < 1024; i++) {
            uint32_t t = arr[i];
            int j = i;
            while (j >= gap && arr[j - gap] > t) {
                arr[j] = arr[j - gap];
                j -= gap;
            }
            arr[j] = t;
        }
    uint32_t acc = 0;
    for (int i = 0; i < 1024; i++) {
        if (i && arr[i - 1] > arr[i])
            return 0xdeadbeef;
        acc = acc * 33u ^ arr[i];
    }
    return acc;
}

uint32_t compute_checksum(void)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        sum ^= list_work(r * 11 + 1);
        sum = (sum << 5 | sum >> 27) + matrix_work(r * 13 + 2);
        sum ^= crc_work(r * 17 + 3);
        sum += state_work(r * 19 + 4);
        sum ^= sort_work(r * 23 + 5);
    }
    return sum;
}

#ifndef HOST_BUILD
#include "compute_expected.h"
int main(void)
{
    uint32_t sum = compute_checksum();
    sh_puts("checksum ");
    sh_put_hex(sum);
    sh_puts("\n");
    if (sum != COMPUTE_EXPECTED) {
        sh_puts("FAIL compute: want ");
        sh_put_hex(COMPUTE_EXPECTED);
        sh_puts("\n");
        return 1;
    }
    sh_puts("PASS compute\n");
    return 0;
}
#endif
