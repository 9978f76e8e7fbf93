# Report a fault in batch mode: connect to a target already stopped in a fault handler (or run
# it until it stops), then explain the fault.
#   gdb-multiarch -batch -x gdb-scripts/fault-report.gdb fw.elf
source gdb-scripts/armlet.gdb
armlet-connect
armlet-fault
