//! The rules on a parsed module: every call expression is resolved to a
//! qualified name through the import table ([`crate::resolve`]) and checked
//! against the unsafe forms, looking at keyword and positional arguments.
//! Safe forms (`weights_only=True`, `Loader=SafeLoader`, `allow_pickle`
//! absent or False, a pinned `revision`) produce nothing. Strings and
//! comments are never calls, so they are never flagged.

use mlgate_plugin_sdk::Severity;
use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use crate::resolve::Names;
use crate::rules;

/// One unsafe call.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Rule id.
    pub rule: &'static str,
    /// Severity (the rule's default, lowered for less certain forms).
    pub severity: Severity,
    /// Byte offset of the call in the analysed source.
    pub offset: usize,
    /// Human message.
    pub message: String,
    /// The qualified callee (`torch.load`).
    pub call: String,
}

/// Analyse a module body, resolving names through its own imports.
pub fn analyze(body: &[Stmt]) -> Vec<Hit> {
    analyze_with(body, &Names::collect(body))
}

/// Analyse a body with a given name table (a notebook's cells share one).
pub fn analyze_with(body: &[Stmt], names: &Names) -> Vec<Hit> {
    let mut v = Calls {
        names,
        hits: Vec::new(),
    };
    for stmt in body {
        v.visit_stmt(stmt);
    }
    v.hits.sort_by_key(|h| (h.offset, h.rule));
    v.hits
}

struct Calls<'n> {
    names: &'n Names,
    hits: Vec<Hit>,
}

impl<'a> Visitor<'a> for Calls<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            self.check(call);
        }
        walk_expr(self, expr);
    }
}

/// A keyword argument by name.
fn kw<'a>(call: &'a ExprCall, name: &str) -> Option<&'a Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

/// `Some(b)` for a literal `True`/`False`, `None` for anything else.
fn literal_bool(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::BooleanLiteral(b) => Some(b.value),
        _ => None,
    }
}

/// How a flag argument is set: absent, literal true/false, or computed.
#[derive(PartialEq)]
enum Flag {
    Absent,
    True,
    False,
    Computed,
}

fn flag(call: &ExprCall, name: &str) -> Flag {
    match kw(call, name).map(literal_bool) {
        None => Flag::Absent,
        Some(Some(true)) => Flag::True,
        Some(Some(false)) => Flag::False,
        Some(None) => Flag::Computed,
    }
}

fn last(q: &str) -> &str {
    q.rsplit('.').next().unwrap_or(q)
}

const PICKLE_MODULES: &[&str] = &["pickle", "_pickle", "cPickle", "dill", "cloudpickle"];
const SUBPROCESS: &[&str] = &["run", "call", "check_call", "check_output", "Popen"];
const SAFE_LOADERS: &[&str] = &["SafeLoader", "CSafeLoader", "BaseLoader"];
const DOWNLOADERS: &[&str] = &[
    "urlretrieve",
    "urlopen",
    "download",
    "download_url",
    "download_url_to_file",
    "load_state_dict_from_url",
    "get_file",
    "from_pretrained",
    "hf_hub_download",
    "load",
    "load_dataset",
    "read_csv",
    "read_parquet",
    "read_json",
    "read_pickle",
];
const HUB_LOADERS: &[&str] = &["from_pretrained", "hf_hub_download", "snapshot_download"];

