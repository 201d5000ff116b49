//! Tests of the LZMA-family readers and the decompression bound on
//! generated files (`tests/fixtures/model-scan/limits`: 16 MiB of zeros,
//! scanned with a 1 MiB member bound).

use super::*;
use crate::config::Config;
use crate::formats::xz::{XZ_MAGIC, varint};
use crate::test_support::fixture;

fn small() -> Config {
    Config {
        max_member_bytes: 1 << 20,
        ..Config::default()
    }
}

fn scan_bytes(cfg: &Config, bytes: Vec<u8>) -> (Vec<crate::scan::Hit>, u64) {
    let mut scanner = Scanner::new(cfg);
    scanner.scan_blob(&Blob::mem(bytes), &mut Vec::new(), 0);
    (scanner.hits, scanner.stats.inflated)
}

#[test]
fn xz_bomb_is_reported_from_its_index_without_decoding_it() {
    let xz = std::fs::read(fixture("../model-scan-limits/zeros_16m.xz")).unwrap();
    assert_eq!(xz_declared(&Blob::mem(xz.clone())), Some(16 << 20));
    let (hits, inflated) = scan_bytes(&small(), xz);
    let bomb = hits
        .iter()
        .find(|h| h.rule == rules::SCAN_LIMIT)
        .expect("bomb");
    assert!(bomb.message.contains("declares 16777216"), "{bomb:?}");
    assert!(inflated <= 64 << 10, "{inflated}");
}

#[test]
fn undeclared_bombs_stop_one_byte_past_the_limit() {
    // bzip2 and .lzma alone declare nothing; an xz without its index
    // (cut short) declares nothing either
    let mut xz = std::fs::read(fixture("../model-scan-limits/zeros_16m.xz")).unwrap();
    xz.truncate(xz.len() - 12);
    let files = [
        std::fs::read(fixture("../model-scan-limits/zeros_16m.bz2")).unwrap(),
        std::fs::read(fixture("../model-scan-limits/zeros_16m.lzma")).unwrap(),
        xz,
    ];
    for bytes in files {
        let (hits, inflated) = scan_bytes(&small(), bytes);
        let bomb = hits
            .iter()
            .find(|h| h.rule == rules::SCAN_LIMIT)
            .expect("bomb");
        assert!(bomb.message.contains("more than 1048576"), "{bomb:?}");
        assert!(inflated <= (1 << 20) + 1, "{inflated}");
    }
}

#[test]
fn concatenated_xz_streams_are_all_read() {
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/two_streams.pkl.xz"));
    let hit = hits
        .iter()
        .find(|h| h.rule == rules::DANGEROUS_GLOBAL)
        .expect("posix.system from the second stream");
    assert_eq!(hit.member, ["<xz>"]);
    assert!(hits.iter().all(|h| h.rule != rules::MALFORMED), "{hits:?}");
}

#[test]
fn huge_dictionaries_are_refused_before_allocation() {
    // .lzma alone: 1 GiB dictionary, unknown size
    let mut alone = vec![0x5d];
    alone.extend((1u32 << 30).to_le_bytes());
    alone.extend(u64::MAX.to_le_bytes());
    alone.extend([0u8; 32]);
    // xz: one block whose LZMA2 filter asks for 4 GiB - 1 (property 40)
    let mut xz = XZ_MAGIC.to_vec();
    xz.extend([0, 1, 0, 0, 0, 0]); // flags (CRC32), header CRC (unchecked)
    xz.extend([2, 0, 0x21, 1, 40, 0, 0, 0, 0, 0, 0, 0]); // block header
    xz.extend([0u8; 32]);
    // (as a whole blob these decode nothing within the 1 MiB first try, so
    // the huge dictionary is never needed; decoded as a stream it is refused)
    let cfg = Config::default();
    for (kind, bytes) in [(Lzma::Alone, alone), (Lzma::Xz, xz)] {
        let mut scanner = Scanner::new(&cfg);
        decode(&mut scanner, kind, &bytes[..], &[], "test", None);
        assert!(
            scanner
                .hits
                .iter()
                .any(|h| h.rule == rules::SCAN_LIMIT && h.message.contains("dictionary")),
            "{:?}",
            scanner.hits
        );
    }
}

#[test]
fn xz_integers_and_filters_are_checked() {
    assert_eq!(varint(&mut &[0x80, 0x01][..]).unwrap(), 128);
    assert!(varint(&mut &[0xff; 10][..]).is_err());
    // two filters before LZMA2 (BCJ x86, delta): reported, not decoded wrongly
    let mut xz = XZ_MAGIC.to_vec();
    xz.extend([0, 1, 0, 0, 0, 0]);
    xz.extend([
        4, 2, 0x04, 0, 0x03, 1, 0, 0x21, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    let (hits, _) = scan_bytes(&Config::default(), xz);
    assert!(
        hits.iter().any(|h| h.rule == rules::UNSUPPORTED),
        "{hits:?}"
    );
}

#[test]
fn bcj_and_delta_filtered_xz_is_decoded() {
    // `lzma.open` decodes these; the payload is found behind each filter
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    for rel in ["malicious/bcj_x86.pkl.xz", "malicious/delta.pkl.xz"] {
        let hits = scanner.scan_file(&fixture(rel));
        assert!(
            hits.iter().any(|h| h.rule == rules::DANGEROUS_GLOBAL),
            "{rel}: {hits:?}"
        );
        assert!(
            hits.iter().all(|h| h.rule != rules::MALFORMED),
            "{rel}: {hits:?}"
        );
    }
}

#[test]
fn undeclared_streams_try_a_small_dictionary_first() {
    // a match 1.5 MiB back: the 1 MiB first try fails, the full
    // dictionary decodes it, and nothing of the first try is reported
    let bytes = std::fs::read(fixture("../model-scan-limits/far_match.lzma")).unwrap();
    let (hits, inflated) = scan_bytes(&Config::default(), bytes);
    assert!(hits.iter().all(|h| h.rule == rules::UNSCANNED), "{hits:?}");
    assert_eq!(inflated, 4096 * 2 + (3 << 19));
    // a small stream decodes on the first try
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/model.pkl.lzma"));
    assert!(
        hits.iter().any(|h| h.rule == rules::DANGEROUS_GLOBAL),
        "{hits:?}"
    );
}
