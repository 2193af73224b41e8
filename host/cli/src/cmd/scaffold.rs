//! `cutover plugin new`: scaffolds a plugin project (Rust, JavaScript, Python
//! or C; action, check or adapter) from the templates in `templates/`.
//!
//! The templates are embedded at compile time. A generated project has
//! `build.sh` (the component, `NAME.wasm`) and `test.sh` (build, then run it
//! in the real host with `cutover plugin run`); JS, Python and C builds use
//! the toolchains that `scripts/build-polyglot.sh` caches in
//! `target/toolchains` of the cutover checkout.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::exit;

/// Guest language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with the cutover plugin SDK.
    Rust,
    /// JavaScript (componentize-js).
    Js,
    /// Python (componentize-py).
    Python,
    /// C (wit-bindgen c, clang, wasi-libc).
    C,
}

/// World of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// `cutover:plugin/action`.
    Action,
    /// `cutover:plugin/check`.
    Check,
    /// `cutover:plugin/adapter`.
    Adapter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Check => "check",
            Kind::Adapter => "adapter",
        }
    }
}

/// Arguments of `plugin new`.
#[derive(Args)]
pub struct NewArgs {
    /// Plugin name: lowercase letters, digits and single dashes (e.g. `disk-check`).
    pub name: String,
    /// Guest language.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// World the plugin implements.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Directory to create (default: ./NAME). Must not exist or be empty.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Why a scaffold could not be written.
#[derive(Debug)]
pub enum ScaffoldError {
    /// The name is not usable as a plugin, crate and file name.
    BadName(String),
    /// The target directory already has files.
    NotEmpty(String),
    /// The plugin SDK (for Rust projects) was not found.
    NoSdk(String),
    /// Writing a file failed.
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl std::fmt::Display for ScaffoldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScaffoldError::BadName(n) => write!(
                f,
                "plugin name `{n}`: use 1-64 lowercase ASCII letters, digits and single dashes, \
                 starting with a letter and not ending with a dash"
            ),
            ScaffoldError::NotEmpty(d) => {
                write!(f, "{d} exists and is not empty; choose another --dir")
            }
            ScaffoldError::NoSdk(d) => write!(
                f,
                "the Rust plugin SDK is not at {d}; set CUTOVER_SOURCE_DIR to a cutover checkout"
            ),
            ScaffoldError::Io { path, source } => write!(f, "cannot write {path}: {source}"),
        }
    }
}

impl std::error::Error for ScaffoldError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScaffoldError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where generated projects find the SDK, the toolchains and `cutover`.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `plugins/sdk` of the cutover checkout.
    pub sdk: PathBuf,
    /// `target/toolchains` of the cutover checkout.
    pub toolchains: PathBuf,
    /// The `cutover` binary the test script calls.
    pub cutover: PathBuf,
}

impl Paths {
    /// The checkout this binary was built from (or `$CUTOVER_SOURCE_DIR`),
    /// and the running binary.
    pub fn detect() -> Self {
        let root = std::env::var_os("CUTOVER_SOURCE_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
        let root = root.canonicalize().unwrap_or(root);
        let cutover = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("cutover"));
        Self {
            sdk: root.join("plugins/sdk"),
            toolchains: root.join("target/toolchains"),
            cutover,
        }
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Path inside the project.
    pub path: String,
    /// Contents.
    pub text: String,
    /// Whether to mark it executable.
    pub executable: bool,
}

const WIT: &str = include_str!("../../../../wit/plugin.wit");
const TEST_SH: &str = include_str!("../../../../templates/common/test.sh");

fn source(lang: Lang, kind: Kind) -> &'static str {
    use {Kind::*, Lang::*};
    match (lang, kind) {
        (Rust, Action) => include_str!("../../../../templates/rust/action.rs"),
        (Rust, Check) => include_str!("../../../../templates/rust/check.rs"),
        (Rust, Adapter) => include_str!("../../../../templates/rust/adapter.rs"),
        (Js, Action) => include_str!("../../../../templates/js/action.js"),
        (Js, Check) => include_str!("../../../../templates/js/check.js"),
        (Js, Adapter) => include_str!("../../../../templates/js/adapter.js"),
        (Python, Action) => include_str!("../../../../templates/python/action.py"),
        (Python, Check) => include_str!("../../../../templates/python/check.py"),
        (Python, Adapter) => include_str!("../../../../templates/python/adapter.py"),
        (C, Action) => include_str!("../../../../templates/c/action.c"),
        (C, Check) => include_str!("../../../../templates/c/check.c"),
        (C, Adapter) => include_str!("../../../../templates/c/adapter.c"),
    }
}

