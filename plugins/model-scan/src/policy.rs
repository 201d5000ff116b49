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

/// Whole modules (and their submodules) whose callables run code, touch
/// files, network or processes, or resolve further callables.
const DANGEROUS_MODULES: &[(&str, &str)] = &[
    ("os", "process and file system access"),
    ("posix", "process and file system access"),
    ("nt", "process and file system access"),
    ("subprocess", "runs processes"),
    ("_posixsubprocess", "runs processes"),
    ("pty", "runs processes"),
    ("popen2", "runs processes"),
    ("commands", "runs processes"),
    ("platform", "runs processes (platform.popen)"),
    ("_osx_support", "runs processes"),
    ("_aix_support", "runs processes"),
    ("sys", "interpreter internals"),
    ("socket", "network access"),
    ("socketserver", "network access"),
    ("ssl", "network access"),
    ("http", "network access"),
    ("httplib", "network access"),
    ("urllib", "network access"),
    ("urllib2", "network access"),
    ("urllib3", "network access"),
    ("requests", "network access"),
    ("httpx", "network access"),
    ("aiohttp", "network access"),
    ("ftplib", "network access"),
    ("smtplib", "network access"),
    ("telnetlib", "network access"),
    ("poplib", "network access"),
    ("imaplib", "network access"),
    ("nntplib", "network access"),
    ("xmlrpc", "network access"),
    ("webbrowser", "runs processes"),
    ("huggingface_hub", "downloads files"),
    ("shutil", "file system access"),
    ("tempfile", "file system access"),
    ("glob", "file system access"),
    ("fileinput", "file system access"),
    ("linecache", "reads files"),
    ("tarfile", "file system access"),
    ("zipfile", "file system access"),
    ("shelve", "unpickles files"),
    ("dbm", "file system access"),
    ("sqlite3", "file system access"),
    ("mmap", "memory and file access"),
    ("io", "file access"),
    ("_io", "file access"),
    ("ctypes", "calls native code"),
    ("_ctypes", "calls native code"),
    ("cffi", "calls native code"),
    ("importlib", "imports arbitrary modules"),
    ("imp", "imports arbitrary modules"),
    ("zipimport", "imports arbitrary modules"),
    (
        "pkgutil",
        "resolves arbitrary callables (pkgutil.resolve_name)",
    ),
    ("pkg_resources", "imports arbitrary modules"),
    ("runpy", "runs code"),
    ("code", "runs code"),
    ("codeop", "compiles code"),
    ("pdb", "runs code"),
    ("bdb", "runs code"),
    ("cProfile", "runs code (cProfile.run)"),
    ("profile", "runs code (profile.run)"),
    ("_lsprof", "runs code"),
    ("timeit", "runs code (timeit.timeit)"),
    ("trace", "runs code"),
    ("doctest", "runs code"),
    ("pydoc", "resolves arbitrary callables (pydoc.locate)"),
    ("inspect", "interpreter internals"),
    ("gc", "reaches every live object"),
    ("types", "builds functions from code objects"),
    ("marshal", "loads code objects"),
    ("pickle", "nested unpickling"),
    ("_pickle", "nested unpickling"),
    ("cPickle", "nested unpickling"),
    ("dill", "nested unpickling"),
    ("cloudpickle", "nested unpickling"),
    ("jsonpickle", "nested unpickling"),
    ("yaml", "unsafe YAML loading"),
    ("multiprocessing", "runs processes"),
    ("concurrent", "runs code in workers"),
    ("asyncio", "runs processes"),
    ("threading", "runs callables in threads"),
    ("_thread", "runs callables in threads"),
    ("thread", "runs callables in threads"),
    ("signal", "interpreter control"),
    (
        "operator",
        "attribute and method gadgets (attrgetter, methodcaller)",
    ),
    (
        "_operator",
        "attribute and method gadgets (attrgetter, methodcaller)",
    ),
    ("venv", "installs and runs code"),
    ("ensurepip", "installs and runs code"),
    ("pip", "installs and runs code (pip.main)"),
    ("setuptools", "builds and runs code"),
    ("distutils", "builds and runs code"),
    ("site", "interpreter setup"),
    ("_sitebuiltins", "interpreter internals"),
    ("idlelib", "runs code"),
    ("lib2to3", "runs code"),
    (
        "logging.config",
        "evaluates configuration (logging.config.listen)",
    ),
    ("cgi", "web internals"),
    ("uuid", "runs processes (uuid._get_command_stdout)"),
    ("IPython", "runs code"),
    ("jinja2", "template code execution"),
    ("mako", "template code execution"),
    ("numexpr", "evaluates expressions"),
    ("sympy", "evaluates expressions (sympify)"),
    ("torch.hub", "downloads and runs code (torch.hub.load)"),
    ("torch.serialization", "nested model loading"),
    ("torch.load", "nested model loading"),
    ("torch.storage._load_from_bytes", "nested model loading"),
    ("torch.jit", "loads and runs TorchScript"),
    ("torch.package", "loads packaged code"),
    (
        "torch.utils.cpp_extension",
        "compiles and loads native code",
    ),
    ("torch._inductor", "compiles and runs code"),
    ("torch._dynamo", "compiles and runs code"),
    ("torch.distributed", "network and remote execution"),
    ("torch.ops", "calls arbitrary registered operators"),
    ("torch.testing", "test helpers that run code"),
    ("numpy.f2py", "compiles and runs code"),
    ("numpy.distutils", "builds and runs code"),
    ("numpy.testing", "runs code (runstring)"),
    ("numpy.ctypeslib", "loads native libraries"),
    ("numpy.load", "nested loading with pickles"),
    ("numpy.lib.npyio", "file access and nested loading"),
    ("numpy.fromfile", "reads files"),
    ("numpy.save", "writes files"),
    ("numpy.savez", "writes files"),
    ("pandas.io", "file and network access, nested unpickling"),
    ("pandas.read_pickle", "nested unpickling"),
    ("joblib.load", "nested unpickling"),
    ("joblib.numpy_pickle.load", "nested unpickling"),
    (
        "sklearn.externals.joblib.numpy_pickle.load",
        "nested unpickling",
    ),
    ("keras.utils.get_file", "downloads files"),
    ("tensorflow.io", "file access"),
    ("tensorflow.keras.utils.get_file", "downloads files"),
    ("codecs.open", "file access"),
];

