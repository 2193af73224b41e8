//! The rule-file bundle: a JSON object `{ "<file name>": "<YAML text>" }`
//! holding every `*.yml`/`*.yaml` file of the rules directory.

use std::collections::BTreeMap;

use cutover_adapter_util::files::plain_name;

/// File name endings that count as rule files.
pub const SUFFIXES: &[&str] = &[".yml", ".yaml"];

/// Serialises a bundle (sorted by file name, pretty-printed).
pub fn to_json(files: &BTreeMap<String, String>) -> String {
    serde_json::to_string_pretty(files).unwrap_or_else(|_| "{}".to_owned())
}

/// Parses and validates a bundle: an object of plain `*.yml`/`*.yaml`
/// names to text.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let files: BTreeMap<String, String> = cutover_plugin_sdk::decode_json("rules bundle", text)
        .map_err(|e| format!("{e} (expected an object of file name -> YAML text)"))?;
    for name in files.keys() {
        plain_name("rules bundle", name)?;
        if !SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return Err(format!(
                "rules bundle: file {name:?} does not end in .yml or .yaml"
            ));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let files: BTreeMap<String, String> = [
            ("b.yml".to_owned(), "groups: []\n".to_owned()),
            ("a.yaml".to_owned(), "x: \"quoted\"\n".to_owned()),
        ]
        .into();
        assert_eq!(parse(&to_json(&files)).unwrap(), files);
    }

    #[test]
    fn rejects_paths_and_other_suffixes() {
        assert!(
            parse(r#"{"../x.yml": ""}"#)
                .unwrap_err()
                .contains("../x.yml")
        );
        assert!(parse(r#"{"x.txt": ""}"#).unwrap_err().contains(".yml"));
        assert!(parse(r#"{"x.yml": 3}"#).unwrap_err().contains("x.yml"));
        assert!(parse(r#"[]"#).unwrap_err().contains("line 1"));
    }
}
