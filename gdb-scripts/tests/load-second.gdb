# Replace the running image: load gdb_second.elf over gdb_target.elf, reset, run it.
source gdb-scripts/armlet.gdb
break main
continue
delete
file firmware-tests/build/gdb_second.elf
load
monitor reset halt
printf "AFTER-RESET PC %#x\n", $pc
continue
