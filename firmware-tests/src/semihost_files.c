/* Semihosting file operations with relative names (armlet confines them to
 * --semihosting-root; QEMU uses the current directory). */
#include "check.h"

static uint32_t sh_open(const char *name, uint32_t mode)
{
    uint32_t len = 0;
    while (name[len])
        len++;
    uint32_t b[3] = {(uint32_t)name, mode, len};
    return semihost(SYS_OPEN, b);
}

static uint32_t sh_call3(uint32_t op, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t blk[3] = {a, b, c};
    return semihost(op, blk);
}

static uint32_t sh_call1(uint32_t op, uint32_t a)
{
    return semihost(op, &a);
}

int main(void)
{
    static const char msg[] = "semihosting file contents\n";
    static char buf[64];

    uint32_t tt = sh_open(":tt", 4);
    check_eq("open :tt for writing", tt != 0xffffffffu, 1);
    /* armlet always reports the console as a terminal (deterministic); QEMU asks the host. */
    check_eq("istty :tt is 0 or 1", sh_call1(SYS_ISTTY, tt) <= 1, 1);
    check_eq("write :tt", sh_call3(SYS_WRITE, tt, (uint32_t)"to the console\n", 15), 0);

    uint32_t h = sh_open("sh_test.txt", 4); /* "w" */
    check_eq("open for write", h != 0xffffffffu && h != 0, 1);
    check_eq("write returns bytes not written", sh_call3(SYS_WRITE, h, (uint32_t)msg, sizeof msg - 1), 0);
    check_eq("istty file", sh_call1(SYS_ISTTY, h), 0);
    check_eq("close", sh_call1(SYS_CLOSE, h), 0);

    h = sh_open("sh_test.txt", 0); /* "r" */
    check_eq("open for read", h != 0xffffffffu, 1);
    check_eq("flen", sh_call1(SYS_FLEN, h), sizeof msg - 1);
    uint32_t seek[2] = {h, 12};
    check_eq("seek", semihost(SYS_SEEK, seek), 0);
    check_eq("read returns bytes not read", sh_call3(SYS_READ, h, (uint32_t)buf, 64), 64 - (sizeof msg - 1 - 12));
    check_eq("read data", buf[0] == 'f' && buf[1] == 'i' && buf[2] == 'l' && buf[3] == 'e', 1);
    check_eq("read at eof", sh_call3(SYS_READ, h, (uint32_t)buf, 8), 8);
    check_eq("close", sh_call1(SYS_CLOSE, h), 0);
    check_eq("close twice fails", sh_call1(SYS_CLOSE, h), 0xffffffffu);

    uint32_t ren[4] = {(uint32_t)"sh_test.txt", 11, (uint32_t)"sh_moved.txt", 12};
    check_eq("rename", semihost(SYS_RENAME, ren), 0);
    check_eq("old name gone", sh_open("sh_test.txt", 0), 0xffffffffu);
    check_eq("errno ENOENT", semihost(SYS_ERRNO, 0), 2);
    uint32_t rm[2] = {(uint32_t)"sh_moved.txt", 12};
    check_eq("remove", semihost(SYS_REMOVE, rm), 0);
    check_eq("removed", sh_open("sh_moved.txt", 0), 0xffffffffu);

    h = sh_open(":semihosting-features", 0);
    check_eq("open features", h != 0xffffffffu, 1);
    check_eq("features length", sh_call1(SYS_FLEN, h), 5);
    check_eq("read features", sh_call3(SYS_READ, h, (uint32_t)buf, 5), 0);
    check_eq("features magic", buf[0] == 'S' && buf[1] == 'H' && buf[2] == 'F' && buf[3] == 'B', 1);
    check_eq("feature EXIT_EXTENDED", buf[4] & 1, 1);
    sh_call1(SYS_CLOSE, h);

    check_eq("iserror(-1)", sh_call1(SYS_ISERROR, 0xffffffffu), 1);
    check_eq("iserror(0)", sh_call1(SYS_ISERROR, 0), 0);
    return check_done("semihost_files");
}
