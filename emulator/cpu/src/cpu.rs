//! The CPU: state + decoded-instruction cache + run loop.

use crate::alu::{add_with_carry, shift, shift_c};
use crate::bus::Bus;
use crate::codepages::{CodePages, PAGE_SHIFT};
use crate::decode::{decode, is_32bit, Ctx};
use crate::exec::{Exec, Flow};
use crate::fast::{lower, Fast};
use crate::ops::{Disasm, MemKind, Op};
use crate::state::{CpuState, Fault, Features, StopReason};
use rustc_hash::FxHashMap;

/// Longest block, in instructions.
const MAX_BLOCK: usize = 64;

/// One decoded instruction inside a block.
#[derive(Debug, Clone, Copy)]
pub struct DecodedInsn {
    /// The operation.
    pub op: Op,
    /// Its address.
    pub pc: u32,
    /// Its encoding (`hw1 << 16 | hw2` for 32-bit).
    pub raw: u32,
    /// 2 or 4.
    pub len: u8,
    /// Condition under which it executes (14 = always): from an IT block or a B<cond>.
    pub cond: u8,
    /// ITSTATE after it.
    pub it_next: u8,
    /// An UNPREDICTABLE encoding that the policy (`decode::Unpredictable`) executes: `op` is
    /// what it executes as, unless the core is strict (then `op` is [`Op::Undefined`]). An
    /// executed one runs through the general executor, which notes it once per address.
    pub unpredictable: bool,
}

impl DecodedInsn {
    /// Disassembly, e.g. `adds r0, r1, #0x1`.
    pub fn disasm(&self) -> String {
        if self.unpredictable && matches!(self.op, Op::Undefined { .. }) {
            let name = entry_name(self.raw, self.len);
            return format!(
                "<UNPREDICTABLE encoding {:#x} ({name}): UNDEFINED with --strict>",
                self.raw
            );
        }
        let cond = if matches!(self.op, Op::B { .. }) {
            14
        } else {
            self.cond
        };
        Disasm { op: &self.op, cond }.to_string()
    }

    /// The run loop's specialised form of this instruction (`fast.rs`), as debug text: lets
    /// tests and fuzzers exercise the lowering without executing.
    pub fn fast_form(&self) -> String {
        format!("{:?}", lower(&self.op, self.pc, self.len, self.cond))
    }
}

/// A run of instructions at consecutive addresses, ending at the first one that always
/// branches or may stop; conditional branches inside it leave it when taken.
#[derive(Debug)]
pub struct Block {
    insns: Box<[DecodedInsn]>,
    /// The run loop's specialised form of each instruction (see `fast.rs`), kept apart so
    /// the loop walks a dense array of 8-byte entries.
    fast: Box<[Fast]>,
    /// ITSTATE at entry.
    it: u8,
    /// Some instruction of the block is in an IT block (else ITSTATE is 0 after each).
    has_it: bool,
    start: u32,
    end: u32,
}

fn ends_block(op: &Op) -> bool {
    use crate::ops::Hint;
    match *op {
        Op::AluImm { op, rd, .. } | Op::AluReg { op, rd, .. } => rd == 15 && !op.is_compare(),
        Op::MemImm { kind, rt, .. } | Op::MemReg { kind, rt, .. } | Op::MemLit { kind, rt, .. } => {
            rt == 15 && !kind.is_store()
        }
        Op::Multi { load, list, .. } => load && list & 0x8000 != 0,
        // A conditional branch (B<cond>, CBZ/CBNZ) exits the block only when taken, so the
        // block goes on with its fall-through path (superblocks of straight-line paths).
        Op::B { cond, .. } => cond >= 14,
        Op::Bl { .. }
        | Op::Bx { .. }
        | Op::Table { .. }
        | Op::Msr { .. }
        | Op::Cps { .. }
        | Op::Svc { .. }
        | Op::Bkpt { .. }
        | Op::Undefined { .. }
        | Op::NoCoprocessor { .. } => true,
        Op::Hint(h) => matches!(h, Hint::Wfi | Hint::Wfe | Hint::Isb),
        _ => false,
    }
}

/// `ITAdvance()`.
fn it_advance(it: u8) -> u8 {
    if it & 7 == 0 {
        0
    } else {
        (it & 0xe0) | ((it << 1) & 0x1f)
    }
}

