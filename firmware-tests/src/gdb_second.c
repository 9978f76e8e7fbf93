/* The second image of the GDB server's `load` test: loaded over gdb_target by GDB, it must
 * run after `monitor reset halt` and `continue`. */
#include "semihost.h"

int main(void)
{
    sh_puts("gdb_second: hello from the second image\n");
    return 42;
}
