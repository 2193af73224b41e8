//! `cutover translate PLUGIN INPUT...`: runs a translator on files, offline,
//! and prints its report (one line per input item, ✅ ok / ⚠️ warning /
//! ❌ untranslatable with the reason, then a summary; or JSON).
//!
//! Exit codes: 0 when nothing is untranslatable, 1 otherwise, 2 for bad
//! input (files, params, kind, or input the translator rejects), 3 when the
//! plugin cannot be loaded, 4 when the call traps, hits a limit or returns
//! something malformed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use cutover_runtime::{
    Document, ItemStatus, Sandbox, TranslateRequest, Translation, TranslationReport, World,
};

use super::usage;
use crate::exit;

/// The first-party translators, by the id `cutover translate` accepts
/// (their components are `<id>.wasm` in the first-party plugin directory).
pub const FIRST_PARTY_TRANSLATORS: [&str; 3] = [
    "prometheus-rules",
    "alertmanager-routes",
    "alertmanager-silences",
];

/// Arguments of `cutover translate`.
#[derive(Args)]
pub struct TranslateArgs {
    /// A first-party translator (prometheus-rules, alertmanager-routes,
    /// alertmanager-silences) or the path of a translator component (.wasm).
    pub plugin: String,
    /// Input files: PATH (the document is named after the file) or
    /// NAME=PATH (alertmanager-routes takes old=FILE new=FILE).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Data kind to translate (default: the translator's only kind).
    #[arg(long)]
    pub kind: Option<String>,
    /// Translator parameters as a JSON object (or @FILE), e.g.
    /// '{"scope": "{team=\"core\"}"}'.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// Print the report as JSON: {"items": [{"id", "kind", "status",
    /// "reason"}], "summary": {"ok", "warning", "untranslatable"}}.
    #[arg(long)]
    pub json: bool,
    /// Write the output documents into this directory (created if missing).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Where first-party components are looked up: `$CUTOVER_PLUGIN_DIR`, else
/// `plugins/` beside the directory of the `cutover` binary (the build
/// layout: `target/debug/cutover` and `target/plugins/`).
pub fn first_party_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("CUTOVER_PLUGIN_DIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(up) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent()?.parent().map(Path::to_path_buf))
    {
        dirs.push(up.join("plugins"));
    }
    dirs
}

/// The component file of PLUGIN: an existing path, or a first-party id.
fn resolve(plugin: &str) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(plugin);
    let looks_like_path = plugin.contains('/') || plugin.ends_with(".wasm");
    if as_path.is_file() || looks_like_path {
        return Ok(as_path.to_path_buf());
    }
    let dirs = first_party_dirs();
    for d in &dirs {
        let candidate = d.join(format!("{plugin}.wasm"));
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(usage(format!(
        "{plugin:?} is neither a file nor a first-party plugin ({}) in {} \
         (build them with scripts/build-plugins.sh, or set CUTOVER_PLUGIN_DIR)",
        FIRST_PARTY_TRANSLATORS.join(", "),
        looked.join(" or ")
    )))
}

/// One input: `PATH`, or `NAME=PATH` when PATH is not itself a file.
fn read_input(input: &str) -> anyhow::Result<Document> {
    let (name, path) = match input.split_once('=') {
        Some((name, path)) if !Path::new(input).exists() => (name.to_string(), PathBuf::from(path)),
        _ => {
            let path = PathBuf::from(input);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| usage(format!("input {input:?}: not a file name")))?;
            (name, path)
        }
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| usage(format!("input {}: cannot read it: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| usage(format!("input {}: not UTF-8 text: {e}", path.display())))?;
    Ok(Document::new(name, text))
}

fn params(text: &str) -> anyhow::Result<String> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| usage(format!("--params file {path}: {e}")))?,
        None => text.to_string(),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("--params: invalid JSON: {e}")))?;
    if !v.is_object() {
        return Err(usage("--params must be a JSON object"));
    }
    Ok(text)
}

/// The marker of an item status.
pub fn marker(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Ok => "✅",
        ItemStatus::Warning => "⚠️",
        ItemStatus::Untranslatable => "❌",
    }
}

