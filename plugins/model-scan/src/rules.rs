//! Rule ids, default severities, summaries and remediation, as listed by
//! `describe`. Ids are stable: suppressions and tickets refer to them.

use mlgate_plugin_sdk::Severity;

/// One rule: id, default severity, summary, help.
pub type RuleDef = (&'static str, Severity, &'static str, &'static str);

/// A pickle reaches a callable that runs code, touches files/network/processes or resolves other callables.
pub const DANGEROUS_GLOBAL: &str = "pickle-dangerous-global";
/// A pickle reaches a global that is on no list.
pub const UNKNOWN_GLOBAL: &str = "pickle-unknown-global";
/// STACK_GLOBAL operands computed at load time.
pub const NONLITERAL_GLOBAL: &str = "pickle-nonliteral-global";
/// EXT1/2/4 opcodes.
pub const EXT_CODE: &str = "pickle-ext-code";
/// FRAME length disagrees with the content.
pub const FRAME_MISMATCH: &str = "pickle-frame-mismatch";
/// The content is not a valid instance of the format it claims.
pub const MALFORMED: &str = "malformed";
/// A scanner bound was hit; part of the file was not scanned.
pub const SCAN_LIMIT: &str = "scan-limit";
/// Zip local and central headers disagree.
pub const HEADER_MISMATCH: &str = "archive-header-mismatch";
/// Two archive entries with the same name.
pub const DUPLICATE_ENTRY: &str = "archive-duplicate-entry";
/// Encrypted or unsupported archive member.
pub const UNSUPPORTED: &str = "archive-unsupported";
/// Keras Lambda layer.
pub const KERAS_LAMBDA: &str = "keras-lambda";
/// Keras config reaching a module outside Keras.
pub const KERAS_REFERENCE: &str = "keras-unsafe-reference";
/// SafeTensors header invalid.
pub const SAFETENSORS_INVALID: &str = "safetensors-invalid";
/// Pickle-based model where SafeTensors is required.
pub const SAFETENSORS_REQUIRED: &str = "safetensors-required";
/// GGUF chat template reaching Python internals.
pub const GGUF_TEMPLATE: &str = "gguf-template-injection";
/// ONNX external data outside the model directory.
pub const ONNX_EXTERNAL: &str = "onnx-external-data-escape";
/// A file in a format the scanner does not know.
pub const UNSCANNED: &str = "unscanned-format";

/// Every rule, for `describe`.
pub const ALL: &[RuleDef] = &[
    (
        DANGEROUS_GLOBAL,
        Severity::Critical,
        "Loading the pickle calls or reaches a dangerous callable (process, exec/eval, import machinery, file/network, resolver gadgets, nested unpickling)",
        "Do not load this file. Re-export the model from trusted code as SafeTensors (or ONNX without external data); if the file is yours, find how the callable got into the pickle.",
    ),
    (
        UNKNOWN_GLOBAL,
        Severity::High,
        "The pickle reaches a global that is neither known safe nor known dangerous",
        "Check what the global is. If it is your own trusted class, add it to `allow_globals` (`module.name` or `module.*`); better, save weights as SafeTensors.",
    ),
    (
        NONLITERAL_GLOBAL,
        Severity::Critical,
        "STACK_GLOBAL operands are computed at load time, so the callable cannot be known before loading",
        "Do not load this file: legitimate pickles name their globals with literal strings.",
    ),
    (
        EXT_CODE,
        Severity::High,
        "The pickle uses the copyreg extension registry (EXT1/2/4), whose targets depend on the loading process",
        "Do not load this file unless you know the extension registry of the loader; legitimate model files do not use extension codes.",
    ),
    (
        FRAME_MISMATCH,
        Severity::Medium,
        "A pickle FRAME's declared length disagrees with its content (a parser-differential trick)",
        "Regenerate the file with a standard pickler; treat it as tampered until explained.",
    ),
    (
        MALFORMED,
        Severity::Medium,
        "The content is not a valid instance of the format it claims (truncated, corrupt, inconsistent)",
        "Regenerate or re-download the file; a loader may still run code that comes before the damage.",
    ),
    (
        SCAN_LIMIT,
        Severity::High,
        "A scanner bound was hit (decompressed size, nesting, opcode count, memo): part of the file was not scanned",
        "Inspect the file: zip bombs and deeply nested archives end here. Raise the bound in `with:` only for files you trust.",
    ),
    (
        HEADER_MISMATCH,
        Severity::High,
        "A zip entry's local header disagrees with its central directory entry, so different readers see different content",
        "Treat the archive as tampered; rebuild it with a standard writer.",
    ),
    (
        DUPLICATE_ENTRY,
        Severity::High,
        "Two zip entries share a name (case-insensitively, as PyTorch's miniz looks them up)",
        "Treat the archive as tampered; which entry a loader reads differs between readers.",
    ),
    (
        UNSUPPORTED,
        Severity::High,
        "An archive member could not be inspected (encrypted, or an unsupported compression method)",
        "Unpack the member yourself and scan it, or ship it in a supported form.",
    ),
    (
        KERAS_LAMBDA,
        Severity::Critical,
        "A Keras model contains a Lambda layer (serialized Python bytecode run on load)",
        "Replace the Lambda with a registered custom layer and load with safe_mode=True; do not load this file.",
    ),
    (
        KERAS_REFERENCE,
        Severity::High,
        "A Keras config references a module or function outside Keras (imported on load), or a fetch gadget such as get_file",
        "Check the referenced module; keep custom objects in code you control and register them explicitly.",
    ),
    (
        SAFETENSORS_INVALID,
        Severity::High,
        "A SafeTensors header is invalid (length, JSON, dtype, shape/size, offsets, overlap, gap, duplicate)",
        "Regenerate the file with the safetensors library; loaders disagree on invalid headers.",
    ),
    (
        SAFETENSORS_REQUIRED,
        Severity::High,
        "A pickle-based model file where the gate requires SafeTensors",
        "Convert the model to SafeTensors (e.g. safetensors.torch.save_file).",
    ),
    (
        GGUF_TEMPLATE,
        Severity::Critical,
        "A GGUF chat template uses Jinja constructs that reach Python internals (server-side template injection)",
        "Replace the chat template with a plain one; render templates in a sandboxed Jinja environment.",
    ),
    (
        ONNX_EXTERNAL,
        Severity::High,
        "ONNX external data points outside the model directory (absolute path or ..), so loading reads arbitrary files",
        "Keep external data files beside the model and refer to them by plain relative names.",
    ),
    (
        UNSCANNED,
        Severity::Info,
        "A file in a format the scanner does not know was not scanned",
        "Nothing to do if the file is not a model; otherwise convert it to a supported format.",
    ),
];
