//! Seeded synthetic page mixes, shaped after what zswap sees (see
//! shared/research/perf.md §1d/§4): zero pages, same-filled pages, text,
//! pointer-rich heap and incompressible (random) pages.
//!
//! A mix is written `zero=15,same=2,text=30,heap=38,random=15[,pages=N][,seed=S]`
//! (percentages of pages; they must add up to 100). `default` is that mix
//! with 8192 pages and seed 1. The same mix and seed always give the same
//! pages, shuffled so the kinds interleave as they would in memory.

use crate::harness::{Page, PAGE_SIZE};
use anyhow::{bail, Context, Result};

/// A parsed mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Percent of pages per kind: zero, same, text, heap, random.
    pub percent: [u32; 5],
    pub pages: usize,
    pub seed: u64,
}

const KINDS: [&str; 5] = ["zero", "same", "text", "heap", "random"];
pub const DEFAULT_MIX: &str = "zero=15,same=2,text=30,heap=38,random=15,pages=8192,seed=1";
/// Most pages a mix may ask for (4 GiB of pages, held in memory).
pub const MAX_PAGES: usize = 1 << 20;

impl Mix {
    pub fn parse(spec: &str) -> Result<Self> {
        let spec = if spec == "default" { DEFAULT_MIX } else { spec };
        let mut mix = Mix {
            percent: [0; 5],
            pages: 8192,
            seed: 1,
        };
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .with_context(|| format!("`{part}` in mix `{spec}` is not key=value"))?;
            let n: u64 = value
                .parse()
                .with_context(|| format!("`{part}`: `{value}` is not a number"))?;
            match key {
                "pages" => mix.pages = usize::try_from(n)?,
                "seed" => mix.seed = n,
                _ => {
                    let i = KINDS.iter().position(|k| *k == key).with_context(|| {
                        format!("unknown page kind `{key}`; kinds: {}", KINDS.join(", "))
                    })?;
                    if n > 100 {
                        bail!("`{part}`: a share is a percentage (0-100)");
                    }
                    mix.percent[i] = n as u32;
                }
            }
        }
        let total: u32 = mix.percent.iter().sum();
        if total != 100 {
            bail!("mix `{spec}` adds up to {total}%, not 100%");
        }
        if mix.pages == 0 {
            bail!("mix `{spec}` has no pages");
        }
        if mix.pages > MAX_PAGES {
            bail!(
                "mix `{spec}` asks for {} pages; at most {MAX_PAGES}",
                mix.pages
            );
        }
        Ok(mix)
    }

    /// Canonical text of the mix (used as the input's name).
    pub fn describe(&self) -> String {
        let kinds: Vec<String> = KINDS
            .iter()
            .zip(self.percent)
            .filter(|(_, p)| *p > 0)
            .map(|(k, p)| format!("{k}={p}"))
            .collect();
        format!(
            "{},pages={},seed={}",
            kinds.join(","),
            self.pages,
            self.seed
        )
    }

    pub fn generate(&self) -> Vec<Page> {
        let mut rng = Rng(self.seed ^ 0x5851_f42d_4c95_7f2d);
        let mut kinds = Vec::with_capacity(self.pages);
        for (kind, pct) in self.percent.iter().enumerate() {
            let n = self.pages * *pct as usize / 100;
            kinds.extend(std::iter::repeat_n(kind, n));
        }
        // Rounding leftovers go to the largest share.
        let largest = (0..5).max_by_key(|&k| self.percent[k]).unwrap_or(0);
        kinds.resize(self.pages, largest);
        // Fisher-Yates.
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, rng.below(i + 1));
        }
        kinds
            .into_iter()
            .map(|kind| match kind {
                0 => [0; PAGE_SIZE],
                1 => same_page(&mut rng),
                2 => text_page(&mut rng),
                3 => heap_page(&mut rng),
                _ => random_page(&mut rng),
            })
            .collect()
    }
}

/// xorshift64*: small, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn same_page(rng: &mut Rng) -> Page {
    let word = rng.next() | 1;
    let mut p = [0u8; PAGE_SIZE];
    p.chunks_exact_mut(8)
        .for_each(|c| c.copy_from_slice(&word.to_le_bytes()));
    p
}

