//! Format readers. Each takes a [`crate::source::Blob`] and reports into
//! the [`crate::scan::Scanner`]; containers call back into
//! [`crate::scan::Scanner::scan_blob`] for their members.

pub mod compress;
pub mod gguf;
pub mod hdf5;
pub mod jinja;
pub mod keras;
pub mod legacy_torch;
pub mod lzma;
pub mod numpy;
pub mod onnx;
pub mod safetensors;
pub mod sevenz;
pub mod tar;
pub mod xz;
pub mod zip;
pub mod zstd;
