//! The seeded random stream every random choice in the simulation draws from.
//!
//! [`SimRng`] is ChaCha with 8 rounds, a 64-bit block counter and a 64-bit stream number, its
//! output buffered four blocks at a time: rand_chacha's `ChaCha8Rng`. Natively it is
//! rand_chacha's own, whose vector code uses AVX2. In the page's WebAssembly (built without
//! SIMD) rand_chacha emulates those vectors, and there its blocks cost ≈10× their native
//! instructions, so the page computes them with the plain scalar block function below,
//! word for word the same stream for the same seed and the same calls (the tests compare
//! them): every seeded run and every golden trace is the same on both targets.

use rand_core::block::BlockRngCore;
use rand_core::{Error, RngCore, SeedableRng};

/// Words in one ChaCha block.
const BLOCK_WORDS: usize = 16;
/// Blocks computed per refill, as rand_chacha does (its buffer is 64 words).
const BUFFER_BLOCKS: usize = 4;
/// Double rounds: ChaCha8 is four column rounds and four diagonal rounds.
const DOUBLE_ROUNDS: usize = 4;
/// "expand 32-byte k", the constant first row.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The seeded generator: ChaCha8, as rand_chacha's `ChaCha8Rng` draws it.
#[derive(Clone, Debug)]
pub struct SimRng(Stream);

#[cfg(not(target_arch = "wasm32"))]
type Stream = rand_chacha::ChaCha8Rng;
#[cfg(target_arch = "wasm32")]
type Stream = rand_core::block::BlockRng<ChaCha8Blocks>;

impl RngCore for SimRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl SeedableRng for SimRng {
    type Seed = [u8; 32];

    /// `seed_from_u64` is the trait's own expansion of a `u64` into a seed, as for rand_chacha.
    fn from_seed(seed: Self::Seed) -> Self {
        SimRng(Stream::from_seed(seed))
    }
}

/// The block function's state between refills (natively only the tests use it).
#[derive(Clone, Debug)]
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
pub struct ChaCha8Blocks {
    key: [u32; 8],
    counter: u64,
    stream: u64,
}

/// One refill's output: four blocks, block after block.
#[derive(Clone)]
pub struct Buffer([u32; BLOCK_WORDS * BUFFER_BLOCKS]);

impl Default for Buffer {
    fn default() -> Self {
        Buffer([0; BLOCK_WORDS * BUFFER_BLOCKS])
    }
}

impl AsRef<[u32]> for Buffer {
    fn as_ref(&self) -> &[u32] {
        &self.0
    }
}

impl AsMut<[u32]> for Buffer {
    fn as_mut(&mut self) -> &mut [u32] {
        &mut self.0
    }
}

impl SeedableRng for ChaCha8Blocks {
    type Seed = [u8; 32];

    /// The key is the seed, the counter and the stream start at 0 (rand_chacha's `from_seed`).
    fn from_seed(seed: Self::Seed) -> Self {
        let mut key = [0u32; 8];
        for (word, bytes) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        ChaCha8Blocks { key, counter: 0, stream: 0 }
    }
}

impl BlockRngCore for ChaCha8Blocks {
    type Item = u32;
    type Results = Buffer;

    fn generate(&mut self, results: &mut Buffer) {
        for (block, out) in results.0.as_chunks_mut::<BLOCK_WORDS>().0.iter_mut().enumerate() {
            self.block(self.counter.wrapping_add(block as u64), out);
        }
        self.counter = self.counter.wrapping_add(BUFFER_BLOCKS as u64);
    }
}

impl ChaCha8Blocks {
    /// The ChaCha block function (RFC 8439 §2.3 with djb's 64-bit counter and 64-bit nonce in
    /// the last row), eight rounds.
    #[inline(always)]
    fn block(&self, counter: u64, out: &mut [u32; BLOCK_WORDS]) {
        let k = &self.key;
        let input = [
            SIGMA[0],
            SIGMA[1],
            SIGMA[2],
            SIGMA[3],
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            counter as u32,
            (counter >> 32) as u32,
            self.stream as u32,
            (self.stream >> 32) as u32,
        ];
        let mut x = input;
        rounds(&mut x, DOUBLE_ROUNDS);
        // Indexed, not zipped: arrays zipped by value are copied first in the page's
        // size-optimized build.
        for i in 0..BLOCK_WORDS {
            out[i] = x[i].wrapping_add(input[i]);
        }
    }
}

