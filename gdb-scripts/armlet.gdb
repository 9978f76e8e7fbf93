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

define armlet-fault
  monitor fault
  if ($xpsr & 0x1ff) != 0 && ($lr & 0xfffffff0) == 0xfffffff0
    if ($lr & 4) != 0
      set $armlet_frame = (unsigned int *) $psp
    else
      set $armlet_frame = (unsigned int *) $msp
    end
    printf "faulting instruction: "
    info symbol $armlet_frame[6]
    info line *$armlet_frame[6]
  end
  backtrace
end
document armlet-fault
Explain a fault from inside its handler: CFSR/HFSR/MMFAR/BFAR in words (monitor fault),
the stacked frame of the interrupted code, its source line and instruction, and a backtrace
through the exception.
end
