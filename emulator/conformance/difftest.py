#!/usr/bin/env python3
"""Differential testing of armlet's CPU against Unicorn (an independent, QEMU-derived model).

Cases are generated from armlet's decoder table (so a new table entry is covered without
touching this file): random valid encodings for every entry, register inputs from edge values,
random values and pointers into a scratch area, random flags, IT blocks with every condition.
Each case runs on Unicorn here and on armlet through `armlet-conformance run`; registers,
flags, ITSTATE, scratch memory and fault kind are compared. Known, reviewed deviations are
excluded by the rules in exclusions.toml and counted per reason, never dropped silently.

usage: difftest.py --runner PATH [--cpu cortex-m3|cortex-m4|cortex-m7] [--ext base,dsp]
                   [--tier fast|long] [--seed N] [--cases N] [--coverage FILE]

--cpu picks the core model on both sides: armlet's features (`armlet-conformance run --cpu`)
and Unicorn's CPU model (ctl_set_cpu_model). --ext generates cases only for the decoder-table
entries of those extensions (e.g. `--ext dsp`).
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import tomllib

from unicorn import Uc, UcError, UC_ARCH_ARM, UC_MODE_THUMB, UC_MODE_MCLASS, UC_HOOK_CODE
from unicorn import unicorn_const as U
from unicorn.arm_const import *

# --cpu name -> Unicorn CPU model (Unicorn 2: QEMU's cortex-m3 has neither DSP nor FPU,
# cortex-m4 has DSP and FPv4-SP, cortex-m7 has DSP and FPv5 with double precision).
CPU_MODELS = {
    "cortex-m3": UC_CPU_ARM_CORTEX_M3,
    "cortex-m4": UC_CPU_ARM_CORTEX_M4,
    "cortex-m7": UC_CPU_ARM_CORTEX_M7,
}

CODE, SCRATCH, LEN = 0x00100000, 0x20000000, 0x1000
EDGE = [0, 1, 2, 3, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000001, 31, 32, 33, 0xFF, 0x100, 0xFFFF, 0x8000]
# Lane edges for the DSP extension's saturating/halving/parallel arithmetic: halfword lanes
# at 0x7fff/0x8000/0xffff/0, byte lanes at 0x7f/0x80/0xff/0, and the 32-bit extremes.
LANE16 = [0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x7FFE, 0x00FF, 0x0100, 0xFF80]
LANE8 = [0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF, 0x7E, 0xFE]
HERE = os.path.dirname(os.path.abspath(__file__))
RULES = []
# Fields worth steering towards their defined values (the rest are UNPREDICTABLE).
SYSM = [0, 1, 2, 3, 5, 6, 7, 8, 9, 16, 17, 18, 19, 20]
FIELD_HINTS = {
    "MRS T1": {"s": SYSM},
    "MSR T1": {"s": SYSM, "k": [2]},
    # see rule "unicorn-unallocated-hints" in exclusions.toml
    "NOP/YIELD/WFE/WFI/SEV/DBG T2": {"h": [0, 1, 2, 3, 4]},
}
# DSP multiplies: Ra = 15 selects the multiply-only form (SMUL*, SMUAD, SMMUL, USAD8), and
# Rn = 15 the SXTB16/UXTB16 form of the extend-and-add entry: give those a fair share.
ACC_OR_PC = list(range(13)) + [15] * 4
for _name in ["SMLA<x><y>/SMUL<x><y> T1", "SMLAD(X)/SMUAD(X) T1", "SMLAW<y>/SMULW<y> T1",
              "SMLSD(X)/SMUSD(X) T1", "SMMLA(R)/SMMUL(R) T1", "USADA8/USAD8 T1"]:
    FIELD_HINTS[_name] = {"a": ACC_OR_PC}
FIELD_HINTS["SXTAB/SXTAH/SXTAB16/UXTAB/UXTAH/UXTAB16, SXTB16/UXTB16 T1"] = {"n": ACC_OR_PC}
FORCED_HINTS = {"NOP/YIELD/WFE/WFI/SEV/DBG T2"}
# Cores with an FPU (cases for FP entries carry S0-S31 and FPSCR).
FPU_CPUS = {"cortex-m4", "cortex-m7"}
# FP data-processing entries whose sz bit (8) selects double precision. Unicorn's Cortex-M7
# has no double precision (its MVFR0 says single only; see rule "unicorn-m7-no-double"), so on
# cortex-m7 these are generated single precision; on cortex-m4 both (double is UNDEFINED there,
# on both sides).
FP_SZ = {"VMLA/VMLS", "VNMLA/VNMLS", "VMUL/VNMUL", "VADD/VSUB", "VDIV", "VFNMA/VFNMS", "VFMA/VFMS",
         "VMOV (immediate)", "VMOV (register)/VABS", "VNEG/VSQRT", "VCVTB/VCVTT", "VCMP/VCMPE",
         "VCMP/VCMPE #0", "VRINTR/VRINTZ", "VRINTX", "VCVT (integer to floating point)",
         "VCVT/VCVTR (floating point to integer)", "VCVT (fixed point)", "VSEL", "VMAXNM/VMINNM",
         "VRINTA/VRINTN/VRINTP/VRINTM", "VCVTA/VCVTN/VCVTP/VCVTM"}
# Single-precision edge values: signed zeros, infinities, quiet/signalling NaNs with payloads,
# denormals, min/max normal, one, values that round, the int32/uint32/int16 conversion bounds
# (2^31, 2^32, 2^15 and neighbours), halves for rounding ties, and half-precision patterns for
# VCVTB/VCVTT in either halfword.
FP_EDGE = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001,
           0x7F800001, 0xFFA00005, 0x00000001, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000,
           0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40200000,
           0xC0200000, 0x3EAAAAAB, 0x4EFFFFFF, 0x4F000000, 0xCF000000, 0xCF000001, 0x4F7FFFFF,
           0x4F800000, 0x46FFFE00, 0x47000000, 0xC7000080, 0x33800000, 0x34000001, 0x4B000001,
           0x7C00FC00, 0x7E017C01, 0x03FF8001, 0x3C00BC00, 0x7BFF0400]


def scratch_fill(seed):
    x = (seed | 1) & 0xFFFFFFFF
    out = bytearray()
    for _ in range(LEN // 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out += x.to_bytes(4, "little")
    return bytes(out)


class Entry:
    def __init__(self, line):
        idx, width, mask, value, pattern, ext, name = line.split(" ", 6)
        self.idx, self.width, self.ext = int(idx), int(width), ext
        self.mask, self.value, self.pattern, self.name = int(mask, 16), int(value, 16), pattern, name
        # fields: runs of the same letter, as (letter, shift, width)
        self.fields = []
        i = 0
        while i < len(pattern):
            c = pattern[i]
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            if c not in "01":
                self.fields.append((c, len(pattern) - j, j - i))
            i = j

    def encode(self, rng):
        bits = self.width
        x = rng.getrandbits(bits)
        hints = FIELD_HINTS.get(self.name, {})
        for c, shift, w in self.fields:
            if c in hints and (rng.random() < 0.8 or self.name in FORCED_HINTS):
                x = (x & ~(((1 << w) - 1) << shift)) | (rng.choice(hints[c]) << shift)
                continue
            # Register fields mostly name r0-r12: r13/r15 are UNPREDICTABLE in most encodings.
            if w == 4 and c in "nmdtTalhs" and rng.random() < 0.85:
                x = (x & ~(0xF << shift)) | (rng.randrange(13) << shift)
        x = (x & ~self.mask) | self.value
        return f"{x:08x}" if bits == 32 else f"{x:04x}"


def dsp_value(rng):
    """A register value with saturation-edge lanes (halfwords, bytes or the whole word)."""
    p = rng.random()
    if p < 0.4:
        return (rng.choice(LANE16) << 16) | rng.choice(LANE16)
    if p < 0.7:
        return sum(rng.choice(LANE8) << (8 * i) for i in range(4))
    if p < 0.85:
        return rng.choice([0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0, 1, 0x40000000, 0xC0000000])
    return (rng.getrandbits(32) & ~0xFFFF) | rng.choice(LANE16)


def fp_value(rng):
    """An S register value: edge values, their neighbours, short mantissas, random bits."""
    p = rng.random()
    if p < 0.5:
        return rng.choice(FP_EDGE)
    if p < 0.6:
        return (rng.choice(FP_EDGE) + rng.choice([-1, 1])) & 0xFFFFFFFF
    if p < 0.8:  # a short mantissa with a random exponent near 1 (exact products, ties)
        return (rng.getrandbits(1) << 31) | (rng.randrange(100, 160) << 23) | (rng.getrandbits(6) << 17)
    return rng.getrandbits(32)


def fpscr_value(rng):
    """RMode, FZ, DN, AHP at random; NZCV and the cumulative flags mostly clear."""
    v = rng.getrandbits(2) << 22
    for b in (24, 25, 26):
        if rng.random() < 0.3:
            v |= 1 << b
    if rng.random() < 0.3:
        v |= (rng.getrandbits(4) << 28) | (rng.getrandbits(8) & 0x9F)
    return v


def reg_value(rng, dsp=False):
    if dsp and rng.random() < 0.5:
        return dsp_value(rng)
    p = rng.random()
    if p < 0.35:
        return rng.choice(EDGE)
    if p < 0.6:
        return rng.getrandbits(32)
    if p < 0.8:
        ptr = SCRATCH + 0x400 + rng.randrange(0, 0x400)  # a pointer into scratch
        return ptr & ~3 if rng.random() < 0.7 else ptr
    return rng.randrange(0, 64)  # small: shift amounts, indexes


class Unicorn:
    REGS = [UC_ARM_REG_R0 + i for i in range(13)] + [UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC]

    def __init__(self, cpu="cortex-m3"):
        self.cpu = cpu
        self.fresh()

    def fresh(self):
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(CPU_MODELS[self.cpu])  # before anything initialises the CPU
        self.uc.mem_map(CODE, LEN)
        self.uc.mem_map(SCRATCH, LEN)
        self.code_end = CODE
        # Stop before executing anything outside the case's code: the end of the case, or
        # wherever a branch inside an IT block went.
        self.uc.hook_add(UC_HOOK_CODE, self._stop_outside)
        if self.cpu in FPU_CPUS:
            # The first FP instruction with CONTROL.FPCA clear loads FPSCR from FPDSCR
            # (ExecuteFPCheck); execute one now, so CONTROL.FPCA is set (also in QEMU's cached
            # translation flags) and cases start from the FPSCR they give.
            self.uc.mem_write(CODE, bytes.fromhex("30ee000a"))  # vadd.f32 s0, s0, s0
            self.code_end = CODE + 4
            self.uc.emu_start(CODE | 1, CODE + 4, count=1)
        # CONTROL as each case starts: 0, or with an FPU what the warm-up left (FPCA, and the
        # SFPA bit QEMU also consults before starting a new FP context).
        self.control = self.uc.reg_read(UC_ARM_REG_CONTROL)

    def _stop_outside(self, uc, address, size, _data):
        if not CODE <= address < self.code_end:
            uc.emu_stop()

    def run(self, case, cpu=None):
        f = case.split()
        if f[0].startswith("@"):  # a corpus case naming its core model
            cpu = f.pop(0)[1:]
        if cpu and cpu != self.cpu:
            self.cpu = cpu
            self.fresh()
        seed, encs, regs, apsr = int(f[0], 16), f[1].split("_"), [int(v, 16) for v in f[2:17]], int(f[17], 16)
        code = b""
        for e in encs:
            code += bytes.fromhex(e[:4])[::-1] + (bytes.fromhex(e[4:])[::-1] if len(e) == 8 else b"")
        uc = self.uc
        uc.mem_write(CODE, code + bytes(LEN - len(code)))
        uc.ctl_remove_cache(CODE, CODE + LEN)  # drop translations of the previous case's code
        fill = scratch_fill(seed)
        uc.mem_write(SCRATCH, fill)
        # The state armlet's runner starts from: privileged Thread mode on MSP, PSP = 0, masks
        # clear, APSR (with GE on a DSP core) from the case. CONTROL first so SP means MSP.
        with_fp = len(f) == 18 + 33
        # FP cases: CONTROL as the warm-up left it (FPCA set); others start from 0 as armlet.
        control = self.control if with_fp else 0
        uc.reg_write(UC_ARM_REG_CONTROL, control)
        uc.reg_write(UC_ARM_REG_PSP, 0)
        uc.reg_write(UC_ARM_REG_PRIMASK, 0)
        uc.reg_write(UC_ARM_REG_BASEPRI, 0)
        uc.reg_write(UC_ARM_REG_FAULTMASK, 0)
        for r, v in zip(self.REGS, regs):
            uc.reg_write(r, v)
        uc.reg_write(UC_ARM_REG_APSR_NZCVQG, apsr)
        uc.reg_write(UC_ARM_REG_XPSR, apsr | (1 << 24))
        if with_fp:
            for i in range(32):
                uc.reg_write(UC_ARM_REG_S0 + i, int(f[18 + i], 16))
            uc.reg_write(UC_ARM_REG_FPSCR, int(f[50], 16))
        kind = "ok"
        self.code_end = CODE + len(code)
        try:
            if len(encs) == 1:
                uc.emu_start(CODE | 1, CODE + LEN - 2, count=1)
            else:
                # Unicorn's instruction count skips IT and condition-failed instructions: run
                # an IT block until execution leaves the code (see _stop_outside).
                uc.emu_start(CODE | 1, CODE + LEN - 2, count=4 * len(encs))
        except UcError as e:
            kind = {U.UC_ERR_READ_UNMAPPED: "bus", U.UC_ERR_WRITE_UNMAPPED: "bus", U.UC_ERR_FETCH_UNMAPPED: "fetch",
                    U.UC_ERR_INSN_INVALID: "undef", U.UC_ERR_EXCEPTION: "exception"}.get(e.errno, f"err{e.errno}")
        if kind == "fetch" and not (CODE <= uc.reg_read(UC_ARM_REG_PC) < CODE + len(code)):
            kind = "ok"  # a branch left the code page: the instruction completed
        if kind != "ok":
            self.fresh()  # an exception can leave NVIC/mode state behind: start clean
            return kind, None
        vals = [uc.reg_read(r) for r in self.REGS]
        xpsr = uc.reg_read(UC_ARM_REG_XPSR)
        it = ((xpsr >> 25) & 3) | (((xpsr >> 10) & 0x3F) << 2)
        s = " ".join(f"{v:08x}" for v in vals) + f" {xpsr & 0xF90F0000:08x} {it:02x}"
        if with_fp:
            s += " " + " ".join(f"{uc.reg_read(UC_ARM_REG_S0 + i):08x}" for i in range(32))
            s += f" {uc.reg_read(UC_ARM_REG_FPSCR) & 0xF7C0009F:08x}"
        mem = bytes(uc.mem_read(SCRATCH, LEN))
        if uc.reg_read(UC_ARM_REG_CONTROL) != control:
            self.fresh()  # unprivileged Unicorn ignores CONTROL writes: start clean
        for i in range(0, LEN, 4):
            if mem[i:i + 4] != fill[i:i + 4]:
                s += f" {SCRATCH + i:08x}={int.from_bytes(mem[i:i + 4], 'little'):08x}"
        return kind, s


def case_cpu(case, default):
    """The core model a case runs on: its `@MODEL` prefix, else the run's --cpu."""
    return case[1:].split()[0] if case.startswith("@") else default


