//! `mlgate sign MODEL --key KEY.pem [--certificate-chain CHAIN.pem]`: sign a
//! model as OpenSSF model_signing v1.0 does (a Sigstore bundle wrapping a
//! DSSE in-toto statement over the file digests), so `builtin:signature`
//! and `model_signing verify` both accept it.

use std::path::PathBuf;

use clap::Args;

use super::usage_error;

/// `mlgate sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model: a file or a directory.
    pub model: PathBuf,
    /// ECDSA private key (PEM; P-256, P-384 or P-521).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    /// Certificate chain (PEM, signing certificate first) for certificate mode.
    #[arg(long, value_name = "CHAIN.pem")]
    pub certificate_chain: Option<PathBuf>,
    /// Paths under the model to leave out, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore_paths: Vec<String>,
    /// Where to write the bundle [default: MODEL.sig beside a file, MODEL/model.sig in a directory]
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Run `mlgate sign`.
pub fn run(args: SignArgs) -> u8 {
    let key = match std::fs::read_to_string(&args.key) {
        Ok(k) => k,
        Err(e) => return usage_error(format!("cannot read key {}: {e}", args.key.display())),
    };
    let output = args.output.clone().unwrap_or_else(|| {
        if args.model.is_dir() {
            args.model.join("model.sig")
        } else {
            let mut name = args.model.as_os_str().to_owned();
            name.push(".sig");
            PathBuf::from(name)
        }
    });
    let mut ignore = args.ignore_paths.clone();
    // A bundle written inside the model must not be part of what it signs.
    if let Ok(rel) = output.strip_prefix(&args.model)
        && !rel.as_os_str().is_empty()
    {
        ignore.push(rel.to_string_lossy().replace('\\', "/"));
    }
    let bundle = match &args.certificate_chain {
        None => mlgate_plugin_signature::sign::sign_model(&args.model, &key, &ignore),
        Some(chain) => match std::fs::read(chain) {
            Ok(pem) => mlgate_plugin_signature::sign::sign_model_with_certificate(
                &args.model,
                &key,
                &pem,
                &ignore,
            ),
            Err(e) => return usage_error(format!("cannot read {}: {e}", chain.display())),
        },
    };
    match bundle {
        Ok(json) => match std::fs::write(&output, json) {
            Ok(()) => {
                eprintln!("signed {} -> {}", args.model.display(), output.display());
                0
            }
            Err(e) => usage_error(format!("cannot write {}: {e}", output.display())),
        },
        Err(e) => usage_error(format!("signing failed: {e}")),
    }
}
