//! Report formats and writing report files atomically.

use crate::error::CompareError;
use crate::html::render_html;
use crate::render::{render_json, render_text};
use crate::render_md::render_markdown;
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A rendering of a [`Report`]: [`render_text`], [`render_json`],
/// [`render_markdown`] or [`render_html`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Compact human text.
    Text,
    /// Pretty JSON, the stable contract documented in docs/report.md.
    Json,
    /// Markdown (alias: markdown).
    #[value(alias = "markdown")]
    Md,
    /// One self-contained HTML page with charts.
    Html,
}

impl OutputFormat {
    /// Render `report` in this format.
    pub fn render(self, report: &Report) -> Result<String, CompareError> {
        Ok(match self {
            OutputFormat::Text => render_text(report),
            OutputFormat::Json => render_json(report)?,
            OutputFormat::Md => render_markdown(report),
            OutputFormat::Html => render_html(report),
        })
    }
}

/// Render `report` as `format` and write it to `path` atomically
/// ([`write_atomic`]).
pub fn write_report(
    report: &Report,
    format: OutputFormat,
    path: &Path,
) -> Result<(), CompareError> {
    write_atomic(path, format.render(report)?.as_bytes())
}

/// Write `contents` to `path` so that readers see either the old file or the
/// whole new one: write a temporary file next to it, fsync it, rename it over
/// `path`, then fsync the directory. The temporary file is removed on failure.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), CompareError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let err = |source: std::io::Error| CompareError::WriteReport {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    // Make the rename durable. Not every platform can open a directory for
    // syncing; the data itself is already synced, so that is not an error.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        match d.sync_all() {
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) =>
            {
                return Err(err(e));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.html");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/r.md");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(matches!(e, CompareError::WriteReport { .. }));
        assert!(e.to_string().contains("no/such/dir/r.md"), "{e}");
        let p = dir.path().join("..");
        assert!(write_atomic(&p, b"x").is_err());
    }
}