/// Decode one instruction at `pc` with ITSTATE `it`. Returns `None` if it cannot be fetched.
pub fn decode_at<B: Bus>(
    bus: &mut B,
    pc: u32,
    it: u8,
    features: Features,
) -> Result<DecodedInsn, Fault> {
    let hw1 = bus
        .fetch16(pc)
        .map_err(|error| Fault::InstructionBus { addr: pc, error })?;
    let (raw, len) = if is_32bit(hw1) {
        let a2 = pc.wrapping_add(2);
        let hw2 = bus
            .fetch16(a2)
            .map_err(|error| Fault::InstructionBus { addr: a2, error })?;
        ((u32::from(hw1) << 16) | u32::from(hw2), 4)
    } else {
        (u32::from(hw1), 2)
    };
    let in_it = it & 0xf != 0;
    let ctx = Ctx {
        pc,
        in_it,
        last_in_it: !in_it || it & 0xf == 0x8,
        features,
    };
    // Decoded strictly first; only an UNDEFINED result is decoded again under the policy, so
    // an UNPREDICTABLE encoding the policy executes is known as such.
    let strict = Ctx {
        features: Features {
            strict: true,
            ..features
        },
        ..ctx
    };
    let mut op = decode(raw, len, &strict);
    let mut unpredictable = false;
    if matches!(op, Op::Undefined { .. }) {
        let policy = Ctx {
            features: Features {
                strict: false,
                ..features
            },
            ..ctx
        };
        let lenient = decode(raw, len, &policy);
        if !matches!(lenient, Op::Undefined { .. }) {
            unpredictable = true;
            if !features.strict {
                op = lenient;
            }
        }
    }
    let cond = match op {
        Op::B { cond, .. } if cond < 14 => cond,
        Op::Bkpt { .. } => 14, // BKPT is unconditional, even in an IT block
        _ if in_it => it >> 4,
        _ => 14,
    };
    let it_next = match op {
        Op::It { firstcond, mask } => (firstcond << 4) | mask,
        _ if in_it => it_advance(it),
        _ => 0,
    };
    Ok(DecodedInsn {
        op,
        pc,
        raw,
        len,
        cond,
        it_next,
        unpredictable,
    })
}

/// The decoder table's name for an encoding.
fn entry_name(raw: u32, len: u8) -> &'static str {
    if len == 2 {
        crate::decode::lookup16(raw as u16)
    } else {
        crate::decode::lookup32(raw)
    }
    .map_or("?", |e| e.name)
}

/// Logs (at `-v`) an UNPREDICTABLE encoding the policy executes, the first time its address runs.
#[cold]
fn note_unpredictable(insn: &DecodedInsn) {
    let enc = if insn.len == 2 {
        format!("{:#06x}", insn.raw)
    } else {
        format!("{:#010x}", insn.raw)
    };
    let name = entry_name(insn.raw, insn.len);
    tracing::info!(
        "UNPREDICTABLE at {:#010x}: {enc} `{}` ({name}); executed as Cortex-M cores and QEMU \
         do (--strict makes it UNDEFINED; see emulator/cpu/UNPREDICTABLE.md)",
        insn.pc,
        insn.disasm()
    );
}

fn decode_block<B: Bus>(
    bus: &mut B,
    pc: u32,
    it: u8,
    max: usize,
    breakpoints: &[u32],
    features: Features,
) -> Result<Block, Fault> {
    let mut insns = Vec::with_capacity(8);
    let (mut addr, mut state) = (pc, it);
    loop {
        // A breakpoint address always starts a block, so the run loop sees it.
        if addr != pc && !breakpoints.is_empty() && breakpoints.binary_search(&addr).is_ok() {
            break;
        }
        let insn = match decode_at(bus, addr, state, features) {
            Ok(i) => i,
            // The first instruction faults now; a later one faults when execution gets there.
            Err(f) if insns.is_empty() => return Err(f),
            Err(_) => break,
        };
        insns.push(insn);
        addr = addr.wrapping_add(u32::from(insn.len));
        state = insn.it_next;
        if ends_block(&insn.op) || insns.len() >= max || addr < pc {
            break;
        }
    }
    Ok(Block {
        fast: insns
            .iter()
            .map(|i| {
                if i.unpredictable {
                    Fast::Slow // the general executor notes it
                } else {
                    lower(&i.op, i.pc, i.len, i.cond)
                }
            })
            .collect(),
        has_it: it != 0 || insns.iter().any(|i| i.it_next != 0),
        insns: insns.into_boxed_slice(),
        it,
        start: pc,
        end: addr,
    })
}

