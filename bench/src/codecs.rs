//! The codecs zcxl-bench compares, by name.
//!
//! Names (the `--codec` values and the JSON `name` field):
//! `zcxl-lz4`, `zcxl-zstd-N`, `zcxl-same` (ours, through the device's own
//! functions), `lz4_flex-safe`, `lz4_flex-unsafe`, `lz4-c`
//! (LZ4_compress_default / LZ4_decompress_safe), `lz4-c-fast-N`
//! (LZ4_compress_fast, acceleration N), `zstd-N` (a fresh zstd context per
//! page, as `zstd::bulk` does), `memcpy` (the copy ceiling).

use crate::harness::{Codec, Packed, Page, PAGE_SIZE};
use zcxl_device::codec::lz4::c_reference;
use zcxl_device::codec::{same_filled, Lz4, PageCodec, Zstd};

/// A codec the benchmark knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ZcxlLz4,
    ZcxlZstd(i8),
    ZcxlSame,
    Lz4FlexSafe,
    /// Runs in the helper process (see the crate docs).
    Lz4FlexUnsafe,
    Lz4C,
    Lz4CFast(i32),
    Zstd(i8),
    Memcpy,
}

/// What `cargo xtask bench` and a bare `zcxl-bench codecs` compare.
pub const DEFAULT: &[&str] = &[
    "zcxl-lz4",
    "lz4-c",
    "lz4-c-fast-4",
    "lz4_flex-safe",
    "lz4_flex-unsafe",
    "zcxl-zstd-1",
    "zstd-1",
    "zcxl-zstd-3",
    "zstd-3",
    "zcxl-same",
    "memcpy",
];

impl Kind {
    pub fn parse(name: &str) -> Result<Self, String> {
        let level = |s: &str| -> Result<i8, String> {
            s.parse::<i8>()
                .ok()
                .filter(|l| (1..=19).contains(l))
                .ok_or_else(|| format!("`{name}`: zstd level must be 1..=19"))
        };
        Ok(match name {
            "zcxl-lz4" => Self::ZcxlLz4,
            "zcxl-same" => Self::ZcxlSame,
            "lz4_flex-safe" => Self::Lz4FlexSafe,
            "lz4_flex-unsafe" => Self::Lz4FlexUnsafe,
            "lz4-c" => Self::Lz4C,
            "memcpy" => Self::Memcpy,
            _ => {
                if let Some(l) = name.strip_prefix("zcxl-zstd-") {
                    Self::ZcxlZstd(level(l)?)
                } else if let Some(a) = name.strip_prefix("lz4-c-fast-") {
                    Self::Lz4CFast(
                        a.parse::<i32>()
                            .ok()
                            .filter(|a| (1..=65537).contains(a))
                            .ok_or_else(|| format!("`{name}`: acceleration must be 1..=65537"))?,
                    )
                } else if let Some(l) = name.strip_prefix("zstd-") {
                    Self::Zstd(level(l)?)
                } else {
                    return Err(format!(
                        "unknown codec `{name}`; known: zcxl-lz4, zcxl-zstd-N, zcxl-same, \
                         lz4_flex-safe, lz4_flex-unsafe, lz4-c, lz4-c-fast-N, zstd-N, memcpy"
                    ));
                }
            }
        })
    }

    pub fn name(self) -> String {
        match self {
            Self::ZcxlLz4 => "zcxl-lz4".into(),
            Self::ZcxlZstd(l) => format!("zcxl-zstd-{l}"),
            Self::ZcxlSame => "zcxl-same".into(),
            Self::Lz4FlexSafe => "lz4_flex-safe".into(),
            Self::Lz4FlexUnsafe => "lz4_flex-unsafe".into(),
            Self::Lz4C => "lz4-c".into(),
            Self::Lz4CFast(a) => format!("lz4-c-fast-{a}"),
            Self::Zstd(l) => format!("zstd-{l}"),
            Self::Memcpy => "memcpy".into(),
        }
    }

    /// A fresh instance, or `None` for the codec that runs out of process.
    pub fn instance(self) -> Option<Box<dyn Codec>> {
        Some(match self {
            Self::ZcxlLz4 => Box::new(Device(Lz4)),
            Self::ZcxlZstd(l) => Box::new(Device(Zstd::new(l))),
            Self::ZcxlSame => Box::new(ZcxlSame),
            Self::Lz4FlexSafe => Box::new(crate::flex::Lz4Flex::default()),
            Self::Lz4FlexUnsafe => return None,
            Self::Lz4C => Box::new(Lz4C(None)),
            Self::Lz4CFast(a) => Box::new(Lz4C(Some(a))),
            Self::Zstd(l) => Box::new(ZstdBulk(i32::from(l))),
            Self::Memcpy => Box::new(Memcpy),
        })
    }
}

