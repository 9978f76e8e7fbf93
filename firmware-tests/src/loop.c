/* Prints one line, then spins forever: for instruction-limit and timeout tests. */
#include "semihost.h"

int main(void)
{
    sh_puts("looping\n");
    for (volatile uint32_t i = 0;; i++) {
    }
}
