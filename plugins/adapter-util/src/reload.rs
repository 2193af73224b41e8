//! Replace files in a granted directory, ask the system to reload them, and
//! put the previous files back when it refuses.

use std::path::Path;

use crate::files::{read_optional, remove_optional, write_atomic};

/// The answer to a reload request: HTTP status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Response body.
    pub body: String,
}

/// Why [`apply_with_rollback`] did not leave the new files in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Writing the new files failed; previous files were put back.
    Io {
        /// What failed.
        detail: String,
        /// Rollback problems, if any.
        rollback: Option<String>,
    },
    /// The system answered the reload with a non-2xx status; previous files
    /// were put back and reloaded.
    Rejected {
        /// The refusal.
        answer: ReloadAnswer,
        /// Rollback problems, if any.
        rollback: Option<String>,
    },
    /// The reload request did not get an answer; previous files were put back.
    Unreachable {
        /// Transport error.
        detail: String,
        /// Rollback problems, if any.
        rollback: Option<String>,
    },
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, rollback) = match self {
            ApplyError::Io { detail, rollback } => (detail.clone(), rollback),
            ApplyError::Rejected { answer, rollback } => (
                format!(
                    "reload rejected (HTTP {}): {}",
                    answer.status,
                    answer.body.trim()
                ),
                rollback,
            ),
            ApplyError::Unreachable { detail, rollback } => {
                (format!("reload not answered: {detail}"), rollback)
            }
        };
        write!(f, "{what}")?;
        match rollback {
            None => write!(f, "; previous files restored"),
            Some(r) => write!(f, "; ROLLBACK INCOMPLETE: {r}"),
        }
    }
}

/// What [`apply_with_rollback`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Files written.
    pub written: Vec<String>,
    /// Files removed.
    pub removed: Vec<String>,
}

/// Writes each of `files` atomically into `dir`, removes the files named in
/// `remove`, then calls `reload`. When writing fails, `reload` gives no
/// answer or answers outside 2xx, every touched file gets its previous
/// content back (or is removed again if it did not exist) and, if the
/// reload had been attempted, `reload` is called once more so the system
/// runs the previous files.
pub fn apply_with_rollback(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    remove: &[String],
    mut reload: impl FnMut() -> Result<ReloadAnswer, String>,
) -> Result<Applied, ApplyError> {
    let mut previous: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    for name in files.iter().map(|(n, _)| n).chain(remove) {
        let old = read_optional(dir, name).map_err(|detail| ApplyError::Io {
            detail,
            rollback: None,
        })?;
        previous.push((name.clone(), old));
    }
    let rollback = |previous: &[(String, Option<Vec<u8>>)]| -> Option<String> {
        let mut problems = Vec::new();
        for (name, old) in previous {
            let r = match old {
                Some(bytes) => write_atomic(dir, name, bytes),
                None => remove_optional(dir, name),
            };
            if let Err(e) = r {
                problems.push(e);
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    };
    let written: Result<(), String> = (|| {
        for (name, bytes) in files {
            write_atomic(dir, name, bytes)?;
        }
        for name in remove {
            remove_optional(dir, name)?;
        }
        Ok(())
    })();
    if let Err(detail) = written {
        return Err(ApplyError::Io {
            detail,
            rollback: rollback(&previous),
        });
    }
    let answer = reload();
    if let Ok(a) = &answer
        && (200..300).contains(&a.status)
    {
        return Ok(Applied {
            written: files.iter().map(|(n, _)| n.clone()).collect(),
            removed: remove.to_vec(),
        });
    }
    let mut problem = rollback(&previous);
    if let Err(e) = reload_again(&mut reload) {
        problem = Some(join(problem, e));
    }
    Err(match answer {
        Ok(answer) => ApplyError::Rejected {
            answer,
            rollback: problem,
        },
        Err(detail) => ApplyError::Unreachable {
            detail,
            rollback: problem,
        },
    })
}

fn reload_again(reload: &mut impl FnMut() -> Result<ReloadAnswer, String>) -> Result<(), String> {
    match reload() {
        Ok(a) if (200..300).contains(&a.status) => Ok(()),
        Ok(a) => Err(format!(
            "reload of the previous files answered HTTP {}: {}",
            a.status,
            a.body.trim()
        )),
        Err(e) => Err(format!("reload of the previous files failed: {e}")),
    }
}

fn join(a: Option<String>, b: String) -> String {
    match a {
        Some(a) => format!("{a}; {b}"),
        None => b,
    }
}

/// Canned reload answers for this crate's tests.
#[cfg(test)]
pub(crate) mod fake {
    use super::ReloadAnswer;

    /// A reload the system answered with `status` and `body`.
    pub fn answer(status: u16, body: &str) -> Result<ReloadAnswer, String> {
        Ok(ReloadAnswer {
            status,
            body: body.to_owned(),
        })
    }

    /// A reload the system accepted (HTTP 200, empty body).
    pub fn ok() -> Result<ReloadAnswer, String> {
        answer(200, "")
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{answer, ok};
    use super::*;
    use std::fs;

    #[test]
    fn accepted_reload_keeps_new_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yml"), "old").unwrap();
        fs::write(dir.path().join("gone.yml"), "x").unwrap();
        let mut calls = 0;
        let applied = apply_with_rollback(
            dir.path(),
            &[("a.yml".into(), b"new".to_vec())],
            &["gone.yml".into()],
            || {
                calls += 1;
                ok()
            },
        )
        .unwrap();
        assert_eq!(calls, 1);
        assert_eq!(applied.written, vec!["a.yml"]);
        assert_eq!(fs::read_to_string(dir.path().join("a.yml")).unwrap(), "new");
        assert!(!dir.path().join("gone.yml").exists());
    }

    #[test]
    fn rejected_reload_restores_previous_files_and_reloads_again() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yml"), "old").unwrap();
        fs::write(dir.path().join("gone.yml"), "keep me").unwrap();
        let mut answers = vec![ok(), answer(500, "bad config\n")];
        let err = apply_with_rollback(
            dir.path(),
            &[
                ("a.yml".into(), b"broken".to_vec()),
                ("new.yml".into(), b"n".to_vec()),
            ],
            &["gone.yml".into()],
            || answers.pop().unwrap(),
        )
        .unwrap_err();
        assert!(answers.is_empty(), "reloaded twice");
        match &err {
            ApplyError::Rejected { answer, rollback } => {
                assert_eq!(answer.status, 500);
                assert_eq!(rollback, &None);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("bad config"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("a.yml")).unwrap(), "old");
        assert_eq!(
            fs::read_to_string(dir.path().join("gone.yml")).unwrap(),
            "keep me"
        );
        assert!(!dir.path().join("new.yml").exists());
    }

    #[test]
    fn unreachable_reload_restores_and_reports_second_failure() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yml"), "old").unwrap();
        let err = apply_with_rollback(
            dir.path(),
            &[("a.yml".into(), b"new".to_vec())],
            &[],
            || Err("connection refused".into()),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ApplyError::Unreachable { rollback: Some(r), .. } if r.contains("connection refused"))
        );
        assert_eq!(fs::read_to_string(dir.path().join("a.yml")).unwrap(), "old");
    }
}
