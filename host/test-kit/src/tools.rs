//! System tools some tests run (Debian's `promtool`, ...): tests never
//! install anything, they fail saying how to.

use std::process::Command;

/// Whether `program --version` runs and succeeds.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `program`, once checked to be installed; panics otherwise, naming what
/// needs it and the script that installs it.
#[track_caller]
pub fn require<'a>(program: &'a str, needed_for: &str) -> &'a str {
    assert!(
        installed(program),
        "{program} is required {needed_for} and is not installed: \
         run scripts/system-deps.sh (or scripts/setup.sh) first"
    );
    program
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "scripts/system-deps.sh")]
    fn a_missing_tool_says_how_to_install_it() {
        require("no-such-tool-for-cutover", "to test the message");
    }
}
