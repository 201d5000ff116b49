//! requirements.txt parser tests: the hand-written fixture covering pip's
//! syntax, and the pip-compile output in `locks/`.

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pip-audit"
    ))
}

fn by_name<'a>(lock: &'a Lockfile, name: &str) -> &'a Requirement {
    lock.requirements
        .iter()
        .find(|r| r.normalized == name && !r.constraint)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", lock.requirements))
}

#[test]
fn syntax_fixture() {
    let root = fixtures().join("reqs");
    let lock = parse(&root.join("requirements.txt"), &root).unwrap();
    let flask = by_name(&lock, "flask");
    assert_eq!(flask.version.as_deref(), Some("0.12.2"));
    assert_eq!(flask.hashes.len(), 1);
    assert_eq!(flask.line, Some(9));
    let jinja = by_name(&lock, "jinja2");
    assert_eq!(jinja.hashes.len(), 2, "continuation lines joined");
    assert_eq!(jinja.line, Some(10));
    let requests = by_name(&lock, "requests");
    assert_eq!(requests.extras, vec!["security", "socks"]);
    assert_eq!(
        requests.marker.as_deref(),
        Some("python_version >= \"3.6\"")
    );
    assert_eq!(requests.version.as_deref(), Some("2.19.1"));
    assert_eq!(by_name(&lock, "urllib3").version, None, ">= is not a pin");
    assert_eq!(
        by_name(&lock, "numpy").version,
        None,
        "wildcard is not a pin"
    );
    assert!(matches!(
        by_name(&lock, "private-lib").source,
        Source::Vcs(_)
    ));
    assert!(matches!(by_name(&lock, "demo-pkg").source, Source::Url(_)));
    assert!(matches!(by_name(&lock, "tool").source, Source::Vcs(_)));
    assert!(lock.requirements.iter().any(|r| matches!(
        &r.source,
        Source::Path { path, editable: true } if path == "./local-plugin"
    )));
    // -r sub/base.txt is followed; its file and line are kept.
    let py = by_name(&lock, "py");
    assert!(py.file.ends_with("sub/base.txt"));
    assert_eq!(py.line, Some(3));
    // -c constraints: recorded as constraints.
    let constraints: Vec<_> = lock.requirements.iter().filter(|r| r.constraint).collect();
    assert_eq!(constraints.len(), 2);
    // Index options.
    let kinds: Vec<_> = lock.indexes.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, vec!["index-url", "extra-index-url"]);
    // The include leaving the input is a problem, not followed.
    assert!(
        lock.problems
            .iter()
            .any(|(_, line, m)| *line == Some(7) && m.contains("outside the input")),
        "{:?}",
        lock.problems
    );
}

#[test]
fn pip_compile_output() {
    let path = fixtures().join("locks/requirements.txt");
    let lock = parse(&path, path.parent().unwrap()).unwrap();
    assert_eq!(lock.requirements.len(), 13);
    assert!(
        lock.requirements
            .iter()
            .all(|r| r.is_auditable() && r.hashes.len() >= 2)
    );
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
}

#[test]
fn requirement_strings() {
    let p = Path::new("r.txt");
    let r = requirement("Foo.Bar[x] (==1.0)", p, 1).unwrap();
    assert_eq!(
        (r.normalized.as_str(), r.version.as_deref()),
        ("foo-bar", Some("1.0"))
    );
    assert_eq!(
        requirement("x===1.0+local", p, 1)
            .unwrap()
            .version
            .as_deref(),
        Some("1.0+local")
    );
    assert_eq!(
        requirement("x>=1,==1.2", p, 1).unwrap().version.as_deref(),
        Some("1.2")
    );
    assert_eq!(requirement("x ~= 1.2", p, 1).unwrap().version, None);
    assert!(requirement("!!!", p, 1).is_err());
    let r = requirement("name @ https://x.org/a.zip ; sys_platform == 'linux'", p, 1).unwrap();
    assert!(matches!(r.source, Source::Url(_)));
    assert_eq!(r.marker.as_deref(), Some("sys_platform == 'linux'"));
}

#[test]
fn comments_and_continuations() {
    let lines =
        logical_lines("a==1 # c\n# full\n\nb==2 \\\n  --hash=sha256:x\nc @ https://h/x#egg=c\n");
    assert_eq!(lines[0], (1, "a==1".to_string()));
    assert_eq!(lines[1].0, 4);
    assert!(lines[1].1.contains("--hash=sha256:x"));
    assert_eq!(lines[2].1, "c @ https://h/x#egg=c");
}
