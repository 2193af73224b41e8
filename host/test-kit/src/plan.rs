//! Plan files for tests and benches: [`PlanBuilder`] writes the `[plan]`,
//! `[plugins.*]` and `[systems.*]` tables with the built plugins pinned
//! (or left for `cutover plugin lock` to pin); [`phase`], [`step`] and
//! friends write the phases; and the shipped plans in `plans/` can be pinned
//! to stand-in files ([`pin_stand_ins`]) or pointed at the built plugins
//! ([`with_built_plugins`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::paths::{plugin_pin, plugins_dir, sha256_hex};

/// The pin of a plugin that is not pinned yet (what `cutover plugin lock`
/// fills in).
pub fn zero_pin() -> String {
    "0".repeat(64)
}

/// `grants = { dirs = [{ name = NAME, path = PATH, write = WRITE }] }`.
pub fn dir_grant(name: &str, path: &str, write: bool) -> String {
    format!("grants = {{ dirs = [{{ name = \"{name}\", path = \"{path}\", write = {write} }}] }}")
}

/// Builds the head of a plan (everything but the phases); see the module
/// documentation.
#[derive(Debug, Clone)]
pub struct PlanBuilder {
    plan: String,
    tables: String,
    pinned: bool,
}

impl PlanBuilder {
    /// `[plan]` named `name`, keeping its state in `.state`.
    pub fn new(name: &str) -> Self {
        PlanBuilder {
            plan: format!("[plan]\nname = \"{name}\"\nstate_dir = \".state\"\n"),
            tables: String::new(),
            pinned: true,
        }
    }

    /// Adds `keys` (TOML lines) to the `[plan]` table.
    pub fn plan_keys(mut self, keys: &str) -> Self {
        self.plan.push_str(keys.trim_end());
        self.plan.push('\n');
        self
    }

    /// Pins plugins added from now on with zeros, for `cutover plugin lock`
    /// to pin.
    pub fn unpinned(mut self) -> Self {
        self.pinned = false;
        self
    }

    /// `[plugins.ID]`: the built plugin `component`, pinned (unless
    /// [`unpinned`](Self::unpinned)), then `keys` (TOML lines, e.g. grants).
    pub fn plugin(mut self, id: &str, component: &str, keys: &str) -> Self {
        let (path, sha) = plugin_pin(component);
        let sha = if self.pinned { sha } else { zero_pin() };
        let _ = write!(
            self.tables,
            "\n[plugins.{id}]\npath = \"{path}\"\nsha256 = \"{sha}\"\n"
        );
        if !keys.is_empty() {
            self.tables.push_str(keys.trim_end());
            self.tables.push('\n');
        }
        self
    }

    /// `[systems.old]` and `[systems.new]` with these adapters, labelled
    /// `old` and `new`.
    pub fn systems(mut self, old: &str, new: &str) -> Self {
        for (side, adapter) in [("old", old), ("new", new)] {
            let _ = write!(
                self.tables,
                "\n[systems.{side}]\nadapter = \"{adapter}\"\nlabel = \"{side}\"\n"
            );
        }
        self
    }

    /// Two file adapters, `old_id` over the plan's directory `old` and
    /// `new_id` over `new` (granted as `data`, writable), as the systems.
    pub fn file_adapters(self, old_id: &str, new_id: &str) -> Self {
        self.plugin(old_id, "file-adapter", &dir_grant("data", "old", true))
            .plugin(new_id, "file-adapter", &dir_grant("data", "new", true))
            .systems(old_id, new_id)
    }

    /// [`file_adapters`](Self::file_adapters) `file-old` and `file-new`.
    pub fn file_systems(self) -> Self {
        self.file_adapters("file-old", "file-new")
    }

    /// The plan text: the tables so far, then `body` (phases, risks...).
    pub fn build(&self, body: &str) -> String {
        format!("{}{}{body}", self.plan, self.tables)
    }