/// Entries in the direct-mapped front of the block cache.
const FRONT: usize = 4096;
const EMPTY: u64 = u64::MAX;

/// Decoded blocks keyed by (PC, ITSTATE): an arena of blocks, a hash map from key to arena
/// slot, and a small direct-mapped table in front of the map so most lookups are one compare.
#[derive(Debug)]
struct BlockCache {
    blocks: Vec<Option<Block>>,
    free: Vec<u32>,
    map: FxHashMap<u64, u32>,
    front: Box<[(u64, u32)]>,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache {
            blocks: Vec::new(),
            free: Vec::new(),
            map: FxHashMap::default(),
            front: vec![(EMPTY, 0); FRONT].into_boxed_slice(),
        }
    }
}

impl BlockCache {
    fn key(pc: u32, it: u8) -> u64 {
        (u64::from(pc) << 8) | u64::from(it)
    }

    #[inline(always)]
    fn slot(key: u64) -> usize {
        ((key >> 9) as usize ^ (key as usize & 0xff)) & (FRONT - 1)
    }

    /// The arena index of the block for `key`, decoding it with `decode` on a miss.
    #[inline(always)]
    fn get_or_insert(
        &mut self,
        key: u64,
        decode: impl FnOnce() -> Result<Block, Fault>,
    ) -> Result<u32, Fault> {
        let slot = Self::slot(key);
        let (k, idx) = self.front[slot];
        if k == key {
            return Ok(idx);
        }
        let idx = match self.map.get(&key) {
            Some(&i) => i,
            None => {
                let b = decode()?;
                let i = match self.free.pop() {
                    Some(i) => {
                        self.blocks[i as usize] = Some(b);
                        i
                    }
                    None => {
                        self.blocks.push(Some(b));
                        (self.blocks.len() - 1) as u32
                    }
                };
                self.map.insert(key, i);
                i
            }
        };
        self.front[slot] = (key, idx);
        Ok(idx)
    }

