//! A small deterministic PRNG (xorshift64) and byte mutations for the seeded tier.

/// One xorshift64 step (`x` must not be 0).
pub fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// A seeded generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// Values that tend to find edge cases.
pub const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x2000_0000,
    0x4000_0000,
    0xe000_e000,
    0xe000_ed00,
];

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(xorshift(seed | 1))
    }
    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = xorshift(self.0);
        self.0
    }
    /// 32 random bits.
    pub fn u32(&mut self) -> u32 {
        (self.next_u64() >> 16) as u32
    }
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    /// An element of `xs`.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// An interesting or random word.
    pub fn word(&mut self) -> u32 {
        if self.one_in(2) {
            *self.pick(INTERESTING)
        } else {
            self.u32()
        }
    }

    /// 1 to 4 byte-level mutations of `input`: bit flips, interesting bytes and words,
    /// truncation, duplicated or deleted ranges, inserted random bytes.
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut v = input.to_vec();
        for _ in 0..1 + self.below(4) {
            let len = v.len();
            match self.below(8) {
                0 if len > 0 => {
                    let i = self.below(len);
                    v[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    v[i] = *self.pick(&[0u8, 1, 0x7f, 0x80, 0xff, b'$', b'#', b'}', b'\n']);
                }
                2 if len >= 4 => {
                    let i = self.below(len - 3) & !3;
                    let w = self.word();
                    v[i..i + 4].copy_from_slice(&w.to_le_bytes());
                }
                3 if len > 0 => v.truncate(self.below(len)),
                4 if len > 1 => {
                    let a = self.below(len);
                    let b = (a + 1 + self.below(64)).min(len);
                    let chunk = v[a..b].to_vec();
                    let at = self.below(len);
                    v.splice(at..at, chunk);
                }
                5 if len > 1 => {
                    let a = self.below(len);
                    let b = (a + 1 + self.below(64)).min(len);
                    v.drain(a..b);
                }
                6 => {
                    let at = self.below(len + 1);
                    let n = 1 + self.below(16);
                    let junk = self.bytes(n);
                    v.splice(at..at, junk);
                }
                _ if len > 0 => {
                    let i = self.below(len);
                    v[i] = self.next_u64() as u8;
                }
                _ => v.push(self.next_u64() as u8),
            }
        }
        v
    }
}
