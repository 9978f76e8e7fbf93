#!/usr/bin/env python3
"""Regenerate insns.txt: assemble each case with arm-none-eabi-as and record what Unicorn
(an independent Cortex-M3 model) computes for it. Review the diff before committing.

usage: python3 gen_insns.py cases.txt > insns.txt   (needs arm-none-eabi-as, pip unicorn)
"""
import subprocess, sys, tempfile, os
from unicorn import Uc, UC_ARCH_ARM, UC_MODE_THUMB, UC_MODE_MCLASS
from unicorn.arm_const import *

REGS = [UC_ARM_REG_R0 + i for i in range(13)] + [UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC]
NAMES = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc"]
CODE = 0x100000
RAM = 0x20000000

def assemble(lines):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "a.s")
        with open(src, "w") as f:
            f.write(".syntax unified\n.thumb\n")
            for i, l in enumerate(lines):
                f.write(f"L{i}:\n")
                for part in l.split(";"):
                    f.write(f"  {part.strip()}\n")
                f.write(f"E{i}:\n.balign 4\n")
        obj = os.path.join(d, "a.o")
        subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m3", "-mthumb", "-o", obj, src], check=True)
        binf = os.path.join(d, "a.bin")
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", obj, binf], check=True)
        data = open(binf, "rb").read()
    out = []
    off = 0
    for l in lines:
        encs = []
        for _ in l.split(";"):
            hw1 = int.from_bytes(data[off:off+2], "little")
            if hw1 >> 11 >= 0b11101:
                hw2 = int.from_bytes(data[off+2:off+4], "little")
                encs.append(f"{hw1:04x}{hw2:04x}")
                off += 4
            else:
                encs.append(f"{hw1:04x}")
                off += 2
        out.append("_".join(encs))
        off = (off + 3) & ~3
    return out

def parse_state(s):
    st = {}
    for tok in s.split():
        k, v = tok.split("=")
        st[k] = int(v, 0)
    return st
# Cases may be several instructions separated by ';' (run as many instructions as there are).
# Inputs/outputs: registers (r0..r12, sp, lr, pc), flags (n z c v q), memory words m32@ADDR.

def run(enc, inputs):
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.mem_map(0, 0x400000)
    uc.mem_map(RAM, 0x10000)
    code = b""
    for e in enc.split("_"):
        code += bytes.fromhex(e[:4])[::-1] + (bytes.fromhex(e[4:])[::-1] if len(e) == 8 else b"")
    uc.mem_write(CODE, code)
    for k, v in inputs.items():
        if k.startswith("r") and k[1:].isdigit():
            uc.reg_write(UC_ARM_REG_R0 + int(k[1:]), v)
        elif k == "lr":
            uc.reg_write(UC_ARM_REG_LR, v)
        elif k == "sp":
            uc.reg_write(UC_ARM_REG_SP, v)
        elif k.startswith("m32@"):
            uc.mem_write(int(k[4:], 0), v.to_bytes(4, "little"))
    uc.reg_write(UC_ARM_REG_SP, inputs.get("sp", RAM + 0x8000))
    flags = (inputs.get("n", 0) << 31) | (inputs.get("z", 0) << 30) | (inputs.get("c", 0) << 29) | (inputs.get("v", 0) << 28) | (inputs.get("q", 0) << 27)
    uc.reg_write(UC_ARM_REG_XPSR, flags | (1 << 24))
    before = [uc.reg_read(r) for r in REGS]
    ram_before = bytes(uc.mem_read(RAM, 0x10000))
    n = len(enc.split("_"))
    uc.emu_start(CODE | 1, CODE + len(code), count=n)
    ram_after = bytes(uc.mem_read(RAM, 0x10000))
    after = [uc.reg_read(r) for r in REGS]
    xpsr = uc.reg_read(UC_ARM_REG_XPSR)
    res = []
    for n, b, a in zip(NAMES, before, after):
        if n == "pc":
            if a != CODE + len(code):
                res.append(f"pc={a:#x}")
        elif b != a or n in ("r0", "r1", "r2", "r3") or n in inputs:
            res.append(f"{n}={a:#x}")
    for off in range(0, 0x10000, 4):
        if ram_before[off:off+4] != ram_after[off:off+4]:
            res.append(f"m32@{RAM + off:#x}={int.from_bytes(ram_after[off:off+4], 'little'):#x}")
    for i, f in enumerate("nzcvq"):
        res.append(f"{f}={(xpsr >> (31 - i)) & 1}")
    return " ".join(res)

def main():
    cases = []
    items = []
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line or line.startswith("#"):
            if line:
                items.append(line)
            continue
        asm, _, inputs = line.partition("|")
        items.append(len(cases))
        cases.append((asm.strip(), inputs.strip()))
    encs = assemble([a for a, _ in cases])
    for it in items:
        if isinstance(it, str):
            print(it)
            continue
        (asm, inputs), enc = cases[it], encs[it]
        out = run(enc, parse_state(inputs))
        print(f'{enc} "{asm}" {inputs} => {out}'.replace("  ", " "))

main()
