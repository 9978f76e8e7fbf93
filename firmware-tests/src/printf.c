/* newlib (rdimon) printf and friends through semihosting; built at -O0, -O2 and -Os. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(void)
{
    printf("ints: %d %d %d %u %ld %lld\n", 0, -42, INT_MIN, 4000000000u, -7L, -123456789012345LL);
    printf("hex: %x %X %08x %#x %llx\n", 0xbeefu, 0xcafeu, 0x1234u, 255u, 0x123456789abcdefULL);
    printf("pad: [%5d] [%-5d] [%05d] [%+d]\n", 42, 42, 42, 42);
    printf("str: [%s] [%10s] [%-6s] [%.3s] %c%c\n", "hello", "right", "left", "truncate", 'o', 'k');
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s-%d-%x", "snprintf", 123, 0xabc);
    printf("%s (%d)\n", buf, n);
    char *p = malloc(1000);
    if (!p) {
        puts("FAIL malloc");
        return 1;
    }
    memset(p, 'x', 999);
    p[999] = 0;
    printf("malloc: %u %d\n", (unsigned)strlen(p), strcmp(p + 990, "xxxxxxxxx"));
    free(p);
    printf("strtol: %ld %ld %lu\n", strtol("-12345", 0, 10), strtol("0x7f", 0, 16), strtoul("4294967295", 0, 10));
    int v[] = {5, -3, 9, 0, 2, 2, -8};
    qsort(v, 7, sizeof v[0], cmp);
    printf("qsort:");
    for (int i = 0; i < 7; i++)
        printf(" %d", v[i]);
    printf("\n");
    char a[16] = "abcdefgh", b[16];
    memcpy(b, a, 9);
    memmove(a + 2, a, 6);
    printf("mem: %s %s %d\n", b, a, memcmp(a, b, 2));
    puts("PASS printf");
    return 0;
}
