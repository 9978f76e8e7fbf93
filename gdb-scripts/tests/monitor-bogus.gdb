# An unknown monitor command must fail, so that the script stops before the next line.
monitor bogus
echo AFTER-BOGUS\n
