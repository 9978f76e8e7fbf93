# watch, rwatch, awatch on the global wvar (gdb_target.elf: watch_test writes 2, reads it,
# writes 42).
break watch_test
continue
delete
watch wvar
continue
printf "AFTER-WATCH PC %#x WVAR %u\n", $pc, wvar
delete
rwatch wvar
continue
printf "AFTER-RWATCH PC %#x RVALUE %u\n", $pc, rvalue
delete
awatch wvar
continue
printf "AFTER-AWATCH PC %#x WVAR %u\n", $pc, wvar
delete
continue
