# 3,000 single steps with SysTick firing every 1000 cycles; prints IPSR after each.
break checkpoint
continue
delete
set $i = 0
while $i < 3000
  stepi
  printf "IPSR %u\n", $xpsr & 0x1ff
  set $i = $i + 1
end
