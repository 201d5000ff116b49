//! Database loading tests: the real snapshot in its three layouts.

use std::collections::HashSet;
use std::io::Write;

use super::tests_support::snapshot_dir;
use super::*;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pip-audit-db-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn snapshot_loads_whole() {
    let db = Database::load(&snapshot_dir().join("pypa-advisories.jsonl"), None).unwrap();
    assert_eq!(db.records_seen, 2661);
    assert!(db.invalid.is_empty(), "{:?}", db.invalid);
    assert_eq!(
        db.by_name.len(),
        664,
        "distinct packages after PEP 503 normalisation"
    );
    assert_eq!(db.all_records().len(), 2661);
    let newest = db.newest_modified.as_deref().unwrap();
    assert!(newest.starts_with("2024-10"), "{newest}");
}

#[test]
fn wanted_filter_keeps_only_named_packages() {
    let wanted: HashSet<String> = ["flask", "jw-util"].iter().map(|s| s.to_string()).collect();
    let db = Database::load(&snapshot_dir().join("pypa-advisories.jsonl"), Some(&wanted)).unwrap();
    assert_eq!(db.records_seen, 2661);
    assert!(db.records_for("flask").len() >= 3);
    assert!(
        !db.records_for("jw-util").is_empty(),
        "jw.util is stored under its normal form"
    );
    assert!(db.records_for("django").is_empty());
}

#[test]
fn directory_zip_and_jsonl_layouts_agree() {
    let text = std::fs::read_to_string(snapshot_dir().join("pypa-advisories.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().take(300).collect();
    let dir = temp("layouts");
    let json_dir = dir.join("PyPI");
    std::fs::create_dir_all(&json_dir).unwrap();
    let zip_path = dir.join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for (i, line) in lines.iter().enumerate() {
        std::fs::write(json_dir.join(format!("{i}.json")), line).unwrap();
        zip.start_file(
            format!("{i}.json"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(line.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let jsonl = dir.join("part.jsonl");
    std::fs::write(&jsonl, lines.join("\n")).unwrap();
    let ids =
        |db: Database| -> Vec<String> { db.all_records().iter().map(|r| r.id.clone()).collect() };
    let a = ids(Database::load(&json_dir, None).unwrap());
    let b = ids(Database::load(&zip_path, None).unwrap());
    let c = ids(Database::load(&jsonl, None).unwrap());
    assert_eq!(a.len(), 300);
    assert_eq!(a, b);
    assert_eq!(a, c);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_records_are_reported_not_fatal() {
    let dir = temp("bad");
    let path = dir.join("x.jsonl");
    std::fs::write(
        &path,
        "{\"id\":\"A-1\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"}}]}\n\
         not json\n\
         {\"id\":\"A-2\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},\"ranges\":7}]}\n",
    )
    .unwrap();
    let db = Database::load(&path, None).unwrap();
    assert_eq!(db.records_for("x").len(), 1);
    assert_eq!(db.invalid.len(), 2, "{:?}", db.invalid);
    std::fs::write(&path, "").unwrap();
    assert!(
        Database::load(&path, None).is_err(),
        "an empty database is an error"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
