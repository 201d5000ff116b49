//! Sign a model with `mlgate_plugin_signature::sign` (what `mlgate sign`
//! calls), for the interoperability script in tests/fixtures/signature.
//!
//! cargo run -p mlgate-plugin-signature --example sign -- MODEL KEY.pem OUT.sig [--chain CHAIN.pem] [--ignore PATH]...

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: sign MODEL KEY.pem OUT.sig [--chain CHAIN.pem] [--ignore PATH]...");
        std::process::exit(2);
    }
    let (mut chain, mut ignore) = (None, Vec::new());
    let mut rest = args[3..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().expect("flag needs a value").clone();
        match flag.as_str() {
            "--chain" => chain = Some(std::fs::read(value).expect("read chain")),
            "--ignore" => ignore.push(value),
            other => panic!("unknown flag {other}"),
        }
    }
    let key = std::fs::read_to_string(&args[1]).expect("read key");
    let model = Path::new(&args[0]);
    let bundle = match chain {
        None => mlgate_plugin_signature::sign::sign_model(model, &key, &ignore),
        Some(c) => {
            mlgate_plugin_signature::sign::sign_model_with_certificate(model, &key, &c, &ignore)
        }
    };
    match bundle {
        Ok(b) => std::fs::write(&args[2], b).expect("write bundle"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
