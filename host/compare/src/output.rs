//! Report formats and writing report files atomically.

use crate::error::CompareError;
use crate::render::html::{render_html, write_html};
use crate::render::json::{JsonLayout, render_json_with};
use crate::render::markdown::{render_markdown, write_markdown};
use crate::render::source::{Out, Source};
use crate::render::text::{render_text, write_text};
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A rendering of a [`Report`]: [`render_text`], [`render_json`],
/// [`render_markdown`] or [`render_html`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Compact human text.
    Text,
    /// JSON, the stable contract documented in docs/report.md (compact or
    /// pretty, see [`JsonLayout`]).
    Json,
    /// Markdown.
    Md,
    /// One self-contained HTML page with charts.
    Html,
}

impl OutputFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [OutputFormat; 4] = [
        OutputFormat::Text,
        OutputFormat::Json,
        OutputFormat::Md,
        OutputFormat::Html,
    ];

    /// The format's name on the command line (`text`, `json`, `md`, `html`).
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
            OutputFormat::Md => "md",
            OutputFormat::Html => "html",
        }
    }

    /// One line describing the format, as `cutover compare --help` lists it.
    pub fn about(self) -> &'static str {
        match self {
            OutputFormat::Text => "Compact human text",
            OutputFormat::Json => "JSON, the stable contract documented in docs/report.md",
            OutputFormat::Md => "Markdown (alias: markdown)",
            OutputFormat::Html => "One self-contained HTML page with charts",
        }
    }

    /// Render `report` in this format (JSON in `layout`).
    pub fn render(self, report: &Report, layout: JsonLayout) -> Result<String, CompareError> {
        Ok(match self {
            OutputFormat::Text => render_text(report),
            OutputFormat::Json => render_json_with(report, layout)?,
            OutputFormat::Md => render_markdown(report),
            OutputFormat::Html => render_html(report),
        })
    }

    /// Render `src` in this format (JSON in `layout`) to `out` as the text
    /// is produced.
    pub(crate) fn write(
        self,
        src: &dyn Source,
        layout: JsonLayout,
        out: &mut dyn Write,
    ) -> Result<(), CompareError> {
        let render = match self {
            OutputFormat::Json => return src.write_json(layout, out),
            OutputFormat::Text => write_text,
            OutputFormat::Md => write_markdown,
            OutputFormat::Html => write_html,
        };
        let mut text = Out::to(out);
        render(src, &mut text);
        text.finish()
    }
}

/// Render `report` as `format` into `path` atomically
/// ([`write_atomic_with`]), JSON in `layout`.
pub fn write_report(
    report: &Report,
    format: OutputFormat,
    layout: JsonLayout,
    path: &Path,
) -> Result<(), CompareError> {
    write_atomic_with(path, |f| format.write(report, layout, f))
}

/// Write `contents` to `path` atomically (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), CompareError> {
    write_atomic_with(path, |f| Ok(f.write_all(contents)?))
}

/// Write what `fill` writes to `path` so that readers see either the old
/// file or the whole new one: fill a temporary file next to it (buffered),
/// fsync it, rename it over `path`, then fsync the directory. The temporary
/// file is removed on failure. Write errors name `path`
/// ([`CompareError::WriteReport`]); other errors of `fill` are returned as
/// they are.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), CompareError>,
) -> Result<(), CompareError> {
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
    let written = (|| -> Result<(), CompareError> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        Ok(std::fs::rename(&tmp, path)?)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(match e {
            CompareError::Output(e) => err(e),
            other => other,
        });
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
    fn report_files_hold_the_rendering() {
        let dump = |name: &str| {
            format!(
                r#"[{{"labels":{{"alertname":"{name}"}},"startsAt":"2026-11-20T10:00:00Z","status":{{"state":"active"}}}}]"#
            )
        };
        let old = crate::parse_str(&dump("A"), "old", None).unwrap();
        let new = crate::parse_str(&dump("B"), "new", None).unwrap();
        let report = crate::compare(&old.alerts, &new.alerts, &Default::default());
        let dir = tempfile::tempdir().unwrap();
        for format in OutputFormat::ALL {
            let p = dir.path().join(format.name());
            write_report(&report, format, JsonLayout::default(), &p).unwrap();
            let rendered = format.render(&report, JsonLayout::default()).unwrap();
            assert!(rendered.contains("A"), "{format:?}: {rendered}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), rendered);
        }
    }

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
