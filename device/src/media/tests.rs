use super::*;
use crate::clock::DeviceClock;
use crate::events::{LogKind, VENDOR_EVENT_UUID};
use crate::geometry::CAPACITY_UNIT;
use crate::testutil::{random_page, same_page, text_page};
use proptest::prelude::*;
use std::collections::HashMap;

const SLAB: u64 = SLAB_SIZE as u64;

fn media(media_bytes: u64, wm: (u8, u8)) -> (Media, Arc<EventLogs>) {
    let events = Arc::new(EventLogs::new(1024, Arc::new(DeviceClock::default())));
    let m = Media::new(
        Geometry::new(CAPACITY_UNIT, media_bytes).unwrap(),
        CompressionPolicy::default(),
        WatermarkConfig::new(wm.0, wm.1).unwrap(),
        64,
        events.clone(),
    )
    .unwrap();
    (m, events)
}

/// Deterministic page contents of a few kinds.
#[derive(Debug, Clone, Copy)]
enum Pattern {
    Zero,
    Same(u64),
    Text(u8),
    Random(u64),
}

fn page_of(p: Pattern) -> Box<Page> {
    match p {
        Pattern::Zero => Box::new([0; PAGE_SIZE]),
        Pattern::Same(w) => same_page(w),
        Pattern::Text(seed) => text_page(seed),
        Pattern::Random(seed) => random_page(seed),
    }
}

fn check_consistent(m: &Media) {
    let s = m.stats();
    let a = m.audit();
    assert_eq!(s.used_bytes, a.used_bytes, "budget vs arena+metadata");
    assert_eq!(
        s.used_bytes,
        s.blob_bytes + s.metadata_bytes + s.fragmentation_bytes
    );
    assert_eq!(s.blob_bytes, a.blob_bytes);
    assert_eq!(s.written_pages, a.written_pages);
    assert_eq!(
        a.slot_bytes, a.arena_slot_bytes,
        "page table vs arena slots"
    );
    assert_eq!(s.pages.as_array(), a.pages);
    assert_eq!(s.pages.as_array().iter().sum::<u64>(), m.geometry().pages());
    assert!(s.used_bytes <= s.media_bytes);
}

#[test]
fn pages_read_back_exactly_and_are_classified() {
    let (m, _) = media(64 * SLAB, (80, 90));
    let cases = [
        (Pattern::Zero, PageState::Zero),
        (Pattern::Same(0x1122_3344_5566_7788), PageState::SameFilled),
        (Pattern::Text(3), PageState::Compressed),
        (Pattern::Random(9), PageState::Raw),
    ];
    for (i, (pattern, state)) in cases.iter().enumerate() {
        let dpa = i as u64 * PAGE_SIZE as u64;
        let page = page_of(*pattern);
        let outcome = m.store(dpa, &page).unwrap();
        assert_eq!(outcome.state, *state, "{pattern:?}");
        let mut out = [0xffu8; PAGE_SIZE];
        assert_eq!(m.load(dpa, &mut out).unwrap(), *state);
        assert_eq!(&out[..], &page[..], "{pattern:?}");
    }
    // Unwritten pages read as zeros.
    let mut out = [0xffu8; PAGE_SIZE];
    assert_eq!(m.load(100 * 4096, &mut out).unwrap(), PageState::Unwritten);
    assert!(out.iter().all(|&b| b == 0));
    let s = m.stats();
    assert_eq!(s.pages.zero, 1);
    assert_eq!(s.pages.same_filled, 1);
    assert_eq!(s.pages.compressed, 1);
    assert_eq!(s.pages.raw, 1);
    assert_eq!(s.metadata_bytes, 4 * META_BYTES_PER_PAGE);
    // Two slabs: one for the compressed class, one for raw pages.
    assert_eq!(s.used_bytes, 2 * SLAB + 4 * META_BYTES_PER_PAGE);
    check_consistent(&m);
}

#[test]
fn zero_pages_cost_only_metadata() {
    let (m, _) = media(64 * SLAB, (80, 90));
    for i in 0..1000u64 {
        m.store(i * 4096, &page_of(Pattern::Zero)).unwrap();
    }
    let s = m.stats();
    assert_eq!(s.used_bytes, 1000 * META_BYTES_PER_PAGE);
    assert_eq!(s.blob_bytes, 0);
    assert!((s.ratio - 256.0).abs() < 1e-9);
}