    /// The block for `key` if the direct-mapped front table has it.
    #[inline(always)]
    fn front_block(&self, key: u64) -> Option<&Block> {
        let (k, idx) = self.front[Self::slot(key)];
        if k == key {
            self.blocks[idx as usize].as_ref()
        } else {
            None
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn clear(&mut self) {
        self.blocks.clear();
        self.free.clear();
        self.map.clear();
        self.front.fill((EMPTY, 0));
    }

    fn invalidate_page(&mut self, page: u32, code: &mut CodePages) {
        let lo = page << PAGE_SHIFT;
        let hi = lo.wrapping_add(1 << PAGE_SHIFT);
        let blocks = &mut self.blocks;
        let free = &mut self.free;
        self.map.retain(|_, &mut i| {
            let Some(b) = &blocks[i as usize] else {
                return false;
            };
            let overlaps = if b.end > b.start {
                b.start < hi && b.end > lo
            } else {
                true
            };
            if overlaps {
                blocks[i as usize] = None;
                free.push(i);
            }
            !overlaps
        });
        self.front.fill((EMPTY, 0));
        code.clear(page);
    }
}

/// The addresses of the last instructions started, oldest first (see [`Cpu::enable_trace`]).
#[derive(Debug, Clone)]
struct TraceRing {
    buf: Vec<u32>,
    next: usize,
    full: bool,
}

/// An ARMv7-M core with its decoded-instruction cache.
#[derive(Debug)]
pub struct Cpu {
    /// Architectural state.
    pub state: CpuState,
    /// Instructions executed since reset.
    pub icount: u64,
    cache: BlockCache,
    code: CodePages,
    icache: bool,
    trace: Option<TraceRing>,
    /// Debugger breakpoint addresses, sorted.
    breakpoints: Vec<u32>,
    /// Execute the instruction at PC even if it is a breakpoint (resuming from one).
    skip_breakpoint: bool,
    /// Extra bits of the block key for code whose fetch permission differs (the machine sets
    /// a bit for unprivileged code under the MPU), so blocks decoded — and fetch-checked —
    /// in one domain are never run in another.
    pub fetch_domain: u64,
    /// The core's optional extensions (DSP, FPU); set with [`Cpu::set_features`].
    features: Features,
    /// Addresses of the UNPREDICTABLE encodings executed so far (each is logged once).
    unpredictable_seen: rustc_hash::FxHashSet<u32>,
}

impl Default for Cpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpu {
    /// A core in its reset state, with the decoded-instruction cache on.
    pub fn new() -> Cpu {
        Cpu {
            state: CpuState::default(),
            icount: 0,
            cache: BlockCache::default(),
            code: CodePages::default(),
            icache: true,
            trace: None,
            breakpoints: Vec::new(),
            skip_breakpoint: false,
            fetch_domain: 0,
            features: Features::CORTEX_M3,
            unpredictable_seen: Default::default(),
        }
    }

    /// A core with the given optional extensions (see [`Cpu::set_features`]).
    pub fn with_features(features: Features) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.features = features;
        cpu.state.fp.kind = features.fpu;
        cpu
    }

    /// The core's optional extensions.
    pub fn features(&self) -> Features {
        self.features
    }

    /// Choose the core's optional extensions (DSP, FPU). Drops every decoded block, since
    /// decoding depends on them.
    pub fn set_features(&mut self, features: Features) {
        self.features = features;
        self.state.fp.kind = features.fpu;
        self.cache = BlockCache::default();
        self.code = CodePages::default();
    }

    /// Set the debugger's breakpoint addresses: [`Cpu::run`] stops with
    /// [`StopReason::Breakpoint`] before executing an instruction at any of them.
    pub fn set_breakpoints(&mut self, mut addrs: Vec<u32>) {
        addrs.iter_mut().for_each(|a| *a &= !1);
        addrs.sort_unstable();
        addrs.dedup();
        if addrs != self.breakpoints {
            self.breakpoints = addrs;
            self.flush_icache();
        }
    }

    /// The breakpoint addresses.
    pub fn breakpoints(&self) -> &[u32] {
        &self.breakpoints
    }

    /// Let the next [`Cpu::run`] execute the instruction at PC even if it is a breakpoint.
    pub fn skip_breakpoint_once(&mut self) {
        self.skip_breakpoint = true;
    }

    /// Turn the decoded-instruction cache on or off. Off, every instruction is decoded each
    /// time it executes; results and instruction counts are identical either way.
    pub fn set_icache(&mut self, on: bool) {
        self.icache = on;
        self.flush_icache();
    }

    /// Remember the addresses of the last `n` instructions started. Tracing runs one
    /// instruction per block (like `--no-icache`): slower, and meant for diagnosis.
    pub fn enable_trace(&mut self, n: usize) {
        self.trace = Some(TraceRing {
            buf: vec![0; n.max(1)],
            next: 0,
            full: false,
        });
    }

    /// The traced instruction addresses, oldest first.
    pub fn traced(&self) -> Vec<u32> {
        match &self.trace {
            None => Vec::new(),
            Some(t) if t.full => t.buf[t.next..]
                .iter()
                .chain(&t.buf[..t.next])
                .copied()
                .collect(),
            Some(t) => t.buf[..t.next].to_vec(),
        }
    }

    /// Drop every decoded block.
    pub fn flush_icache(&mut self) {
        self.cache.clear();
        self.code.reset();
    }

    /// Memory changed behind the CPU's back (loader, debugger, DMA, exception stacking):
    /// drop the decoded blocks of the pages that hold code; other pages cost one bit test.
    pub fn invalidate(&mut self, addr: u32, len: u32) {
        if len == 0 {
            return;
        }
        // Page numbers are modulo the address space: a range that wraps past 0xffff_ffff
        // (an exception frame just below 0, say) covers the top pages, then the bottom ones.
        const MASK: u32 = u32::MAX >> PAGE_SHIFT;
        let first = addr >> PAGE_SHIFT;
        let offset = u64::from(addr & ((1 << PAGE_SHIFT) - 1));
        let pages = (((offset + u64::from(len) - 1) >> PAGE_SHIFT) + 1).min(u64::from(MASK) + 1);
        for k in 0..pages as u32 {
            let p = first.wrapping_add(k) & MASK;
            // Only pages holding decoded code cost anything (the bitmap is a superset).
            if self.code.test(p) {
                self.cache.invalidate_page(p, &mut self.code);
            }
        }
    }

    /// Number of blocks in the cache (for statistics and tests).
    pub fn cached_blocks(&self) -> usize {
        self.cache.len()
    }

    /// Complete a BKPT the run loop stopped at (after the machine handled it).
    pub fn step_over_bkpt(&mut self) {
        self.state.r[15] = self.state.r[15].wrapping_add(2);
        self.state.itstate = it_advance(self.state.itstate);
        self.icount += 1;
    }

    /// Execute the `b .` the run loop stopped at with [`StopReason::Idle`] once: count it
    /// and advance ITSTATE (a branch can only be the last instruction of an IT block).
    pub fn step_idle(&mut self) {
        self.state.itstate = 0;
        self.icount += 1;
    }

    /// Decode the instruction at the current PC (for fault reports and traces).
    pub fn current_insn<B: Bus>(&self, bus: &mut B) -> Result<DecodedInsn, Fault> {
        decode_at(bus, self.state.r[15], self.state.itstate, self.features)
    }

    /// Run until `budget` instructions have executed or something stops execution.
    pub fn run<B: Bus>(&mut self, bus: &mut B, budget: u64) -> StopReason {
        let end = self.icount.saturating_add(budget);
        loop {
            if self.code.dirty() {
                for page in self.code.take_written() {
                    self.cache.invalidate_page(page, &mut self.code);
                }
                if self.code.take_io() {
                    return StopReason::Sync;
                }
            }
            if self.icount >= end {
                return StopReason::Budget;
            }
            if !self.state.thumb {
                return StopReason::Fault(Fault::InvalidState);
            }
            let pc = self.state.r[15];
            let it = self.state.itstate;
            if !self.breakpoints.is_empty()
                && !std::mem::take(&mut self.skip_breakpoint)
                && self.breakpoints.binary_search(&pc).is_ok()
            {
                return StopReason::Breakpoint;
            }
            self.skip_breakpoint = false;
            let tmp;
            let cached = self.icache && self.trace.is_none();
            let mut block: &Block = if cached {
                let code = &mut self.code;
                let bps = &self.breakpoints;
                let features = self.features;
                let key = BlockCache::key(pc, it) | self.fetch_domain;
                let found = self.cache.get_or_insert(key, || {
                    let b = decode_block(bus, pc, it, MAX_BLOCK, bps, features)?;
                    code.mark(b.start, b.end);
                    Ok(b)
                });
                match found {
                    Ok(i) => match &self.cache.blocks[i as usize] {
                        Some(b) => b,
                        None => {
                            return StopReason::Fault(Fault::InstructionBus {
                                addr: pc,
                                error: crate::bus::BusError::Unmapped,
                            })
                        }
                    },
                    Err(f) => return StopReason::Fault(f),
                }
            } else {
                if let Some(t) = &mut self.trace {
                    t.buf[t.next] = pc;
                    t.next = (t.next + 1) % t.buf.len();
                    t.full |= t.next == 0;
                }
                match decode_block(bus, pc, it, 1, &[], self.features) {
                    Ok(b) => {
                        tmp = b;
                        &tmp
                    }
                    Err(f) => return StopReason::Fault(f),
                }
            };
            // The block may run again without a new lookup (see the `Branch` arm).
            let repeatable = cached && self.breakpoints.is_empty();
            loop {
                let avail = (end - self.icount).min(block.insns.len() as u64) as usize;
                let insns = &block.insns[..avail];
                let fast = &block.fast[..avail];
                let mut ex = Exec {
                    s: &mut self.state,
                    code: &mut self.code,
                };
                let base = self.icount;
                // `None`: every instruction ran and fell through. The fast forms are executed
                // here, inline; see `fast.rs` for why they need not keep R15 current.
                macro_rules! r {
                    ($n:expr) => {
                        ex.s.r[($n & 15) as usize]
                    };
                }
                macro_rules! nz {
                    ($v:expr) => {{
                        let v = $v;
                        ex.s.n = v >> 31 != 0;
                        ex.s.z = v == 0;
                    }};
                }
                macro_rules! nzcv {
                    ($t:expr) => {{
                        let (res, c, v) = $t;
                        nz!(res);
                        ex.s.c = c;
                        ex.s.v = v;
                        res
                    }};
                }
                let outcome: Option<(usize, Flow)> = 'run: {
                    let mut iter = fast.iter();
                    while let Some(&f) = iter.next() {
                        // The instruction's index, computed only where an exit needs it
                        // (cheaper than an enumerate counter on every instruction).
                        macro_rules! idx {
                            () => {
                                avail - 1 - iter.len()
                            };
                        }
                        // One load or store of a fast form: the device clock first, then the
                        // access; `$wb` (base register, value) is written back unless it faulted.
                        macro_rules! mem {
                            ($kind:expr, $rt:expr, $addr:expr, $wb:expr) => {{
                                let (kind, rt, addr) = ($kind, $rt, $addr);
                                if let Some(go_on) = ex.try_fast_mem(bus, kind, rt, addr) {
                                    if let Some((rn, v)) = $wb {
                                        r!(rn) = v;
                                    }
                                    if !go_on {
                                        break 'run Some((idx!(), Flow::EndBlock));
                                    }
                                } else {
                                    bus.at_instruction(base + idx!() as u64);
                                    let flow = ex.fast_mem(bus, kind, rt, addr);
                                    if let Some((rn, v)) = $wb {
                                        if !matches!(flow, Flow::Stop(_)) {
                                            r!(rn) = v;
                                        }
                                    }
                                    if !matches!(flow, Flow::Next) {
                                        break 'run Some((idx!(), flow));
                                    }
                                }
                            }};
                        }
                        // Compare-and-branch fusion: a flag-setting form followed by a
                        // B<cond> (in this block and within the budget) runs the branch at
                        // once, saving its dispatch; the branch still counts as its own
                        // instruction (the exit index is the branch's).
                        macro_rules! fused_bcond {
                            () => {
                                if let Some(&Fast::Bcond { cond, target }) = iter.as_slice().first()
                                {
                                    iter.next();
                                    if ex.s.cond_passed(cond) {
                                        break 'run Some((idx!(), Flow::Branch(target)));
                                    }
                                }
                            };
                        }
                        match f {
                            Fast::MovImm { rd, imm } => r!(rd) = imm,
                            Fast::MovReg { rd, rm } => r!(rd) = r!(rm),
                            Fast::MovsImm { rd, imm } => {
                                r!(rd) = imm;
                                nz!(imm);
                            }
                            Fast::MovsReg { rd, rm } => {
                                let v = r!(rm);
                                r!(rd) = v;
                                nz!(v);
                            }
                            Fast::AddImm { rd, rn, imm } => r!(rd) = r!(rn).wrapping_add(imm),
                            Fast::AddReg { rd, rn, rm } => r!(rd) = r!(rn).wrapping_add(r!(rm)),
                            Fast::AddRegLsl { rd, rn, rm, amt } => {
                                r!(rd) = r!(rn).wrapping_add(r!(rm) << amt);
                            }
                            Fast::SubReg { rd, rn, rm } => r!(rd) = r!(rn).wrapping_sub(r!(rm)),
                            Fast::AddsImm { rd, rn, imm } => {
                                r!(rd) = nzcv!(add_with_carry(r!(rn), imm, false));
                            }
                            Fast::SubsImm { rd, rn, imm } => {
                                r!(rd) = nzcv!(add_with_carry(r!(rn), !imm, true));
                                fused_bcond!();
                            }
                            Fast::AddsReg { rd, rn, rm } => {
                                r!(rd) = nzcv!(add_with_carry(r!(rn), r!(rm), false));
                            }
                            Fast::SubsReg { rd, rn, rm } => {
                                r!(rd) = nzcv!(add_with_carry(r!(rn), !r!(rm), true));
                            }
                            Fast::CmpImm { rn, imm } => {
                                nzcv!(add_with_carry(r!(rn), !imm, true));
                                fused_bcond!();
                            }
                            Fast::CmpReg { rn, rm } => {
                                nzcv!(add_with_carry(r!(rn), !r!(rm), true));
                                fused_bcond!();
                            }
                            Fast::TstImm { rn, imm } => {
                                nz!(r!(rn) & imm);
                                fused_bcond!();
                            }
                            Fast::TstReg { rn, rm } => {
                                nz!(r!(rn) & r!(rm));
                                fused_bcond!();
                            }
                            Fast::LogicReg { op, rd, rn, rm } => r!(rd) = op.apply(r!(rn), r!(rm)),
                            Fast::LogicImm { op, rd, rn, imm } => r!(rd) = op.apply(r!(rn), imm),
                            Fast::LogicsReg { op, rd, rn, rm } => {
                                let v = op.apply(r!(rn), r!(rm));
                                r!(rd) = v;
                                nz!(v);
                            }
                            Fast::ShiftImm {
                                shift: sh,
                                rd,
                                rm,
                                amt,
                            } => {
                                r!(rd) = shift(r!(rm), sh, u32::from(amt), ex.s.c);
                            }
                            Fast::ShiftsImm {
                                shift: sh,
                                rd,
                                rm,
                                amt,
                            } => {
                                let (v, c) = shift_c(r!(rm), sh, u32::from(amt), ex.s.c);
                                r!(rd) = v;
                                nz!(v);
                                ex.s.c = c;
                            }
                            Fast::Extend {
                                signed,
                                half,
                                rd,
                                rm,
                            } => {
                                let v = r!(rm);
                                r!(rd) = match (signed, half) {
                                    (true, true) => v as i16 as i32 as u32,
                                    (true, false) => v as i8 as i32 as u32,
                                    (false, true) => v & 0xffff,
                                    (false, false) => v & 0xff,
                                };
                            }
                            Fast::Mul { rd, rn, rm } => r!(rd) = r!(rn).wrapping_mul(r!(rm)),
                            Fast::Mla { rd, rn, rm, ra } => {
                                r!(rd) = r!(ra).wrapping_add(r!(rn).wrapping_mul(r!(rm)));
                            }
                            Fast::MemImm {
                                kind,
                                rt,
                                rn,
                                offset,
                            } => mem!(
                                kind,
                                rt,
                                r!(rn).wrapping_add(offset as u32),
                                None::<(u8, u32)>
                            ),
                            Fast::MemReg {
                                kind,
                                rt,
                                rn,
                                rm,
                                lsl,
                            } => mem!(
                                kind,
                                rt,
                                r!(rn).wrapping_add(r!(rm) << lsl),
                                None::<(u8, u32)>
                            ),
                            Fast::LdrImm { rt, rn, offset } => mem!(
                                MemKind::Ldr,
                                rt,
                                r!(rn).wrapping_add(offset as u32),
                                None::<(u8, u32)>
                            ),
                            Fast::StrImm { rt, rn, offset } => mem!(
                                MemKind::Str,
                                rt,
                                r!(rn).wrapping_add(offset as u32),
                                None::<(u8, u32)>
                            ),
                            Fast::LdrbImm { rt, rn, offset } => mem!(
                                MemKind::Ldrb,
                                rt,
                                r!(rn).wrapping_add(offset as u32),
                                None::<(u8, u32)>
                            ),
                            Fast::StrbImm { rt, rn, offset } => mem!(
                                MemKind::Strb,
                                rt,
                                r!(rn).wrapping_add(offset as u32),
                                None::<(u8, u32)>
                            ),
                            Fast::LdrReg { rt, rn, rm, lsl } => mem!(
                                MemKind::Ldr,
                                rt,
                                r!(rn).wrapping_add(r!(rm) << lsl),
                                None::<(u8, u32)>
                            ),
                            Fast::StrReg { rt, rn, rm, lsl } => mem!(
                                MemKind::Str,
                                rt,
                                r!(rn).wrapping_add(r!(rm) << lsl),
                                None::<(u8, u32)>
                            ),
                            Fast::LdrbReg { rt, rn, rm, lsl } => mem!(
                                MemKind::Ldrb,
                                rt,
                                r!(rn).wrapping_add(r!(rm) << lsl),
                                None::<(u8, u32)>
                            ),
                            Fast::LoadLit { kind, rt, addr } => {
                                mem!(kind, rt, addr, None::<(u8, u32)>)
                            }
                            Fast::B { target } => break 'run Some((idx!(), Flow::Branch(target))),
                            Fast::Bcond { cond, target } => {
                                if ex.s.cond_passed(cond) {
                                    break 'run Some((idx!(), Flow::Branch(target)));
                                }
                            }
                            Fast::Bl { target } => {
                                ex.s.r[14] = insns[idx!()].pc.wrapping_add(4) | 1;
                                break 'run Some((idx!(), Flow::Branch(target)));
                            }
                            Fast::BxReg { rm } => {
                                let target = r!(rm);
                                if ex.s.ipsr != 0 && target >> 28 == 0xf {
                                    // EXC_RETURN: the general executor reports it.
                                    let i = idx!();
                                    let insn = &insns[i];
                                    ex.s.r[15] = insn.pc.wrapping_add(4);
                                    break 'run Some((
                                        i,
                                        ex.exec(bus, &insn.op, insn.pc, insn.len),
                                    ));
                                }
                                ex.s.thumb = target & 1 != 0;
                                break 'run Some((idx!(), Flow::Branch(target & !1)));
                            }
                            Fast::Nop => {}
                            Fast::Ubfx { rd, rn, lsb, mask } => r!(rd) = (r!(rn) >> lsb) & mask,
                            Fast::MemPost {
                                kind,
                                rt,
                                rn,
                                offset,
                            } => {
                                let addr = r!(rn);
                                mem!(
                                    kind,
                                    rt,
                                    addr,
                                    Some((rn, addr.wrapping_add(offset as i32 as u32)))
                                )
                            }
                            Fast::MemPre {
                                kind,
                                rt,
                                rn,
                                offset,
                            } => {
                                let addr = r!(rn).wrapping_add(offset as i32 as u32);
                                mem!(kind, rt, addr, Some((rn, addr)))
                            }
                            Fast::Cbz {
                                nonzero,
                                rn,
                                target,
                            } => {
                                if (r!(rn) != 0) == nonzero {
                                    break 'run Some((idx!(), Flow::Branch(target)));
                                }
                            }
                            Fast::Slow => {
                                let insn = &insns[idx!()];
                                if insn.cond < 14 && !ex.s.cond_passed(insn.cond) {
                                    continue;
                                }
                                if insn.unpredictable
                                    && !matches!(insn.op, Op::Undefined { .. })
                                    && self.unpredictable_seen.insert(insn.pc)
                                {
                                    note_unpredictable(insn);
                                }
                                bus.at_instruction(base + idx!() as u64);
                                ex.s.r[15] = insn.pc.wrapping_add(4);
                                let flow = ex.exec(bus, &insn.op, insn.pc, insn.len);
                                if !matches!(flow, Flow::Next) {
                                    break 'run Some((idx!(), flow));
                                }
                            }
                        }
                    }
                    None
                };
                match outcome {
                    None | Some((_, Flow::Next)) => {
                        let last = &block.insns[avail - 1];
                        self.state.r[15] = last.pc.wrapping_add(u32::from(last.len));
                        self.state.itstate = last.it_next;
                        self.icount += avail as u64;
                    }
                    Some((i, Flow::Branch(target))) => {
                        self.state.r[15] = target;
                        self.state.itstate = if block.has_it {
                            block.insns[i].it_next
                        } else {
                            0
                        };
                        self.icount += i as u64 + 1;
                        // Chaining: a loop back to this block's start runs it again at once,
                        // and a branch to a block in the front table goes straight there.
                        // Nothing else the outer loop checks can have changed (a store that
                        // dirtied code or touched I/O ends the block with `EndBlock`, which
                        // goes round the outer loop; a BX that left Thumb state is caught by
                        // the `thumb` test).
                        if repeatable && self.state.thumb && self.icount < end && !self.code.dirty()
                        {
                            let it = self.state.itstate;
                            if target == block.start && it == block.it {
                                continue;
                            }
                            let key = BlockCache::key(target, it) | self.fetch_domain;
                            if let Some(next) = self.cache.front_block(key) {
                                block = next;
                                continue;
                            }
                        }
                    }
                    Some((i, Flow::EndBlock)) => {
                        let insn = &block.insns[i];
                        self.state.r[15] = insn.pc.wrapping_add(u32::from(insn.len));
                        self.state.itstate = insn.it_next;
                        self.icount += i as u64 + 1;
                    }
                    Some((i, Flow::Stop(reason))) => {
                        let insn = &block.insns[i];
                        if reason.completed() {
                            self.state.r[15] = insn.pc.wrapping_add(u32::from(insn.len));
                            self.state.itstate = insn.it_next;
                            self.icount += i as u64 + 1;
                        } else {
                            self.state.r[15] = insn.pc;
                            self.state.itstate = if i == 0 {
                                block.it
                            } else {
                                block.insns[i - 1].it_next
                            };
                            self.icount += i as u64;
                        }
                        return reason;
                    }
                }
                break;
            }
        }
    }
}