/// `double_rounds` column rounds, each followed by a diagonal round.
#[inline(always)]
fn rounds(x: &mut [u32; BLOCK_WORDS], double_rounds: usize) {
    for _ in 0..double_rounds {
        quarter_round(x, 0, 4, 8, 12);
        quarter_round(x, 1, 5, 9, 13);
        quarter_round(x, 2, 6, 10, 14);
        quarter_round(x, 3, 7, 11, 15);
        quarter_round(x, 0, 5, 10, 15);
        quarter_round(x, 1, 6, 11, 12);
        quarter_round(x, 2, 7, 8, 13);
        quarter_round(x, 3, 4, 9, 14);
    }
}

#[inline(always)]
fn quarter_round(x: &mut [u32; BLOCK_WORDS], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_chacha::ChaCha8Rng;
    use rand_core::block::BlockRng;

    /// The stream is rand_chacha's, through every way the simulation draws: 32- and 64-bit
    /// words (a 64-bit word straddling two refills included), ranges, floats and bytes.
    #[test]
    fn it_draws_rand_chachas_chacha8_stream() {
        for seed in [0u64, 1, 7, 0x5EED_F00D_5CA1_AB1E, u64::MAX] {
            let mut ours = BlockRng::<ChaCha8Blocks>::seed_from_u64(seed);
            let mut theirs = ChaCha8Rng::seed_from_u64(seed);
            for i in 0..5_000u64 {
                match (i * 7 + seed % 5) % 6 {
                    0 => assert_eq!(ours.next_u32(), theirs.next_u32(), "seed {seed}, draw {i}"),
                    1 => assert_eq!(ours.next_u64(), theirs.next_u64(), "seed {seed}, draw {i}"),
                    2 => assert_eq!(ours.gen_range(0..1_000_003u64), theirs.gen_range(0..1_000_003u64)),
                    3 => assert_eq!(ours.gen_bool(0.3), theirs.gen_bool(0.3)),
                    4 => {
                        let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
                        ours.fill_bytes(&mut a);
                        theirs.fill_bytes(&mut b);
                        assert_eq!(a, b, "seed {seed}, draw {i}");
                    }
                    _ => assert_eq!(ours.gen::<f64>().to_bits(), theirs.gen::<f64>().to_bits()),
                }
            }
        }
        let seed = *b"a thirty-two byte seed, exactly!";
        let (mut ours, mut theirs) = (BlockRng::<ChaCha8Blocks>::from_seed(seed), ChaCha8Rng::from_seed(seed));
        assert!((0..1_000).all(|_| ours.next_u64() == theirs.next_u64()));
    }

    /// A clone continues the same stream from the same place (checkpoints rely on it).
    #[test]
    fn a_clone_draws_what_the_original_would() {
        let mut rng = BlockRng::<ChaCha8Blocks>::seed_from_u64(42);
        for _ in 0..37 {
            rng.next_u32();
        }
        let mut copy = rng.clone();
        let a: Vec<u64> = (0..200).map(|_| rng.next_u64()).collect();
        let b: Vec<u64> = (0..200).map(|_| copy.next_u64()).collect();
        assert_eq!(a, b);
    }

    /// RFC 7539 §2.3.2's block function test vector, at twenty rounds, pins the block function
    /// itself (the eight-round stream is pinned against rand_chacha above).
    #[test]
    fn the_block_function_matches_the_rfc_at_twenty_rounds() {
        let key: [u32; 8] = core::array::from_fn(|i| u32::from_le_bytes(core::array::from_fn(|j| (4 * i + j) as u8)));
        let mut x = [
            SIGMA[0],
            SIGMA[1],
            SIGMA[2],
            SIGMA[3],
            key[0],
            key[1],
            key[2],
            key[3],
            key[4],
            key[5],
            key[6],
            key[7],
            1,
            0x0900_0000,
            0x4a00_0000,
            0,
        ];
        let input = x;
        rounds(&mut x, 10);
        let out: Vec<u32> = x.iter().zip(input).map(|(x, i)| x.wrapping_add(i)).collect();
        assert_eq!(&out[..4], &[0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3]);
        assert_eq!(&out[12..], &[0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2]);
    }
}
