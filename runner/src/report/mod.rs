//! Reports: one result model ([`model`]) and a renderer per format.

pub mod human;
pub mod json;
pub mod junit;
pub mod model;
pub mod progress;

/// Output formats of `run` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Table and findings for people (default on a terminal).
    Human,
    /// The JSON report (contract in DESIGN.md).
    Json,
    /// JUnit XML.
    Junit,
}

/// Render a report in a format.
pub fn render(report: &model::RunReport, format: Format, tty: bool) -> String {
    match format {
        Format::Human => human::render(report, human::Style::detect(tty)),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
    }
}
