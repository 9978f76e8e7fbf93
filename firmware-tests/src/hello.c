/* The smallest useful firmware: greet through semihosting and exit 0. */
#include "semihost.h"

int main(void)
{
    sh_puts("Hello from armlet!\n");
    return 0;
}