def load_exclusions():
    with open(os.path.join(HERE, "exclusions.toml"), "rb") as f:
        return tomllib.load(f)["rule"]


def classify(a_kind, u_kind, rules, a_state=None, entry_names=(), entry_exts=(), cpu="cortex-m3"):
    """Return (verdict, reason): verdict 'match', 'compare' (both completed), 'excluded' or 'mismatch'.
    A rule with `cpu` applies only on those core models, one with `ext` only to cases with an
    instruction of that extension."""
    if a_kind == "ok" and u_kind != "ok" and a_state:
        f = a_state.split()
        pc, xpsr = int(f[15], 16), int(f[16], 16)
        for r in rules:
            if r.get("armlet") != "ok" or u_kind not in r["unicorn"]:
                continue
            if r.get("armlet_pc_unmapped") and not (CODE <= pc < CODE + LEN or SCRATCH <= pc < SCRATCH + LEN):
                return "excluded", r["id"]
            if r.get("armlet_thumb_clear") and not (xpsr >> 24) & 1:
                return "excluded", r["id"]
            if "entries" in r and any(n in r["entries"] for n in entry_names):
                return "excluded", r["id"]
    if a_kind in ("ok",) and u_kind == "ok":
        return "compare", None
    if a_kind == "svc" and u_kind == "exception":
        return "match", None
    if a_kind == "bkpt" and u_kind == "exception":
        return "match", None
    if a_kind == "bus" and u_kind == "bus":
        return "match", None
    if a_kind in ("undef", "nocp", "unaligned") and u_kind in ("undef", "exception"):
        return "match", None
    for r in rules:
        if a_kind == r["armlet"] and a_kind != "ok" and u_kind in r["unicorn"]:
            if "cpu" in r and cpu not in r["cpu"] or "ext" in r and r["ext"] not in entry_exts:
                continue
            return "excluded", r["id"]
    return "mismatch", None


