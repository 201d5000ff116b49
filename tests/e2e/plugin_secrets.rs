//! `builtin:secrets` through the real binary: the labelled corpus of
//! `tests/fixtures/secrets` (materialized from its line-reversed form), the
//! redaction contract on the whole JSON report, and a clean tree passing.

use std::path::Path;

use crate::harness::{check_json, repo_root, temp_dir};

/// Write the corpus with every line reversed back into `dest`.
fn materialize(dest: &Path) {
    fn walk(src: &Path, rel: &Path, dest: &Path) {
        for entry in std::fs::read_dir(src.join(rel)).unwrap() {
            let entry = entry.unwrap();
            let child = rel.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                walk(src, &child, dest);
            } else if let Some(name) = child.to_str().and_then(|c| c.strip_suffix(".rev")) {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                let lines: Vec<String> = text
                    .split('\n')
                    .map(|l| l.chars().rev().collect())
                    .collect();
                let out = dest.join(name);
                std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                std::fs::write(out, lines.join("\n")).unwrap();
            }
        }
    }
    walk(
        &repo_root().join("tests/fixtures/secrets/corpus"),
        Path::new(""),
        dest,
    );
}

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["gates"][0]["findings"].as_array().unwrap().clone()
}

/// A GitHub classic token with a valid CRC32/base62 checksum, made here so
/// no token is stored in the repository.
fn github_token() -> String {
    let random = "k2Lq9ZxT4vB7nM1cR8wY3sD6fH0jPa";
    let mut crc = 0xFFFF_FFFFu32;
    for &b in random.as_bytes() {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    let mut n = !crc;
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut check = Vec::new();
    while n > 0 {
        check.push(alphabet[(n % 62) as usize]);
        n /= 62;
    }
    check.resize(6, b'0');
    check.reverse();
    format!("ghp_{random}{}", String::from_utf8(check).unwrap())
}

#[test]
fn secrets_finds_every_labelled_secret_in_the_corpus() {
    let dir = temp_dir();
    materialize(dir.path());
    let input = format!("paths={}", dir.path().display());
    let (code, report, stderr) = check_json("secrets", &["--input", &input]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["gates"][0]["status"], "fail");
    let found = findings(&report);
    let labels: Vec<(String, u64, String)> = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/secrets/labels.json")).unwrap(),
    )
    .unwrap();
    let mut missed = Vec::new();
    for (path, line, rule) in &labels {
        let hit = found.iter().any(|f| {
            f["rule_id"] == rule.as_str()
                && f["location"]["line"] == *line
                && f["location"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(path.as_str())
        });
        if !hit {
            missed.push((path, line, rule));
        }
    }
    assert!(missed.is_empty(), "{missed:?}");
    for f in &found {
        assert!(
            f["properties"]["redacted"]
                .as_str()
                .is_some_and(|r| r.contains('…')),
            "{f}"
        );
    }
}

#[test]
fn secrets_report_never_contains_the_secret() {
    let dir = temp_dir();
    let token = github_token();
    std::fs::write(
        dir.path().join("deploy.sh"),
        format!("export GITHUB_TOKEN={token}\n"),
    )
    .unwrap();
    let notebook = serde_json::json!({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
        "source": ["import os\n", format!("os.environ['GH'] = '{token}'\n")]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    let nb_text = serde_json::to_string_pretty(&notebook).unwrap();
    let token_line = nb_text
        .lines()
        .position(|l| l.contains("os.environ"))
        .unwrap()
        + 1;
    std::fs::write(dir.path().join("nb.ipynb"), &nb_text).unwrap();
    let input = format!("paths={}", dir.path().display());
    let mut cmd = crate::harness::mlgate();
    cmd.args(["check", "secrets", "--input", &input, "--format", "json"]);
    let (code, stdout, stderr) = crate::harness::run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let found = findings(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    let nb = found
        .iter()
        .find(|f| f["properties"]["cell"] == "0")
        .expect("notebook finding");
    assert_eq!(nb["location"]["line"], token_line as u64);
}

#[test]
fn secrets_passes_a_tree_of_lookalikes() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("settings.py"),
        "import os\ntoken = os.environ['HF_TOKEN']\nAWS_KEY = 'AKIAIOSFODNN7EXAMPLE'\n\
         DB = 'postgresql://user:password@localhost/app'\ntokenizer = 'bert-base-uncased'\n",
    )
    .unwrap();
    let input = format!("paths={}", dir.path().display());
    let (code, report, stderr) = check_json("secrets", &["--input", &input]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert!(findings(&report).is_empty());
}

#[test]
fn secrets_reads_files_of_every_size_and_bounds_the_big_ones() {
    // Sorted walk: a file larger than the reused read buffer, a small one,
    // one over max_file_bytes, then a small one after it.
    let dir = temp_dir();
    let token = github_token();
    let filler = "# notes on the training run\n".repeat(1_500); // 42 000 bytes
    let big_line = filler.lines().count() + 1;
    std::fs::write(
        dir.path().join("a_big.md"),
        format!("{filler}GH = \"{token}\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("b_small.sh"), format!("T={token}\n")).unwrap();
    std::fs::write(dir.path().join("c_huge.txt"), "x\n".repeat(40_000)).unwrap();
    std::fs::write(dir.path().join("d_after.sh"), format!("\nT={token}\n")).unwrap();
    let input = format!("paths={}", dir.path().display());
    let (code, report, stderr) = check_json(
        "secrets",
        &["--input", &input, "--set", "max_file_bytes=60000"],
    );
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, String, u64)> = findings(&report)
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            let name = path.rsplit('/').next().unwrap().to_string();
            let line = f["location"]["line"].as_u64().unwrap_or(0);
            (name, f["rule_id"].as_str().unwrap().to_string(), line)
        })
        .collect();
    got.sort();
    let want = [
        ("a_big.md", "github-token", big_line as u64),
        ("b_small.sh", "github-token", 1),
        ("c_huge.txt", "file-too-large", 0),
        ("d_after.sh", "github-token", 2),
    ];
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(got, want, "{report}");
}
