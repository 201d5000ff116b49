//! `mlgate advisories fetch|status` against an HTTP server on 127.0.0.1 that
//! serves a zip built here from the PyPA snapshot (the layout of OSV's
//! `PyPI/all.zip`), and pip-audit gates that declare no `advisories` input
//! and so read the fetched database.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use zip::write::SimpleFileOptions;

use crate::harness::{mlgate, run, shared_data, temp_dir};

/// One canned HTTP answer.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// A server on 127.0.0.1 giving `answers` in order, one per connection;
/// returns its base URL and the request lines it saw.
fn server(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut answers = answers.into_iter();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some(answer) = answers.next() else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            log.lock().unwrap().push(first.trim().to_string());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let head = format!(
                "HTTP/1.1 {} X\r\ncontent-type: application/zip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.status,
                answer.body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&answer.body);
        }
    });
    (url, seen)
}

fn ok(body: Vec<u8>) -> Answer {
    Answer { status: 200, body }
}

/// A zip of `entries` (name, content), deflated like OSV's.
fn zip_of(entries: &[(String, String)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    for (name, body) in entries {
        w.start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    out.into_inner()
}

/// The PyPA snapshot as OSV's per-ecosystem archive: one `ID.json` per record.
fn osv_zip() -> (Vec<u8>, usize) {
    let path = shared_data().join("osv-pypi/pypa-advisories.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("shared test data missing: {} ({e})", path.display()));
    let entries: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (format!("{}.json", v["id"].as_str().unwrap()), l.to_string())
        })
        .collect();
    (zip_of(&entries), entries.len())
}

/// `mlgate advisories ARGS` with the store in `store`.
fn advisories(store: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = mlgate();
    cmd.env("MLGATE_ADVISORIES_DIR", store)
        .arg("advisories")
        .args(args);
    run(&mut cmd)
}

fn status_json(store: &Path) -> serde_json::Value {
    let (code, stdout, stderr) = advisories(store, &["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// A project whose pipeline audits `flask==0.12.2` with no `advisories` input.
fn project() -> tempfile::TempDir {
    let dir = temp_dir();
    std::fs::write(dir.path().join("requirements.txt"), "flask==0.12.2\n").unwrap();
    std::fs::write(
        dir.path().join("mlgate.yaml"),
        "version: 1\nname: deps\ngates:\n  dependencies:\n    stage: pre-commit\n    plugin: builtin:pip-audit\n    fail_on: medium\n    inputs: { lockfile: requirements.txt }\n    with: { max_db_age_days: 100000 }\n",
    )
    .unwrap();
    dir
}

fn run_project(dir: &Path, store: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = mlgate();
    cmd.current_dir(dir)
        .env("MLGATE_ADVISORIES_DIR", store)
        .args(args);
    run(&mut cmd)
}

fn flask_ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["package"] == "flask")
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn fetched_database_is_used_by_gates_without_an_advisories_input() {
    let (zip, records) = osv_zip();
    let (url, seen) = server(vec![ok(zip)]);
    let store = temp_dir();
    let project = project();

    // No database yet: the gate errors and says what to run.
    let (code, stdout, stderr) =
        run_project(project.path(), store.path(), &["run", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["gates"][0]["status"], "error");
    let reason = report["gates"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("run `mlgate advisories fetch`"), "{reason}");
    let (code, _, stderr) = advisories(store.path(), &["status"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("run `mlgate advisories fetch`"), "{stderr}");

    let (code, stdout, stderr) = advisories(
        store.path(),
        &["fetch", "--url", &format!("{url}/PyPI/all.zip"), "--quiet"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(*seen.lock().unwrap(), ["GET /PyPI/all.zip HTTP/1.1"]);
    assert!(stdout.starts_with("stored "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{records} records ({records} PyPI), data of 2024-10-"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(", fetched ") && stdout.contains(" ago (20"),
        "{stdout}"
    );
    let status = status_json(store.path());
    let zip_path = status["path"].as_str().unwrap().to_string();
    assert!(zip_path.starts_with(&store.path().display().to_string()));
    assert_eq!(status["meta"]["records"], records);
    assert_eq!(status["meta"]["url"], format!("{url}/PyPI/all.zip"));

    // `plan` lists the fetched archive as a read.
    let (code, stdout, stderr) =
        run_project(project.path(), store.path(), &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&zip_path), "{stdout}");

    // The pipeline finds flask's advisories with the fetched data, and says its date.
    let (code, stdout, stderr) =
        run_project(project.path(), store.path(), &["run", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        code, 1,
        "flask's advisories (medium) fail the gate: {stderr}"
    );
    assert_eq!(
        flask_ids(&report),
        ["PYSEC-2018-66", "PYSEC-2019-179", "PYSEC-2023-62"]
    );
    let summary = report["gates"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("against {records} advisories, data of 2024-10-")),
        "{summary}"
    );

    // So does `mlgate check` without `--input advisories=`.
    let lock = project.path().join("requirements.txt");
    let mut cmd = mlgate();
    cmd.env("MLGATE_ADVISORIES_DIR", store.path()).args([
        "check",
        "pip-audit",
        "--input",
        &format!("lockfile={}", lock.display()),
        "--set",
        "max_db_age_days=100000",
        "--fail-on",
        "medium",
        "--format",
        "json",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(flask_ids(&report).len(), 3, "{report}");
}

#[test]
fn a_bad_download_leaves_the_previous_database_in_place() {
    let (good, _) = osv_zip();
    let truncated = good[..4096].to_vec();
    let record = |id: &str| (format!("{id}.json"), format!("{{\"id\":\"{id}\"}}"));
    let answers = vec![
        ok(good),
        // Truncated in the middle: not a readable zip.
        ok(truncated),
        // A zip, but of something else.
        ok(zip_of(&[
            ("index.html".into(), "<html></html>".into()),
            record("X-1"),
        ])),
        // Path traversal.
        ok(zip_of(&[(
            "../../evil.json".into(),
            r#"{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#.into(),
        )])),
        // Zero records.
        ok(zip_of(&[("README.md".into(), "nothing here".into())])),
        Answer {
            status: 500,
            body: b"backend exploded".to_vec(),
        },
    ];
    let (url, _) = server(answers);
    let store = temp_dir();
    let fetch = || {
        advisories(
            store.path(),
            &["fetch", "--url", &format!("{url}/all.zip"), "--quiet"],
        )
    };
    let (code, _, stderr) = fetch();
    assert_eq!(code, 0, "{stderr}");
    let before = status_json(store.path());
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(store.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let files = listing();
    assert_eq!(files.len(), 2, "one archive and its metadata: {files:?}");
    for expected in [
        "not a zip archive",
        "`X-1.json` is not an OSV record (missing field `affected`",
        "unsafe entry name `../../evil.json` (path traversal)",
        "holds no OSV records",
        "HTTP 500 Internal Server Error: backend exploded",
    ] {
        let (code, stdout, stderr) = fetch();
        assert_eq!(code, 2, "{expected}: {stdout}");
        assert!(stderr.contains(expected), "want `{expected}` in: {stderr}");
        assert!(
            stderr.contains("the stored database is unchanged"),
            "{stderr}"
        );
        assert_eq!(status_json(store.path()), {
            let mut b = before.clone();
            b["age_seconds"] = status_json(store.path())["age_seconds"].clone();
            b
        });
        assert_eq!(listing(), files, "nothing half-written is left behind");
    }
}