def sp_normalised(state):
    """SP with bits [1:0] cleared (see rule "sp-bits-1-0" in exclusions.toml)."""
    f = state.split()
    f[13] = f"{int(f[13], 16) & ~3:08x}"
    return " ".join(f)


def gen_cases(entries, n, rng, exts=None, ge=False, cpu="cortex-m3"):
    """n cases, cycling through the table entries (only those of `exts` if given); `ge` also
    randomises APSR.GE (cores with the DSP extension); FP entries on an FPU core also get
    S0-S31 and FPSCR."""
    it_entry = next(e for e in entries if e.name.startswith("IT "))
    plain = [e for e in entries if not e.name.startswith("IT ")]
    # IT block bodies: no branches (a branch must be last, and then the case ends elsewhere).
    branchy = ("B ", "BL ", "BX", "CBZ", "TBB", "POP", "LDM", "UDF", "SVC", "BKPT", "coprocessor")
    avoid = {n for r in RULES for n in r.get("it_body_exclude", [])}
    body = [e for e in plain if not e.name.startswith(branchy) and e.name not in avoid]
    cases = []
    # With `exts`, IT blocks still get generated, their bodies drawn from those extensions.
    pool = [e for e in entries if exts is None or e.ext in exts or e is it_entry]
    body = [e for e in body if exts is None or e.ext in exts] or body
    fp_body = [e for e in body if e.ext == "fp"] or body
    for k in range(n):
        e = pool[k % len(pool)]
        # DSP lane-edge register values for DSP entries and for IT blocks of DSP bodies.
        dsp = e.ext == "dsp" or (e is it_entry and exts is not None and "base" not in exts and "dsp" in exts)
        regs = [reg_value(rng, dsp) for _ in range(13)] + [SCRATCH + 0x800 + 4 * rng.randrange(64), rng.getrandbits(32)]
        regs[14] = rng.choice([regs[14], CODE + 0x100 + 1, SCRATCH | 1])
        apsr = rng.getrandbits(5) << 27
        if ge:
            apsr |= rng.getrandbits(4) << 16
        if e is it_entry:
            enc = it_entry.encode(rng)
            mask = int(enc, 16) & 0xF
            if mask == 0:
                mask = 8
                enc = f"{(int(enc, 16) & ~0xF) | mask:04x}"
            n_in = 4 - ((mask & -mask).bit_length() - 1)
            picked = [rng.choice(body) for _ in range(n_in)]
            if cpu in FPU_CPUS and any(b.ext == "fp" for b in picked):
                # An FP body: the case carries FP state, and MRS (which would read CONTROL,
                # where Unicorn keeps QEMU's SFPA bit next to FPCA) stays out of it.
                picked = [b if b.name != "MRS T1" else rng.choice(fp_body) for b in picked]
            encs = [enc] + [b.encode(rng) for b in picked]
        else:
            picked = [e]
            encs = [e.encode(rng)]
        fp = cpu in FPU_CPUS and any(b.ext == "fp" for b in picked)
        if fp and cpu == "cortex-m7":
            encs = [force_single(x, entries) for x in encs]
        seed = rng.getrandbits(32)
        line = f"{seed:08x} {'_'.join(encs)} " + " ".join(f"{v:08x}" for v in regs) + f" {apsr:08x}"
        if fp:
            sregs = [fp_value(rng) for _ in range(32)]
            line += " " + " ".join(f"{v:08x}" for v in sregs) + f" {fpscr_value(rng):08x}"
        cases.append(line)
    return cases


