# A fault caught in a HardFault_Handler written in C: GDB's `break HardFault_Handler` stops
# after its prologue (registers pushed, SP moved); the report must still find the frame the
# core stacked.
source gdb-scripts/armlet.gdb
break HardFault_Handler
continue
armlet-fault
