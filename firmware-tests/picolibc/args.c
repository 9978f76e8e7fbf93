/* Prints its command line (SYS_GET_CMDLINE, split by picolibc's crt0-semihost). */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
