//! Hostile-input loop: random bytes, mutated corpus files (bit flips,
//! truncations, spliced pickle opcodes, huge length fields) through every
//! reader, and mutated chat templates through the Jinja check (spliced tags,
//! brackets, quotes, payload pieces). The scanner must return findings,
//! never panic, and stay within its bounds. Iteration counts are fixed so
//! the test is deterministic and fast; `MODEL_SCAN_FUZZ_ITERS` raises them
//! for longer local runs.

use std::path::PathBuf;

use mlgate_plugin_model_scan::config::Config;
use mlgate_plugin_model_scan::scan::Scanner;
use mlgate_plugin_model_scan::source::Blob;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn iterations(default: usize) -> usize {
    std::env::var("MODEL_SCAN_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/model-scan"
    ));
    let mut files = Vec::new();
    for class in ["malicious", "benign", "malformed", "../model-scan-limits"] {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(class))
            .expect("fixtures (run gen.py)")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let bytes = std::fs::read(&p).unwrap();
            if bytes.len() <= 64 << 10 {
                files.push(bytes);
            }
        }
    }
    assert!(files.len() > 50);
    files
}

fn config() -> Config {
    Config {
        max_member_bytes: 1 << 20,
        max_memory_bytes: 4 << 20,
        max_opcodes: 200_000,
        ..Config::default()
    }
}

/// Opcodes and fragments that stress the VM: marks, memo, frames, globals,
/// huge lengths.
const SPLICES: &[&[u8]] = &[
    b"(",
    b"0",
    b"1",
    b"2",
    b"R",
    b"b",
    b"o",
    b"\x81",
    b"\x92",
    b"\x93",
    b"\x94",
    b"h\x00",
    b"j\xff\xff\xff\xff",
    b"q\x00",
    b"\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x8e\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x8d\x00\x00\x00\x00\x00\x00\x00\x80",
    b"cos\nsystem\n",
    b"\x8c\x02os\x8c\x06system\x93",
    b"\x82\x01",
    b"\x8b\xff\xff\xff\x7f",
    b"T\xff\xff\xff\xff",
    b"e",
    b"u",
    b"s",
    b"a",
    b"\x90",
    b"\x91",
    b".",
    b"PK\x03\x04",
    b"\xff\xff\xff\xff",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let n = rng.below(v.len());
                v.truncate(n);
            }
            2 => {
                let s = SPLICES[rng.below(SPLICES.len())];
                let i = rng.below(v.len() + 1);
                v.splice(i..i, s.iter().copied());
            }
            3 if v.len() > 8 => {
                let i = rng.below(v.len() - 8);
                v[i..i + 8].copy_from_slice(&rng.next().to_le_bytes());
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

fn scan(scanner: &mut Scanner, bytes: Vec<u8>) {
    scanner.hits.clear();
    scanner.scan_blob(&Blob::mem(bytes), &mut Vec::new(), 0);
    assert!(scanner.hits.len() <= 5_000);
    assert_eq!(scanner.held, 0, "decompression accounting leaked");
}

#[test]
fn mutated_corpus_files_never_panic() {
    let files = corpus();
    let cfg = config();
    let mut scanner = Scanner::new(&cfg);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..iterations(3_000) {
        let base = &files[rng.below(files.len())];
        let m = mutate(&mut rng, base);
        scan(&mut scanner, m);
    }
}

#[test]
fn random_bytes_never_panic() {
    let cfg = config();
    let mut scanner = Scanner::new(&cfg);
    let mut rng = Rng(42);
    let prefixes: &[&[u8]] = &[
        b"",
        b"\x80\x04",
        b"\x80\x02",
        b"PK\x03\x04",
        b"\x93NUMPY\x01\x00",
        b"GGUF\x03\x00\x00\x00",
        b"\x1f\x8b",
        b"\x08\x07",
        b"7z\xbc\xaf\x27\x1c\x00\x04",
        b"\x28\xb5\x2f\xfd\x04\x58",
        b"\x28\xb5\x2f\xfd\x20\xff",
        b"\xfd7zXZ\x00\x00\x01\x00\x00\x00\x00\x02\x00\x21\x01\x10",
        b"\xfd7zXZ\x00\x00\x04\x00\x00\x00\x00\x03\x01\x04\x00\x21\x01\x10",
        b"\x5d\x00\x00\x10\x00\xff\xff\xff\xff\xff\xff\xff\xff",
    ];
    for i in 0..iterations(2_000) {
        let mut v = prefixes[i % prefixes.len()].to_vec();
        let n = rng.below(512);
        v.extend((0..n).map(|_| rng.next() as u8));
        scan(&mut scanner, v);
    }
}

/// Jinja fragments spliced into chat templates: tag delimiters, brackets,
/// quotes, comments, filters and payload pieces.
const JINJA: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{%-",
    "-%}",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "|attr(",
    "|map(attribute=",
    ".__class__",
    ".__globals__",
    "['__init__']",
    "~",
    "*",
    ".",
    "lipsum",
    "if ",
    "for x in ",
    "endfor",
    "endif",
    "macro m()",
    "endmacro",
    "set x = ",
    "'%c'|format(95)",
    "'{0.__class__}'.format(",
    "\\",
    "\n",
    "\u{0}",
    "é",
    "break",
];

#[test]
fn mutated_templates_never_panic() {
    use mlgate_plugin_model_scan::formats::jinja::analyze;
    let mut rng = Rng(7);
    let seeds = [
        "{% for m in messages %}{{ '<' + m['role'] + '>' + m['content'] }}{% endfor %}",
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
        "{%- set ns = namespace(found=false) %}{%- if ns.found %}{% break %}{% endif %}",
    ];
    for _ in 0..iterations(3_000) {
        let mut t = seeds[rng.below(seeds.len())].to_string();
        for _ in 0..1 + rng.below(6) {
            let mut at = rng.below(t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => t.insert_str(at, JINJA[rng.below(JINJA.len())]),
                1 => t.truncate(at),
                _ => {
                    let end = (at + rng.below(8)).min(t.len());
                    if t.is_char_boundary(end) {
                        t.replace_range(at..end, "");
                    }
                }
            }
        }
        let a = analyze(&t);
        assert!(a.reasons.len() < 1_000);
    }
}
