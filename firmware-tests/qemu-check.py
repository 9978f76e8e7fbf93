#!/usr/bin/env python3
"""Run every test in tests.toml that QEMU can run under qemu-system-arm (the independent
reference) and check its exit status and output against the same expectations armlet meets.

usage: python3 qemu-check.py [NAME...]      (from firmware-tests/, after `make`)
       QEMU_FLAGS="-icount shift=5,sleep=off" python3 qemu-check.py
                                            (extra QEMU options: with -icount, time follows
                                            the instruction count, as on armlet)

Output routing: the board's first UART is `-serial stdio` (stdout, and the test's `stdin` /
`stdin_file` feeds its receiver); the semihosting console goes to the same stdout through a
second character device writing /dev/stdout, so UART and semihosting output interleave in
the order the firmware produced them, as on armlet. No `-no-reboot`: with it QEMU would exit
(status 0) at a SYSRESETREQ instead of resetting, which sys_reset relies on.

Tests marked `qemu = false` in tests.toml are not run here; each needs an entry in
NOT_ON_QEMU below saying why (armlet-only behaviour, or a QEMU deviation from the ARMv7-M
Architecture Reference Manual, in which case the test's expectation follows the manual).
"""
import os
import re
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))

NOT_ON_QEMU = {
    "loop-limit": "armlet only: instruction limit",
    "udf-fault": "armlet only: the fault report for a core stuck in its HardFault handler",
    "wfi-deadlock": "armlet only: QEMU waits forever in WFI with nothing to wake it",
    "lockup": "armlet only: QEMU reports a lockup by aborting with its own message",
    "sys-wfi-clock": "QEMU's SYS_CLOCK is the host CPU time of the QEMU process (it stands still "
                     "while the guest sleeps in WFI), and QEMU 7.2 does not implement SCR.SLEEPONEXIT",
    "sys-dwt": "QEMU 7.2 does not implement the DWT or DEMCR (they read as zero, CYCCNT never counts)",
    "sys-itm": "QEMU 7.2 does not implement the ITM (its registers read as zero, stimulus writes are "
               "dropped); the expected ITM line is armlet's console output",
    "sys-debugmon": "QEMU 7.2 does not implement DEMCR (it reads as zero) or the DebugMonitor "
                    "exception: a BKPT is a HardFault there; the expectations follow the ARMv7-M "
                    "ARM (C1.6, DEMCR.MON_EN/MON_PEND, DFSR.BKPT, HFSR.DEBUGEVT)",
    "sys-prio-bits": "QEMU 7.2 implements all 8 priority bits in NVIC_IPR/SHPR/BASEPRI; the "
                     "Cortex-M3 of mps2-an385 implements 3 (machines/prio3.toml)",
    "dsp-undef-m3-all": "QEMU 7.2's cortex-m3 executes SMUAD, USAD8, SMLALD and SSAT16 although the "
                        "Cortex-M3 has no DSP extension (ARMv7-M ARM A5.3: ARMv7E-M only; the "
                        "other DSP encodings are UNDEFINED there, dsp-undef-m3 checks those on QEMU)",
    "time-libc-default-epoch": "armlet only: QEMU's SYS_TIME is the host's time; armlet's default "
                               "epoch is the fixed 2026-01-01T00:00:00Z (time-libc checks both)",
    "time-libc-epoch-seconds": "armlet only: the manifest's epoch (QEMU's SYS_TIME is the host's time)",
    "time-libc-epoch-date": "armlet only: the manifest's epoch (QEMU's SYS_TIME is the host's time)",
    "time-picolibc-epoch-date": "armlet only: the manifest's epoch (QEMU's SYS_TIME is the host's time)",
    "atomic-o0-strict": "armlet only: --strict (QEMU executes the UNPREDICTABLE CMP T2 as CMP)",
    "diag-fault-in-systick": "armlet only: the fault report for a core stuck in its HardFault handler",
    "diag-fault-in-irq0": "armlet only: the fault report for a core stuck in its HardFault handler",
    "freertos-start-prio3": "silicon's 3 priority bits (machines/prio3.toml); QEMU 7.2 implements 8",
    "handler-spin-systick": "armlet only: QEMU spins forever in a handler nothing can preempt",
    "handler-spin-irq": "armlet only: QEMU spins forever in a handler nothing can preempt",
    "handler-spin-wfi": "armlet only: QEMU sleeps forever in a handler nothing can preempt",
    "handler-spin-basepri": "armlet only: QEMU sleeps forever with everything masked by BASEPRI",
    "itm-probe-no-debugger": "armlet only: an instruction limit (QEMU 7.2 has no ITM: it spins forever)",
    "itm-probe": "armlet only: --itm (QEMU 7.2 has no ITM)",
    "spin-loop-call": "armlet only: QEMU spins forever in a loop nothing can end",
    "spin-loop-flag": "armlet only: QEMU spins forever in a loop nothing can end",
    "spin-loop-fault": "armlet only: QEMU spins forever in its HardFault handler",
    "spin-loop-device": "armlet only: an instruction limit (QEMU polls the stopped timer forever)",
}