impl Calls<'_> {
    fn hit(
        &mut self,
        call: &ExprCall,
        rule: &'static str,
        severity: Severity,
        q: &str,
        message: String,
    ) {
        self.hits.push(Hit {
            rule,
            severity,
            offset: call.range().start().to_usize(),
            message,
            call: q.to_string(),
        });
    }

    fn first_arg_literal(&self, call: &ExprCall) -> bool {
        matches!(call.arguments.args.first(), Some(Expr::StringLiteral(_)))
    }

    fn check(&mut self, call: &ExprCall) {
        let Some(q) = self.names.qualified(&call.func) else {
            return;
        };
        let (module, name) = q.rsplit_once('.').unwrap_or(("", q.as_str()));
        let high = Severity::High;
        if (PICKLE_MODULES.contains(&module) && matches!(name, "load" | "loads" | "Unpickler"))
            || q == "pandas.read_pickle"
            || q == "shelve.open"
        {
            self.hit(
                call,
                rules::PICKLE,
                high,
                &q,
                format!("`{q}` deserialises with pickle: loading runs code from the file"),
            );
        }
        if q == "joblib.load" || q.ends_with("externals.joblib.load") {
            self.hit(
                call,
                rules::JOBLIB,
                high,
                &q,
                format!("`{q}` unpickles the file: loading runs code from it"),
            );
        }
        if q == "torch.load" {
            match flag(call, "weights_only") {
                Flag::True => {}
                Flag::Computed => self.hit(call, rules::TORCH, Severity::Medium, &q, "`torch.load` with a computed weights_only: make it the literal True".into()),
                Flag::False => self.hit(call, rules::TORCH, high, &q, "`torch.load(weights_only=False)` unpickles arbitrary objects".into()),
                Flag::Absent => self.hit(call, rules::TORCH, high, &q, "`torch.load` without weights_only=True unpickles arbitrary objects (before PyTorch 2.6)".into()),
            }
        }
        if q == "numpy.load" && matches!(flag(call, "allow_pickle"), Flag::True | Flag::Computed) {
            self.hit(
                call,
                rules::NUMPY,
                high,
                &q,
                "`numpy.load` with allow_pickle=True unpickles object arrays".into(),
            );
        }
        if module == "yaml" {
            self.check_yaml(call, &q, name);
        }
        if matches!(q.as_str(), "builtins.eval" | "builtins.exec")
            && !call.arguments.args.is_empty()
            && !self.first_arg_literal(call)
        {
            self.hit(
                call,
                rules::EVAL,
                high,
                &q,
                format!("`{name}` on a computed value executes whatever the data says"),
            );
        }
        match flag(call, "trust_remote_code") {
            Flag::True => self.hit(
                call,
                rules::REMOTE_CODE,
                high,
                &q,
                format!(
                    "`{}(trust_remote_code=True)` runs Python shipped with the model",
                    display(&q)
                ),
            ),
            Flag::Computed => self.hit(
                call,
                rules::REMOTE_CODE,
                Severity::Medium,
                &q,
                format!("`{}` with a computed trust_remote_code", display(&q)),
            ),
            _ => {}
        }
        if name == "load_model"
            && q.contains("keras")
            && matches!(flag(call, "safe_mode"), Flag::False | Flag::Computed)
        {
            self.hit(
                call,
                rules::KERAS,
                high,
                &q,
                format!("`{q}(safe_mode=False)` deserialises Lambda layers (code)"),
            );
        }
        self.check_shell(call, &q, module, name);
        self.check_http(call, &q, name);
        if HUB_LOADERS.contains(&name)
            && (name == "from_pretrained"
                || module.starts_with("huggingface_hub")
                || module.starts_with("builtins"))
        {
            self.check_unpinned(call, &q, name);
        }
    }

    fn check_yaml(&mut self, call: &ExprCall, q: &str, name: &str) {
        match name {
            "unsafe_load" | "unsafe_load_all" => {
                self.hit(
                    call,
                    rules::YAML,
                    Severity::High,
                    q,
                    format!("`{q}` constructs arbitrary Python objects"),
                );
            }
            "load" | "load_all" => {
                let loader = kw(call, "Loader").or_else(|| call.arguments.args.get(1));
                let safe = loader
                    .and_then(|l| self.names.qualified(l))
                    .is_some_and(|l| SAFE_LOADERS.contains(&last(&l)));
                if !safe {
                    self.hit(
                        call,
                        rules::YAML,
                        Severity::High,
                        q,
                        format!("`{q}` without Loader=SafeLoader can construct arbitrary objects"),
                    );
                }
            }
            _ => {}
        }
    }

    fn check_shell(&mut self, call: &ExprCall, q: &str, module: &str, name: &str) {
        let computed = !self.first_arg_literal(call);
        let severity = if computed {
            Severity::High
        } else {
            Severity::Medium
        };
        if module == "subprocess" {
            let shell = SUBPROCESS.contains(&name)
                && matches!(flag(call, "shell"), Flag::True | Flag::Computed);
            if shell || matches!(name, "getoutput" | "getstatusoutput") {
                self.hit(
                    call,
                    rules::SHELL,
                    severity,
                    q,
                    format!("`{q}` runs its command through a shell"),
                );
            }
        } else if matches!(q, "os.system" | "os.popen")
            && computed
            && !call.arguments.args.is_empty()
        {
            self.hit(
                call,
                rules::SHELL,
                Severity::High,
                q,
                format!("`{q}` on a computed command string"),
            );
        }
    }

    fn check_http(&mut self, call: &ExprCall, q: &str, name: &str) {
        let downloader = DOWNLOADERS.contains(&name)
            || (name == "get" && (q.starts_with("requests.") || q.starts_with("httpx.")))
            || q == "wget.download";
        if !downloader {
            return;
        }
        let args = call
            .arguments
            .args
            .iter()
            .chain(call.arguments.keywords.iter().map(|k| &k.value));
        for arg in args {
            if let Some(url) = self.names.string_value(arg)
                && insecure_url(url)
            {
                self.hit(
                    call,
                    rules::HTTP,
                    Severity::High,
                    q,
                    format!("`{}` fetches over plain http://", display(q)),
                );
                return;
            }
        }
    }

    fn check_unpinned(&mut self, call: &ExprCall, q: &str, name: &str) {
        if flag(call, "local_files_only") == Flag::True {
            return;
        }
        let source = call
            .arguments
            .args
            .first()
            .or_else(|| kw(call, "pretrained_model_name_or_path"))
            .or_else(|| kw(call, "repo_id"));
        if let Some(s) = source.and_then(|e| self.names.string_value(e))
            && (s.starts_with(['.', '/', '~']) || s.contains('\\'))
        {
            return;
        }
        let pinned = kw(call, "revision").is_some_and(|r| match self.names.string_value(r) {
            Some(rev) => rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
            None => true, // computed: assume it is pinned elsewhere
        });
        if !pinned {
            self.hit(
                call,
                rules::UNPINNED,
                Severity::Medium,
                q,
                format!(
                    "`{name}` without revision=<commit sha>: the repository can change under you"
                ),
            );
        }
    }
}