/// A decoder result that is not exactly one page.
fn page_len(n: Option<usize>, what: &str) -> Result<(), String> {
    match n {
        Some(PAGE_SIZE) => Ok(()),
        other => Err(format!("{what} decoded to {other:?} bytes")),
    }
}

/// One of the device's own codecs, called as the device calls it (per-thread
/// LZ4 table / zstd contexts kept by the codec); the device's zero and
/// same-filled check before it is the `zcxl-same` codec's.
struct Device<C>(C);

impl<C: PageCodec + Send> Codec for Device<C> {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        self.0
            .compress(page, out)
            .map(Packed::blob)
            .ok_or_else(|| "blob does not fit".into())
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        self.0.decompress(blob, page).map_err(|e| e.to_string())
    }
}

/// Same-filled detection alone: a repeated word costs metadata, anything
/// else is stored raw (a copy).
struct ZcxlSame;

impl Codec for ZcxlSame {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        Ok(match same_filled(page) {
            Some(word) => {
                out[..8].copy_from_slice(&word.to_le_bytes());
                Packed { len: 8, same: true }
            }
            None => {
                out[..PAGE_SIZE].copy_from_slice(page);
                Packed::blob(PAGE_SIZE)
            }
        })
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        match blob.len() {
            8 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(blob);
                page.chunks_exact_mut(8).for_each(|c| c.copy_from_slice(&w));
            }
            PAGE_SIZE => page.copy_from_slice(blob),
            n => return Err(format!("{n}-byte blob")),
        }
        Ok(())
    }
}

/// liblz4: `LZ4_compress_default`, or `LZ4_compress_fast` at an acceleration.
struct Lz4C(Option<i32>);

impl Codec for Lz4C {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        match self.0 {
            None => c_reference::compress_default(page, out),
            Some(a) => c_reference::compress_fast(page, a, out),
        }
        .map(Packed::blob)
        .ok_or_else(|| "liblz4 failed".into())
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        page_len(
            c_reference::decompress_safe(blob, page),
            "LZ4_decompress_safe",
        )
    }
}

/// zstd the simple way: `zstd::bulk` per page, a fresh context per call
/// (`compress_to_buffer`, so no output `Vec` is allocated either).
struct ZstdBulk(i32);

impl Codec for ZstdBulk {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        zstd::bulk::compress_to_buffer(page, out, self.0)
            .map(Packed::blob)
            .map_err(|e| e.to_string())
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        let n = zstd::bulk::decompress_to_buffer(blob, page).map_err(|e| e.to_string())?;
        page_len(Some(n), "zstd")
    }
}

/// The ceiling: copy the page out and back.
struct Memcpy;

impl Codec for Memcpy {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        out[..PAGE_SIZE].copy_from_slice(page);
        Ok(Packed::blob(PAGE_SIZE))
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        page.copy_from_slice(blob.get(..PAGE_SIZE).ok_or("short blob")?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_explained() {
        for name in DEFAULT
            .iter()
            .copied()
            .chain(["zstd-19", "lz4-c-fast-17", "zcxl-zstd-7"])
        {
            assert_eq!(Kind::parse(name).unwrap().name(), name);
        }
        assert!(Kind::parse("zstd-0").unwrap_err().contains("1..=19"));
        assert!(Kind::parse("lz4-c-fast-0")
            .unwrap_err()
            .contains("acceleration"));
        assert!(Kind::parse("gzip").unwrap_err().contains("known:"));
    }

    #[test]
    fn every_in_process_codec_round_trips() {
        let mut page = [0u8; PAGE_SIZE];
        page.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i / 7) as u8);
        for name in DEFAULT.iter().copied().chain(["lz4-c-fast-17"]) {
            let Some(mut c) = Kind::parse(name).unwrap().instance() else {
                continue;
            };
            let mut out = vec![0u8; crate::harness::OUT_LEN];
            let p = c.compress(&page, &mut out).unwrap();
            let mut back = [0u8; PAGE_SIZE];
            c.decompress(&out[..p.len], &mut back).unwrap();
            assert_eq!(back, page, "{name}");
        }
    }
}
