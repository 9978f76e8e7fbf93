# A fault made from the debugger: jump to an address where nothing is mapped, stop in the
# HardFault handler, explain it.
source gdb-scripts/armlet.gdb
break checkpoint
continue
delete
break Default_Handler
set $pc = 0x30000000
continue
armlet-fault
monitor info
