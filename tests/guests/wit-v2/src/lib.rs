//! A plugin built for `mlgate:gate@0.2.0`, a WIT version this runner does
//! not support. Loading it must fail with a message naming both versions.

wit_bindgen::generate!({ world: "gate", path: "wit" });

struct V2;

impl Guest for V2 {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wit-v2".into(),
            version: "0.1.0".into(),
            description: "future WIT".into(),
            rules: vec![],
            inputs: vec![],
            config_schema: "{}".into(),
        }
    }

    fn run(_request: RunRequest) -> Result<GateResult, GateError> {
        mlgate::gate::host::log(mlgate::gate::host::LogLevel::Info, "v2");
        Ok(GateResult {
            findings: vec![],
            summary: "v2".into(),
            metrics: vec![],
        })
    }
}

export!(V2);
