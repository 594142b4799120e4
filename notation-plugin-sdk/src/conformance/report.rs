//! The conformance report: one row per check.

use std::fmt;
use std::path::PathBuf;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The plugin behaved as the contract requires.
    Pass,
    /// The plugin broke the contract; the text says how.
    Fail(String),
    /// The check could not run (for example no `--key-id` was given, or
    /// the plugin does not claim the capability); the text says why.
    Skip(String),
}

impl Outcome {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail(_) => "FAIL",
            Outcome::Skip(_) => "SKIP",
        }
    }

    /// The explanation, empty for a pass.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(s) | Outcome::Skip(s) => s,
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Stable identifier, e.g. `metadata.name` or `generate-signature`.
    pub id: &'static str,
    /// What the check verifies, in a few words.
    pub title: &'static str,
    /// The result.
    pub outcome: Outcome,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The plugin executable checked.
    pub plugin: PathBuf,
    /// One row per check, in the order run.
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// True when no check failed (skipped checks do not fail the report).
    pub fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Fail(_)))
    }

    /// The row with identifier `id`, if that check ran.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The rows that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
    }
}

impl fmt::Display for Report {
    /// A plain-text table: check id, result, title and detail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Conformance of {}", self.plugin.display())?;
        let width = self
            .checks
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f, "{:<width$}  RESULT  CHECK", "ID")?;
        for c in &self.checks {
            writeln!(f, "{:<width$}  {:<6}  {}", c.id, c.outcome.label(), c.title)?;
            let detail = c.outcome.detail();
            if !detail.is_empty() {
                for line in detail.lines() {
                    writeln!(f, "{:<width$}          {}", "", line)?;
                }
            }
        }
        let failed = self.failures().count();
        let skipped = self
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skip(_)))
            .count();
        writeln!(
            f,
            "{} checks: {} passed, {} failed, {} skipped",
            self.checks.len(),
            self.checks.len() - failed - skipped,
            failed,
            skipped
        )
    }
}