#[test]
fn discard_frees_media_and_rejects_bad_ranges() {
    let (m, _) = media(64 * SLAB, (80, 90));
    for i in 0..40u64 {
        m.store(i * 4096, &page_of(Pattern::Random(i))).unwrap();
    }
    assert_eq!(m.stats().pages.raw, 40);
    assert_eq!(m.discard(0, 40 * 4096).unwrap(), 40);
    let s = m.stats();
    assert_eq!(s.used_bytes, 0);
    assert_eq!(s.pages.unwritten, m.geometry().pages());
    assert_eq!(s.discarded_pages, 40);
    assert!(matches!(
        m.discard(1, 4096),
        Err(MediaError::Dpa(DpaError::Misaligned { .. }))
    ));
    assert!(matches!(
        m.discard(CAPACITY_UNIT - 4096, 8192),
        Err(MediaError::Dpa(DpaError::OutOfRange { .. }))
    ));
    check_consistent(&m);
}

#[test]
fn exhaustion_poisons_only_the_failed_page() {
    // Two slabs: 32 raw pages fit, minus what the metadata takes.
    let (m, events) = media(2 * SLAB, (80, 90));
    let mut stored = Vec::new();
    let mut failed = None;
    for i in 0..64u64 {
        match m.store(i * 4096, &page_of(Pattern::Random(i))) {
            Ok(_) => stored.push(i),
            Err(MediaError::Exhausted { dpa }) => {
                failed = Some(dpa);
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let failed = failed.expect("media never ran out");
    // Slab 1 holds 16 pages; slab 2 cannot be fully used because metadata
    // already took part of the budget.
    assert_eq!(stored.len(), 16);
    assert_eq!(m.page_state(failed).unwrap(), PageState::Poisoned);
    assert!(m.holds_poison());
    let mut out = [0u8; PAGE_SIZE];
    assert!(matches!(
        m.load(failed, &mut out),
        Err(MediaError::Poisoned {
            lines: u64::MAX,
            ..
        })
    ));
    for i in stored {
        m.load(i * 4096, &mut out).unwrap();
        assert_eq!(&out[..], &page_of(Pattern::Random(i))[..]);
    }
    // The failure is a vendor record in the failure log.
    let batch = events.get(LogKind::Failure, 10);
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].uuid, VENDOR_EVENT_UUID);
    assert_eq!(batch.records[0].data[0], VendorEvent::TYPE_MEDIA_EXHAUSTED);
    assert_eq!(&batch.records[0].data[40..48], &failed.to_le_bytes());
    assert_eq!(m.stats().failed_stores, 1);
    // The poison record names the page with the internal source.
    let recs = m.poison_records(0, CAPACITY_UNIT).unwrap();
    assert_eq!(
        recs,
        vec![PoisonRecord {
            dpa: failed,
            lines: 64,
            source: PoisonSource::Internal
        }]
    );
    // A zero page needs no slab, so it can still be stored over the failed
    // one, which clears the poison.
    m.store(failed, &page_of(Pattern::Zero)).unwrap();
    assert_eq!(m.page_state(failed).unwrap(), PageState::Zero);
    check_consistent(&m);
}

#[test]
fn racing_crossings_are_logged_in_order_with_their_pressure() {
    // One thread fills the media past the high watermark while another
    // empties it below the low one, over and over: every high record says
    // "under pressure", every low one "not", and they alternate.
    let (m, events) = media(16 * SLAB, (20, 40));
    let m = Arc::new(m);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let filler = {
        let (m, done) = (m.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..20_000u64 {
                let _ = m.store((i % 160) * 4096, &random_page(i));
            }
            done.store(true, std::sync::atomic::Ordering::Release);
        })
    };
    // Empty the media the moment pressure comes on: the low crossing races
    // the logging of the high one.
    while !done.load(std::sync::atomic::Ordering::Acquire) {
        if m.under_pressure() {
            m.discard(0, 160 * 4096).unwrap();
        }
    }
    filler.join().unwrap();
    let high = events.get(LogKind::Warning, 1000).records;
    let low = events.get(LogKind::Informational, 1000).records;
    assert!(!high.is_empty(), "the race never crossed");
    for r in &high {
        assert_eq!(r.data[0], VendorEvent::TYPE_WATERMARK_HIGH);
        assert_eq!(r.data[1], 1, "a high crossing logged without pressure");
    }
    for r in &low {
        assert_eq!(r.data[0], VendorEvent::TYPE_WATERMARK_LOW);
        assert_eq!(r.data[1], 0, "a low crossing logged under pressure");
    }
    let w = m.stats().watermarks;
    assert!(w.crossings_high - w.crossings_low <= 1);
    assert_eq!(
        (w.crossings_high, w.crossings_low),
        (high.len() as u64, low.len() as u64)
    );
}