fn build_script(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => include_str!("../../../../templates/rust/build.sh"),
        Lang::Js => include_str!("../../../../templates/js/build.sh"),
        Lang::Python => include_str!("../../../../templates/python/build.sh"),
        Lang::C => include_str!("../../../../templates/c/build.sh"),
    }
}

/// Checks a plugin name (kebab-case, 1-64 characters).
pub fn validate_name(name: &str) -> Result<(), ScaffoldError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ScaffoldError::BadName(name.to_string()))
    }
}

fn quote(p: &Path) -> String {
    p.display().to_string()
}

/// The files of a new project (nothing is written).
pub fn render(
    lang: Lang,
    kind: Kind,
    name: &str,
    paths: &Paths,
) -> Result<Vec<File>, ScaffoldError> {
    validate_name(name)?;
    let crate_name = name.replace('-', "_");
    let (call, expect) = match kind {
        Kind::Action => ("run", format!("'{name}: done' params_bytes")),
        Kind::Check => ("evaluate", format!("'{name}: ok' params_bytes")),
        Kind::Adapter => ("health", format!("'{name}: ok'")),
    };
    let pre_test = match lang {
        Lang::Rust => {
            "cargo test --quiet --manifest-path \"$here/Cargo.toml\" \\\n    --target \"$(rustc -vV | sed -n 's/^host: //p')\"\n"
        }
        _ => "",
    };
    let adapter_test = match kind {
        Kind::Adapter => format!(
            "# export-data into a file, then import-data reads it back\n\
             \"$cutover\" plugin run \"$here/{name}.wasm\" --call export-data --kind alert_rules \\\n    \
             --output \"$here/export.out\"\n\
             [ \"$(cat \"$here/export.out\")\" = '{{}}' ] || {{ echo \"FAIL: export-data wrote $(cat \"$here/export.out\")\" >&2; exit 1; }}\n\
             out=\"$(\"$cutover\" plugin run \"$here/{name}.wasm\" --call import-data --kind alert_rules \\\n    \
             --input \"$here/export.out\")\"\n\
             grep -q 'read 2 bytes' <<<\"$out\" \\\n    \
             || {{ echo \"FAIL: import-data did not read the export back: $out\" >&2; exit 1; }}\n"
        ),
        _ => String::new(),
    };
    let subst = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{kind}}", kind.as_str())
            .replace("{{sdk}}", &quote(&paths.sdk))
            .replace("{{toolchains}}", &quote(&paths.toolchains))
            .replace("{{cutover}}", &quote(&paths.cutover))
            .replace("{{call}}", call)
            .replace("{{expect}}", &expect)
            .replace("{{pre_test}}", pre_test)
            .replace("{{adapter_test}}", &adapter_test)
    };
    let file = |path: &str, text: String, executable: bool| File {
        path: path.to_string(),
        text,
        executable,
    };
    let mut files = vec![
        file("build.sh", subst(build_script(lang)), true),
        file("test.sh", subst(TEST_SH), true),
    ];
    match lang {
        Lang::Rust => {
            files.push(file(
                "Cargo.toml",
                subst(include_str!("../../../../templates/rust/Cargo.toml.tmpl")),
                false,
            ));
            files.push(file(
                ".cargo/config.toml",
                subst(include_str!(
                    "../../../../templates/rust/cargo-config.toml.tmpl"
                )),
                false,
            ));
            files.push(file("src/lib.rs", subst(source(lang, kind)), false));
            files.push(file(".gitignore", "/target\n*.wasm\n*.out\n".into(), false));
        }
        Lang::Js | Lang::Python | Lang::C => {
            let main = match lang {
                Lang::Js => format!("{name}.js"),
                Lang::Python => "app.py".to_string(),
                _ => format!("{name}.c"),
            };
            files.push(file(&main, subst(source(lang, kind)), false));
            files.push(file("wit/plugin.wit", WIT.to_string(), false));
            files.push(file(
                ".gitignore",
                "*.wasm\n*.out\n/gen\n__pycache__/\n".into(),
                false,
            ));
        }
    }
    Ok(files)
}

