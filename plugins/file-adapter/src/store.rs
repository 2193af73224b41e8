//! The data directory: file lookup, streaming export/import and rollback
//! state. Works on any root so it can be tested outside the sandbox.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use cutover_plugin_sdk::{
    ExportInfo, Outcome, PluginError, Window, failed, invalid_input, unsupported,
};

use crate::alerts;

/// Size of copy chunks (64 KiB).
const CHUNK: usize = 64 * 1024;

/// Extensions tried, in order, after the bare kind name.
const EXTENSIONS: [&str; 4] = ["", ".json", ".yml", ".yaml"];

/// Rollback categories this adapter understands.
pub const CATEGORIES: [&str; 4] = [
    "configurations",
    "active_alerts",
    "system_metrics",
    "user_permissions",
];

/// The category captured as evidence only: a recording's active alerts are
/// what was firing, not state that can be put back.
pub const CAPTURE_ONLY: &str = "active_alerts";

/// Data kinds declared in `describe()`: the standard ones (any other
/// `<kind>` file exports too, but a plan may ask only for declared kinds).
pub const BACKUP_TYPES: [&str; 6] = [
    "configurations",
    "alert_rules",
    "user_data",
    "historical_alerts",
    "routes",
    "silences",
];

/// Data kinds a migrate step moves: as rollback categories they are the
/// data file itself (capture = export, restore = import), so a rollback
/// point taken before a migration puts the migrated data back.
pub const MIGRATED_KINDS: [&str; 3] = ["alert_rules", "routes", "silences"];

/// The dump file holding recorded alerts.
const ALERTS: &str = "alerts.json";