#[test]
fn watermark_crossings_log_one_event_each() {
    let (m, events) = media(16 * SLAB, (25, 50));
    // Each raw slab is 16 pages; 8 slabs reach 50%.
    let mut page = 0u64;
    while m.stats().watermarks.crossings_high == 0 {
        m.store(page * 4096, &page_of(Pattern::Random(page)))
            .unwrap();
        page += 1;
    }
    assert!(m.under_pressure());
    assert_eq!(events.get(LogKind::Warning, 10).records.len(), 1);
    // More stores above high: no new event.
    for _ in 0..16 {
        m.store(page * 4096, &page_of(Pattern::Random(page)))
            .unwrap();
        page += 1;
    }
    assert_eq!(events.get(LogKind::Warning, 10).records.len(), 1);
    // Freeing down to between the watermarks keeps the pressure on.
    m.discard(0, 5 * 16 * 4096).unwrap();
    assert!(m.under_pressure());
    m.discard(0, page * 4096).unwrap();
    assert!(!m.under_pressure());
    let info = events.get(LogKind::Informational, 10);
    assert_eq!(info.records.len(), 1);
    assert_eq!(info.records[0].data[0], VendorEvent::TYPE_WATERMARK_LOW);
    let w = m.stats().watermarks;
    assert_eq!((w.crossings_high, w.crossings_low), (1, 1));
}

#[test]
fn poison_injection_listing_and_clearing() {
    let (m, _) = media(16 * SLAB, (80, 90));
    let text = page_of(Pattern::Text(1));
    m.store(0x3000, &text).unwrap();
    assert!(!m.holds_poison());
    m.inject_poison(0x3040).unwrap();
    assert!(m.holds_poison());
    m.inject_poison(0x3080).unwrap();
    m.inject_poison(0x3040).unwrap(); // idempotent
    m.inject_poison(0x5fc0).unwrap();
    assert_eq!(m.injected_lines(), 3);
    assert!(matches!(
        m.inject_poison(0x3001),
        Err(MediaError::Dpa(DpaError::Misaligned { .. }))
    ));
    assert!(matches!(
        m.inject_poison(CAPACITY_UNIT),
        Err(MediaError::Dpa(DpaError::OutOfRange { .. }))
    ));
    let recs = m.poison_records(0, CAPACITY_UNIT).unwrap();
    assert_eq!(
        recs,
        vec![
            PoisonRecord {
                dpa: 0x3040,
                lines: 2,
                source: PoisonSource::Injected
            },
            PoisonRecord {
                dpa: 0x5fc0,
                lines: 1,
                source: PoisonSource::Injected
            },
        ]
    );
    // A range query clips runs.
    assert_eq!(
        m.poison_records(0x3080, 0x40).unwrap(),
        vec![PoisonRecord {
            dpa: 0x3080,
            lines: 1,
            source: PoisonSource::Injected
        }]
    );
    assert_eq!(m.stats().pages.poisoned, 2);
    // Clearing one line writes it and keeps the page's other poison.
    m.clear_poison(0x3040, &[0xab; 64]).unwrap();
    assert_eq!(m.page_state(0x3000).unwrap(), PageState::Poisoned);
    m.clear_poison(0x3080, &[0xcd; 64]).unwrap();
    let mut out = [0u8; PAGE_SIZE];
    m.load(0x3000, &mut out).unwrap();
    let mut expect = *text;
    expect[0x40..0x80].fill(0xab);
    expect[0x80..0xc0].fill(0xcd);
    assert_eq!(&out[..], &expect[..]);
    assert_eq!(m.injected_lines(), 1);
    assert!(m.holds_poison(), "0x5fc0 is still poisoned");
    m.clear_poison(0x5fc0, &[0; 64]).unwrap();
    assert!(!m.holds_poison());
    check_consistent(&m);
}

