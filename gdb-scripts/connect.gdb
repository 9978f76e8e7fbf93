# Connect to armlet on localhost:1234, load the ELF given on GDB's command line, reset, and
# run to main (paths are relative to the armlet checkout):
#   armlet run fw.elf --gdb 1234 --wait &
#   gdb-multiarch -x gdb-scripts/connect.gdb fw.elf
# For another address, source armlet.gdb and use `armlet-connect HOST:PORT` yourself.
source gdb-scripts/armlet.gdb
armlet-connect
armlet-load
armlet-run-to-main
