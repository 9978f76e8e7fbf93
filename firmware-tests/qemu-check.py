#!/usr/bin/env python3
"""Run every test in tests.toml that QEMU can run under qemu-system-arm (the independent
reference) and check its exit status and output against the same expectations armlet meets.

usage: python3 qemu-check.py [NAME...]      (from firmware-tests/, after `make`)
"""
import os
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with open(os.path.join(HERE, "tests.toml"), "rb") as f:
        tests = tomllib.load(f)["test"]
    only = set(sys.argv[1:])
    passed = failed = 0
    for t in tests:
        if not t.get("qemu", True) or (only and t["name"] not in only):
            continue
        semi = "enable=on,target=native"
        for a in ["fw"] + t.get("args", []):
            semi += f",arg={a}"
        # Route the semihosting console (WRITE0/WRITEC) to stdout as armlet does; by default
        # QEMU sends it to stderr.
        semi += ",chardev=con"
        cmd = ["qemu-system-arm", "-M", t.get("machine", "mps2-an385"), "-nographic", "-monitor", "none", "-serial", "null",
               "-chardev", "stdio,id=con",
               "-semihosting-config", semi, "-kernel", os.path.join(HERE, t["firmware"])]
        with tempfile.TemporaryDirectory() as d:
            try:
                p = subprocess.run(cmd, cwd=d, capture_output=True, timeout=60)
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
        if problems:
            failed += 1
            print(f"FAIL {t['name']}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"ok   {t['name']}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
