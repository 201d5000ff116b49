//! Unit tests of manifest parsing (sniffing, GNU quirks, refusals).

use super::*;

const A: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const B: &str = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";

fn paths(m: &Manifest) -> Vec<&str> {
    m.entries.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn reads_text_binary_comments_blank_and_crlf_lines() {
    let text = format!(
        "# made by sha256sum\n\n{A}  data/train.csv\r\n{B} *model.bin\n  {A}  ./sub//x.txt\n"
    );
    let m = parse(&text).unwrap();
    assert_eq!(m.format, "sha256sum");
    assert_eq!(paths(&m), ["data/train.csv", "model.bin", "sub/x.txt"]);
    assert_eq!(m.entries[1].digest, B);
    assert_eq!(m.entries[1].line, 4);
    assert_eq!(m.entries[0].algorithm, DigestAlgorithm::Sha256);
}

#[test]
fn unescapes_gnu_escaped_names() {
    let text = format!("\\{A}  back\\\\slash\n\\{B}  new\\nline\n{A}  plain\\name\n");
    let m = parse(&text).unwrap();
    // Sorted by path; an unescaped line keeps its backslash verbatim.
    assert_eq!(paths(&m), ["back\\slash", "new\nline", "plain\\name"]);
    let err = parse(&format!("\\{A}  bad\\x\n")).unwrap_err();
    assert!(err.to_string().contains("line 1: bad escape"), "{err}");
}

#[test]
fn reads_bsd_tag_lines_and_upper_case_hex() {
    let upper = A.to_ascii_uppercase();
    let long = "ab".repeat(64);
    let text = format!("SHA256 (a (1).txt) = {upper}\nBLAKE2b (b) = {long}\nSHA512 (c) = {long}\n");
    let m = parse(&text).unwrap();
    assert_eq!(paths(&m), ["a (1).txt", "b", "c"]);
    assert_eq!(m.entries[0].digest, A);
    assert_eq!(m.entries[1].algorithm, DigestAlgorithm::Blake2b512);
    assert_eq!(m.entries[2].algorithm, DigestAlgorithm::Sha512);
}

#[test]
fn malformed_lines_are_all_named() {
    let text = format!("{A}  ok\nnot a manifest line\n{A} single-space\nabc  short\n{A}  \n");
    let err = parse(&text).unwrap_err();
    let lines: Vec<u32> = err.problems.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{err}");
    let text = err.to_string();
    assert!(text.starts_with("line 2: "), "{text}");
    assert!(text.contains("line 4: digest has 3 characters"), "{text}");
}

#[test]
fn entries_escaping_the_dataset_are_refused() {
    for name in ["../etc/passwd", "/etc/passwd", "a/../../b", "./..", "."] {
        let err = parse(&format!("{A}  {name}\n")).unwrap_err();
        assert_eq!(err.problems[0].0, 1, "{name}: {err}");
    }
    let err = parse(&format!(
        r#"{{"version":1,"algorithm":"sha256","files":{{"../x":"{A}"}}}}"#
    ))
    .unwrap_err();
    assert!(err.to_string().contains("escapes the dataset"), "{err}");
}

#[test]
fn conflicting_duplicates_are_refused_and_identical_ones_merged() {
    let m = parse(&format!("{A}  x\n{A}  ./x\n")).unwrap();
    assert_eq!(paths(&m), ["x"]);
    let err = parse(&format!("{A}  x\n{B}  x\n")).unwrap_err();
    assert!(
        err.to_string().contains("line 2: `x` is listed again"),
        "{err}"
    );
}

#[test]
fn json_form_is_sniffed_and_validated() {
    let text = format!(
        "\n  {{\"version\": 1, \"algorithm\": \"sha256\", \"files\": {{\"b/c\": \"{B}\", \"a\": \"{A}\"}}}}"
    );
    let m = parse(&text).unwrap();
    assert_eq!(m.format, "json");
    assert_eq!(paths(&m), ["a", "b/c"]);
    for (bad, why) in [
        (
            r#"{"version":2,"algorithm":"sha256","files":{}}"#,
            "version",
        ),
        (r#"{"version":1,"algorithm":"md5","files":{}}"#, "algorithm"),
        (r#"{"version":1,"algorithm":"sha256"}"#, "files"),
        (
            r#"{"version":1,"algorithm":"sha256","files":{"a":"xyz"}}"#,
            "hex digest",
        ),
        (
            r#"{"version":1,"algorithm":"sha256","files":{},"extra":1}"#,
            "unknown key",
        ),
        ("{not json", "not valid JSON"),
    ] {
        let err = parse(bad).unwrap_err();
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
}

#[test]
fn error_message_is_capped() {
    let text = "garbage\n".repeat(25);
    let err = parse(&text).unwrap_err();
    assert_eq!(err.problems.len(), 25);
    assert!(err.to_string().ends_with("; and 15 more"), "{err}");
}

#[test]
fn empty_manifest_has_no_entries() {
    assert!(parse("# nothing yet\n").unwrap().entries.is_empty());
    assert!(parse("").unwrap().entries.is_empty());
}
