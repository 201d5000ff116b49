//! Reports: one result model ([`model`]) and a renderer per format.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod progress;
pub mod sarif;

/// Output formats of `run` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Table and findings for people (default on a terminal).
    Human,
    /// The JSON report (contract in DESIGN.md).
    Json,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions workflow commands (auto when `GITHUB_ACTIONS=true`).
    Github,
    /// A Markdown summary (status table, DAG, findings by gate).
    Markdown,
}

/// What the pipeline-aware renderers (SARIF, GitHub, Markdown) read besides
/// the report; `Context::default()` when there is no pipeline (`check`).
#[derive(Default)]
pub struct Context<'a> {
    /// The pipeline run, to point at a gate's declaration.
    pub pipeline: Option<&'a crate::model::Pipeline>,
    /// Its DAG, for the Mermaid diagram.
    pub graph: Option<&'a crate::graph::GateGraph>,
    /// Rule metadata per plugin (from `describe`).
    pub rules: sarif::RuleCatalog,
    /// Where the project and the pipeline file are in the repository.
    pub repo: sarif::RepoPaths,
}

/// Render a report in a format.
pub fn render(report: &model::RunReport, format: Format, tty: bool) -> String {
    render_with(report, format, tty, &Context::default())
}

/// Render a report in a format, with the pipeline context some formats use.
pub fn render_with(report: &model::RunReport, format: Format, tty: bool, ctx: &Context) -> String {
    match format {
        Format::Human => human::render(report, human::Style::detect(tty)),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report, ctx),
        Format::Github => github::render(report, ctx),
        Format::Markdown => markdown::render(report, ctx),
    }
}