def force_single(enc, entries):
    """On cortex-m7: an FP data-processing encoding made single precision (sz = 0)."""
    if len(enc) != 8:
        return enc
    x = int(enc, 16)
    for e in entries:
        if e.name in FP_SZ and x & e.mask == e.value:
            return f"{x & ~(1 << 8):08x}"
    return enc


def fixed_rmode_deviation(runner, case, names, a_state, u_state):
    """Rule "qemu-vcvt-from-fixed-rmode" (exclusions.toml): a single VCVT from fixed point to
    single precision with FPSCR.RMode != RN, where the results differ only in the destination
    register and Unicorn's value is exactly what armlet's fparith gives when rounding with
    FPSCR's mode instead of to nearest (the manual's FixedToFP(..., round_to_nearest=TRUE))."""
    f = case.split()
    if names != ["VCVT (fixed point)"] or len(f) != 51:
        return False
    x, fpscr = int(f[1], 16), int(f[50], 16)
    if (x >> 18) & 1 or (x >> 8) & 1 or (fpscr >> 22) & 3 == 0:
        return False
    d = (((x >> 12) & 15) << 1) | ((x >> 22) & 1)
    size = 32 if (x >> 7) & 1 else 16
    fbits = size - ((((x) & 15) << 1) | ((x >> 5) & 1))
    a, u = a_state.split(), u_state.split()
    di = 18 + d  # S<d> in the result line (r0-r15, xpsr, it, S0...)
    if len(a) != len(u) or any(p != q for i, (p, q) in enumerate(zip(a, u)) if i != di):
        return False
    line = f"fromfix32 {fpscr:08x} {int(f[18 + d], 16):x} 0 0 5 {size} {fbits} {(x >> 16) & 1} 0\n"
    out = subprocess.run([runner, "fparith"], input=line, capture_output=True, text=True).stdout.split()
    return bool(out) and int(out[0], 16) == int(u[di], 16)


