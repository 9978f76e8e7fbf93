# Single steps from main's first checkpoint through an SVC, an interrupt made pending, a
# semihosting call and a faulting load into the HardFault handler, and three steps in it;
# prints the PC before each step.
break checkpoint
continue
delete
set $i = 0
printf "PC %08x\n", $pc
while $i < 400 && $pc != (unsigned int) HardFault_Handler
  stepi
  printf "PC %08x\n", $pc
  set $i = $i + 1
end
stepi
printf "PC %08x\n", $pc
stepi
printf "PC %08x\n", $pc
stepi
printf "PC %08x\n", $pc
