//! The documented exit classes of the `cutover` binary.
//!
//! Every exit code the binary can end with is an [`ExitClass`]; README's
//! "Exit codes" table lists exactly [`ExitClass::ALL`] with the wording of
//! [`ExitClass::meaning`] (a test compares them). Library error types say
//! which class they belong to by implementing [`HasExitClass`], each with an
//! exhaustive `match` over its variants, so a new variant cannot be added
//! without deciding its exit code.

use std::process::ExitCode;

/// One documented exit code of the `cutover` binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ExitClass {
    /// Everything succeeded.
    Ok = 0,
    /// The operation ran and failed.
    Failed = 1,
    /// Bad command line, invalid plan or input.
    Usage = 2,
    /// A plugin could not be loaded.
    PluginLoad = 3,
    /// A plugin call failed.
    PluginCall = 4,
    /// Paused, waiting for an approval or an operator.
    Paused = 5,
    /// Aborted or rolled back.
    Aborted = 6,
    /// Nothing to judge: `inconclusive` or `no-data`.
    Inconclusive = 7,
    /// A state problem: journal, backup or lease.
    State = 8,
    /// An unexpected internal error.
    Internal = 70,
}

impl ExitClass {
    /// Every class, by increasing code.
    pub const ALL: [ExitClass; 10] = [
        ExitClass::Ok,
        ExitClass::Failed,
        ExitClass::Usage,
        ExitClass::PluginLoad,
        ExitClass::PluginCall,
        ExitClass::Paused,
        ExitClass::Aborted,
        ExitClass::Inconclusive,
        ExitClass::State,
        ExitClass::Internal,
    ];

    /// The process exit code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The class with this exit code, if one has it.
    pub fn from_code(code: u8) -> Option<ExitClass> {
        ExitClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// What the code means, in one line: the wording of README's table.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitClass::Ok => "success: a check passed, a comparison passed, a migration completed",
            ExitClass::Failed => "ran and failed: verdict `fail`, a step or phase failed",
            ExitClass::Usage => "usage error or invalid plan / input (diagnostics on stderr)",
            ExitClass::PluginLoad => {
                "a plugin could not be loaded (unreadable, pin mismatch, malformed, wrong world, contract version)"
            }
            ExitClass::PluginCall => {
                "a plugin call ended in a trap, limit, deadline or denied capability"
            }
            ExitClass::Paused => "paused: waiting for an approval or an operator",
            ExitClass::Aborted => "aborted or rolled back",
            ExitClass::Inconclusive => {
                "verdict `inconclusive` or `no-data` (nothing to judge is never a pass); a run waiting on an inconclusive parallel run"
            }
            ExitClass::State => {
                "state problem: journal corrupt, backup or rollback point corrupt, lease held by another runner or lost, stale plan, state database unreachable, refusing the password, missing a table or gone"
            }
            ExitClass::Internal => "internal error",
        }
    }
}

impl From<ExitClass> for ExitCode {
    fn from(class: ExitClass) -> Self {
        ExitCode::from(class.code())
    }
}

/// The status as [`std::process::ExitStatus::code`] reports it.
impl From<ExitClass> for i32 {
    fn from(class: ExitClass) -> Self {
        i32::from(class.code())
    }
}

/// An error (or outcome) that knows which exit class it ends the binary with.
pub trait HasExitClass {
    /// The exit class.
    fn exit_class(&self) -> ExitClass;
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));
    const ENGINE_DOC: &str =
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/engine.md"));

    /// The `| code | meaning |` rows of the table under `## Exit codes`.
    fn exit_code_table(doc: &str) -> Vec<(u8, String)> {
        let section = doc
            .split("\n## ")
            .find(|s| s.starts_with("Exit codes\n"))
            .expect("a `## Exit codes` section");
        section
            .lines()
            .filter_map(|l| l.trim().strip_prefix('|')?.strip_suffix('|'))
            .filter_map(|row| {
                let (code, meaning) = row.split_once('|')?;
                Some((code.trim().parse().ok()?, meaning.trim().to_string()))
            })
            .collect()
    }

    #[test]
    fn readme_table_is_every_class_with_its_meaning() {
        let want: Vec<(u8, String)> = ExitClass::ALL
            .iter()
            .map(|c| (c.code(), c.meaning().to_string()))
            .collect();
        assert_eq!(exit_code_table(README), want);
    }

    #[test]
    fn engine_doc_lists_every_code() {
        let codes: Vec<u8> = exit_code_table(ENGINE_DOC).iter().map(|r| r.0).collect();
        let want: Vec<u8> = ExitClass::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, want);
    }

    #[test]
    fn codes_are_distinct_increasing_and_found_again() {
        assert!(ExitClass::ALL.windows(2).all(|w| w[0].code() < w[1].code()));
        for c in ExitClass::ALL {
            assert_eq!(ExitClass::from_code(c.code()), Some(c));
        }
        assert_eq!(ExitClass::from_code(9), None);
        assert_eq!(ExitClass::Inconclusive.code(), 7);
        assert_eq!(ExitClass::Internal.code(), 70);
    }

    #[test]
    fn the_table_parser_skips_header_and_rule() {
        let doc = "# x\n\n## Exit codes\n\n| code | meaning |\n|---|---|\n| 0 | fine |\n| 70 | a | b |\n\n## Next\n| 1 | other |\n";
        assert_eq!(
            exit_code_table(doc),
            vec![(0, "fine".to_string()), (70, "a | b".to_string())]
        );
    }
}
