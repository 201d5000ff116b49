//! Rule ids, default severities, summaries and fixes of the `ml-code` gate.

use mlgate_plugin_sdk::Severity;

/// One rule's metadata.
#[derive(Debug)]
pub struct RuleDef {
    /// Stable id.
    pub id: &'static str,
    /// Default severity (a finding may lower it, e.g. a literal shell command).
    pub severity: Severity,
    /// What the rule finds.
    pub summary: &'static str,
    /// How to fix it.
    pub help: &'static str,
}

/// `pickle.load`/`loads`/`Unpickler` and equivalents (dill, cloudpickle, pandas.read_pickle).
pub const PICKLE: &str = "pickle-load";
/// `joblib.load`.
pub const JOBLIB: &str = "joblib-load";
/// `torch.load` without `weights_only=True`.
pub const TORCH: &str = "torch-load-unsafe";
/// `numpy.load(allow_pickle=True)`.
pub const NUMPY: &str = "numpy-allow-pickle";
/// `yaml.load` without a safe loader, `yaml.unsafe_load`.
pub const YAML: &str = "yaml-unsafe-load";
/// `eval`/`exec` on a non-literal.
pub const EVAL: &str = "eval-exec";
/// `trust_remote_code=True`.
pub const REMOTE_CODE: &str = "trust-remote-code";
/// Keras `load_model(safe_mode=False)`.
pub const KERAS: &str = "keras-unsafe-load";
/// `subprocess` with `shell=True`, `os.system`/`os.popen` on a non-literal.
pub const SHELL: &str = "subprocess-shell";
/// Model or data download over plain `http://`.
pub const HTTP: &str = "insecure-download";
/// `from_pretrained`/`hf_hub_download` without a pinned `revision`.
pub const UNPINNED: &str = "from-pretrained-unpinned";
/// A file that could not be analysed (too deeply nested, too large).
pub const SKIPPED: &str = "file-not-analysed";

/// Every rule, for `describe()`.
pub const RULES: &[RuleDef] = &[
    RuleDef {
        id: PICKLE,
        severity: Severity::High,
        summary: "pickle deserialisation (runs arbitrary code from the file)",
        help: "Load weights with safetensors or a data format (JSON, Parquet); never unpickle files you did not produce.",
    },
    RuleDef {
        id: JOBLIB,
        severity: Severity::High,
        summary: "joblib.load (pickle underneath)",
        help: "Only load joblib files you produced and verified (hash pin), or use skops.io with trusted types.",
    },
    RuleDef {
        id: TORCH,
        severity: Severity::High,
        summary: "torch.load without weights_only=True",
        help: "Pass weights_only=True (default from PyTorch 2.6 on, not before), or use safetensors.",
    },
    RuleDef {
        id: NUMPY,
        severity: Severity::High,
        summary: "numpy.load with allow_pickle=True",
        help: "Keep allow_pickle=False (the default) and store object arrays in a safe format.",
    },
    RuleDef {
        id: YAML,
        severity: Severity::High,
        summary: "yaml.load without a safe Loader",
        help: "Use yaml.safe_load or Loader=yaml.SafeLoader.",
    },
    RuleDef {
        id: EVAL,
        severity: Severity::High,
        summary: "eval/exec on a value that is not a literal",
        help: "Parse data with json or ast.literal_eval; never evaluate strings from files, requests or configs.",
    },
    RuleDef {
        id: REMOTE_CODE,
        severity: Severity::High,
        summary: "trust_remote_code=True runs Python from the model repository",
        help: "Drop trust_remote_code or pin the repository revision to a reviewed commit.",
    },
    RuleDef {
        id: KERAS,
        severity: Severity::High,
        summary: "Keras load_model with safe_mode=False (Lambda layers run code)",
        help: "Keep safe_mode=True (the default).",
    },
    RuleDef {
        id: SHELL,
        severity: Severity::High,
        summary: "shell command built at run time (shell=True, os.system)",
        help: "Pass an argument list without shell=True; never interpolate data into a shell string.",
    },
    RuleDef {
        id: HTTP,
        severity: Severity::High,
        summary: "model or data download over plain http://",
        help: "Use https:// and verify a pinned hash of what is downloaded.",
    },
    RuleDef {
        id: UNPINNED,
        severity: Severity::Medium,
        summary: "Hub download without a pinned revision",
        help: "Pass revision=<40-hex commit sha> so a changed repository cannot change what you load.",
    },
    RuleDef {
        id: SKIPPED,
        severity: Severity::Info,
        summary: "file not analysed (too large or too deeply nested)",
        help: "Split the file or allowlist it if it is generated.",
    },
];
