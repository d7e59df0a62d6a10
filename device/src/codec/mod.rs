//! Page classification and compression.
//!
//! Every page goes through the same pipeline: zero / same-filled detection
//! first (no media needed), then the policy's codec; a compressed form that
//! does not save at least the policy's raw margin is stored raw instead.

pub mod lz4;
pub mod same_filled;
mod zstd;

pub use self::lz4::Lz4;
pub use self::same_filled::same_filled;
pub use self::zstd::Zstd;

use crate::geometry::{Page, PAGE_SIZE};
use serde::Serialize;
use thiserror::Error;

/// A codec that compresses whole pages into self-contained blobs.
///
/// Implementations keep any per-thread state (hash tables, zstd contexts)
/// themselves, so one instance can be shared by every worker thread.
pub trait PageCodec: Sync {
    /// Compresses `page` into `out`. Returns the blob length, or `None` when
    /// the blob would not fit in `out` (the page is then stored raw).
    fn compress(&self, page: &Page, out: &mut [u8]) -> Option<usize>;

    /// Decompresses a blob made by [`PageCodec::compress`] into `page`.
    /// A blob that does not decode to exactly one page is an error.
    fn decompress(&self, blob: &[u8], page: &mut Page) -> Result<(), CodecError>;
}

/// A blob that does not decode to a page.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{codec} blob of {len} bytes does not decode to a {PAGE_SIZE}-byte page: {reason}")]
pub struct CodecError {
    pub codec: &'static str,
    pub len: usize,
    pub reason: String,
}

/// The compressors a policy can select; stored with each compressed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum CodecId {
    Lz4 = 1,
    Zstd = 2,
}

impl CodecId {
    pub fn from_wire(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Lz4),
            2 => Some(Self::Zstd),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }
}

/// Lowest and highest zstd level a policy may select.
pub const ZSTD_LEVELS: std::ops::RangeInclusive<i8> = 1..=19;
/// Scratch space [`encode`] needs: codecs want room for their worst case
/// (LZ4 needs a little more than a page before it even starts).
pub const SCRATCH_LEN: usize = 2 * PAGE_SIZE;

/// Largest raw margin a policy may select (half a page).
pub const MAX_RAW_MARGIN: u16 = (PAGE_SIZE / 2) as u16;

/// How the device compresses pages it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompressionPolicy {
    pub codec: CodecId,
    /// zstd level, used when `codec` is zstd (kept otherwise).
    pub zstd_level: i8,
    /// A page is stored compressed only when its media footprint is at least
    /// this many bytes smaller than a raw page.
    pub raw_margin: u16,
}

impl Default for CompressionPolicy {
    fn default() -> Self {
        Self {
            codec: CodecId::Lz4,
            zstd_level: 3,
            raw_margin: 256,
        }
    }
}

/// A policy value the device refuses.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PolicyError {
    #[error("zstd level {0} is outside {min}..={max}", min = ZSTD_LEVELS.start(), max = ZSTD_LEVELS.end())]
    ZstdLevel(i8),
    #[error("raw margin {0} B exceeds the maximum of {MAX_RAW_MARGIN} B")]
    RawMargin(u16),
}

impl CompressionPolicy {
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !ZSTD_LEVELS.contains(&self.zstd_level) {
            return Err(PolicyError::ZstdLevel(self.zstd_level));
        }
        if self.raw_margin > MAX_RAW_MARGIN {
            return Err(PolicyError::RawMargin(self.raw_margin));
        }
        Ok(())
    }

    /// Packs the policy into one word so the store path can read it with a
    /// single atomic load.
    pub(crate) fn pack(&self) -> u64 {
        u64::from(self.codec as u8)
            | u64::from(self.zstd_level as u8) << 8
            | u64::from(self.raw_margin) << 16
    }

    pub(crate) fn unpack(word: u64) -> Self {
        Self {
            codec: CodecId::from_wire(word as u8).unwrap_or(CodecId::Lz4),
            zstd_level: (word >> 8) as u8 as i8,
            raw_margin: (word >> 16) as u16,
        }
    }
}

/// What a page turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded<'a> {
    /// All bytes zero.
    Zero,
    /// One little-endian 64-bit word repeated over the page (not zero).
    Same(u64),
    /// A blob made by `codec`.
    Compressed { codec: CodecId, blob: &'a [u8] },
    /// Stored as-is: compression would not have saved the raw margin.
    Raw,
}

/// Runs `codec`'s compressor for `id`/`level`.
pub fn compress_with(id: CodecId, zstd_level: i8, page: &Page, out: &mut [u8]) -> Option<usize> {
    match id {
        CodecId::Lz4 => Lz4.compress(page, out),
        CodecId::Zstd => Zstd::new(zstd_level).compress(page, out),
    }
}

/// Decompresses a blob stored with codec `id`.
pub fn decompress_with(id: CodecId, blob: &[u8], page: &mut Page) -> Result<(), CodecError> {
    match id {
        CodecId::Lz4 => Lz4.decompress(blob, page),
        // The level only matters when compressing.
        CodecId::Zstd => Zstd::new(1).decompress(blob, page),
    }
}

