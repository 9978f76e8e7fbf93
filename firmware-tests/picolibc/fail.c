/* A failing picolibc test: exit(3) must become the emulator's exit status. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("picolibc fail: exit(3)\n");
    fflush(stdout);
    exit(3);
}
