/* bench_coremark: a CoreMark-like mix (written for armlet, not EEMBC's code). Each iteration
 * runs the same four kernels CoreMark does, on data derived from the iteration number:
 *   - linked list: find, reverse, merge-sort by value, merge-sort back by index;
 *   - matrix: add/multiply by a constant, matrix x vector, matrix x matrix, matrix x matrix
 *     with bit extraction, and a branchy clipped sum after each;
 *   - state machine: classify comma-separated numbers ("123", "-4.5", "6e-7", junk) byte by
 *     byte, once clean and once with bytes corrupted;
 *   - CRC16 (bitwise) folding every kernel's results.
 * The final CRC is checked against the value the same code computes on the host. */
#include "bench.h"

#ifndef ITERATIONS
#define ITERATIONS 2600
#endif

/* ---- CRC16 (reflected 0xA001, bit by bit) ---- */
static uint16_t crc_byte(uint8_t data, uint16_t crc)
{
    for (int i = 0; i < 8; i++) {
        uint16_t bit = (uint16_t)((data ^ crc) & 1);
        data >>= 1;
        crc >>= 1;
        if (bit)
            crc ^= 0xA001;
    }
    return crc;
}
static uint16_t crc_u16(uint16_t v, uint16_t crc) { return crc_byte((uint8_t)(v >> 8), crc_byte((uint8_t)v, crc)); }
static uint16_t crc_u32(uint32_t v, uint16_t crc) { return crc_u16((uint16_t)(v >> 16), crc_u16((uint16_t)v, crc)); }

/* ---- linked list ---- */
#define LIST_N 64
struct item {
    struct item *next;
    int16_t idx;
    uint16_t data;
};
static struct item pool[LIST_N];

static struct item *list_init(uint32_t seed)
{
    for (int i = 0; i < LIST_N; i++) {
        pool[i].idx = (int16_t)i;
        pool[i].data = (uint16_t)(bench_lcg(&seed) >> 16);
        pool[i].next = i + 1 < LIST_N ? &pool[i + 1] : 0;
    }
    return &pool[0];
}

static struct item *list_find(struct item *l, uint16_t data, uint32_t *steps)
{
    while (l && l->data != data) {
        l = l->next;
        (*steps)++;
    }
    return l;
}

static struct item *list_reverse(struct item *l)
{
    struct item *prev = 0;
    while (l) {
        struct item *next = l->next;
        l->next = prev;
        prev = l;
        l = next;
    }
    return prev;
}

static int cmp_data(const struct item *a, const struct item *b) { return (int)a->data - (int)b->data; }
static int cmp_idx(const struct item *a, const struct item *b) { return (int)a->idx - (int)b->idx; }