#[test]
fn inject_limit_is_enforced_and_freed_by_clearing() {
    let (m, _) = media(16 * SLAB, (80, 90));
    for i in 0..64u64 {
        m.inject_poison(i * 64).unwrap();
    }
    assert_eq!(
        m.inject_poison(64 * 64),
        Err(MediaError::InjectLimit { limit: 64 })
    );
    m.discard(0, 4096).unwrap();
    m.inject_poison(64 * 64).unwrap();
}

#[test]
fn policy_changes_apply_to_new_stores_only() {
    let (m, _) = media(16 * SLAB, (80, 90));
    let text = page_of(Pattern::Text(2));
    assert_eq!(m.store(0, &text).unwrap().codec, Some(CodecId::Lz4));
    m.set_policy(CompressionPolicy {
        codec: CodecId::Zstd,
        zstd_level: 5,
        raw_margin: 0,
    })
    .unwrap();
    assert_eq!(m.store(4096, &text).unwrap().codec, Some(CodecId::Zstd));
    let mut out = [0u8; PAGE_SIZE];
    for dpa in [0, 4096] {
        m.load(dpa, &mut out).unwrap();
        assert_eq!(&out[..], &text[..]);
    }
    assert!(m
        .set_policy(CompressionPolicy {
            codec: CodecId::Zstd,
            zstd_level: 40,
            raw_margin: 0
        })
        .is_err());
    assert_eq!(m.policy().zstd_level, 5);
}

