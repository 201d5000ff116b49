//! Tests of the zstd reader on generated fixtures and hand-made frames.

use super::*;
use crate::config::Config;
use crate::test_support::fixture;

#[test]
fn frame_headers_are_read_not_trusted() {
    // single segment, 1-byte content size 5: window = content size
    let h = header(&[0x28, 0xb5, 0x2f, 0xfd, 0x20, 5]).unwrap();
    assert_eq!(
        h,
        Header {
            content_size: Some(5),
            window: 5
        }
    );
    // window descriptor 2^20, 8-byte content size 2^40
    let mut b = vec![0x28, 0xb5, 0x2f, 0xfd, 0xc0, 10 << 3];
    b.extend((1u64 << 40).to_le_bytes());
    let h = header(&b).unwrap();
    assert_eq!(h.window, 1 << 20);
    assert_eq!(h.content_size, Some(1 << 40));
    // a declaration no stream of that size can produce is ignored
    assert_eq!(plausible(1 << 40, 100), None);
    assert_eq!(plausible(1 << 20, 100), Some(1 << 20));
    assert!(header(&b[..8]).is_none(), "truncated header");
    assert!(header(b"PK\x03\x04").is_none());
}

#[test]
fn zstd_members_are_decoded_and_scanned() {
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/zstd_member.npz"));
    let hit = hits
        .iter()
        .find(|h| h.rule == rules::DANGEROUS_GLOBAL)
        .expect("the object array's posix.system");
    assert_eq!(hit.member, ["obj.npy"]);
    let hits = scanner.scan_file(&fixture("malicious/zstd_member.keras"));
    let hit = hits
        .iter()
        .find(|h| h.rule == rules::KERAS_LAMBDA)
        .expect("the Lambda layer in config.json");
    assert_eq!(hit.member, ["config.json"]);
    for benign in ["benign/zstd_member.npz", "benign/zstd_member.keras"] {
        let hits = scanner.scan_file(&fixture(benign));
        assert!(hits.is_empty(), "{benign}: {hits:?}");
    }
}

#[test]
fn zstd_bomb_is_reported_from_its_declaration_without_decoding_it() {
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/zstd_bomb.zip"));
    let bomb = hits
        .iter()
        .find(|h| h.rule == rules::SCAN_LIMIT)
        .expect("the bomb is a scan-limit finding");
    assert!(bomb.message.contains("declares 1073741824"), "{bomb:?}");
    assert!(
        scanner.stats.inflated <= 64 << 10,
        "{}",
        scanner.stats.inflated
    );
}

#[test]
fn zstd_bomb_with_a_lying_declaration_is_counted_to_the_limit() {
    // the same bomb, its central directory and local sizes rewritten to 100
    let mut z = std::fs::read(fixture("malicious/zstd_bomb.zip")).unwrap();
    for (sig, at) in [(&b"PK\x01\x02"[..], 24), (&b"PK\x03\x04"[..], 22)] {
        let p = z.windows(4).position(|w| w == sig).unwrap();
        z[p + at..p + at + 4].copy_from_slice(&100u32.to_le_bytes());
    }
    let cfg = Config {
        max_member_bytes: 4 << 20,
        ..Config::default()
    };
    let mut scanner = Scanner::new(&cfg);
    scanner.scan_blob(&Blob::mem(z), &mut Vec::new(), 0);
    let bomb = scanner
        .hits
        .iter()
        .find(|h| h.rule == rules::SCAN_LIMIT)
        .expect("counted past the limit");
    assert!(bomb.message.contains("more than 4194304"), "{bomb:?}");
    assert!(
        scanner.stats.inflated <= (4 << 20) + 1,
        "{}",
        scanner.stats.inflated
    );
}

#[test]
fn huge_window_is_refused_before_any_allocation() {
    // window descriptor 2^40 (exponent 30): more than libzstd's default limit
    let mut b = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 30 << 3];
    b.extend([0u8; 16]);
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    scanner.scan_blob(&Blob::mem(b), &mut Vec::new(), 0);
    assert!(
        scanner
            .hits
            .iter()
            .any(|h| h.rule == rules::SCAN_LIMIT && h.message.contains("window")),
        "{:?}",
        scanner.hits
    );
}

#[test]
fn concatenated_and_skippable_frames_are_all_read() {
    // raw-block frames: "ab" and "c", a skippable frame between them
    let frame = |data: &[u8]| {
        let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, data.len() as u8];
        let bh = ((data.len() as u32) << 3) | 1; // last, raw
        f.extend(&bh.to_le_bytes()[..3]);
        f.extend(data);
        f
    };
    let mut s = frame(b"ab");
    s.extend([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
    s.extend(frame(b"c"));
    let mut out = Vec::new();
    Frames::new(&s[..], 1 << 20).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"abc");
    // garbage after a frame is an error, not silence
    s.extend(b"junk");
    assert!(
        Frames::new(&s[..], 1 << 20)
            .read_to_end(&mut Vec::new())
            .is_err()
    );
}
