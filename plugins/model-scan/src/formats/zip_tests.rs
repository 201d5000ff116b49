//! Tests of the zip reader on generated fixtures.

use crate::config::Config;
use crate::rules;
use crate::scan::Scanner;

use crate::test_support::fixture;

#[test]
fn lzma_members_are_decoded_and_scanned() {
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/lzma_member.npz"));
    let hit = hits
        .iter()
        .find(|h| h.rule == rules::DANGEROUS_GLOBAL)
        .expect("the object array's posix.system");
    assert_eq!(hit.member, ["obj.npy"]);
    let hits = scanner.scan_file(&fixture("benign/lzma_member.npz"));
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn other_methods_are_reported_not_skipped() {
    let mut z = std::fs::read(fixture("benign/lzma_member.npz")).unwrap();
    // method 14 -> 95 (xz) in the local header and the central directory
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let at = z.windows(4).position(|w| w == sig).unwrap();
        let m = at + if sig[2] == 3 { 8 } else { 10 };
        z[m..m + 2].copy_from_slice(&95u16.to_le_bytes());
    }
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    scanner.scan_blob(&crate::source::Blob::mem(z), &mut Vec::new(), 0);
    let hit = scanner
        .hits
        .iter()
        .find(|h| h.rule == rules::UNSUPPORTED)
        .expect("xz member reported");
    assert!(hit.message.contains("method 95"), "{hit:?}");
}
