# break / continue / bt / finish / registers, then run to the end (gdb_target.elf).
break leaf
continue
bt
finish
info registers
info all-registers
delete
continue