/* Bottom-up merge sort of a singly linked list (stable). */
static struct item *list_sort(struct item *list, int (*cmp)(const struct item *, const struct item *))
{
    for (int insize = 1;; insize *= 2) {
        struct item *p = list, *tail = 0;
        int merges = 0;
        list = 0;
        while (p) {
            merges++;
            struct item *q = p;
            int psize = 0;
            for (int i = 0; i < insize && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = insize;
            while (psize > 0 || (qsize > 0 && q)) {
                struct item *e;
                if (psize == 0) {
                    e = q;
                    q = q->next;
                    qsize--;
                } else if (qsize == 0 || !q || cmp(p, q) <= 0) {
                    e = p;
                    p = p->next;
                    psize--;
                } else {
                    e = q;
                    q = q->next;
                    qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1)
            return list;
    }
}

static uint16_t list_bench(struct item **head, uint32_t iter, uint16_t crc)
{
    struct item *l = *head;
    uint32_t steps = 0, found = 0;
    for (uint32_t k = 0; k < 6; k++) {
        /* half the keys are present, half (almost surely) absent */
        uint16_t key = (k & 1) ? pool[(iter * 5 + k * 11) % LIST_N].data : (uint16_t)(iter * 40503u + k);
        struct item *f = list_find(l, key, &steps);
        if (f) {
            found++;
            f->data ^= (uint16_t)(iter * 3 + 1); /* so the next sort has work to do */
        }
    }
    l = list_reverse(l);
    l = list_sort(l, cmp_data);
    uint32_t acc = 0;
    for (struct item *p = l; p; p = p->next)
        acc = acc * 33u + p->data;
    crc = crc_u32(acc, crc);
    l = list_sort(l, cmp_idx);
    crc = crc_u16((uint16_t)(steps * 4 + found), crc);
    *head = l;
    return crc;
}

/* ---- matrix ---- */
#define MAT_N 16
static int16_t ma[MAT_N * MAT_N], mb[MAT_N * MAT_N];
static int32_t mc[MAT_N * MAT_N];

static void matrix_init(uint32_t seed)
{
    for (int i = 0; i < MAT_N * MAT_N; i++) {
        ma[i] = (int16_t)(bench_lcg(&seed) >> 24);
        mb[i] = (int16_t)(bench_lcg(&seed) >> 24);
    }
}

static void mat_add_const(int16_t *a, int16_t v)
{
    for (int i = 0; i < MAT_N * MAT_N; i++)
        a[i] = (int16_t)(a[i] + v);
}

static void mat_mul_const(int32_t *c, const int16_t *a, int16_t v)
{
    for (int i = 0; i < MAT_N * MAT_N; i++)
        c[i] = (int32_t)a[i] * v;
}

static void mat_mul_vect(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int i = 0; i < MAT_N; i++) {
        int32_t s = 0;
        for (int j = 0; j < MAT_N; j++)
            s += (int32_t)a[i * MAT_N + j] * b[j];
        c[i] = s;
    }
}

static void mat_mul_mat(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += (int32_t)a[i * MAT_N + k] * b[k * MAT_N + j];
            c[i * MAT_N + j] = s;
        }
}

static void mat_mul_bits(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++) {
                int32_t t = (int32_t)a[i * MAT_N + k] * b[k * MAT_N + j];
                s += ((t >> 2) & 0xf) * ((t >> 5) & 0x7f);
            }
            c[i * MAT_N + j] = s;
        }
}

/* Branchy: counts rises, and clips the running sum. */
static uint16_t mat_sum(const int32_t *c, int n, int32_t clip)
{
    int32_t tmp = 0, prev = 0;
    uint16_t ret = 0;
    for (int i = 0; i < n; i++) {
        int32_t cur = c[i];
        tmp += cur;
        if (tmp > clip) {
            ret += 10;
            tmp = 0;
        } else
            ret += cur > prev ? 1 : 0;
        prev = cur;
    }
    return ret;
}

static uint16_t matrix_bench(uint32_t iter, uint16_t crc)
{
    int16_t v = (int16_t)(1 + (iter & 15));
    mat_add_const(ma, v);
    mat_mul_const(mc, ma, v);
    crc = crc_u16(mat_sum(mc, MAT_N * MAT_N, 20000), crc);
    mat_mul_vect(mc, ma, mb);
    crc = crc_u16(mat_sum(mc, MAT_N, 200000), crc);
    mat_mul_mat(mc, ma, mb);
    crc = crc_u16(mat_sum(mc, MAT_N * MAT_N, 2000000), crc);
    mat_mul_bits(mc, ma, mb);
    crc = crc_u16(mat_sum(mc, MAT_N * MAT_N, 50000), crc);
    mat_add_const(ma, (int16_t)-v);
    return crc;
}

/* ---- state machine ---- */
#define TEXT_N 240
static uint8_t text[TEXT_N + 1];

