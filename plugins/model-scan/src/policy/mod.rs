//! Classifying the globals a pickle reaches: known-dangerous callables
//! (critical), globals known safe per ecosystem (pass), everything else
//! unknown (high by default). The user's `allow_globals` extends the safe
//! list but never overrides the dangerous one; `deny_globals` extends the
//! dangerous one.
//!
//! Names are resolved the way `pickle.Unpickler.find_class` resolves them:
//! Python 2 module names are mapped (`__builtin__` is `builtins`), and a
//! dotted name is an attribute walk (`pathlib` + `os.system` reaches
//! `os.system`), so every suffix of the walk is checked.

mod lists;

use lists::{
    DANGEROUS_ATTRS, DANGEROUS_BUILTINS, DANGEROUS_MODULES, NUMPY_SCALARS, SAFE,
    SAFE_CLASS_PACKAGES, TORCH_DTYPES,
};

/// How a global is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Known safe.
    Safe,
    /// Known dangerous, with the reason.
    Dangerous(String),
    /// Not on either list.
    Unknown,
}

/// Map Python 2 module names the way `find_class(fix_imports=True)` does.
pub fn normalize_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "UserDict" | "UserList" | "UserString" => "collections",
        "cStringIO" | "StringIO" => "io",
        "Queue" => "queue",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "thread" => "_thread",
        "commands" => "subprocess",
        other => other,
    }
}

fn under(full: &str, prefix: &str) -> bool {
    full == prefix || (full.starts_with(prefix) && full.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// A user pattern: `module.name` exactly, or `module.*` for a whole module.
pub fn pattern_matches(pattern: &str, full: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => under(full, prefix),
        None => pattern == full,
    }
}

/// Why `full` (a `module.name` path) is dangerous, if it is.
fn dangerous(full: &str) -> Option<String> {
    for (prefix, why) in DANGEROUS_MODULES {
        if under(full, prefix) {
            return Some(format!("{prefix}: {why}"));
        }
    }
    if let Some(name) = full.strip_prefix("builtins.") {
        let head = name.split('.').next().unwrap_or(name);
        if DANGEROUS_BUILTINS.contains(&head) {
            return Some(format!(
                "builtins.{head}: runs code or reaches arbitrary objects"
            ));
        }
    }
    None
}

fn safe_builtin(full: &str) -> bool {
    if SAFE.contains(&full) {
        return true;
    }
    if let Some(name) = full.strip_prefix("torch.")
        && (TORCH_DTYPES.contains(&name) || (name.ends_with("Storage") && !name.contains('.')))
    {
        return true;
    }
    if let Some(name) = full.strip_prefix("numpy.")
        && NUMPY_SCALARS.contains(&name)
    {
        return true;
    }
    SAFE_CLASS_PACKAGES.iter().any(|p| {
        full.strip_prefix(p).is_some_and(|rest| {
            let (path, name) = rest.rsplit_once('.').unwrap_or(("", rest));
            let class_like = name.starts_with(|c: char| c.is_ascii_uppercase())
                || name.starts_with("__pyx_unpickle_");
            class_like && !path.split('.').any(|seg| dangerous(seg).is_some())
        })
    })
}

/// Classify `module` + `name` as resolved by the unpickler, with the
/// user's extra `allow` and `deny` patterns.
pub fn classify(module: &str, name: &str, allow: &[String], deny: &[String]) -> Verdict {
    let module = normalize_module(module);
    let full = format!("{module}.{name}");
    if deny.iter().any(|p| pattern_matches(p, &full)) {
        return Verdict::Dangerous("denied by the gate's deny_globals".into());
    }
    let parts: Vec<&str> = full.split('.').collect();
    if let Some(attr) = parts.iter().find(|p| DANGEROUS_ATTRS.contains(p)) {
        return Verdict::Dangerous(format!("attribute walk through `{attr}`"));
    }
    if let Some(why) = dangerous(&full) {
        return Verdict::Dangerous(why);
    }
    // A dotted name is an attribute walk from the module: every object it
    // passes is reachable, so `pathlib` + `os.system` reaches `os.system`.
    let module_parts = module.split('.').count();
    for start in module_parts..parts.len() {
        let mut segs: Vec<&str> = parts[start..].to_vec();
        segs[0] = normalize_module(segs[0]);
        if let Some(why) = dangerous(&segs.join(".")) {
            return Verdict::Dangerous(format!("attribute walk to {why}"));
        }
    }
    if safe_builtin(&full) || allow.iter().any(|p| pattern_matches(p, &full)) {
        return Verdict::Safe;
    }
    Verdict::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(m: &str, n: &str) -> Verdict {
        classify(m, n, &[], &[])
    }

    #[test]
    fn published_bypasses_are_dangerous() {
        for (m, n) in [
            ("os", "system"),
            ("posix", "system"),
            ("__builtin__", "eval"),
            ("builtins", "getattr"),
            ("pip", "main"),
            ("runpy", "_run_code"),
            ("code", "InteractiveInterpreter"),
            ("cProfile", "run"),
            ("timeit", "timeit"),
            ("pydoc", "locate"),
            ("importlib", "import_module"),
            ("operator", "attrgetter"),
            ("_operator", "methodcaller"),
            ("torch.hub", "load"),
            ("numpy.f2py", "compile"),
            ("pkgutil", "resolve_name"),
            ("pathlib", "os.system"),
            ("torch", "storage._load_from_bytes"),
            ("collections", "OrderedDict.__class__"),
            ("asyncio.unix_events", "_UnixSubprocessTransport"),
            ("torch.serialization", "load"),
        ] {
            assert!(
                matches!(c(m, n), Verdict::Dangerous(_)),
                "{m}.{n} should be dangerous"
            );
        }
    }

    #[test]
    fn ecosystem_globals_are_safe() {
        for (m, n) in [
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch", "FloatStorage"),
            ("collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy", "dtype"),
            ("sklearn.linear_model._logistic", "LogisticRegression"),
            ("copy_reg", "_reconstructor"),
            ("__builtin__", "set"),
            ("joblib.numpy_pickle", "NumpyArrayWrapper"),
            ("torch.nn.modules.linear", "Linear"),
        ] {
            assert_eq!(c(m, n), Verdict::Safe, "{m}.{n}");
        }
    }

    #[test]
    fn others_are_unknown_and_user_lists_apply() {
        assert_eq!(c("mypkg.models", "Net"), Verdict::Unknown);
        assert_eq!(c("sklearn.utils", "deprecated"), Verdict::Unknown);
        let allow = vec!["mypkg.*".to_string()];
        assert_eq!(classify("mypkg.models", "Net", &allow, &[]), Verdict::Safe);
        let allow = vec!["os.*".to_string()];
        assert!(matches!(
            classify("os", "system", &allow, &[]),
            Verdict::Dangerous(_)
        ));
        let deny = vec!["collections.OrderedDict".to_string()];
        assert!(matches!(
            classify("collections", "OrderedDict", &[], &deny),
            Verdict::Dangerous(_)
        ));
    }
}
