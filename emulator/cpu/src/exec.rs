//! The executor: runs one decoded operation against the state and the bus.

use crate::alu::{add_with_carry, shift, shift_c, signed_sat_q, unsigned_sat_q};
use crate::bus::Bus;
use crate::codepages::CodePages;
use crate::ops::{AluOp, ExSize, Hint, LongMul, MemKind, Op, UnOp};
use crate::state::{CpuState, Fault, StopReason};

/// What the run loop does after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Continue with the next instruction.
    Next,
    /// Continue at this address (bit 0 already cleared).
    Branch(u32),
    /// A store hit decoded code: finish the block here so the cache can be invalidated.
    EndBlock,
    /// Stop running.
    Stop(StopReason),
}

fn fault(f: Fault) -> Flow {
    Flow::Stop(StopReason::Fault(f))
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return fault(f),
        }
    };
}

/// Execution context: the state plus the code-page map that stores consult.
pub(crate) struct Exec<'a> {
    pub s: &'a mut CpuState,
    pub code: &'a mut CodePages,
}

impl Exec<'_> {
    #[inline(always)]
    pub(crate) fn load<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: MemKind,
        addr: u32,
    ) -> Result<u32, Fault> {
        let trp = self.s.config.unalign_trp;
        let r = match kind {
            MemKind::Ldr => {
                if trp && addr & 3 != 0 {
                    return Err(Fault::Unaligned { addr });
                }
                bus.read32(addr)
            }
            MemKind::Ldrh | MemKind::Ldrsh => {
                if trp && addr & 1 != 0 {
                    return Err(Fault::Unaligned { addr });
                }
                bus.read16(addr).map(|v| {
                    if kind == MemKind::Ldrsh {
                        v as i16 as i32 as u32
                    } else {
                        u32::from(v)
                    }
                })
            }
            MemKind::Ldrb => bus.read8(addr).map(u32::from),
            MemKind::Ldrsb => bus.read8(addr).map(|v| v as i8 as i32 as u32),
            _ => unreachable_store(),
        };
        r.map_err(|error| Fault::DataBus {
            addr,
            write: false,
            error,
        })
    }

    #[inline(always)]
    pub(crate) fn store<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: MemKind,
        addr: u32,
        v: u32,
    ) -> Result<(), Fault> {
        let trp = self.s.config.unalign_trp;
        let (r, size) = match kind {
            MemKind::Str => {
                if trp && addr & 3 != 0 {
                    return Err(Fault::Unaligned { addr });
                }
                (bus.write32(addr, v), 4)
            }
            MemKind::Strh => {
                if trp && addr & 1 != 0 {
                    return Err(Fault::Unaligned { addr });
                }
                (bus.write16(addr, v as u16), 2)
            }
            _ => (bus.write8(addr, v as u8), 1),
        };
        r.map_err(|error| Fault::DataBus {
            addr,
            write: true,
            error,
        })?;
        self.code.note_write(addr, size);
        Ok(())
    }

    #[inline]
    fn read32_aligned<B: Bus>(bus: &mut B, addr: u32) -> Result<u32, Fault> {
        bus.read32(addr).map_err(|error| Fault::DataBus {
            addr,
            write: false,
            error,
        })
    }

    /// Immediate-offset addressing: (address to access, base + offset for writeback).
    #[inline(always)]
    fn imm_address(&self, rn: u8, offset: i16, pre: bool) -> (u32, u32) {
        let base = self.s.reg(rn);
        let offaddr = base.wrapping_add(offset as i32 as u32);
        (if pre { offaddr } else { base }, offaddr)
    }

    /// The two words of an LDRD.
    #[inline]
    fn read_pair<B: Bus>(bus: &mut B, addr: u32) -> Result<(u32, u32), Fault> {
        Ok((
            Self::read32_aligned(bus, addr)?,
            Self::read32_aligned(bus, addr.wrapping_add(4))?,
        ))
    }

    #[inline]
    fn write32_aligned<B: Bus>(&mut self, bus: &mut B, addr: u32, v: u32) -> Result<(), Fault> {
        bus.write32(addr, v).map_err(|error| Fault::DataBus {
            addr,
            write: true,
            error,
        })?;
        self.code.note_write(addr, 4);
        Ok(())
    }

    /// A single load or store of the run loop's fast forms (`rt` is never PC).
    #[inline(always)]
    pub(crate) fn fast_mem<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: MemKind,
        rt: u8,
        addr: u32,
    ) -> Flow {
        if kind.is_store() {
            let v = self.s.reg(rt);
            tri!(self.store(bus, kind, addr, v));
            self.after_store()
        } else {
            let v = tri!(self.load(bus, kind, addr));
            self.s.set_reg(rt, v);
            Flow::Next
        }
    }

    /// The RAM fast path of a fast form's load or store: `None` if the access is unaligned
    /// or not to plain memory ([`Bus::fast_load`]/[`Bus::fast_store`]), and the caller then
    /// takes the general path ([`Exec::fast_mem`]), which makes every check. An aligned
    /// access to plain memory can raise no fault, so the two paths agree. `Some(false)`: a
    /// store hit decoded code or I/O space and the block must end (`Flow::EndBlock`).
    #[inline(always)]
    pub(crate) fn try_fast_mem<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: MemKind,
        rt: u8,
        addr: u32,
    ) -> Option<bool> {
        let v = match kind {
            MemKind::Ldr if addr & 3 == 0 => u32::from_le_bytes(bus.fast_load::<4>(addr)?),
            MemKind::Ldrb => u32::from(bus.fast_load::<1>(addr)?[0]),
            MemKind::Ldrsb => bus.fast_load::<1>(addr)?[0] as i8 as i32 as u32,
            MemKind::Ldrh if addr & 1 == 0 => u32::from(u16::from_le_bytes(bus.fast_load(addr)?)),
            MemKind::Ldrsh if addr & 1 == 0 => {
                i16::from_le_bytes(bus.fast_load(addr)?) as i32 as u32
            }
            MemKind::Str | MemKind::Strb | MemKind::Strh => {
                let v = self.s.reg(rt);
                let size = match kind {
                    MemKind::Str if addr & 3 == 0 => {
                        if !bus.fast_store(addr, v.to_le_bytes()) {
                            return None;
                        }
                        4
                    }
                    MemKind::Strh if addr & 1 == 0 => {
                        if !bus.fast_store(addr, (v as u16).to_le_bytes()) {
                            return None;
                        }
                        2
                    }
                    MemKind::Strb => {
                        if !bus.fast_store(addr, [v as u8]) {
                            return None;
                        }
                        1
                    }
                    _ => return None,
                };
                self.code.note_write(addr, size);
                return Some(!self.code.dirty());
            }
            _ => return None,
        };
        self.s.set_reg(rt, v);
        Some(true)
    }

    /// After a store: end the block if it modified decoded code.
    #[inline]
    fn after_store(&self) -> Flow {
        if self.code.dirty() {
            Flow::EndBlock
        } else {
            Flow::Next
        }
    }

    /// `BXWritePC` / `LoadWritePC`: interworking branch.
    #[inline]
    fn bx_write_pc(&mut self, target: u32) -> Flow {
        if self.s.ipsr != 0 && target >> 28 == 0xf {
            // An EXC_RETURN value in Handler mode: the machine performs the return (B1.5.8).
            return Flow::Stop(StopReason::ExceptionReturn { exc_return: target });
        }
        self.s.thumb = target & 1 != 0;
        Flow::Branch(target & !1)
    }

    #[inline(always)]
    fn alu(&mut self, op: AluOp, s: bool, rd: u8, a: u32, b: u32, sc: bool) -> Flow {
        use AluOp::*;
        let st = &mut *self.s;
        let (res, c, v) = match op {
            And | Tst => (a & b, sc, st.v),
            Bic => (a & !b, sc, st.v),
            Orr => (a | b, sc, st.v),
            Orn => (a | !b, sc, st.v),
            Eor | Teq => (a ^ b, sc, st.v),
            Mov => (b, sc, st.v),
            Mvn => (!b, sc, st.v),
            Add | Cmn => add_with_carry(a, b, false),
            Adc => add_with_carry(a, b, st.c),
            Sub | Cmp => add_with_carry(a, !b, true),
            Sbc => add_with_carry(a, !b, st.c),
            Rsb => add_with_carry(!a, b, true),
        };
        if s {
            st.n = res >> 31 != 0;
            st.z = res == 0;
            st.c = c;
            st.v = v;
        }
        if !op.is_compare() {
            if rd == 15 {
                return Flow::Branch(res & !1); // ALUWritePC
            }
            st.set_reg(rd, res);
        }
        Flow::Next
    }

    fn sysreg_read(&self, sysm: u8) -> u32 {
        let s = &*self.s;
        match sysm {
            0..=7 => {
                let mut v = 0;
                if sysm & 1 != 0 {
                    v |= u32::from(s.ipsr & 0x1ff);
                }
                if sysm & 4 == 0 {
                    v |= s.apsr();
                }
                v // EPSR bits read as zero
            }
            8 if s.privileged() => s.msp(),
            9 if s.privileged() => s.psp(),
            16 => s.primask as u32,
            17 | 18 => u32::from(s.basepri),
            19 => s.faultmask as u32,
            20 => u32::from(s.control),
            _ => 0,
        }
    }

    /// MSR: `mask` bit 1 writes N Z C V Q, bit 0 (DSP extension only, checked by the
    /// decoder) writes GE[3:0].
    fn sysreg_write(&mut self, sysm: u8, mask: u8, v: u32) {
        let s = &mut *self.s;
        if sysm < 8 {
            if sysm & 4 == 0 {
                let bits = (if mask & 2 != 0 { 0xf800_0000 } else { 0 })
                    | (if mask & 1 != 0 { 0x000f_0000 } else { 0 });
                let keep = s.apsr();
                s.set_apsr((v & bits) | (keep & !bits));
            }
            return;
        }
        if !s.privileged() {
            return; // writes from unprivileged code are ignored
        }
        match sysm {
            8 => s.set_msp(v),
            9 => s.set_psp(v),
            16 => s.primask = v & 1 != 0,
            17 => s.basepri = v as u8 & s.config.prio_mask,
            18 => {
                let nv = v as u8 & s.config.prio_mask;
                if nv != 0 && (nv < s.basepri || s.basepri == 0) {
                    s.basepri = nv;
                }
            }
            // FAULTMASK cannot be set from NMI or HardFault (execution priority -1/-2).
            19 if !(v & 1 != 0 && (s.ipsr == 2 || s.ipsr == 3)) => s.faultmask = v & 1 != 0,
            // CONTROL.FPCA exists only with an FPU.
            20 => s.set_control(v as u8 & if s.fp.present() { 7 } else { 3 }),
            _ => {}
        }
    }

    /// Execute one operation. `pc` is the instruction's address; `R15` already reads as
    /// `pc + 4`.
    #[inline(never)]
    pub(crate) fn exec<B: Bus>(&mut self, bus: &mut B, op: &Op, pc: u32, len: u8) -> Flow {
        match *op {
            Op::AluImm {
                op,
                s,
                rd,
                rn,
                imm,
                carry,
            } => {
                let a = self.s.reg(rn);
                let sc = carry.unwrap_or(self.s.c);
                self.alu(op, s, rd, a, imm, sc)
            }
            Op::AluReg {
                op,
                s,
                rd,
                rn,
                rm,
                shift,
                amt,
            } => {
                let a = self.s.reg(rn);
                let (b, sc) = shift_c(self.s.reg(rm), shift, u32::from(amt), self.s.c);
                self.alu(op, s, rd, a, b, sc)
            }
            Op::ShiftReg {
                shift,
                s,
                rd,
                rn,
                rm,
            } => {
                let amount = self.s.reg(rm) & 0xff;
                let (res, c) = shift_c(self.s.reg(rn), shift, amount, self.s.c);
                self.alu(AluOp::Mov, s, rd, 0, res, c)
            }
            Op::Mov16 { top, rd, imm } => {
                let v = if top {
                    (self.s.reg(rd) & 0xffff) | (u32::from(imm) << 16)
                } else {
                    u32::from(imm)
                };
                self.s.set_reg(rd, v);
                Flow::Next
            }
            Op::Mul { s, rd, rn, rm } => {
                let res = self.s.reg(rn).wrapping_mul(self.s.reg(rm));
                if s {
                    self.s.n = res >> 31 != 0;
                    self.s.z = res == 0;
                }
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Mla {
                sub,
                rd,
                rn,
                rm,
                ra,
            } => {
                let p = self.s.reg(rn).wrapping_mul(self.s.reg(rm));
                let a = self.s.reg(ra);
                self.s.set_reg(
                    rd,
                    if sub {
                        a.wrapping_sub(p)
                    } else {
                        a.wrapping_add(p)
                    },
                );
                Flow::Next
            }
            Op::MulLong {
                kind,
                rdlo,
                rdhi,
                rn,
                rm,
            } => {
                let (n, m) = (self.s.reg(rn), self.s.reg(rm));
                let acc = (u64::from(self.s.reg(rdhi)) << 32) | u64::from(self.s.reg(rdlo));
                let res = match kind {
                    LongMul::Umull => u64::from(n) * u64::from(m),
                    LongMul::Smull => (i64::from(n as i32) * i64::from(m as i32)) as u64,
                    LongMul::Umlal => (u64::from(n) * u64::from(m)).wrapping_add(acc),
                    LongMul::Smlal => {
                        ((i64::from(n as i32) * i64::from(m as i32)) as u64).wrapping_add(acc)
                    }
                };
                self.s.set_reg(rdlo, res as u32);
                self.s.set_reg(rdhi, (res >> 32) as u32);
                Flow::Next
            }
            Op::Div { signed, rd, rn, rm } => {
                let (n, m) = (self.s.reg(rn), self.s.reg(rm));
                let res = if m == 0 {
                    if self.s.config.div_0_trp {
                        return fault(Fault::DivideByZero);
                    }
                    0
                } else if signed {
                    (n as i32).wrapping_div(m as i32) as u32
                } else {
                    n / m
                };
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Unary { op, rd, rm } => {
                let v = self.s.reg(rm);
                let res = match op {
                    UnOp::Clz => v.leading_zeros(),
                    UnOp::Rbit => v.reverse_bits(),
                    UnOp::Rev => v.swap_bytes(),
                    UnOp::Rev16 => ((v & 0x00ff_00ff) << 8) | ((v >> 8) & 0x00ff_00ff),
                    UnOp::Revsh => (v as u16).swap_bytes() as i16 as i32 as u32,
                };
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Extend {
                signed,
                half,
                rd,
                rm,
                rot,
            } => {
                let v = self.s.reg(rm).rotate_right(u32::from(rot));
                let res = match (signed, half) {
                    (true, true) => v as i16 as i32 as u32,
                    (true, false) => v as i8 as i32 as u32,
                    (false, true) => v & 0xffff,
                    (false, false) => v & 0xff,
                };
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Bfi { rd, rn, lsb, msb } => {
                let width = u32::from(msb - lsb) + 1;
                let mask = (((1u64 << width) - 1) as u32) << lsb;
                let src = if rn == 15 { 0 } else { self.s.reg(rn) << lsb };
                let res = (self.s.reg(rd) & !mask) | (src & mask);
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Bfx {
                signed,
                rd,
                rn,
                lsb,
                width,
            } => {
                let v = self.s.reg(rn) >> lsb;
                let w = u32::from(width);
                let res = if w == 32 {
                    v
                } else if signed {
                    (((v << (32 - w)) as i32) >> (32 - w)) as u32
                } else {
                    v & ((1u32 << w) - 1)
                };
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::Sat {
                signed,
                rd,
                rn,
                sat,
                shift: sh,
                amt,
            } => {
                let operand = shift(self.s.reg(rn), sh, u32::from(amt), self.s.c) as i32 as i64;
                let (res, saturated) = if signed {
                    signed_sat_q(operand, u32::from(sat))
                } else {
                    unsigned_sat_q(operand, u32::from(sat))
                };
                if saturated {
                    self.s.q = true;
                }
                self.s.set_reg(rd, res);
                Flow::Next
            }
            Op::MemImm {
                kind,
                rt,
                rn,
                offset,
                pre,
                wback,
                unpriv,
            } => {
                let (addr, offaddr) = self.imm_address(rn, offset, pre);
                let wb = wback.then_some((rn, offaddr));
                if unpriv && self.s.privileged() {
                    bus.unprivileged_access(true);
                    let flow = self.mem_single(bus, kind, rt, addr, wb);
                    bus.unprivileged_access(false);
                    return flow;
                }
                self.mem_single(bus, kind, rt, addr, wb)
            }
            Op::MemReg {
                kind,
                rt,
                rn,
                rm,
                lsl,
            } => {
                let addr = self.s.reg(rn).wrapping_add(self.s.reg(rm) << lsl);
                self.mem_single(bus, kind, rt, addr, None)
            }
            Op::MemLit { kind, rt, addr } => self.mem_single(bus, kind, rt, addr, None),
            Op::Dual {
                load,
                rt,
                rt2,
                rn,
                offset,
                pre,
                wback,
            } => {
                let (addr, offaddr) = self.imm_address(rn, offset, pre);
                if addr & 3 != 0 {
                    return fault(Fault::Unaligned { addr });
                }
                if load {
                    let (a, b) = tri!(Self::read_pair(bus, addr));
                    self.s.set_reg(rt, a);
                    self.s.set_reg(rt2, b);
                    // Last: with Rn == Rt or Rt2 (UNPREDICTABLE, executed without --strict)
                    // the writeback wins, as on QEMU.
                    if wback {
                        self.s.set_reg(rn, offaddr);
                    }
                    Flow::Next
                } else {
                    let (a, b) = (self.s.reg(rt), self.s.reg(rt2));
                    tri!(self.write32_aligned(bus, addr, a));
                    tri!(self.write32_aligned(bus, addr.wrapping_add(4), b));
                    if wback {
                        self.s.set_reg(rn, offaddr);
                    }
                    self.after_store()
                }
            }
            Op::DualLit { rt, rt2, addr } => {
                if addr & 3 != 0 {
                    return fault(Fault::Unaligned { addr });
                }
                let (a, b) = tri!(Self::read_pair(bus, addr));
                self.s.set_reg(rt, a);
                self.s.set_reg(rt2, b);
                Flow::Next
            }
            Op::Multi {
                load,
                db,
                rn,
                list,
                wback,
            } => self.multi(bus, load, db, rn, list, wback),
            Op::Ldrex {
                size,
                rt,
                rn,
                offset,
            } => {
                let addr = self.s.reg(rn).wrapping_add(u32::from(offset));
                let (kind, bytes) = ex_kind(size, true);
                if addr & (u32::from(bytes) - 1) != 0 {
                    return fault(Fault::Unaligned { addr });
                }
                let v = tri!(self.load(bus, kind, addr));
                self.s.monitor = Some((addr, bytes));
                self.s.set_reg(rt, v);
                Flow::Next
            }
            Op::Strex {
                size,
                rd,
                rt,
                rn,
                offset,
            } => {
                let addr = self.s.reg(rn).wrapping_add(u32::from(offset));
                let (kind, bytes) = ex_kind(size, false);
                if addr & (u32::from(bytes) - 1) != 0 {
                    return fault(Fault::Unaligned { addr });
                }
                if self.s.monitor == Some((addr, bytes)) {
                    let v = self.s.reg(rt);
                    tri!(self.store(bus, kind, addr, v));
                    self.s.monitor = None;
                    self.s.set_reg(rd, 0);
                    self.after_store()
                } else {
                    self.s.monitor = None;
                    self.s.set_reg(rd, 1);
                    Flow::Next
                }
            }
            Op::Clrex => {
                self.s.monitor = None;
                Flow::Next
            }
            Op::Table { half, rn, rm } => {
                let (base, idx) = (self.s.reg(rn), self.s.reg(rm));
                let off = if half {
                    tri!(self.load(bus, MemKind::Ldrh, base.wrapping_add(idx << 1)))
                } else {
                    tri!(self.load(bus, MemKind::Ldrb, base.wrapping_add(idx)))
                };
                Flow::Branch(pc.wrapping_add(4).wrapping_add(off * 2))
            }
            // A branch to itself can only be left by an exception: let the machine skip ahead.
            Op::B { target, .. } if target == pc => Flow::Stop(StopReason::Idle),
            Op::B { target, .. } => Flow::Branch(target),
            Op::Bl { target } => {
                self.s.r[14] = pc.wrapping_add(u32::from(len)) | 1;
                Flow::Branch(target)
            }
            Op::Bx { link, rm } => {
                let target = self.s.reg(rm);
                if link {
                    self.s.r[14] = pc.wrapping_add(u32::from(len)) | 1;
                }
                self.bx_write_pc(target)
            }
            Op::Cbz {
                nonzero,
                rn,
                target,
            } => {
                if (self.s.reg(rn) != 0) == nonzero {
                    Flow::Branch(target)
                } else {
                    Flow::Next
                }
            }
            Op::It { .. } => Flow::Next,
            Op::Mrs { rd, sysm } => {
                let v = self.sysreg_read(sysm);
                self.s.set_reg(rd, v);
                Flow::Next
            }
            Op::Msr { rn, sysm, mask } => {
                let v = self.s.reg(rn);
                self.sysreg_write(sysm, mask, v);
                if sysm < 8 {
                    Flow::Next
                } else {
                    Flow::Stop(StopReason::Sync)
                }
            }
            Op::Cps { disable, i, f } => {
                if self.s.privileged() {
                    if i {
                        self.s.primask = disable;
                    }
                    if f && !(disable && (self.s.ipsr == 2 || self.s.ipsr == 3)) {
                        self.s.faultmask = disable;
                    }
                }
                Flow::Stop(StopReason::Sync)
            }
            Op::Hint(h) => match h {
                Hint::Wfi => Flow::Stop(StopReason::Wfi),
                Hint::Wfe => {
                    if self.s.event {
                        self.s.event = false;
                        Flow::Next
                    } else {
                        Flow::Stop(StopReason::Wfe)
                    }
                }
                Hint::Sev => {
                    self.s.event = true;
                    Flow::Next
                }
                _ => Flow::Next,
            },
            Op::Svc { imm } => Flow::Stop(StopReason::Svc { imm }),
            Op::Bkpt { imm } => Flow::Stop(StopReason::Bkpt { imm }),
            Op::Undefined { raw } => fault(Fault::UndefinedInstruction { raw }),
            Op::NoCoprocessor { raw } => fault(Fault::NoCoprocessor { raw }),
            Op::Vfp(ref v) => self.exec_vfp(bus, v, pc),
            Op::Dsp(ref d) => {
                crate::dsp::exec(self.s, d);
                Flow::Next
            }
        }
    }

    #[inline(always)]
    fn mem_single<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: MemKind,
        rt: u8,
        addr: u32,
        wb: Option<(u8, u32)>,
    ) -> Flow {
        if kind.is_store() {
            let v = self.s.reg(rt);
            tri!(self.store(bus, kind, addr, v));
            if let Some((rn, a)) = wb {
                self.s.set_reg(rn, a);
            }
            self.after_store()
        } else {
            let v = tri!(self.load(bus, kind, addr));
            if let Some((rn, a)) = wb {
                self.s.set_reg(rn, a);
            }
            if rt == 15 {
                return self.bx_write_pc(v); // LoadWritePC
            }
            self.s.set_reg(rt, v);
            Flow::Next
        }
    }

    fn multi<B: Bus>(
        &mut self,
        bus: &mut B,
        load: bool,
        db: bool,
        rn: u8,
        list: u16,
        wback: bool,
    ) -> Flow {
        let base = self.s.reg(rn);
        let bytes = 4 * list.count_ones();
        let start = if db { base.wrapping_sub(bytes) } else { base };
        let end = if db { start } else { base.wrapping_add(bytes) };
        if start & 3 != 0 {
            return fault(Fault::Unaligned { addr: start });
        }
        let mut addr = start;
        if load {
            let mut vals = [0u32; 16];
            for (i, v) in vals.iter_mut().enumerate() {
                if list & (1 << i) != 0 {
                    *v = tri!(Self::read32_aligned(bus, addr));
                    addr = addr.wrapping_add(4);
                }
            }
            if wback {
                self.s.set_reg(rn, end);
            }
            for (i, v) in vals.iter().enumerate().take(15) {
                if list & (1 << i) != 0 {
                    self.s.r[i] = *v;
                }
            }
            if list & 0x8000 != 0 {
                return self.bx_write_pc(vals[15]);
            }
            Flow::Next
        } else {
            // PC only in an UNPREDICTABLE STM the policy executes: R15 holds address + 4.
            for i in 0..16 {
                if list & (1 << i) != 0 {
                    let v = self.s.r[i];
                    tri!(self.write32_aligned(bus, addr, v));
                    addr = addr.wrapping_add(4);
                }
            }
            if wback {
                self.s.set_reg(rn, end);
            }
            self.after_store()
        }
    }
}

fn ex_kind(size: ExSize, load: bool) -> (MemKind, u8) {
    match (size, load) {
        (ExSize::Byte, true) => (MemKind::Ldrb, 1),
        (ExSize::Half, true) => (MemKind::Ldrh, 2),
        (ExSize::Word, true) => (MemKind::Ldr, 4),
        (ExSize::Byte, false) => (MemKind::Strb, 1),
        (ExSize::Half, false) => (MemKind::Strh, 2),
        (ExSize::Word, false) => (MemKind::Str, 4),
    }
}

#[cold]
fn unreachable_store() -> Result<u32, crate::bus::BusError> {
    // `load` is only called with load kinds; a store kind here is a decoder bug. Report it
    // as a bus error rather than panicking.
    Err(crate::bus::BusError::Denied)
}