static void text_init(uint32_t seed)
{
    static const char *const toks[] = {"5012", "1234", "-874", "+122", "35.54", "-.7", "0.e+4",
                                       "6e-31", "-1.e-5", "1+2", "x9", "99.9f", "7", ".0"};
    int n = 0;
    while (1) {
        const char *t = toks[(bench_lcg(&seed) >> 16) % (sizeof toks / sizeof toks[0])];
        int len = 0;
        while (t[len])
            len++;
        if (n + len + 1 > TEXT_N)
            break;
        for (int i = 0; i < len; i++)
            text[n++] = (uint8_t)t[i];
        text[n++] = ',';
    }
    while (n < TEXT_N)
        text[n++] = ',';
    text[TEXT_N] = 0;
}

enum { ST_START, ST_INVALID, ST_SIGN, ST_INT, ST_FLOAT, ST_EXP, ST_ESIGN, ST_SCI, ST_COUNT };

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* Runs one token through the machine; returns its final state, advances *pp past the comma. */
static int token_state(const uint8_t **pp, uint32_t *transitions)
{
    const uint8_t *p = *pp;
    int st = ST_START;
    for (; *p && *p != ','; p++) {
        uint8_t c = *p;
        int next = st;
        switch (st) {
        case ST_START:
            if (is_digit(c))
                next = ST_INT;
            else if (c == '+' || c == '-')
                next = ST_SIGN;
            else if (c == '.')
                next = ST_FLOAT;
            else
                next = ST_INVALID;
            break;
        case ST_SIGN:
            if (is_digit(c))
                next = ST_INT;
            else if (c == '.')
                next = ST_FLOAT;
            else
                next = ST_INVALID;
            break;
        case ST_INT:
            if (c == '.')
                next = ST_FLOAT;
            else if (c == 'e' || c == 'E')
                next = ST_EXP;
            else if (!is_digit(c))
                next = ST_INVALID;
            break;
        case ST_FLOAT:
            if (c == 'e' || c == 'E')
                next = ST_EXP;
            else if (!is_digit(c))
                next = ST_INVALID;
            break;
        case ST_EXP:
            if (c == '+' || c == '-')
                next = ST_ESIGN;
            else if (is_digit(c))
                next = ST_SCI;
            else
                next = ST_INVALID;
            break;
        case ST_ESIGN:
            next = is_digit(c) ? ST_SCI : ST_INVALID;
            break;
        case ST_SCI:
            if (!is_digit(c))
                next = ST_INVALID;
            break;
        default:
            break;
        }
        if (next != st)
            (*transitions)++;
        st = next;
    }
    if (*p == ',')
        p++;
    *pp = p;
    return st;
}

static uint16_t scan(uint16_t crc)
{
    uint32_t final_count[ST_COUNT], transitions = 0;
    for (int i = 0; i < ST_COUNT; i++)
        final_count[i] = 0;
    const uint8_t *p = text;
    while (*p)
        final_count[token_state(&p, &transitions)]++;
    for (int i = 0; i < ST_COUNT; i++)
        crc = crc_u16((uint16_t)final_count[i], crc);
    return crc_u16((uint16_t)transitions, crc);
}

static uint16_t state_bench(uint32_t iter, uint16_t crc)
{
    crc = scan(crc);
    /* corrupt every 7th byte (never into a NUL), scan again, restore */
    uint8_t mask = (uint8_t)(iter | 1) & 0x1f;
    for (int i = iter % 7; i < TEXT_N; i += 7)
        text[i] ^= mask;
    crc = scan(crc);
    for (int i = iter % 7; i < TEXT_N; i += 7)
        text[i] ^= mask;
    return crc;
}

uint32_t coremark_run(uint32_t iterations)
{
    struct item *head = list_init(0x3415u);
    matrix_init(0x66u);
    text_init(0x1234u);
    uint16_t crc = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        crc = list_bench(&head, it, crc);
        crc = matrix_bench(it, crc);
        crc = state_bench(it, crc);
    }
    return (uint32_t)crc << 16 | (crc_u32(iterations, crc) ^ 0x5a5au);
}

int main(void)
{
    return BENCH_REPORT("bench_coremark", BENCH_COREMARK_EXPECTED, coremark_run(ITERATIONS));
}
