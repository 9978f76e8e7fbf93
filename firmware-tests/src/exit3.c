/* SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit and subcode 3: the process exits 3. */
#include "semihost.h"

int main(void)
{
    uint32_t block[2] = {ADP_Stopped_ApplicationExit, 3};
    semihost(SYS_EXIT_EXTENDED, block);
    sh_puts("FAIL: still running after SYS_EXIT_EXTENDED\n");
    return 1;
}
