/* A passing picolibc test: stdio through semihosting, exit status 0 from main. */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d-%s-%x", 42, "ok", 0xbeefu);
    printf("picolibc pass: %s\n", buf);
    return strcmp(buf, "42-ok-beef") != 0;
}
