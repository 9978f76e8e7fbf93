/* bench_rtos: an RTOS-shaped firmware on a mini-kernel written here (not FreeRTOS source).
 *
 * Six tasks of equal priority plus an idle task, each on its own stack on the PSP. SysTick
 * (10 kHz of virtual time) wakes sleeping tasks and pends PendSV every tick for a round-robin
 * time slice; PendSV saves r4-r11 on the outgoing task's PSP and restores the incoming one's.
 * Tasks block on a bounded queue (send when full, receive when empty), on counting semaphores
 * and on tick delays: blocking pends PendSV at once, so every hand-off is a context switch.
 *   producer -> queue (8 deep) -> consumer      a stream of generated words, CRC'd
 *   ping <-> pong through two semaphores        strict alternation over a shared state
 *   sensor                                      paces frames: starts one for producer, ping
 *                                               and worker, waits for all three, sleeps a
 *                                               tick (idle runs), filters a sample
 *   worker                                      pure compute, preempted by time slices
 *   idle                                        WFI while every other task is blocked
 * producer, ping and worker do 1/FRAMES of their work per frame.
 * Each task's result depends only on its own data stream (FIFO order, strict alternation),
 * never on where the ticks fall, so the final checksum is the same on armlet (virtual
 * SysTick) and on QEMU (SysTick in host real time); the host build computes it without a
 * kernel (`make bench-expected`). The hand-off counts are printed too. */
#include "bench.h"

#ifndef ITEMS
#define ITEMS 200000 /* producer -> consumer words */
#endif
#ifndef ROUNDS
#define ROUNDS 100000 /* ping <-> pong exchanges */
#endif
#ifndef FRAMES
#define FRAMES 200 /* sensor wake-ups (one tick each) = frames of work */
#endif
#ifndef WORK
#define WORK 1000 /* worker blocks */
#endif
#if ITEMS % FRAMES || ROUNDS % FRAMES || WORK % FRAMES
#error "ITEMS, ROUNDS and WORK must be multiples of FRAMES"
#endif

/* ---- the tasks' computations, shared with the host build ---- */
static uint32_t produce(uint32_t *seed, uint32_t i)
{
    uint32_t v = bench_lcg(seed);
    return v ^ (v >> 13) ^ i * 0x9e3779b9u;
}

static uint32_t crc_word(uint32_t c, uint32_t v)
{
    c ^= v;
    for (int k = 0; k < 32; k++)
        c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
    return c;
}

static uint32_t ping_step(uint32_t x) { return (x << 5 | x >> 27) + 0x6b43a9b5u; }
static uint32_t pong_step(uint32_t x) { return (x ^ 0x5bd1e995u) * 0x2545f491u; }

static uint32_t sensor_step(uint32_t acc, uint32_t n)
{
    static int32_t hist[8];
    int32_t s = (int32_t)((n * 2654435761u) >> 18) - 8192;
    for (int k = 7; k > 0; k--)
        hist[k] = hist[k - 1];
    hist[0] = s;
    int32_t f = 0;
    for (int k = 0; k < 8; k++)
        f += hist[k] * (8 - k);
    return (acc * 31) ^ (uint32_t)f;
}

static uint32_t work_block(uint32_t b)
{
    uint32_t a[32], s = b * 0x27d4eb2du + 1;
    for (int i = 0; i < 32; i++)
        a[i] = bench_lcg(&s) >> 8;
    for (int i = 1; i < 32; i++) { /* insertion sort */
        uint32_t t = a[i];
        int j = i;
        while (j > 0 && a[j - 1] > t) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = t;
    }
    uint32_t h = 0;
    for (int i = 0; i < 32; i++)
        h = h * 33 + a[i];
    return h;
}

static uint32_t combine(uint32_t crc, uint32_t pp, uint32_t sens, uint32_t work)
{
    uint32_t r = crc;
    r = (r << 7 | r >> 25) ^ pp;
    r = (r << 7 | r >> 25) ^ sens;
    r = (r << 7 | r >> 25) ^ work;
    return r;
}

#ifdef HOST_BUILD
int main(void)
{
    uint32_t seed = 0xc0ffee, crc = 0xffffffffu;
    for (uint32_t i = 0; i < ITEMS; i++)
        crc = crc_word(crc, produce(&seed, i));
    uint32_t x = 1;
    for (uint32_t i = 0; i < ROUNDS; i++)
        x = pong_step(ping_step(x));
    uint32_t sens = 0;
    for (uint32_t n = 1; n <= FRAMES; n++)
        sens = sensor_step(sens, n);
    uint32_t work = 0;
    for (uint32_t b = 0; b < WORK; b++)
        work += work_block(b);
    return BENCH_REPORT("bench_rtos", BENCH_RTOS_EXPECTED, combine(crc, x, sens, work));
}
#else
#include "armv7m.h"