/// A data directory (mounted at `/data` inside the sandbox).
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Whether the root can be listed.
    pub fn readable(&self) -> Result<(), String> {
        fs::read_dir(&self.root)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.root.display()))
    }

    /// Recorded alerts overlapping `window`; no `alerts.json` means none.
    pub fn alerts(&self, window: &Window) -> Result<Vec<cutover_plugin_sdk::Alert>, PluginError> {
        let path = self.root.join(ALERTS);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
        };
        let name = path.display().to_string();
        let records = alerts::parse(&name, &text).map_err(failed)?;
        alerts::in_window(&name, &records, window).map_err(failed)
    }

    /// [`Store::alerts`], streamed into `out` one record at a time.
    pub fn alerts_into(
        &self,
        window: &Window,
        out: &mut cutover_plugin_sdk::AlertWriter<'_>,
    ) -> Result<(), PluginError> {
        let path = self.root.join(ALERTS);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
        };
        let name = path.display().to_string();
        alerts::each_in_window(&name, &bytes, window, |r, starts, ends| {
            alerts::push(out, r, starts, ends)
        })
        .map_err(failed)
    }

    /// Streams `<kind>[.json|.yml|.yaml]` into `out`.
    /// A system without rules or silences yet exports an empty bundle
    /// (`{}`) or list (`[]`), so that they can be migrated into it.
    pub fn export(&self, kind: &str, out: &mut impl Write) -> Result<ExportInfo, PluginError> {
        check_name("kind", kind)?;
        let empty = match kind {
            "alert_rules" => Some(&b"{}"[..]),
            "silences" => Some(&b"[]"[..]),
            _ => None,
        };
        if let (None, Some(bytes)) = (self.existing(kind), empty) {
            write_all(out, bytes)?;
            return Ok(info(&format!("{kind}.json"), bytes.len() as u64));
        }
        let name = self.existing(kind).ok_or_else(|| {
            unsupported(format!(
                "no data for kind `{kind}` in {}",
                self.root.display()
            ))
        })?;
        self.stream_file(&name, out)
    }

    /// Replaces `<existing name or kind.json>` with the bytes of `input`.
    pub fn import(&self, kind: &str, input: &mut impl Read) -> Result<Outcome, PluginError> {
        check_name("kind", kind)?;
        let name = self
            .existing(kind)
            .unwrap_or_else(|| format!("{kind}.json"));
        let size = self.replace(&self.root.join(&name), input)?;
        Ok(outcome(
            format!("imported {size} bytes into {name}"),
            &name,
            size,
        ))
    }

    /// Streams rollback state for `category` into `out`: `active_alerts`
    /// are the active records of `alerts.json` (`[]` without it); other
    /// categories come from `state/<category>.json` (`{}` without it).
    pub fn capture(&self, category: &str, out: &mut impl Write) -> Result<ExportInfo, PluginError> {
        if MIGRATED_KINDS.contains(&category) {
            return self.capture_kind(category, out);
        }
        known_category(category)?;
        if category == "active_alerts" {
            return self.capture_active_alerts(out);
        }
        let name = format!("state/{category}.json");
        if self.root.join(&name).is_file() {
            return self.stream_file(&name, out);
        }
        write_all(out, b"{}")?;
        Ok(info(&name, 2))
    }

    /// A migrated kind's data file as rollback state (see [`Store::export`]).
    fn capture_kind(&self, kind: &str, out: &mut impl Write) -> Result<ExportInfo, PluginError> {
        self.export(kind, out)
    }

    /// Replaces `state/<category>.json` with `input`, which must be JSON.
    /// `active_alerts` is capture only: `unsupported`, nothing changed.
    pub fn restore(&self, category: &str, input: &mut impl Read) -> Result<Outcome, PluginError> {
        if MIGRATED_KINDS.contains(&category) {
            return self.import(category, input);
        }
        known_category(category)?;
        if category == CAPTURE_ONLY {
            return Err(unsupported(format!(
                "{CAPTURE_ONLY}: the recorded active alerts are evidence of what was firing, \
                 not state to put back"
            )));
        }
        let dir = self.root.join("state");
        fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        let name = format!("state/{category}.json");
        let size = self.replace(&self.root.join(&name), input)?;
        Ok(outcome(
            format!("restored {category} ({size} bytes)"),
            &name,
            size,
        ))
    }

    fn capture_active_alerts(&self, out: &mut impl Write) -> Result<ExportInfo, PluginError> {
        let path = self.root.join(ALERTS);
        let records: Vec<serde_json::Value> = match File::open(&path) {
            Ok(f) => serde_json::from_reader(BufReader::new(f)).map_err(|e| {
                failed(format!(
                    "{}: line {}, column {}: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
        };
        let active: Vec<&serde_json::Value> = records
            .iter()
            .filter(|r| r.get("state").and_then(|s| s.as_str()) == Some("active"))
            .collect();
        let bytes = serde_json::to_vec(&active)
            .map_err(|e| failed(format!("encoding active alerts: {e}")))?;
        write_all(out, &bytes)?;
        Ok(info(ALERTS, bytes.len() as u64))
    }

    /// First existing `<kind><ext>` file name.
    fn existing(&self, kind: &str) -> Option<String> {
        EXTENSIONS
            .iter()
            .map(|ext| format!("{kind}{ext}"))
            .find(|name| self.root.join(name).is_file())
    }

    fn stream_file(&self, name: &str, out: &mut impl Write) -> Result<ExportInfo, PluginError> {
        let path = self.root.join(name);
        let mut file = File::open(&path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| failed(format!("{}: read at byte {size}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            write_all(out, &buf[..n])?;
            size += n as u64;
        }
        Ok(info(name, size))
    }

    /// Copies `input` to a temp file next to `target`, checks JSON targets
    /// parse, then renames over `target`. Returns the byte count.
    fn replace(&self, target: &Path, input: &mut impl Read) -> Result<u64, PluginError> {
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(".{file_name}.tmp-import"));
        let result = copy_to(&tmp, input).and_then(|size| {
            if file_name.ends_with(".json") {
                validate_json(&tmp, &file_name)?;
            }
            fs::rename(&tmp, target).map_err(|e| {
                failed(format!(
                    "rename {} -> {}: {e}",
                    tmp.display(),
                    target.display()
                ))
            })?;
            Ok(size)
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn copy_to(path: &Path, input: &mut impl Read) -> Result<u64, PluginError> {
    let mut file = File::create(path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = input
            .read(&mut buf)
            .map_err(|e| failed(format!("reading source at byte {size}: {e}")))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        size += n as u64;
    }
    file.sync_all()
        .map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok(size)
}

fn validate_json(path: &Path, name: &str) -> Result<(), PluginError> {
    let file = File::open(path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    serde_json::from_reader::<_, serde::de::IgnoredAny>(BufReader::new(file))
        .map(|_| ())
        .map_err(|e| {
            invalid_input(format!(
                "{name}: not JSON: line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })
}

fn write_all(out: &mut impl Write, bytes: &[u8]) -> Result<(), PluginError> {
    out.write_all(bytes)
        .map_err(|e| failed(format!("writing to data sink: {e}")))
}

/// Rejects names that could leave the data directory.
fn check_name(what: &str, name: &str) -> Result<(), PluginError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(invalid_input(format!(
            "{what} `{name}`: must be a plain file name"
        )))
    }
}

fn known_category(category: &str) -> Result<(), PluginError> {
    if CATEGORIES.contains(&category) {
        Ok(())
    } else {
        Err(unsupported(format!(
            "category `{category}`: expected one of {}",
            CATEGORIES.join(", ")
        )))
    }
}

/// Media type guessed from a file name's extension.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("json") => "application/json",
        Some("yml" | "yaml") => "application/yaml",
        Some("txt" | "conf" | "cfg") => "text/plain",
        Some("toml") => "application/toml",
        Some("xml") => "application/xml",
        Some("csv") => "text/csv",
        _ => "application/octet-stream",
    }
}

fn info(name: &str, size: u64) -> ExportInfo {
    ExportInfo {
        content_type: content_type(name).to_owned(),
        metadata: vec![
            ("file".to_owned(), name.to_owned()),
            ("size".to_owned(), size.to_string()),
        ],
    }
}

fn outcome(summary: String, name: &str, size: u64) -> Outcome {
    Outcome {
        summary,
        details: vec![
            ("file".to_owned(), name.to_owned()),
            ("size".to_owned(), size.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests;