/// Writes `files` under `dir` (created; must not exist or be empty).
pub fn write(dir: &Path, files: &[File]) -> Result<(), ScaffoldError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ScaffoldError::Io { path, source }
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(ScaffoldError::NotEmpty(dir.display().to_string()));
        }
    }
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &f.text).map_err(io(&path))?;
        #[cfg(unix)]
        if f.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Runs `cutover plugin new`.
pub fn new(a: NewArgs) -> anyhow::Result<u8> {
    let paths = Paths::detect();
    if a.lang == Lang::Rust && !paths.sdk.join("Cargo.toml").exists() {
        return Err(super::usage(
            ScaffoldError::NoSdk(paths.sdk.display().to_string()).to_string(),
        ));
    }
    let files = render(a.lang, a.kind, &a.name, &paths).map_err(|e| super::usage(e.to_string()))?;
    let dir = a.dir.unwrap_or_else(|| PathBuf::from(&a.name));
    write(&dir, &files)?;
    println!(
        "created {} ({:?} {}) in {}",
        a.name,
        a.lang,
        a.kind.as_str(),
        dir.display()
    );
    println!("  build: bash {}/build.sh", dir.display());
    println!("  test:  bash {}/test.sh", dir.display());
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Paths {
        Paths::detect()
    }

    #[test]
    fn names_are_kebab_case() {
        for good in ["a", "disk-check", "x2-y3"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Disk",
            "-a",
            "a-",
            "a--b",
            "a_b",
            "a b",
            "1a",
            &"a".repeat(65),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_combination_renders_without_placeholders() {
        for lang in [Lang::Rust, Lang::Js, Lang::Python, Lang::C] {
            for kind in [Kind::Action, Kind::Check, Kind::Adapter] {
                let files = render(lang, kind, "my-plugin", &paths()).unwrap();
                for f in &files {
                    assert!(!f.text.contains("{{"), "{lang:?} {kind:?} {}", f.path);
                }
                let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
                assert!(names.contains(&"build.sh") && names.contains(&"test.sh"));
                let main = files
                    .iter()
                    .find(|f| {
                        f.path.ends_with(".rs")
                            || f.path.ends_with(".js")
                            || f.path.ends_with(".py")
                            || f.path.ends_with(".c")
                    })
                    .expect("a source file");
                assert!(main.text.contains("my-plugin"), "{lang:?} {kind:?}");
                if lang != Lang::Rust {
                    assert!(names.contains(&"wit/plugin.wit"));
                }
            }
        }
    }

    #[test]
    fn refuses_a_non_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep"), "x").unwrap();
        let files = render(Lang::Js, Kind::Check, "x", &paths()).unwrap();
        assert!(matches!(
            write(dir.path(), &files),
            Err(ScaffoldError::NotEmpty(_))
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("keep")).unwrap(),
            "x"
        );
    }

    /// Scaffolds a Rust check, runs its unit tests, builds the component and
    /// evaluates it in the real runtime.
    #[test]
    fn scaffolded_rust_check_builds_and_passes() {
        let p = paths();
        assert!(
            p.sdk.join("Cargo.toml").exists(),
            "SDK at {}",
            p.sdk.display()
        );
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("disk-check");
        write(
            &dir,
            &render(Lang::Rust, Kind::Check, "disk-check", &p).unwrap(),
        )
        .unwrap();
        // Reuse the guest target dir so the SDK's dependencies are not rebuilt.
        let guests = p.toolchains.join("../guests");
        let status = std::process::Command::new("bash")
            .arg(dir.join("build.sh"))
            .env("CARGO_TARGET_DIR", &guests)
            .status()
            .unwrap();
        assert!(status.success(), "build.sh failed");
        let wasm = dir.join("disk-check.wasm");
        let rt = cutover_runtime::Runtime::new(None).unwrap();
        let plugin = rt.load_file(&wasm, None).unwrap();
        assert_eq!(plugin.name(), "disk-check");
        assert_eq!(plugin.world(), cutover_runtime::World::Check);
        let ctx = cutover_runtime::wit::Context {
            plan: "t".into(),
            phase: String::new(),
            step: String::new(),
            run_id: "r".into(),
            params: r#"{"a":1}"#.into(),
        };
        let v = rt
            .evaluate(&plugin, &cutover_runtime::Sandbox::default(), &ctx)
            .unwrap();
        assert_eq!(v.verdict, cutover_runtime::wit::VerdictKind::Pass);
        assert_eq!(v.message, "disk-check: ok");
        assert_eq!(v.measurements[0].value, 7.0);
    }
}