/// The human report: one line per item (marker, status, kind, id, reason),
/// then the summary.
pub fn render(plugin: &str, report: &TranslationReport) -> String {
    let mut o = String::new();
    let width = report
        .items
        .iter()
        .map(|i| i.kind.chars().count())
        .max()
        .unwrap_or(0);
    for i in &report.items {
        let _ = writeln!(
            o,
            "{} {:<14} {:<width$} {}: {}",
            marker(i.status),
            i.status.as_str(),
            i.kind,
            i.id,
            i.reason
        );
    }
    let n = report.summary.total();
    let _ = writeln!(
        o,
        "{plugin}: {n} item{}: {}",
        if n == 1 { "" } else { "s" },
        report.summary
    );
    o
}

/// Writes the output documents into `dir` (their names are plain file
/// names: the runtime refuses anything else).
fn write_out(dir: &Path, t: &Translation) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for d in &t.documents {
        let path = dir.join(&d.name);
        std::fs::write(&path, &d.text).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "wrote {} document{} to {}",
        t.documents.len(),
        if t.documents.len() == 1 { "" } else { "s" },
        dir.display()
    );
    Ok(())
}

/// Runs `cutover translate`.
pub fn run(a: TranslateArgs) -> anyhow::Result<u8> {
    let path = resolve(&a.plugin)?;
    let params = params(&a.params)?;
    let docs = a
        .inputs
        .iter()
        .map(|i| read_input(i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rt = super::runtime()?;
    let plugin = rt.load_file(&path, None)?;
    if plugin.world() != World::Translator {
        return Err(usage(format!(
            "{} ({}) is not a translator: it implements the {} world",
            a.plugin,
            plugin.name(),
            plugin.world()
        )));
    }
    let kinds = &plugin.descriptor().kinds;
    let kind = match (&a.kind, kinds.as_slice()) {
        (Some(k), _) => k.clone(),
        (None, [only]) => only.clone(),
        (None, many) => {
            return Err(usage(format!(
                "{} translates several data kinds ({}); choose one with --kind",
                plugin.name(),
                many.join(", ")
            )));
        }
    };
    // Count the input items where the kind is known, so that a report
    // leaving some out is refused; a translator judges unparseable input.
    let pairs: Vec<(String, String)> = docs
        .iter()
        .map(|d| (d.name.clone(), d.text.clone()))
        .collect();
    let expected = translate_core::input_items(&kind, &pairs)
        .ok()
        .flatten()
        .map(|n| n as u64);
    let request = TranslateRequest {
        kind: &kind,
        params: &params,
        documents: &docs,
        expected_items: expected,
    };
    let t = rt.translate(&plugin, &Sandbox::default(), &request)?;
    if let Some(dir) = &a.out {
        write_out(dir, &t)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&t.report)?);
    } else {
        print!("{}", render(plugin.name(), &t.report));
    }
    Ok(if t.report.has_untranslatable() {
        exit::FAILED
    } else {
        exit::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_runtime::{ReportItem, Summary};

    #[test]
    fn render_lists_every_item_then_the_summary() {
        let item = |id: &str, status| ReportItem {
            id: id.into(),
            kind: "alert_rule".into(),
            status,
            reason: format!("because {id}"),
        };
        let items = vec![
            item("a", ItemStatus::Ok),
            item("b", ItemStatus::Warning),
            item("c", ItemStatus::Untranslatable),
        ];
        let report = TranslationReport {
            summary: Summary::of(&items),
            items,
        };
        assert_eq!(
            render("t", &report),
            "✅ ok             alert_rule a: because a\n\
             ⚠️ warning        alert_rule b: because b\n\
             ❌ untranslatable alert_rule c: because c\n\
             t: 3 items: 1 ok, 1 warning, 1 untranslatable\n"
        );
    }

    #[test]
    fn inputs_are_paths_or_named_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.yml");
        std::fs::write(&file, "groups: []\n").unwrap();
        let d = read_input(&file.display().to_string()).unwrap();
        assert_eq!(
            (d.name.as_str(), d.text.as_str()),
            ("rules.yml", "groups: []\n")
        );
        let d = read_input(&format!("old={}", file.display())).unwrap();
        assert_eq!(d.name, "old");
        let err = read_input("missing.yml").unwrap_err();
        assert!(
            err.downcast_ref::<super::super::UsageError>().is_some(),
            "{err}"
        );
    }
}