/* ---- the kernel ---- */
enum state { READY, BLOCKED, SLEEPING, DONE };

struct task {
    uint32_t *sp; /* saved PSP: r4-r11, then the exception frame */
    enum state state;
    const void *wait; /* what a BLOCKED task waits for */
    uint32_t wake;    /* the tick a SLEEPING task wakes at */
};

#define NTASKS 7 /* the last one is idle */
#define IDLE (NTASKS - 1)
#define STACK_WORDS 256
static uint32_t stacks[NTASKS][STACK_WORDS] __attribute__((aligned(8)));
static struct task tasks[NTASKS];
static struct task *volatile current;
static volatile uint32_t tick;
static uint32_t switches, idle_wakes, blocks;

/* Called by PendSV with the outgoing task's PSP (r4-r11 saved); returns the incoming one's.
 * Round-robin over the ready tasks after the current one; idle only if none is ready. */
uint32_t *kernel_switch(uint32_t *sp)
{
    uint32_t cur = 0;
    if (current) {
        current->sp = sp;
        cur = (uint32_t)(current - tasks);
    }
    uint32_t next = IDLE;
    for (uint32_t k = 1; k <= IDLE; k++) {
        uint32_t t = (cur + k) % IDLE;
        if (cur == IDLE)
            t = k - 1;
        if (tasks[t].state == READY) {
            next = t;
            break;
        }
    }
    if (&tasks[next] != current)
        switches++;
    current = &tasks[next];
    return current->sp;
}

/* PendSV: save r4-r11 on the PSP, switch, restore, return to the thread on the PSP. */
__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile("mrs r0, psp\n"
                     "stmdb r0!, {r4-r11}\n"
                     "push {r3, lr}\n"
                     "bl kernel_switch\n"
                     "pop {r3, lr}\n"
                     "ldmia r0!, {r4-r11}\n"
                     "msr psp, r0\n"
                     "orr lr, lr, #4\n" /* EXC_RETURN: thread mode, PSP */
                     "bx lr\n");
}

static inline void pend_switch(void) { SCB_ICSR = ICSR_PENDSVSET; }

void SysTick_Handler(void)
{
    uint32_t now = ++tick;
    for (int t = 0; t < IDLE; t++)
        if (tasks[t].state == SLEEPING && (int32_t)(now - tasks[t].wake) >= 0)
            tasks[t].state = READY;
    pend_switch(); /* time slice */
}

/* With interrupts masked: block the current task on `obj` and let PendSV run the next one. */
static void block_on(const void *obj)
{
    current->wait = obj;
    current->state = BLOCKED;
    blocks++;
    pend_switch();
    cpsie_i(); /* PendSV is taken here; we return when woken and scheduled */
    cpsid_i();
}

static void wake_all(const void *obj)
{
    for (int t = 0; t < IDLE; t++)
        if (tasks[t].state == BLOCKED && tasks[t].wait == obj)
            tasks[t].state = READY;
}

static void delay(uint32_t ticks)
{
    cpsid_i();
    current->wake = tick + ticks;
    current->state = SLEEPING;
    pend_switch();
    cpsie_i();
}

#define QLEN 8
struct queue {
    uint32_t buf[QLEN];
    uint32_t head, count;
};

static void q_send(struct queue *q, uint32_t v)
{
    cpsid_i();
    while (q->count == QLEN)
        block_on(&q->head); /* not full */
    q->buf[(q->head + q->count) % QLEN] = v;
    q->count++;
    wake_all(&q->count); /* not empty */
    cpsie_i();
}

static uint32_t q_recv(struct queue *q)
{
    cpsid_i();
    while (q->count == 0)
        block_on(&q->count);
    uint32_t v = q->buf[q->head];
    q->head = (q->head + 1) % QLEN;
    q->count--;
    wake_all(&q->head);
    cpsie_i();
    return v;
}

struct sem {
    uint32_t count;
};

static void sem_take(struct sem *s)
{
    cpsid_i();
    while (s->count == 0)
        block_on(s);
    s->count--;
    cpsie_i();
}

static void sem_give(struct sem *s)
{
    cpsid_i();
    s->count++;
    wake_all(s);
    cpsie_i();
}

static void task_exit(void)
{
    cpsid_i();
    current->state = DONE;
    pend_switch();
    cpsie_i();
    for (;;)
        ;
}

