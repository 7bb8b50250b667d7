//! The report of a whole run: one line per failure and per case not applicable, then the
//! summary line `N passed, N failed`.

use std::fmt;

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    /// Every expectation held.
    Passed,
    /// An expectation failed; the message says which.
    Failed(String),
    /// Not run: the store or its harness lacks what the case needs (named).
    NotApplicable(&'static str),
}

impl CaseOutcome {
    /// For a per-case `#[test]`: panics unless the case passed. A case that was not applicable
    /// fails too: a test is generated only for a case that applies, so it never passes unrun.
    #[allow(clippy::panic)]
    pub fn assert_passed(&self, case: &str) {
        match self {
            CaseOutcome::Passed => {}
            CaseOutcome::Failed(message) => panic!("{case} failed: {message}"),
            CaseOutcome::NotApplicable(needs) => panic!("{case} was generated but does not apply: it needs {needs}"),
        }
    }
}

/// One case's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseReport {
    /// `category::name`.
    pub name: &'static str,
    /// How it ended.
    pub outcome: CaseOutcome,
}

/// The result of [`crate::run_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The adapter's name (with its mask).
    pub adapter: String,
    /// One entry per case, in suite order.
    pub results: Vec<CaseReport>,
    /// Set when deleting the run's keys afterwards failed.
    pub cleanup_error: Option<String>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Passed))
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Failed(_)))
    }

    /// Names of the cases that failed.
    pub fn failed_names(&self) -> Vec<&'static str> {
        self.names(|o| matches!(o, CaseOutcome::Failed(_)))
    }

    /// Names of the cases not applicable, with the capability each needs.
    pub fn not_applicable(&self) -> Vec<(&'static str, &'static str)> {
        self.results
            .iter()
            .filter_map(|r| match r.outcome {
                CaseOutcome::NotApplicable(needs) => Some((r.name, needs)),
                _ => None,
            })
            .collect()
    }

    /// Whether every case that ran passed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }

    /// Exactly `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// The report as one JSON object (for a Worker's response).
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"adapter\":{},\"passed\":{},\"failed\":{},\"summary\":{},\"cases\":[",
            json_string(&self.adapter),
            self.passed(),
            self.failed(),
            json_string(&self.summary())
        );
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (outcome, detail) = match &r.outcome {
                CaseOutcome::Passed => ("passed", String::new()),
                CaseOutcome::Failed(message) => ("failed", message.clone()),
                CaseOutcome::NotApplicable(needs) => ("not_applicable", (*needs).to_owned()),
            };
            out.push_str(&format!(
                "{{\"name\":{},\"outcome\":\"{outcome}\",\"detail\":{}}}",
                json_string(r.name),
                json_string(&detail)
            ));
        }
        out.push_str("]}");
        out
    }

    fn count(&self, f: impl Fn(&CaseOutcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }

    fn names(&self, f: impl Fn(&CaseOutcome) -> bool) -> Vec<&'static str> {
        self.results.iter().filter(|r| f(&r.outcome)).map(|r| r.name).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "conformance suite on {}", self.adapter)?;
        for r in &self.results {
            match &r.outcome {
                CaseOutcome::Passed => {}
                CaseOutcome::Failed(message) => writeln!(f, "FAILED {}: {message}", r.name)?,
                CaseOutcome::NotApplicable(needs) => writeln!(f, "not applicable: {} (needs {needs})", r.name)?,
            }
        }
        if let Some(error) = &self.cleanup_error {
            writeln!(f, "cleanup of the run's keys failed: {error}")?;
        }
        write!(f, "{}", self.summary())
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