/// Dangerous names in `builtins` (others there are unknown or safe).
const DANGEROUS_BUILTINS: &[&str] = &[
    "eval",
    "exec",
    "execfile",
    "compile",
    "open",
    "file",
    "__import__",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "input",
    "raw_input",
    "breakpoint",
    "apply",
    "reload",
    "help",
    "type",
    "memoryview",
    "exit",
    "quit",
    "__build_class__",
    "super",
    "classmethod",
    "staticmethod",
    "property",
];

/// Attribute names whose presence in a dotted name means an attribute walk
/// into interpreter internals.
const DANGEROUS_ATTRS: &[&str] = &[
    "__globals__",
    "__builtins__",
    "__class__",
    "__subclasses__",
    "__mro__",
    "__bases__",
    "__dict__",
    "__getattribute__",
    "__code__",
    "__closure__",
    "__func__",
    "__self__",
    "__module__",
    "__init__",
    "__loader__",
    "__spec__",
    "__import__",
    "__reduce__",
    "__reduce_ex__",
    "__getitem__",
    "__call__",
];

const SAFE: &[&str] = &[
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.range",
    "builtins.complex",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.bool",
    "builtins.object",
    "builtins.long",
    "builtins.unicode",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "_codecs.encode",
    "codecs.encode",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "argparse.Namespace",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "pathlib.Path",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_qtensor",
    "torch._tensor._rebuild_from_type_v2",
    "torch._tensor._rebuild_from_type",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.UntypedStorage",
    "torch.TypedStorage",
    "torch.Size",
    "torch.device",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.nn.parameter.Buffer",
    "torch.serialization._get_layout",
    "torch.strided",
    "torch.sparse_coo",
    "torch.sparse_csr",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.preserve_format",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.matrix",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.ma.core.MaskedArray",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random.__RandomState_ctor",
    "numpy.random.mtrand.RandomState",
    "numpy.random._mt19937.MT19937",
    "numpy.random._pcg64.PCG64",
    "numpy.random._philox.Philox",
    "numpy.random._sfc64.SFC64",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle_compat.NDArrayWrapper",
    "joblib.numpy_pickle_compat.ZNDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    "pandas.core.frame.DataFrame",
    "pandas.core.series.Series",
    "pandas.core.internals.managers.BlockManager",
    "pandas.core.internals.managers.SingleBlockManager",
    "pandas._libs.internals._unpickle_block",
    "pandas.core.indexes.base._new_Index",
    "pandas.core.indexes.base.Index",
    "pandas.core.indexes.range.RangeIndex",
    "pandas.core.internals.blocks.new_block",
];

const TORCH_DTYPES: &[&str] = &[
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
    "complex64",
    "complex128",
    "float",
    "double",
    "half",
    "long",
    "int",
    "short",
    "qint8",
    "quint8",
    "qint32",
    "float8_e4m3fn",
    "float8_e5m2",
    "uint16",
    "uint32",
    "uint64",
];

const NUMPY_SCALARS: &[&str] = &[
    "float64",
    "float32",
    "float16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint64",
    "uint32",
    "uint16",
    "uint8",
    "bool_",
    "complex64",
    "complex128",
    "str_",
    "bytes_",
    "intc",
    "longlong",
    "ulonglong",
    "float128",
    "datetime64",
    "timedelta64",
    "void",
];

/// Packages whose classes (CamelCase names, plain module paths) are data
/// containers or estimators whose construction runs no user-chosen code.
const SAFE_CLASS_PACKAGES: &[&str] = &[
    "torch.nn.modules.",
    "torch.optim.",
    "transformers.",
    "accelerate.",
    "tokenizers.",
    "sklearn.",
    "scipy.sparse.",
    "numpy.dtypes.",
    "xgboost.",
    "lightgbm.",
];

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
