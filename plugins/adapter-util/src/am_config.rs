//! The Alertmanager configuration file (routes, receivers, inhibitions) in
//! a granted directory. Export hands out the file's bytes exactly; import
//! writes exactly the bytes it is given (atomically), asks Alertmanager to
//! reload (`POST /-/reload`) and puts the previous file back, reloading
//! again, when Alertmanager rejects it. So an export after an import
//! returns byte for byte what was imported.
//!
//! Shared by the `alertmanager` adapter (directory `config`) and the
//! `prometheus` adapter (directory `alertmanager`, for its stack's
//! Alertmanager).

use std::path::{Path, PathBuf};

use cutover_plugin_sdk::{
    ChunkSink, DataSink, DataSource, ExportInfo, Outcome, PluginError, config, failed,
    invalid_input, log, unavailable,
};

use crate::client::Client;
use crate::data::{read_all, write_all};
use crate::files::{plain_name, read_optional};
use crate::reload::{ApplyError, ReloadAnswer, apply_with_rollback};

/// The configuration file name when none is configured.
pub const DEFAULT_FILE: &str = "alertmanager.yml";

/// An Alertmanager configuration file: a plain file name inside a granted
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    dir: PathBuf,
    name: String,
}

impl ConfigFile {
    /// `name` inside `dir`; `key` is the config key `name` came from, named
    /// when `name` is not a plain file name.
    pub fn new(dir: impl Into<PathBuf>, key: &str, name: &str) -> Result<Self, PluginError> {
        plain_name(key, name).map_err(invalid_input)?;
        Ok(Self {
            dir: dir.into(),
            name: name.to_owned(),
        })
    }