#[test]
fn one_page_racing_never_drives_a_counter_below_zero() {
    // Stores, discards, poison and clears of the same few pages on four
    // threads while a fifth reads the figures: each page's counters change
    // under its lock, so none is ever seen wrapped past zero.
    let (m, _) = media(64 * SLAB, (80, 90));
    let m = Arc::new(m);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (m, stop) = (m.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = m.stats();
                let pages = s.pages.as_array();
                assert!(pages.iter().all(|&n| n <= 64 * 1024), "{pages:?}");
                assert!(s.written_pages <= 8, "{}", s.written_pages);
                reads += 1;
            }
            reads
        })
    };
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..3000u64 {
                    let dpa = (i % 8) * 4096;
                    match (i + t) % 5 {
                        0 | 1 => drop(m.store(dpa, &page_of(Pattern::Text(i as u8)))),
                        2 => drop(m.discard(dpa, 4096)),
                        3 => drop(m.inject_poison(dpa + 64 * (t + 1))),
                        _ => drop(m.clear_poison(dpa + 64 * (t + 1), &[0; 64])),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    check_consistent(&m);
}

#[test]
fn concurrent_stores_to_different_pages_all_land() {
    let (m, _) = media(512 * SLAB, (80, 90));
    let m = Arc::new(m);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..500u64 {
                    let page = t * 1000 + i;
                    let pattern = match i % 4 {
                        0 => Pattern::Zero,
                        1 => Pattern::Text(i as u8),
                        2 => Pattern::Random(page),
                        _ => Pattern::Same(page),
                    };
                    m.store(page * 4096, &page_of(pattern)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut out = [0u8; PAGE_SIZE];
    for t in 0..4u64 {
        for i in 0..500u64 {
            let page = t * 1000 + i;
            m.load(page * 4096, &mut out).unwrap();
            let pattern = match i % 4 {
                0 => Pattern::Zero,
                1 => Pattern::Text(i as u8),
                2 => Pattern::Random(page),
                _ => Pattern::Same(page),
            };
            assert_eq!(&out[..], &page_of(pattern)[..]);
        }
    }
    assert_eq!(m.stats().written_pages, 2000);
    check_consistent(&m);
}

// ---------------------------------------------------------------------------
// Property tests: random interleavings against an independent model.

#[derive(Debug, Clone)]
enum Op {
    Store(u64, Pattern),
    Discard(u64, u64),
    Load(u64),
    Inject(u64, u64),
    Clear(u64, u64, u8),
}

const MODEL_PAGES: u64 = 96;

fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        Just(Pattern::Zero),
        any::<u64>().prop_map(Pattern::Same),
        any::<u8>().prop_map(Pattern::Text),
        any::<u64>().prop_map(Pattern::Random),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..MODEL_PAGES;
    prop_oneof![
        6 => (page.clone(), pattern()).prop_map(|(p, pat)| Op::Store(p, pat)),
        2 => (page.clone(), 1..8u64).prop_map(|(p, n)| Op::Discard(p, n)),
        2 => page.clone().prop_map(Op::Load),
        1 => (page.clone(), 0..64u64).prop_map(|(p, l)| Op::Inject(p, l)),
        1 => (page, 0..64u64, any::<u8>()).prop_map(|(p, l, b)| Op::Clear(p, l, b)),
    ]
}

#[derive(Clone)]
struct ModelPage {
    data: Box<Page>,
    written: bool,
    poison: u64,
}

impl Default for ModelPage {
    fn default() -> Self {
        Self {
            data: Box::new([0; PAGE_SIZE]),
            written: false,
            poison: 0,
        }
    }
}

/// Media bytes the model expects for its pages: blob bytes from an
/// independent encoding and metadata per written page.
fn model_blob_bytes(pages: &HashMap<u64, ModelPage>, policy: &CompressionPolicy) -> u64 {
    let mut scratch = [0u8; codec::SCRATCH_LEN];
    pages
        .values()
        .filter(|p| p.written)
        .map(
            |p| match codec::encode(&p.data, policy, footprint, &mut scratch) {
                Encoded::Zero | Encoded::Same(_) => 0,
                Encoded::Compressed { blob, .. } => blob.len() as u64,
                Encoded::Raw => PAGE_SIZE as u64,
            },
        )
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn accounting_and_contents_match_a_model(ops in proptest::collection::vec(op(), 1..120)) {
        // Small media so that exhaustion and watermarks happen.
        let (m, events) = media(4 * SLAB, (40, 70));
        let policy = m.policy();
        let mut model: HashMap<u64, ModelPage> = HashMap::new();
        let mut pressure = false;
        let mut crossings = (0u64, 0u64);
        for op in ops {
            let used_before = m.used();
            match op {
                Op::Store(p, pat) => {
                    let data = page_of(pat);
                    let entry = model.entry(p).or_default();
                    match m.store(p * 4096, &data) {
                        Ok(_) => {
                            *entry = ModelPage { data, written: true, poison: 0 };
                        }
                        Err(MediaError::Exhausted { .. }) => {
                            // Only legitimate when the media could not take
                            // a new slab or a metadata entry.
                            prop_assert!(used_before + SLAB > m.geometry().media_bytes());
                            *entry = ModelPage { poison: u64::MAX, ..ModelPage::default() };
                        }
                        Err(e) => prop_assert!(false, "store failed: {e}"),
                    }
                }
                Op::Discard(p, n) => {
                    let n = n.min(MODEL_PAGES - p);
                    m.discard(p * 4096, n * 4096).unwrap();
                    for q in p..p + n {
                        model.remove(&q);
                    }
                }
                Op::Load(p) => {
                    let mut out = [0u8; PAGE_SIZE];
                    let expect = model.get(&p).cloned().unwrap_or_default();
                    match m.load(p * 4096, &mut out) {
                        Ok(_) => {
                            prop_assert_eq!(expect.poison, 0);
                            prop_assert_eq!(&out[..], &expect.data[..]);
                        }
                        Err(MediaError::Poisoned { lines, .. }) => {
                            prop_assert_eq!(lines, expect.poison);
                        }
                        Err(e) => prop_assert!(false, "load failed: {e}"),
                    }
                }
                Op::Inject(p, line) => {
                    let entry = model.entry(p).or_default();
                    match m.inject_poison(p * 4096 + line * 64) {
                        Ok(()) => entry.poison |= 1 << line,
                        Err(MediaError::InjectLimit { .. }) => {
                            prop_assert!(m.injected_lines() >= 64);
                        }
                        Err(e) => prop_assert!(false, "inject failed: {e}"),
                    }
                }
                Op::Clear(p, line, byte) => {
                    let entry = model.entry(p).or_default();
                    match m.clear_poison(p * 4096 + line * 64, &[byte; 64]) {
                        Ok(()) => {
                            let s = (line * 64) as usize;
                            entry.data[s..s + 64].fill(byte);
                            entry.written = true;
                            entry.poison &= !(1 << line);
                        }
                        Err(MediaError::Exhausted { .. }) => {
                            *entry = ModelPage { poison: u64::MAX, ..ModelPage::default() };
                        }
                        Err(e) => prop_assert!(false, "clear failed: {e}"),
                    }
                }
            }
            // Accounting: the device's figures equal the model's.
            let s = m.stats();
            let written = model.values().filter(|p| p.written).count() as u64;
            prop_assert_eq!(s.written_pages, written);
            prop_assert_eq!(s.metadata_bytes, written * META_BYTES_PER_PAGE);
            prop_assert_eq!(s.blob_bytes, model_blob_bytes(&model, &policy));
            let poisoned = model.values().filter(|p| p.poison != 0).count() as u64;
            prop_assert_eq!(s.pages.poisoned, poisoned);
            check_consistent(&m);
            // Watermarks: one crossing per transition of an independent
            // hysteresis model.
            let (low, high) = m.watermarks().bytes(m.geometry().media_bytes());
            if !pressure && s.used_bytes >= high {
                pressure = true;
                crossings.0 += 1;
            } else if pressure && s.used_bytes < low {
                pressure = false;
                crossings.1 += 1;
            }
            prop_assert_eq!(m.under_pressure(), pressure);
            prop_assert_eq!((s.watermarks.crossings_high, s.watermarks.crossings_low), crossings);
        }
        prop_assert_eq!(events.counters(LogKind::Warning).logged, crossings.0);
        prop_assert_eq!(events.counters(LogKind::Informational).logged, crossings.1);
    }
}

#[test]
fn each_line_keeps_its_own_poison_source() {
    let (m, _) = media(1 << 20, (80, 90));
    m.store(0x3000, &text_page(1)).unwrap();
    m.inject_poison(0x3000 + 5 * 64).unwrap();
    // The whole page is then lost: line 5 stays injected.
    m.poison_lost_page(0x3000).unwrap();
    assert_eq!(m.injected_lines(), 1);
    // Line 0 cleared, then injected: it is injected, not internal.
    m.clear_poison(0x3000, &[0; 64]).unwrap();
    m.inject_poison(0x3000).unwrap();
    assert_eq!(m.injected_lines(), 2, "the limit counts both");
    let rec = |dpa, lines, source| PoisonRecord { dpa, lines, source };
    assert_eq!(
        m.poison_records(0x3000, 4096).unwrap(),
        vec![
            rec(0x3000, 1, PoisonSource::Injected),
            rec(0x3040, 4, PoisonSource::Internal),
            rec(0x3140, 1, PoisonSource::Injected),
            rec(0x3180, 58, PoisonSource::Internal),
        ]
    );
    // Clearing an injected line gives its room back.
    m.clear_poison(0x3140, &[0; 64]).unwrap();
    assert_eq!(m.injected_lines(), 1);
    assert!(m.holds_internal_poison());
    check_consistent(&m);
    // Injected poison alone is not the device's own.
    m.store(0x3000, &text_page(2)).unwrap();
    assert!(!m.holds_poison());
    m.inject_poison(0x3000).unwrap();
    assert!(m.holds_poison() && !m.holds_internal_poison());
}

#[test]
fn a_lost_page_is_poisoned_internally_and_logged() {
    let (m, events) = media(1 << 20, (80, 90));
    m.store(0x3000, &text_page(1)).unwrap();
    let used = m.used();
    assert!(!m.holds_poison());
    m.poison_lost_page(0x3000).unwrap();
    assert_eq!(m.page_state(0x3000), Ok(PageState::Poisoned));
    assert!(m.holds_poison());
    assert!(matches!(
        m.load(0x3000, &mut [0; PAGE_SIZE]),
        Err(MediaError::Poisoned {
            dpa: 0x3000,
            lines: u64::MAX
        })
    ));
    assert_eq!(m.used(), used, "the stored copy keeps its media");
    let recs = m.poison_records(0, CAPACITY_UNIT).unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].source, PoisonSource::Internal);
    assert_eq!(recs[0].lines, LINES_PER_PAGE as u32);
    let batch = events.get(LogKind::Failure, 8);
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].data[0], 3, "media-exhausted style record");
    assert_eq!(&batch.records[0].data[0x28..0x30], &0x3000u64.to_le_bytes());
    check_consistent(&m);
    // A store of the page clears the poison.
    m.store(0x3000, &text_page(2)).unwrap();
    assert_eq!(m.page_state(0x3000), Ok(PageState::Compressed));
    assert!(!m.holds_poison());
    assert!(m.poison_lost_page(0x3001).is_err());
    check_consistent(&m);
}