def record_corpus(runner, cases_path, out_path):
    """Expected results: Unicorn's where the two are comparable, armlet's (named rule) where a
    reviewed exclusion applies. A real disagreement records Unicorn's answer, so the corpus
    test fails until armlet is fixed."""
    table = subprocess.run([runner, "table"], capture_output=True, text=True, check=True).stdout
    table_entries = [Entry(l) for l in table.splitlines() if l.strip() and not l.startswith("#")]
    by_name = {e.idx: e.name for e in table_entries}
    by_ext = {e.idx: e.ext for e in table_entries}
    rules = load_exclusions()
    lines = [l.rstrip("\n").split("=>")[0].rstrip() for l in open(cases_path)
             if not l.startswith(("# Regression corpus", "# Recorded by"))]
    cases = [l for l in lines if l.strip() and not l.startswith("#")]
    res = subprocess.run([runner, "run"], input="\n".join(cases) + "\n", capture_output=True, text=True,
                         check=True).stdout.splitlines()
    results = dict(zip(cases, res))
    uc = Unicorn()
    out = ["# Regression corpus: CASE => EXPECTED (kind, r0-r15, xPSR flags+T, ITSTATE, changed words).",
           "# Recorded by `difftest.py --record-corpus`; checked by tests/corpus.rs without Python."]
    for l in lines:
        if not l.strip() or l.startswith("#"):
            out.append(l)
            continue
        a = results[l].split(" ", 1)
        a_kind_state = a[1]
        a_kind, _, a_state = a_kind_state.partition(" ")
        u_kind, u_state = uc.run(l)
        idxs = [int(i.rstrip("!")) for i in a[0].split(",") if i != "-"]
        verdict, reason = classify(a_kind, u_kind, rules, a_state or None, [by_name.get(i) for i in idxs],
                                   [by_ext.get(i) for i in idxs], case_cpu(l, "cortex-m3"))
        if verdict == "compare" and sp_normalised(a_state) != sp_normalised(u_state):
            verdict = "mismatch"
        if verdict in ("compare",):
            out.append(f"{l} => {u_kind} {u_state}  # unicorn")
        elif verdict == "match":
            out.append(f"{l} => {a_kind_state}  # armlet ({a_kind}), unicorn agrees ({u_kind})")
        elif verdict == "excluded":
            out.append(f"{l} => {a_kind_state}  # armlet; unicorn differs by rule {reason}")
        else:
            out.append(f"{l} => {u_kind} {u_state or ''}  # unicorn; MISMATCH with armlet: {a_kind_state}")
    with open(out_path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--tier", choices=["fast", "long"], default="fast")
    ap.add_argument("--cpu", choices=sorted(CPU_MODELS), default="cortex-m3",
                    help="core model: armlet's features and Unicorn's CPU model")
    ap.add_argument("--ext", help="comma-separated extensions (base, dsp, fp) to generate cases for")
    ap.add_argument("--cases", type=int)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--coverage")
    ap.add_argument("--corpus", help="run only this corpus file (lines: CASE [=> expected])")
    ap.add_argument("--record-corpus", nargs=2, metavar=("CASES", "OUT"),
                    help="record expected results for CASES (comment lines kept) into OUT")
    args = ap.parse_args()
    if args.record_corpus:
        return record_corpus(args.runner, *args.record_corpus)
    table = subprocess.run([args.runner, "table", "--cpu", args.cpu], capture_output=True, text=True,
                           check=True).stdout
    features = next((l[2:] for l in table.splitlines() if l.startswith("# cpu ")), "?")
    print(features)
    entries = [Entry(l) for l in table.splitlines() if l.strip() and not l.startswith("#")]
    if "dsp=1" in features:
        FIELD_HINTS["MSR T1"]["k"] = [1, 2, 3]  # APSR_g and APSR_nzcvqg exist with the DSP extension
    if args.ext:
        exts = set(args.ext.split(","))
    else:
        # By default every entry of the extensions the model has: a core without the DSP
        # extension (or FPU) only has UNDEFINED (NOCP) encodings there, checked by the decoder
        # tests, and this keeps the cortex-m3 tier's cases what they were.
        lacking = ({"dsp"} if "dsp=0" in features else set()) | ({"fp"} if "fpu=none" in features else set())
        exts = {e.ext for e in entries} - lacking
    rules = load_exclusions()
    RULES.extend(rules)
    rng = random.Random(args.seed)
    n = args.cases or (200_000 if args.tier == "fast" else 2_000_000)
    t0 = time.time()
    if args.corpus:
        cases = [l.split("=>")[0].split("#")[0].strip() for l in open(args.corpus) if l.split("#")[0].strip()]
    else:
        cases = gen_cases(entries, n, rng, exts, ge="dsp=1" in features, cpu=args.cpu)
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("\n".join(cases) + "\n")
        path = f.name
    with open(path) as fin:
        res = subprocess.run([args.runner, "run", "--cpu", args.cpu], stdin=fin, capture_output=True, text=True, check=True).stdout.splitlines()
    os.unlink(path)
    uc = Unicorn(args.cpu)
    by_name = {e.idx: e.name for e in entries}
    by_ext = {e.idx: e.ext for e in entries}
    cov = {e.idx: 0 for e in entries}
    excluded, passed, failed = {}, 0, 0
    for case, a in zip(cases, res):
        a_fields = a.split(" ", 2)
        idxs = [int(i.rstrip("!")) for i in a_fields[0].split(",") if i != "-"]
        later_undef = any(i.endswith("!") for i in a_fields[0].split(",")[1:])
        a_kind = a_fields[1]
        a_state = a_fields[2] if len(a_fields) > 2 else None
        u_kind, u_state = uc.run(case, args.cpu)
        names = [by_name.get(i, "?") for i in idxs]
        verdict, reason = classify(a_kind, u_kind, rules, a_state, names, [by_ext.get(i) for i in idxs],
                                   case_cpu(case, args.cpu))
        if verdict == "mismatch" and u_kind == "undef" and later_undef:
            verdict, reason = "excluded", "unicorn-undef-at-translation"
        if verdict == "compare" and sp_normalised(a_state) != sp_normalised(u_state):
            verdict = "mismatch"
            if fixed_rmode_deviation(args.runner, case, names, a_state, u_state):
                verdict, reason = "excluded", "qemu-vcvt-from-fixed-rmode"
        if verdict == "excluded":
            excluded[reason] = excluded.get(reason, 0) + 1
            continue
        for i in idxs:
            cov[i] += 1
        if verdict == "mismatch":
            failed += 1
            if failed <= 30:
                names = "; ".join(by_name.get(i, "?") for i in idxs)
                print(f"MISMATCH [{names}] case: {case}\n  armlet:  {a_kind} {a_state or ''}\n  unicorn: {u_kind} {u_state or ''}")
        else:
            passed += 1
    dt = time.time() - t0
    zero = [e for e in entries if cov[e.idx] == 0 and not any(e.name in r.get("entries", []) for r in rules)
            and e.ext in exts]
    lines = [f"{cov[e.idx]:8d}  {e.width}-bit  {e.name}" for e in entries if e.ext in exts]
    report = "decoder-table coverage (cases that exercised each entry and were compared):\n" + "\n".join(lines)
    if args.coverage:
        with open(args.coverage, "w") as f:
            f.write(report + "\n")
    if not args.corpus:
        print(report)
    print(f"excluded by rule: " + (", ".join(f"{k}={v}" for k, v in sorted(excluded.items())) or "none"))
    for e in zero if not args.corpus else []:
        print(f"ZERO COVERAGE: {e.name}")
    print(f"{len(cases)} cases in {dt:.1f} s ({len(cases) / max(dt, 1e-9):.0f}/s)")
    failed += len(zero) if not args.corpus else 0
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
