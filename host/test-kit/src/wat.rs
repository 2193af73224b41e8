//! The hand-written hostile components of `tests/fixtures/hostile`: a
//! check-world template (`check-template.wat`) whose `evaluate` runs a
//! `*.body.wat` fixture, and a translator-world template
//! (`translator-template.wat`). The templates' placeholders are filled here
//! and nowhere else; the runtime compiles the WAT text directly.

use std::path::PathBuf;

use crate::paths::repo_path;

/// `tests/fixtures/hostile`.
pub fn hostile_dir() -> PathBuf {
    repo_path("tests/fixtures/hostile")
}

/// The text of hostile fixture `file`.
pub fn hostile(file: &str) -> String {
    let path = hostile_dir().join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("hostile fixture {}: {e}", path.display()))
}

/// The byte length of `name` as the templates' data segments spell it.
fn len_escape(name: &str) -> String {
    assert!(name.len() < 48, "component name {name:?} is too long");
    format!("\\{:02x}", name.len())
}

/// A check-world component named `name` whose `evaluate` runs `body`,
/// with extra core functions `funcs` and extra component imports `imports`.
pub fn check(name: &str, body: &str, funcs: &str, imports: &str) -> String {
    hostile("check-template.wat")
        .replace("@IMPORTS@", imports)
        .replace("@CORE_IMPORTS@", "")
        .replace("@WITH@", "")
        .replace("@FUNCS@", funcs)
        .replace("@BODY@", body)
        .replace("@NAMELEN@", &len_escape(name))
        .replace("@NAME@", name)
}

/// A check-world component named `name` running the fixture `body_file`
/// (`X.body.wat`), with its functions `X.funcs.wat` when there are any.
pub fn check_fixture(name: &str, body_file: &str) -> String {
    let funcs = body_file
        .strip_suffix(".body.wat")
        .map(|stem| format!("{stem}.funcs.wat"))
        .filter(|f| hostile_dir().join(f).is_file())
        .map(|f| hostile(&f))
        .unwrap_or_default();
    check(name, &hostile(body_file), &funcs, "")
}

/// A translator-world component named `name`: `describe` runs `describe`,
/// `translate` runs `body`; `kinds` is how many data kinds it declares (0,
/// or 1 for `alert_rules`).
pub fn translator(name: &str, describe: &str, body: &str, kinds: u8) -> String {
    hostile("translator-template.wat")
        .replace("@DESCRIBE@", describe)
        .replace("@BODY@", body)
        .replace("@NAMELEN@", &len_escape(name))
        .replace("@KINDSLEN@", &format!("\\{kinds:02x}"))
        .replace("@NAME@", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` still holds a `@PLACEHOLDER@`.
    fn unfilled(text: &str) -> bool {
        text.split('@')
            .skip(1)
            .any(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    }

    #[test]
    fn templates_are_filled_completely() {
        let spin = check_fixture("spin", "infinite-loop.body.wat");
        assert!(!unfilled(&spin), "placeholder left: {spin}");
        assert!(spin.contains("(data (i32.const 16) \"spin\")"));
        assert!(spin.contains("\\04\\00\\00\\00"));
        let recursion = check_fixture("deep", "deep-recursion.body.wat");
        assert!(recursion.contains(&hostile("deep-recursion.funcs.wat")));
        let t = translator("t", "", "", 1);
        assert!(!unfilled(&t), "placeholder left: {t}");
        assert!(unfilled(&hostile("translator-template.wat")));
    }
}
