# Run into an endless loop (gdb_target.elf with mode = 1); the test interrupts GDB.
break main
continue
set var mode = 1
delete
printf "CONTINUING\n"
continue
printf "INTERRUPTED COUNTER %u\n", counter
bt