    /// The file named by config `key` (default [`DEFAULT_FILE`]) in `dir`.
    pub fn from_config(dir: impl Into<PathBuf>, key: &str) -> Result<Self, PluginError> {
        let name = config(key).unwrap_or_else(|| DEFAULT_FILE.to_owned());
        Self::new(dir, key, &name)
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory holding it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dir/name`, for messages.
    pub fn display(&self) -> String {
        self.dir.join(&self.name).display().to_string()
    }

    /// The file's bytes; a missing file is an error naming it.
    pub fn read(&self) -> Result<Vec<u8>, PluginError> {
        read_optional(&self.dir, &self.name)
            .map_err(failed)?
            .ok_or_else(|| failed(format!("{} does not exist", self.display())))
    }

    /// Writes the file's bytes, unchanged, to `sink`.
    pub fn export_to<S: ChunkSink + ?Sized>(&self, sink: &S) -> Result<ExportInfo, PluginError> {
        let bytes = self.read()?;
        write_all(sink, &bytes, &format!("the export of {}", self.display()))?;
        Ok(ExportInfo {
            content_type: "application/yaml".to_owned(),
            metadata: vec![
                ("file".into(), self.name.clone()),
                ("bytes".into(), bytes.len().to_string()),
            ],
        })
    }

    /// Replaces the file with `bytes` (UTF-8 text, written as is) and calls
    /// `reload`; when the reload is refused or unanswered the previous file
    /// is put back and `reload` is called again. Details say whether the
    /// content changed.
    pub fn apply(
        &self,
        bytes: Vec<u8>,
        reload: impl FnMut() -> Result<ReloadAnswer, String>,
    ) -> Result<Outcome, PluginError> {
        if let Err(e) = std::str::from_utf8(&bytes) {
            return Err(invalid_input(format!(
                "configuration for {} is not UTF-8 text (invalid byte sequence at byte {})",
                self.display(),
                e.valid_up_to()
            )));
        }
        let name = &self.name;
        let previous = read_optional(&self.dir, name).map_err(failed)?;
        let changed = previous.as_deref() != Some(bytes.as_slice());
        let size = bytes.len();
        let files = [(name.clone(), bytes)];
        match apply_with_rollback(&self.dir, &files, &[], reload) {
            Ok(_) => Ok(Outcome {
                summary: format!("configuration {name} restored and reloaded"),
                details: vec![
                    ("file".into(), name.clone()),
                    ("bytes".into(), size.to_string()),
                    ("changed".into(), changed.to_string()),
                ],
            }),
            Err(ApplyError::Rejected { answer, rollback }) => {
                let kept = match rollback {
                    None => {
                        "the previous configuration was put back and is still in use".to_owned()
                    }
                    Some(r) => format!("ROLLBACK INCOMPLETE: {r}"),
                };
                Err(failed(format!(
                    "Alertmanager rejected the configuration {}: {} ({kept})",
                    self.display(),
                    answer.body.trim()
                )))
            }
            Err(e @ ApplyError::Unreachable { .. }) => Err(unavailable(format!(
                "Alertmanager reload of {}: {e}",
                self.display()
            ))),
            Err(e @ ApplyError::Io { .. }) => Err(failed(format!("{}: {e}", self.display()))),
        }
    }
}

/// Exports `file` to `sink` (its bytes, unchanged).
pub fn export(file: &ConfigFile, sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let info = file.export_to(sink)?;
    let bytes = info
        .metadata
        .iter()
        .find(|(k, _)| k == "bytes")
        .map_or("?", |(_, v)| v.as_str());
    log::info(format!("exported {} ({bytes} bytes)", file.display()));
    Ok(info)
}

/// Imports `source` into `file` and reloads the Alertmanager at `am`, with
/// rollback when it rejects the new configuration.
pub fn import(file: &ConfigFile, am: &Client, source: &DataSource) -> Result<Outcome, PluginError> {
    let bytes = read_all(source, &format!("the configuration for {}", file.display()))?;
    match file.apply(bytes, || am.reload()) {
        Ok(outcome) => {
            log::info(format!(
                "restored {}; Alertmanager reloaded",
                file.display()
            ));
            Ok(outcome)
        }
        Err(e) => {
            log::warn(crate::client::describe(&e));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::data::fake::Sink;
    use crate::reload::fake::{answer, ok};

    const NEW: &str = "route:\n  receiver: sink   # kept as written\r\nreceivers:\n- name: sink\n";

    #[test]
    fn export_after_import_is_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("alertmanager.yml"), "route: {}\n").unwrap();
        let file = ConfigFile::new(dir.path(), "config_file", "alertmanager.yml").unwrap();
        let mut reloads = 0;
        let out = file
            .apply(NEW.as_bytes().to_vec(), || {
                reloads += 1;
                ok()
            })
            .unwrap();
        assert_eq!(reloads, 1);
        assert!(out.summary.contains("reloaded"), "{out:?}");
        assert!(out.details.contains(&("changed".into(), "true".into())));
        let sink = Sink::default();
        let info = file.export_to(&sink).unwrap();
        assert_eq!(sink.0.borrow().as_slice(), NEW.as_bytes());
        assert_eq!(info.content_type, "application/yaml");
        assert!(
            info.metadata
                .contains(&("bytes".into(), NEW.len().to_string()))
        );
        // The same bytes again: nothing changes, and the outcome says so.
        let again = file.apply(NEW.as_bytes().to_vec(), ok).unwrap();
        assert!(again.details.contains(&("changed".into(), "false".into())));
    }

    #[test]
    fn rejected_configuration_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("am.yml"), "old\n").unwrap();
        let file = ConfigFile::new(dir.path(), "alertmanager_config_file", "am.yml").unwrap();
        let mut answers = vec![
            ok(),
            answer(400, "yaml: line 1: did not find expected key\n"),
        ];
        let err = file
            .apply(b"route: [".to_vec(), || answers.pop().unwrap())
            .unwrap_err();
        match &err {
            PluginError::Failed(m) => {
                assert!(m.contains("Alertmanager rejected the configuration"), "{m}");
                assert!(m.contains("am.yml") && m.contains("did not find"), "{m}");
                assert!(m.contains("still in use"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(answers.is_empty(), "reloaded twice");
        assert_eq!(fs::read(dir.path().join("am.yml")).unwrap(), b"old\n");
    }

    #[test]
    fn unreachable_alertmanager_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let file = ConfigFile::new(dir.path(), "config_file", "alertmanager.yml").unwrap();
        let err = file
            .apply(b"route: {}\n".to_vec(), || Err("connection refused".into()))
            .unwrap_err();
        assert!(
            matches!(&err, PluginError::Unavailable(m) if m.contains("connection refused")),
            "{err:?}"
        );
        // It did not exist before, so it does not exist after.
        assert!(!dir.path().join("alertmanager.yml").exists());
        let err = file.read().unwrap_err();
        assert!(
            matches!(&err, PluginError::Failed(m) if m.contains("alertmanager.yml does not exist")),
            "{err:?}"
        );
    }

    #[test]
    fn bad_names_and_bytes_are_invalid_input() {
        let err = ConfigFile::new("/config", "config_file", "../etc/passwd").unwrap_err();
        assert!(
            matches!(&err, PluginError::InvalidInput(m) if m.contains("config `config_file`")),
            "{err:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = ConfigFile::new(dir.path(), "config_file", "a.yml").unwrap();
        let err = file.apply(vec![b'a', 0xfe], ok).unwrap_err();
        assert!(
            matches!(&err, PluginError::InvalidInput(m) if m.contains("not UTF-8") && m.contains("byte 1")),
            "{err:?}"
        );
        assert!(!dir.path().join("a.yml").exists());
    }
}