/// English-like prose: common words with a skewed frequency, punctuation
/// and line breaks.
fn text_page(rng: &mut Rng) -> Page {
    const WORDS: &[&str] = &[
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "memory",
        "device",
        "compression",
        "kernel",
        "process",
        "system",
        "between",
        "through",
        "because",
        "however",
        "example",
        "particular",
        "information",
        "development",
        "government",
    ];
    let mut p = [0u8; PAGE_SIZE];
    let mut i = 0;
    while i < PAGE_SIZE {
        // Squaring a uniform index skews choices toward the common words.
        let r = rng.below(WORDS.len() * WORDS.len());
        let w = WORDS[(r as f64).sqrt() as usize % WORDS.len()].as_bytes();
        let sep: &[u8] = match rng.below(20) {
            0 => b". ",
            1 => b", ",
            2 => b"\n",
            _ => b" ",
        };
        for &b in w.iter().chain(sep) {
            if i == PAGE_SIZE {
                break;
            }
            p[i] = b;
            i += 1;
        }
    }
    p
}

/// A heap page: 8-byte aligned objects made of pointers into a few nearby
/// regions, small integers, zero padding and the odd short string.
fn heap_page(rng: &mut Rng) -> Page {
    let regions = [
        0x0000_7f3a_1c00_0000u64,
        0x0000_5605_8e40_0000,
        0x0000_7ffd_2a00_0000,
    ];
    let vtable = 0x0000_5605_8c21_3d40u64 + 16 * rng.below(8) as u64;
    let mut p = [0u8; PAGE_SIZE];
    for w in p.chunks_exact_mut(8) {
        let v = match rng.below(16) {
            0..=5 => regions[rng.below(3)] + (rng.below(1 << 20) as u64 & !7),
            6 | 7 => vtable,
            8..=10 => rng.below(256) as u64,
            11..=13 => 0,
            14 => u64::from_le_bytes(*b"obj_name"),
            _ => rng.next(),
        };
        w.copy_from_slice(&v.to_le_bytes());
    }
    p
}

fn random_page(rng: &mut Rng) -> Page {
    let mut p = [0u8; PAGE_SIZE];
    p.chunks_exact_mut(8)
        .for_each(|c| c.copy_from_slice(&rng.next().to_le_bytes()));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_describe_themselves() {
        let m = Mix::parse("default").unwrap();
        assert_eq!(m.percent, [15, 2, 30, 38, 15]);
        assert_eq!(Mix::parse(&m.describe()).unwrap(), m);
        assert!(Mix::parse("zero=50,text=40")
            .unwrap_err()
            .to_string()
            .contains("90%"));
        assert!(Mix::parse("zero=50,gold=50")
            .unwrap_err()
            .to_string()
            .contains("unknown page kind"));
        assert!(Mix::parse("zero=100,pages=x").is_err());
        assert!(Mix::parse("zero=100,pages=0").is_err());
        // Shares that wrap around to 100, and absurd page counts.
        assert!(Mix::parse("zero=4294967295,same=101")
            .unwrap_err()
            .to_string()
            .contains("percentage"));
        assert!(Mix::parse("zero=100,pages=18446744073709551615")
            .unwrap_err()
            .to_string()
            .contains("at most"));
    }

    #[test]
    fn generation_is_seeded_and_follows_the_mix() {
        let m = Mix::parse("zero=25,same=25,text=25,random=25,pages=400,seed=9").unwrap();
        let a = m.generate();
        assert_eq!(a, m.generate());
        assert_eq!(a.len(), 400);
        let zero = a.iter().filter(|p| p.iter().all(|&b| b == 0)).count();
        let same = a
            .iter()
            .filter(|p| p[..8] != [0; 8] && p.chunks_exact(8).all(|c| c == &p[..8]))
            .count();
        assert_eq!((zero, same), (100, 100));
        let other = Mix { seed: 10, ..m };
        assert_ne!(a, other.generate());
    }
}
