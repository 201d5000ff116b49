//! Names to qualified names: the module's imports (`import pickle as pk`,
//! `from torch import load`) and its string constants (`URL = "http://..."`),
//! collected in one pass over every statement. The table is flow- and
//! scope-insensitive on purpose: an alias bound anywhere in the file counts
//! everywhere, which errs towards reporting.

use std::collections::HashMap;

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt};
use ruff_python_ast::{Expr, Stmt};

/// What the names of one module refer to.
#[derive(Debug, Default)]
pub struct Names {
    /// Local name → dotted module path (`pk` → `pickle`, `load` → `torch.load`).
    pub aliases: HashMap<String, String>,
    /// Local names bound by `def`/`class` (shadowing builtins such as `eval`).
    pub defined: Vec<String>,
    /// Names assigned a string literal (last assignment wins).
    pub strings: HashMap<String, String>,
    /// Modules imported with `from M import *` (last one wins on lookup).
    pub star: Vec<String>,
}

impl Names {
    /// Collect from a module body.
    pub fn collect(body: &[Stmt]) -> Self {
        let mut names = Names::default();
        names.visit_body(body);
        names
    }

    /// Add the bindings of another body (a notebook's next cell: cells
    /// share one namespace).
    pub fn add(&mut self, body: &[Stmt]) {
        self.visit_body(body);
    }

    /// The dotted name an expression refers to: `pk.load` → `pickle.load`,
    /// `eval` → `builtins.eval` unless shadowed, `x.from_pretrained` →
    /// `?.from_pretrained` (unknown base).
    pub fn qualified(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Name(n) => {
                let id = n.id.as_str();
                if let Some(target) = self.aliases.get(id) {
                    Some(target.clone())
                } else if self.defined.iter().any(|d| d == id) {
                    Some(format!("local.{id}"))
                } else if let Some(module) = self.star.last().filter(|_| !is_builtin(id)) {
                    Some(format!("{module}.{id}"))
                } else {
                    Some(format!("builtins.{id}"))
                }
            }
            Expr::Attribute(a) => {
                let base = self.qualified(&a.value).unwrap_or_else(|| "?".into());
                let base = base.strip_prefix("builtins.").map_or(base.clone(), |b| {
                    // `x.attr` where `x` is a plain local variable: unknown base.
                    if b.contains('.') {
                        base.clone()
                    } else {
                        "?".to_string()
                    }
                });
                Some(format!("{base}.{}", a.attr.as_str()))
            }
            Expr::Call(c) => {
                let func = self.qualified(&c.func)?;
                let args = &c.arguments.args;
                match (func.as_str(), args.first(), args.get(1)) {
                    // getattr(pickle, "loads") is pickle.loads
                    ("builtins.getattr", Some(obj), Some(Expr::StringLiteral(attr))) => {
                        Some(format!("{}.{}", self.qualified(obj)?, attr.value.to_str()))
                    }
                    // importlib.import_module("pickle") / __import__("pickle") is the module
                    (
                        "importlib.import_module" | "builtins.__import__",
                        Some(Expr::StringLiteral(m)),
                        _,
                    ) => Some(m.value.to_str().to_string()),
                    _ => Some(format!("{func}()")),
                }
            }
            _ => None,
        }
    }

    /// The string a literal or a constant name holds.
    pub fn string_value<'a>(&'a self, expr: &'a Expr) -> Option<&'a str> {
        match expr {
            Expr::StringLiteral(s) => Some(s.value.to_str()),
            Expr::Name(n) => self.strings.get(n.id.as_str()).map(String::as_str),
            _ => None,
        }
    }
}

impl<'a> StatementVisitor<'a> for Names {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            self.aliases
                                .insert(asname.as_str().to_string(), full.to_string());
                        }
                        None => {
                            // `import os.path` binds `os`.
                            let first = full.split('.').next().unwrap_or(full);
                            self.aliases.insert(first.to_string(), first.to_string());
                        }
                    }
                }
            }
            Stmt::ImportFrom(from) => {
                let module = from.module.as_ref().map_or("", |m| m.as_str());
                for alias in &from.names {
                    let name = alias.name.as_str();
                    if name == "*" {
                        self.star.push(module.to_string());
                        continue;
                    }
                    let local = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    let target = if module.is_empty() {
                        format!("local.{name}")
                    } else {
                        format!("{module}.{name}")
                    };
                    let target = if from.level > 0 {
                        format!("local.{name}")
                    } else {
                        target
                    };
                    self.aliases.insert(local.to_string(), target);
                }
            }
            Stmt::FunctionDef(def) => self.defined.push(def.name.as_str().to_string()),
            Stmt::ClassDef(def) => self.defined.push(def.name.as_str().to_string()),
            Stmt::Assign(assign) => {
                if let [Expr::Name(target)] = assign.targets.as_slice() {
                    let target = target.id.as_str().to_string();
                    match assign.value.as_ref() {
                        Expr::StringLiteral(s) => {
                            self.strings.insert(target, s.value.to_str().to_string());
                        }
                        // `loader = pickle.load` makes `loader` an alias
                        value @ (Expr::Attribute(_) | Expr::Name(_)) => {
                            if let Some(q) = self.qualified(value)
                                && !["?.", "builtins.", "local."]
                                    .iter()
                                    .any(|p| q.starts_with(p))
                                && q.contains('.')
                            {
                                self.aliases.insert(target, q);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }
}

/// Python builtins that a star import must not capture.
fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "eval"
            | "exec"
            | "open"
            | "print"
            | "len"
            | "getattr"
            | "__import__"
            | "compile"
            | "list"
            | "dict"
            | "str"
            | "int"
            | "range"
            | "isinstance"
            | "super"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Names {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        Names::collect(&parsed.syntax().body)
    }

    #[test]
    fn aliases_and_from_imports() {
        let n = names(
            "import pickle as pk\nfrom torch import load\nimport os.path\nfrom . import util\ndef eval(x): pass\n",
        );
        assert_eq!(n.aliases["pk"], "pickle");
        assert_eq!(n.aliases["load"], "torch.load");
        assert_eq!(n.aliases["os"], "os");
        assert_eq!(n.aliases["util"], "local.util");
        assert!(n.defined.contains(&"eval".to_string()));
    }

    #[test]
    fn qualified_names() {
        let src = "import numpy as np\nimport tensorflow as tf\nnp.load(x)\ntf.keras.models.load_model(p)\nmodel.eval()\neval(s)\n";
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let n = Names::collect(&parsed.syntax().body);
        let calls: Vec<String> = parsed.syntax().body[2..]
            .iter()
            .map(|s| match s {
                Stmt::Expr(e) => match e.value.as_ref() {
                    Expr::Call(c) => n.qualified(&c.func).unwrap(),
                    _ => unreachable!(),
                },
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            calls,
            [
                "numpy.load",
                "tensorflow.keras.models.load_model",
                "?.eval",
                "builtins.eval"
            ]
        );
    }
}
