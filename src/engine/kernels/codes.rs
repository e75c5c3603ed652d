//! Kernels on compressed vector codes, for searching an embedding index: the int8 x int8 dot of
//! scalar-quantized vectors and the Hamming distance of sign-bit vectors, each with its scalar
//! twin (the reference its SIMD version is tested against).

use super::{generic, Isa, Kernels};

/// Hamming distance of two bit vectors packed in 64-bit words (scalar reference).
pub fn hamming_generic(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Hamming distance with the `popcnt` instruction (the portable `count_ones` compiles to a
/// bit-twiddling sequence on the baseline x86_64 target).
///
/// # Safety
/// The CPU must support POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn hamming_popcnt(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(target_arch = "x86_64")]
fn has_popcnt() -> bool {
    static POPCNT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *POPCNT.get_or_init(|| is_x86_feature_detected!("popcnt"))
}

impl Kernels {
    /// Dot product of two int8 code vectors with int32 accumulation; every code must lie in
    /// -127..=127 (the AVX2 kernel takes `|a|`, which -128 would overflow).
    #[inline]
    pub fn dot_i8_codes(&self, a: &[i8], b: &[i8]) -> i32 {
        debug_assert!(
            a.iter().chain(b).all(|&v| v != i8::MIN),
            "int8 codes must be in -127..=127"
        );
        match self.isa {
            Isa::Generic => generic::dot_i8(a, b),
            // SAFETY: a non-generic table is only built by `available`, after detecting AVX2.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512Vnni => unsafe { super::x86::dot_i8_avx2(a, b) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => generic::dot_i8(a, b),
        }
    }

    /// Number of differing bits of two bit vectors packed in 64-bit words (the shorter length).
    #[inline]
    pub fn hamming(&self, a: &[u64], b: &[u64]) -> u32 {
        #[cfg(target_arch = "x86_64")]
        if self.isa != Isa::Generic && has_popcnt() {
            // SAFETY: POPCNT was detected just above.
            return unsafe { hamming_popcnt(a, b) };
        }
        hamming_generic(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn every_table_matches_the_scalar_twins_on_odd_lengths() {
        let mut rng = StdRng::seed_from_u64(11);
        for k in Kernels::available() {
            for n in [0usize, 1, 5, 31, 32, 33, 64, 383, 384, 385, 1000] {
                let a: Vec<i8> = (0..n).map(|_| rng.random_range(-127..=127i8)).collect();
                let b: Vec<i8> = (0..n).map(|_| rng.random_range(-127..=127i8)).collect();
                assert_eq!(k.dot_i8_codes(&a, &b), generic::dot_i8(&a, &b), "{} n={n}", k.name());
                let hi = vec![127i8; n];
                let lo = vec![-127i8; n];
                assert_eq!(k.dot_i8_codes(&hi, &lo), -(127 * 127) * n as i32, "{} n={n}", k.name());
                let words = n.div_ceil(64);
                let x: Vec<u64> = (0..words).map(|_| rng.random()).collect();
                let y: Vec<u64> = (0..words).map(|_| rng.random()).collect();
                assert_eq!(k.hamming(&x, &y), hamming_generic(&x, &y), "{} n={n}", k.name());
                assert_eq!(k.hamming(&x, &x), 0);
                let not_x: Vec<u64> = x.iter().map(|v| !v).collect();
                assert_eq!(k.hamming(&x, &not_x), 64 * words as u32);
            }
        }
    }
}