/* ---- the application ---- */
static struct queue q;
static struct sem sem_ping, sem_pong;
static uint32_t r_crc, r_pp = 1, r_sens, r_work;

/* Frames: the sensor starts a frame for each of the three paced tasks, waits until all three
 * are done, then sleeps a tick: meanwhile every task is blocked and idle runs. */
static struct sem frame_start[3], frame_done;

static void producer(void)
{
    uint32_t seed = 0xc0ffee;
    for (uint32_t f = 0; f < FRAMES; f++) {
        sem_take(&frame_start[0]);
        for (uint32_t i = f * (ITEMS / FRAMES); i < (f + 1) * (ITEMS / FRAMES); i++)
            q_send(&q, produce(&seed, i));
        sem_give(&frame_done);
    }
}

static void consumer(void)
{
    uint32_t crc = 0xffffffffu;
    for (uint32_t i = 0; i < ITEMS; i++)
        crc = crc_word(crc, q_recv(&q));
    r_crc = crc;
}

static void ping(void)
{
    for (uint32_t f = 0; f < FRAMES; f++) {
        sem_take(&frame_start[1]);
        for (uint32_t i = 0; i < ROUNDS / FRAMES; i++) {
            r_pp = ping_step(r_pp);
            sem_give(&sem_pong);
            sem_take(&sem_ping);
        }
        sem_give(&frame_done);
    }
}

static void pong(void)
{
    for (uint32_t i = 0; i < ROUNDS; i++) {
        sem_take(&sem_pong);
        r_pp = pong_step(r_pp);
        sem_give(&sem_ping);
    }
}

static void sensor(void)
{
    uint32_t acc = 0;
    for (uint32_t n = 1; n <= FRAMES; n++) {
        for (int t = 0; t < 3; t++)
            sem_give(&frame_start[t]);
        for (int t = 0; t < 3; t++)
            sem_take(&frame_done);
        delay(1);
        acc = sensor_step(acc, n);
    }
    r_sens = acc;
}

static void worker(void)
{
    uint32_t acc = 0;
    for (uint32_t f = 0; f < FRAMES; f++) {
        sem_take(&frame_start[2]);
        for (uint32_t b = f * (WORK / FRAMES); b < (f + 1) * (WORK / FRAMES); b++)
            acc += work_block(b);
        sem_give(&frame_done);
    }
    r_work = acc;
}

static void idle(void)
{
    for (;;) {
        int live = 0;
        cpsid_i();
        for (int t = 0; t < IDLE; t++)
            live += tasks[t].state != DONE;
        if (!live)
            break;
        wfi(); /* a pending interrupt wakes WFI even with PRIMASK set */
        idle_wakes++;
        cpsie_i();
    }
    SYST_CSR = 0;
    cpsie_i();
    sh_puts("switches ");
    sh_put_dec(switches);
    sh_puts(" blocks ");
    sh_put_dec(blocks);
    sh_puts(" ticks ");
    sh_put_dec(tick);
    sh_puts(" idle wakes ");
    sh_put_dec(idle_wakes);
    sh_puts("\n");
    sh_exit(bench_report("bench_rtos", combine(r_crc, r_pp, r_sens, r_work), BENCH_RTOS_EXPECTED));
}

static void task_init(int t, void (*entry)(void))
{
    uint32_t *sp = &stacks[t][STACK_WORDS];
    *--sp = 0x01000000u;         /* xPSR: Thumb */
    *--sp = (uint32_t)entry;     /* PC */
    *--sp = (uint32_t)task_exit; /* LR: a task that returns is done */
    for (int r = 0; r < 5; r++)  /* r12, r3-r0 */
        *--sp = 0;
    for (int r = 0; r < 8; r++) /* r11-r4 */
        *--sp = 0;
    tasks[t].sp = sp;
    tasks[t].state = READY;
}

int main(void)
{
    void (*const entries[NTASKS])(void) = {producer, consumer, ping, pong, sensor, worker, idle};
    for (int t = 0; t < NTASKS; t++)
        task_init(t, entries[t]);
    SCB_SHPR(14) = 0xff; /* PendSV and SysTick: lowest priority, never preempt each other */
    SCB_SHPR(15) = 0xff;
    static uint32_t boot_psp[16] __attribute__((aligned(8)));
    set_psp((uint32_t)&boot_psp[16]); /* PendSV's first save goes here */
    SYST_RVR = 2500 - 1;              /* 10 kHz at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    pend_switch(); /* to the first task; main never resumes */
    for (;;)
        ;
}
#endif
