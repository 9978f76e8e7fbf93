/* Semihosting file access through picolibc's stdio and SYS_SYSTEM: with file access
 * (ARMLET_SEMIHOSTING_ROOT) and SYS_SYSTEM (ARMLET_ALLOW_SYSTEM=1) allowed, this writes a
 * file, reads it back and runs a host command that creates another. Exits 0 only if
 * everything worked, 1 if file access is refused, 2 if SYS_SYSTEM is refused. (picolibc's
 * system() does not use semihosting, so SYS_SYSTEM is called directly.) */
#include <stdio.h>
#include <string.h>

static int sys_system(const char *cmd)
{
    const void *args[2] = {cmd, (const void *)strlen(cmd)};
    register int r0 __asm__("r0") = 0x12; /* SYS_SYSTEM */
    register const void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int main(void)
{
    char buf[32] = "";
    FILE *f = fopen("picolibc_files.txt", "w");
    if (!f) {
        printf("files: fopen for writing refused\n");
        return 1;
    }
    fputs("written by the guest\n", f);
    fclose(f);
    f = fopen("picolibc_files.txt", "r");
    if (!f || !fgets(buf, sizeof buf, f)) {
        printf("files: read back failed\n");
        return 1;
    }
    fclose(f);
    printf("files: read back: %s", buf);
    int rc = sys_system("echo from-system > picolibc_system.txt");
    printf("files: SYS_SYSTEM returned %d\n", rc);
    return rc == 0 ? 0 : 2;
}
