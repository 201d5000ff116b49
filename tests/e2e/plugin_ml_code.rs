//! `builtin:ml-code` through the real binary on the labelled corpus of
//! `tests/fixtures/ml-code`, and a tree of safe forms passing.

use crate::harness::{check_json, repo_root, temp_dir};

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["gates"][0]["findings"].as_array().unwrap().clone()
}

#[test]
fn ml_code_reports_the_labelled_corpus_exactly() {
    let fixtures = repo_root().join("tests/fixtures/ml-code");
    let input = format!("paths={}", fixtures.join("corpus").display());
    let (code, report, stderr) = check_json("ml-code", &["--input", &input]);
    assert_eq!(code, 1, "{stderr}");
    let found = findings(&report);
    let labels: Vec<(String, u64, String)> =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("labels.json")).unwrap())
            .unwrap();
    for (path, line, rule) in &labels {
        assert!(
            found.iter().any(|f| f["rule_id"] == rule.as_str()
                && f["location"]["line"] == *line
                && f["location"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(path.as_str())),
            "missing {path}:{line} {rule}"
        );
    }
    // One documented false positive: from_pretrained on a computed path.
    assert!(found.len() <= labels.len() + 1, "{} findings", found.len());
    let nb = found
        .iter()
        .find(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("finetune.ipynb")
                && f["rule_id"] == "torch-load-unsafe"
        })
        .unwrap();
    assert_eq!(nb["properties"]["cell"], "2");
}

#[test]
fn ml_code_passes_safe_forms() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("safe.py"),
        "import torch, yaml\nimport numpy as np\nm = torch.load(p, weights_only=True)\n\
         c = yaml.load(t, Loader=yaml.SafeLoader)\nd = yaml.safe_load(t)\na = np.load(p)\nmodel.eval()\n\
         # pickle.load(f)\ns = 'torch.load(x)'\n",
    )
    .unwrap();
    let input = format!("paths={}", dir.path().display());
    let (code, report, stderr) = check_json("ml-code", &["--input", &input]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert!(findings(&report).is_empty());
}

#[test]
fn ml_code_parses_only_files_with_a_trigger_word() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("config.py"),
        "import json\n\ndef read(p):\n    return json.load(open(p))\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("restore.py"),
        "from torch import load as restore\nstate = restore('m.pt')\n",
    )
    .unwrap();
    let input = format!("paths={}", dir.path().display());
    let (code, report, stderr) = check_json("ml-code", &["--input", &input]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    let metrics = &report["gates"][0]["metrics"];
    assert_eq!(metrics["files_prefiltered"], 1.0, "{report}");
    assert_eq!(metrics["files_analysed"], 1.0, "{report}");
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule_id"], "torch-load-unsafe");
    assert_eq!(found[0]["location"]["line"], 2);
}
