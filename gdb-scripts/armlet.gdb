# GDB helpers for armlet's GDB server (`armlet run FIRMWARE --gdb PORT [--wait]`).
# Source it from gdb (`-x gdb-scripts/armlet.gdb`) or from your project's .gdbinit.
#
#   armlet-connect [HOST:PORT]   target remote (default localhost:1234)
#   armlet-load                  load the current ELF, reset and halt at the reset vector
#   armlet-run-to-main           run to the first line of main
#   armlet-fault                 explain a fault: status registers and where it happened
#   armlet-reset                 reset and halt at the reset vector
#
# GDB caches registers and does not re-read them after a monitor command, but
# `monitor reset` moves the PC and SP: this hook refreshes the cache after every
# monitor command.
define hookpost-monitor
  maintenance flush register-cache
end

define armlet-connect
  if $argc == 0
    target remote localhost:1234
  else
    target remote $arg0
  end
end
document armlet-connect
Connect to armlet's GDB server: armlet-connect [HOST:PORT] (default localhost:1234).
end

define armlet-reset
  monitor reset halt
end
document armlet-reset
Reset the board; the core stays halted at the reset vector (registers refreshed).
end

define armlet-load
  load
  monitor reset halt
end
document armlet-load
Load the current executable (flash and RAM sections), then reset and halt at the reset vector.
end

define armlet-run-to-main
  tbreak main
  continue
end
document armlet-run-to-main
Run until the first line of main (a temporary breakpoint).
end

# Called in each frame, innermost first, by armlet-fault: the frame after GDB's exception
# frame (`<signal handler called>`, whose PC reads as EXC_RETURN) is the interrupted code,
# unwound from the frame the core stacked, wherever the handler has moved SP since.
define armlet-fault-frame
  if $armlet_fault_state == 1
    set $armlet_fault_state = 2
    set $armlet_fault_pc = (unsigned int) $pc
  end
  if $armlet_fault_state == 0 && ((unsigned int) $pc & 0xffffff00) == 0xffffff00
    set $armlet_fault_state = 1
  end
end
document armlet-fault-frame
Internal to armlet-fault (run in every frame by `frame apply`).
end

define armlet-fault
  monitor fault
  set $armlet_fault_state = 0
  set $armlet_fault_pc = 0
  frame apply all -q -s armlet-fault-frame
  if $armlet_fault_state == 2
    printf "faulting instruction (the stacked PC): "
    info symbol $armlet_fault_pc
    info line *$armlet_fault_pc
    # (no error when the PC is unreadable, e.g. a jump to nowhere: the report goes on)
    frame apply level 0 -q -s x/i $armlet_fault_pc
  else
    printf "no exception frame in GDB's backtrace (see the interrupted context above)\n"
  end
  backtrace
end
document armlet-fault
Explain a fault from inside its handler (also after its prologue, or from a function it
called): CFSR/HFSR/MMFAR/BFAR in words and the frame the core stacked on entry (monitor
fault), the faulting instruction and its source line, and a backtrace through the
exception.
end
