//! VM tests on hand-assembled pickles (the Python-generated corpus is
//! exercised by the crate's integration tests).

use super::*;

fn run(bytes: &[u8]) -> Vec<Report> {
    scan(&Blob::mem(bytes.to_vec()), &Limits::default()).unwrap()
}

fn names(rep: &Report) -> Vec<String> {
    rep.globals
        .iter()
        .map(|g| format!("{}.{}", g.module, g.name))
        .collect()
}

fn short(s: &str) -> Vec<u8> {
    let mut v = vec![0x8c, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

#[test]
fn protocol0_global_reduce() {
    let r = run(b"cos\nsystem\n(S'echo hi'\ntR.");
    assert_eq!(names(&r[0]), ["os.system"]);
    assert!(r[0].globals[0].invoked);
    assert_eq!(r[0].globals[0].offset, 0);
    assert!(r[0].stopped && r[0].error.is_none());
}

#[test]
fn stack_global_through_memo() {
    // 'os' memoized, popped, fetched back for STACK_GLOBAL.
    let mut p = vec![0x80, 4];
    p.extend(short("os"));
    p.push(0x94); // MEMOIZE -> 0
    p.push(b'0'); // POP
    p.extend([b'h', 0]); // BINGET 0
    p.extend(short("system"));
    let sg = p.len() as u64;
    p.push(0x93);
    p.extend(short("id"));
    p.extend([0x85, b'R', b'.']);
    let r = run(&p);
    assert_eq!(names(&r[0]), ["os.system"]);
    assert_eq!(r[0].globals[0].offset, sg);
    assert!(r[0].stopped);
}

#[test]
fn dotted_stack_global_name_is_kept_whole() {
    let mut p = vec![0x80, 4];
    p.extend(short("pathlib"));
    p.extend(short("os.system"));
    p.extend([0x93, b'.']);
    assert_eq!(names(&run(&p)[0]), ["pathlib.os.system"]);
}

#[test]
fn non_literal_stack_global_is_an_anomaly() {
    // module operand = builtins.str() call result
    let mut p = vec![0x80, 4];
    p.extend(short("builtins"));
    p.extend(short("str"));
    p.push(0x93);
    p.extend([b')', b'R']);
    p.extend(short("system"));
    p.extend([0x93, b'.']);
    let r = run(&p);
    assert!(
        r[0].anomalies
            .iter()
            .any(|a| a.kind == AnomalyKind::NonLiteralGlobal)
    );
}

#[test]
fn truncated_stream_keeps_the_global_seen_before_it_broke() {
    let r = run(b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00id");
    assert_eq!(names(&r[0]), ["posix.system"]);
    assert!(r[0].error.is_some());
    assert!(!r[0].stopped);
}

#[test]
fn frame_longer_than_the_data_is_reported() {
    let mut p = vec![0x80, 4, 0x95];
    p.extend(1000u64.to_le_bytes());
    p.extend([b'N', b'.']);
    let r = run(&p);
    assert!(r[0].anomalies.iter().any(|a| a.kind == AnomalyKind::Frame));
}

#[test]
fn opcode_crossing_frame_end_is_reported() {
    let mut p = vec![0x80, 4, 0x95];
    p.extend(2u64.to_le_bytes());
    p.extend(short("abc"));
    p.push(b'.');
    let r = run(&p);
    assert!(r[0].anomalies.iter().any(|a| a.kind == AnomalyKind::Frame));
    assert!(r[0].stopped);
}

#[test]
fn ext_code_is_an_anomaly() {
    let r = run(b"\x80\x02\x82\x01)R.");
    assert_eq!(r[0].anomalies[0].kind, AnomalyKind::ExtCode);
}

#[test]
fn stacked_pickles_are_all_scanned() {
    let mut p = b"\x80\x02K\x01.".to_vec();
    p.extend(b"\x80\x02cbuiltins\nexec\nq\x00.");
    p.extend([0u8, 1, 2, 3]);
    let r = run(&p);
    assert_eq!(r.len(), 2);
    assert_eq!(names(&r[1]), ["builtins.exec"]);
}

#[test]
fn memo_miss_and_underflow_are_errors() {
    assert!(run(b"\x80\x02h\x05.")[0].error.is_some());
    assert!(run(b"\x80\x02R.")[0].error.is_some());
    assert!(run(b"(N1R.")[0].error.is_some());
}

#[test]
fn huge_lengths_do_not_allocate() {
    let mut p = vec![0x80, 4, 0x8e];
    p.extend(u64::MAX.to_le_bytes());
    let r = run(&p);
    assert!(r[0].error.is_some());
}

#[test]
fn opcode_limit_stops_the_run() {
    let limits = Limits {
        max_opcodes: 10,
        ..Limits::default()
    };
    let p = [b'N'; 100];
    let r = scan(&Blob::mem(p.to_vec()), &limits).unwrap();
    assert!(r[0].limited);
}

#[test]
fn inst_and_obj_mark_invocation() {
    let r = run(b"(S'ls'\nisubprocess\ncall\n.");
    assert_eq!(names(&r[0]), ["subprocess.call"]);
    assert!(r[0].globals[0].invoked);
    let r = run(b"(cbuiltins\neval\nS'1'\no.");
    assert!(r[0].globals[0].invoked);
}

#[test]
fn text_is_not_taken_for_a_pickle() {
    let r = run(b"In this file we describe the model\n");
    assert!(!r[0].looks_like_pickle());
    // class labels: GLOBAL at.dog, then BUILD on a one-item stack
    let r = run(b"cat\ndog\nbird\nfish\n");
    assert_eq!(names(&r[0]), ["at.dog"]);
    assert!(!r[0].looks_like_pickle());
    // a call before the break is a pickle, and so is a complete run
    assert!(run(b"cmymod\nfn\n(tR")[0].looks_like_pickle());
    assert!(run(b"cmymod\nfn\n.")[0].looks_like_pickle());
}