/// Whether a blob of `len` bytes is kept rather than storing the page raw:
/// it must be shorter than a page and its media footprint (`footprint`, the
/// arena's size class) must save at least `raw_margin` bytes.
pub fn keeps_blob(len: usize, raw_margin: u16, footprint: impl Fn(usize) -> usize) -> bool {
    len > 0 && len < PAGE_SIZE && footprint(len) <= PAGE_SIZE - usize::from(raw_margin)
}

/// Classifies and compresses one page under `policy`.
///
/// `footprint` maps a blob length to the media bytes it would occupy (the
/// arena's size class), so the raw-margin decision is made on what the
/// media would actually hold. `scratch` should hold [`SCRATCH_LEN`] bytes; a
/// smaller one only makes more pages come out raw.
pub fn encode<'a>(
    page: &Page,
    policy: &CompressionPolicy,
    footprint: impl Fn(usize) -> usize,
    scratch: &'a mut [u8],
) -> Encoded<'a> {
    match same_filled(page) {
        Some(0) => return Encoded::Zero,
        Some(word) => return Encoded::Same(word),
        None => {}
    }
    match compress_with(policy.codec, policy.zstd_level, page, scratch) {
        Some(len) if keeps_blob(len, policy.raw_margin, &footprint) => Encoded::Compressed {
            codec: policy.codec,
            blob: &scratch[..len],
        },
        _ => Encoded::Raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{random_page, same_page, text_page};

    #[test]
    fn zero_and_same_filled_pages_need_no_codec() {
        let mut scratch = [0u8; SCRATCH_LEN];
        let policy = CompressionPolicy::default();
        assert_eq!(
            encode(&[0; PAGE_SIZE], &policy, |n| n, &mut scratch),
            Encoded::Zero
        );
        let page = same_page(0xdead_beef_0bad_f00d);
        assert_eq!(
            encode(&page, &policy, |n| n, &mut scratch),
            Encoded::Same(0xdead_beef_0bad_f00d)
        );
    }

    #[test]
    fn every_codec_round_trips_compressible_pages() {
        let page = text_page(0);
        for (codec, level) in [(CodecId::Lz4, 1), (CodecId::Zstd, 1), (CodecId::Zstd, 19)] {
            let policy = CompressionPolicy {
                codec,
                zstd_level: level,
                raw_margin: 256,
            };
            let mut scratch = [0u8; SCRATCH_LEN];
            let Encoded::Compressed { codec: got, blob } =
                encode(&page, &policy, |n| n, &mut scratch)
            else {
                panic!("{codec:?} did not compress a text page");
            };
            assert_eq!(got, codec);
            assert!(
                blob.len() < PAGE_SIZE / 2,
                "{codec:?}: {} bytes",
                blob.len()
            );
            let mut out = [0u8; PAGE_SIZE];
            decompress_with(codec, blob, &mut out).unwrap();
            assert_eq!(out, *page);
        }
    }

    #[test]
    fn incompressible_pages_are_stored_raw() {
        let mut scratch = [0u8; SCRATCH_LEN];
        for codec in [CodecId::Lz4, CodecId::Zstd] {
            let policy = CompressionPolicy {
                codec,
                ..Default::default()
            };
            assert_eq!(
                encode(&random_page(7), &policy, |n| n, &mut scratch),
                Encoded::Raw
            );
        }
    }

    #[test]
    fn raw_margin_is_judged_on_the_media_footprint() {
        let page = text_page(0);
        let mut scratch = [0u8; SCRATCH_LEN];
        let policy = CompressionPolicy {
            raw_margin: 1024,
            ..Default::default()
        };
        // A footprint that leaves less than the margin forces raw storage.
        assert_eq!(
            encode(&page, &policy, |_| PAGE_SIZE - 1000, &mut scratch),
            Encoded::Raw
        );
        assert!(matches!(
            encode(&page, &policy, |_| PAGE_SIZE - 1024, &mut scratch),
            Encoded::Compressed { .. }
        ));
    }

    #[test]
    fn corrupt_blobs_are_errors_not_panics() {
        let mut out = [0u8; PAGE_SIZE];
        for codec in [CodecId::Lz4, CodecId::Zstd] {
            for blob in [&[][..], &[0xff; 7][..], &[0x1f, 0, 0, 0, 0][..]] {
                assert!(decompress_with(codec, blob, &mut out).is_err());
            }
        }
        // A valid blob of a shorter input is not a page either.
        let mut short = [0u8; 32];
        let n = lz4::c_reference::compress_fast(&[b'x'; PAGE_SIZE], 1, &mut short).unwrap();
        assert!(decompress_with(CodecId::Lz4, &short[..n], &mut out).is_ok());
        let short = [0x50, b'h', b'e', b'l', b'l', b'o'];
        assert!(decompress_with(CodecId::Lz4, &short, &mut out).is_err());
    }

    #[test]
    fn policy_packs_and_validates() {
        let p = CompressionPolicy {
            codec: CodecId::Zstd,
            zstd_level: 19,
            raw_margin: 2048,
        };
        assert_eq!(CompressionPolicy::unpack(p.pack()), p);
        assert!(p.validate().is_ok());
        let bad_level = CompressionPolicy { zstd_level: 0, ..p };
        assert_eq!(bad_level.validate(), Err(PolicyError::ZstdLevel(0)));
        let bad_margin = CompressionPolicy {
            raw_margin: 2049,
            ..p
        };
        assert_eq!(bad_margin.validate(), Err(PolicyError::RawMargin(2049)));
    }
}