    /// Writes [`build`](Self::build) to `dir/plan.toml`; returns its path.
    pub fn write(&self, dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("plan.toml");
        std::fs::write(&path, self.build(body))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

/// A low-risk `[[phases]]` table: `keys` (TOML lines, e.g. `gate = ...`),
/// then its `[[phases.steps]]` and `[[phases.checklist]]` tables.
pub fn phase(id: &str, name: &str, keys: &str, tables: &[String]) -> String {
    format!(
        "\n[[phases]]\nid = \"{id}\"\nname = \"{name}\"\nrisk = \"low\"\n{keys}\n{}",
        tables.concat()
    )
}

/// A `[[phases.steps]]` table: `id`, `kind`, then `keys` (TOML lines).
pub fn step(id: &str, kind: &str, keys: &str) -> String {
    let mut s = format!("[[phases.steps]]\nid = \"{id}\"\nkind = \"{kind}\"\n{keys}");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A step running the action plugin `noop`.
pub fn noop_step(id: &str) -> String {
    step(id, "action", "plugin = \"noop\"")
}

/// A step waiting `duration`.
pub fn wait_step(id: &str, duration: &str) -> String {
    step(id, "wait", &format!("duration = \"{duration}\""))
}

/// A `[[phases.checklist]]` table: `item`, `critical`, then `keys`.
pub fn checklist_item(item: &str, critical: bool, keys: &str) -> String {
    let mut s = format!("[[phases.checklist]]\nitem = \"{item}\"\ncritical = {critical}\n{keys}");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Creates the systems' data directories `dir/old` and `dir/new`, each
/// with `configurations.yml` holding `config(side)`.
pub fn system_dirs(dir: &Path, config: impl Fn(&str) -> String) {
    for side in ["old", "new"] {
        let d = dir.join(side);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        std::fs::write(d.join("configurations.yml"), config(side))
            .unwrap_or_else(|e| panic!("write {}: {e}", d.display()));
    }
}

/// Shipped plan text `src` with its plugin paths (`../target/plugins/`)
/// pointing at the built plugins instead.
pub fn with_built_plugins(src: &str) -> String {
    src.replace(
        "../target/plugins/",
        &format!("{}/", plugins_dir().display()),
    )
}

/// Shipped plan text `src` with every plugin at `../target/plugins/*.wasm`
/// whose pin is all zeros replaced by a stand-in file `dir/ID.wasm` (ID the
/// plugin's id in the plan), pinned by its digest, so that pins are checked
/// without built plugins. When `descriptors` is given, its
/// `shipped-ID.describe.json` is copied beside the stand-in (as
/// `ID.wasm.describe.json`, where a descriptor-file resolver looks).
pub fn pin_stand_ins(src: &str, dir: &Path, descriptors: Option<&Path>) -> String {
    let zeros = format!("sha256 = \"{}\"", zero_pin());
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::with_capacity(src.len());
    let mut id = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("[plugins.") {
            id = rest.strip_suffix(']').map(str::to_owned);
        }
        let shipped = line.starts_with("path = \"../target/plugins/") && line.ends_with(".wasm\"");
        // What follows the zero pin on its line (a comment) is kept.
        let after_pin = lines
            .get(i + 1)
            .and_then(|l| l.strip_prefix(zeros.as_str()));
        match (&id, after_pin.filter(|_| shipped)) {
            (Some(id), Some(rest)) => {
                let file = stand_in(dir, id, descriptors);
                let _ = writeln!(out, "path = \"{}\"", file.display());
                let bytes = std::fs::read(&file).unwrap_or_default();
                let _ = writeln!(out, "sha256 = \"{}\"{rest}", sha256_hex(&bytes));
                i += 2;
            }
            _ => {
                out.push_str(line);
                out.push('\n');
                i += 1;
            }
        }
    }
    if !src.ends_with('\n') {
        out.pop();
    }
    out
}

/// Writes the stand-in of plugin `id` into `dir` (and its descriptor).
fn stand_in(dir: &Path, id: &str, descriptors: Option<&Path>) -> PathBuf {
    let file = dir.join(format!("{id}.wasm"));
    std::fs::write(&file, format!("stand-in {id}"))
        .unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    if let Some(from) = descriptors {
        let src = from.join(format!("shipped-{id}.describe.json"));
        let to = dir.join(format!("{id}.wasm.describe.json"));
        std::fs::copy(&src, &to).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_replace_only_shipped_zero_pins() {
        let dir = tempfile::tempdir().expect("tmp");
        let zeros = zero_pin();
        let src = format!(
            "[plan]\nname = \"x\"\n\n[plugins.a]\npath = \"../target/plugins/alpha.wasm\"\n\
             sha256 = \"{zeros}\"\n\n[plugins.b]\npath = \"mine.wasm\"\nsha256 = \"{zeros}\"\n"
        );
        let pinned = pin_stand_ins(&src, dir.path(), None);
        let a = dir.path().join("a.wasm");
        assert_eq!(std::fs::read_to_string(&a).expect("stand-in"), "stand-in a");
        let digest = sha256_hex(b"stand-in a");
        assert!(
            pinned.contains(&format!(
                "path = \"{}\"\nsha256 = \"{digest}\"\n",
                a.display()
            )),
            "{pinned}"
        );
        assert!(pinned.contains(&format!("path = \"mine.wasm\"\nsha256 = \"{zeros}\"\n")));
        assert!(!dir.path().join("b.wasm").exists());
        assert_eq!(pinned.lines().count(), src.lines().count());
    }

    #[test]
    fn descriptors_are_copied_beside_the_stand_ins() {
        let (dir, from) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        std::fs::write(from.path().join("shipped-a.describe.json"), "{}").expect("write");
        let src = format!(
            "[plugins.a]\npath = \"../target/plugins/x.wasm\"\nsha256 = \"{}\" # lock",
            zero_pin()
        );
        let pinned = pin_stand_ins(&src, dir.path(), Some(from.path()));
        assert!(pinned.ends_with("\" # lock"), "{pinned}");
        assert!(dir.path().join("a.wasm.describe.json").is_file());
    }

    #[test]
    fn phase_tables_are_toml_lines() {
        let text = phase(
            "one",
            "One",
            "gate = { approvers = [\"a\"] }",
            &[noop_step("s1"), checklist_item("looked", true, "")],
        );
        assert_eq!(
            text,
            "\n[[phases]]\nid = \"one\"\nname = \"One\"\nrisk = \"low\"\n\
             gate = { approvers = [\"a\"] }\n[[phases.steps]]\nid = \"s1\"\nkind = \"action\"\n\
             plugin = \"noop\"\n[[phases.checklist]]\nitem = \"looked\"\ncritical = true\n"
        );
        assert!(wait_step("w", "1s").ends_with("duration = \"1s\"\n"));
    }

    #[test]
    fn a_built_plan_holds_its_tables_in_order() {
        let text = PlanBuilder::new("t")
            .plan_keys("owner = \"o\"")
            .systems("a", "b")
            .build("[[phases]]\n");
        assert_eq!(
            text,
            "[plan]\nname = \"t\"\nstate_dir = \".state\"\nowner = \"o\"\n\n[systems.old]\n\
             adapter = \"a\"\nlabel = \"old\"\n\n[systems.new]\nadapter = \"b\"\nlabel = \"new\"\n\
             [[phases]]\n"
        );
    }
}
