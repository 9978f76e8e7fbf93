/* Arm semihosting from bare firmware: BKPT 0xAB, r0 = operation, r1 = parameter. */
#ifndef SEMIHOST_H
#define SEMIHOST_H
#include <stdint.h>

enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITEC = 0x03, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05,
    SYS_READ = 0x06, SYS_READC = 0x07, SYS_ISERROR = 0x08, SYS_ISTTY = 0x09, SYS_SEEK = 0x0a,
    SYS_FLEN = 0x0c, SYS_TMPNAM = 0x0d, SYS_REMOVE = 0x0e, SYS_RENAME = 0x0f, SYS_CLOCK = 0x10,
    SYS_TIME = 0x11, SYS_SYSTEM = 0x12, SYS_ERRNO = 0x13, SYS_GET_CMDLINE = 0x15,
    SYS_HEAPINFO = 0x16, SYS_EXIT = 0x18, SYS_EXIT_EXTENDED = 0x20, SYS_ELAPSED = 0x30,
    SYS_TICKFREQ = 0x31,
};
#define ADP_Stopped_ApplicationExit 0x20026u

static inline uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline void sh_puts(const char *s) { semihost(SYS_WRITE0, s); }
static inline void sh_putc(char c) { semihost(SYS_WRITEC, &c); }

static inline void sh_put_hex(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    b[10] = 0;
    sh_puts(b);
}

static inline void sh_put_dec(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sh_puts(&b[i]);
}

__attribute__((noreturn)) static inline void sh_exit(uint32_t code)
{
    uint32_t block[2] = {ADP_Stopped_ApplicationExit, code};
    if (code == 0)
        semihost(SYS_EXIT, (const void *)ADP_Stopped_ApplicationExit);
    else
        semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}
#endif
