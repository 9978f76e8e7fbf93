# 1,000 single instruction steps from the reset vector, printing the PC before each.
printf "PC %08x\n", $pc
set $i = 0
while $i < 1000
  stepi
  printf "PC %08x\n", $pc
  set $i = $i + 1
end
