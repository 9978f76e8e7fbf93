# A fault caught in a HardFault_Handler written in C, at a breakpoint the test sets before
# (inside the handler after its prologue, or in a function it calls): the report must still
# find the frame the core stacked.
source gdb-scripts/armlet.gdb
continue
armlet-fault