fn display(q: &str) -> &str {
    q.strip_prefix("builtins.")
        .or_else(|| q.strip_prefix("?."))
        .unwrap_or(q)
}

fn insecure_url(url: &str) -> bool {
    let Some(rest) = url
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
    else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    !(host == "localhost" || host.starts_with("127.") || host == "0.0.0.0" || host.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(src: &str) -> Vec<&'static str> {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        analyze(&parsed.syntax().body)
            .iter()
            .map(|h| h.rule)
            .collect()
    }

    #[test]
    fn aliases_and_from_imports_are_resolved() {
        assert_eq!(
            rules_of("import pickle as pk\npk.loads(b)\n"),
            [rules::PICKLE]
        );
        assert_eq!(
            rules_of("from torch import load\nload('m.pt')\n"),
            [rules::TORCH]
        );
        assert_eq!(
            rules_of("import joblib as jl\nm = jl.load(p)\n"),
            [rules::JOBLIB]
        );
    }

    #[test]
    fn safe_forms_are_silent() {
        assert!(rules_of("import torch\ntorch.load(p, weights_only=True)\n").is_empty());
        assert!(rules_of("import yaml\nyaml.safe_load(f)\nyaml.load(f, Loader=yaml.SafeLoader)\nyaml.load(f, yaml.CSafeLoader)\n").is_empty());
        assert!(
            rules_of("import numpy as np\nnp.load(p)\nnp.load(p, allow_pickle=False)\n").is_empty()
        );
        assert!(rules_of("model.eval()\neval('1 + 1')\nimport json\njson.load(f)\n").is_empty());
        assert!(rules_of("import subprocess\nsubprocess.run(['ls'], shell=False)\n").is_empty());
        assert!(rules_of("AutoModel.from_pretrained('org/m', revision='0123456789abcdef0123456789abcdef01234567')\n").is_empty());
        assert!(rules_of("AutoModel.from_pretrained('./checkpoints/best')\n").is_empty());
        assert!(rules_of("s = 'pickle.load(f)'  # torch.load(x)\n").is_empty());
    }

    #[test]
    fn unsafe_forms_with_keywords_and_multiline_calls() {
        assert_eq!(
            rules_of("import numpy\nnumpy.load(\n  p,\n  allow_pickle=True,\n)\n"),
            [rules::NUMPY]
        );
        assert_eq!(
            rules_of("import yaml\nyaml.load(f, Loader=yaml.Loader)\n"),
            [rules::YAML]
        );
        assert_eq!(rules_of("exec(code)\n"), [rules::EVAL]);
        assert_eq!(
            rules_of("AutoModel.from_pretrained('org/m', trust_remote_code=True)\n"),
            [rules::UNPINNED, rules::REMOTE_CODE]
        );
        assert_eq!(
            rules_of("from tensorflow import keras\nkeras.models.load_model(p, safe_mode=False)\n"),
            [rules::KERAS]
        );
        assert_eq!(
            rules_of("import subprocess as sp\nsp.run(cmd, shell=True)\n"),
            [rules::SHELL]
        );
        assert_eq!(
            rules_of(
                "import urllib.request\nURL = 'http://models.example.org/m.bin'\nurllib.request.urlretrieve(URL, 'm.bin')\n"
            ),
            [rules::HTTP]
        );
    }

    #[test]
    fn shadowed_builtins_are_not_flagged() {
        assert!(rules_of("from metrics import eval\neval(model)\n").is_empty());
        assert!(rules_of("def exec(x):\n    pass\nexec(job)\n").is_empty());
    }
}