def main():
    with open(os.path.join(HERE, "tests.toml"), "rb") as f:
        tests = tomllib.load(f)["test"]
    only = set(sys.argv[1:])
    passed = failed = skipped = 0
    for t in tests:
        if only and t["name"] not in only:
            continue
        if not t.get("qemu", True) or "skip" in t:
            why = t.get("skip") or NOT_ON_QEMU.get(t["name"])
            if not why:
                print(f"FAIL {t['name']}: qemu = false without a reason in NOT_ON_QEMU (qemu-check.py)")
                failed += 1
                continue
            skipped += 1
            print(f"skip {t['name']}: {why}")
            continue
        semi = "enable=on,target=native"
        for a in ["fw"] + t.get("args", []):
            semi += f",arg={a}"
        semi += ",chardev=con"
        cmd = ["qemu-system-arm", "-M", t.get("machine", "mps2-an385"), "-nographic", "-monitor", "none",
               "-serial", "stdio", "-chardev", "file,id=con,path=/dev/stdout",
               "-semihosting-config", semi, "-kernel", os.path.join(HERE, t["firmware"])]
        cmd += os.environ.get("QEMU_FLAGS", "").split()
        if "stdin" in t:
            stdin = t["stdin"].encode()
        elif "stdin_file" in t:
            with open(os.path.join(HERE, t["stdin_file"]), "rb") as f:
                stdin = f.read()
        else:
            stdin = b""
        # Semihosting file operations resolve relative to QEMU's working directory.
        with tempfile.TemporaryDirectory() as d:
            try:
                p = subprocess.run(cmd, cwd=d, input=stdin, capture_output=True,
                                   timeout=max(60, t.get("timeout", 60)))
                code, out = p.returncode, p.stdout.decode(errors="replace")
            except subprocess.TimeoutExpired:
                code, out = "timeout", ""
        problems = []
        if code != t["exit_code"]:
            problems.append(f"exit {code}, want {t['exit_code']}")
        if "stdout_file" in t or "stdout" in t:
            want = t["stdout"] if "stdout" in t else open(os.path.join(HERE, t["stdout_file"])).read()
            if out != want:
                problems.append(f"stdout differs:\n--- want\n{want}--- got\n{out}")
        if "stdout_contains" in t and t["stdout_contains"] not in out:
            problems.append(f"stdout lacks {t['stdout_contains']!r}")
        if "stdout_regex" in t and not re.search(t["stdout_regex"], out):
            problems.append(f"stdout does not match /{t['stdout_regex']}/:\n{out}")
        if problems:
            failed += 1
            print(f"FAIL {t['name']}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"ok   {t['name']}")
    print(f"{passed} passed, {failed} failed, {skipped} not run on QEMU")
    sys.exit(1 if failed else 0)


main()
