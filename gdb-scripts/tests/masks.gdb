# Writing PRIMASK, BASEPRI and CONTROL from the debugger changes what the core does
# (gdb_target.elf: SysTick at priority 0x80 fires every 1000 cycles between checkpoints).
break checkpoint
continue
printf "TICKS1 %u\n", ticks
set $primask = 1
continue
printf "TICKS2 %u PRIMASK %u\n", ticks, $primask
set $primask = 0
set $basepri = 0x80
continue
printf "TICKS3 %u BASEPRI %#x\n", ticks, $basepri
set $basepri = 0
continue
printf "TICKS4 %u\n", ticks
delete
break stack_probe
continue
set $psp = (unsigned int) &psp_stack[64]
set $control = 2
printf "AFTER-WRITE CONTROL %u SP %#x PSP %#x MSP %#x\n", $control, $sp, $psp, $msp
delete
break checkpoint
continue
printf "PROBE CONTROL %u SP %#x\n", probe_control, probe_sp
printf "BACK CONTROL %u SP %#x MSP %#x\n", $control, $sp, $msp
delete
continue
