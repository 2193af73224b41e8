//! The Prometheus rules YAML parser of the guests (translate-core, as the
//! prometheus-rules translator uses it), built natively: a rule file parses
//! or is refused with file, line and column; a parsed file writes back to
//! text that parses to the same file, and translates to files that parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use translate_core::rules::RuleFile;
use translate_core::{RulesParams, TranslateError, translate_rules};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = match RuleFile::parse("rules.yml", text) {
        Ok(file) => file,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    TranslateError::Yaml { .. } | TranslateError::Invalid { .. }
                ),
                "{e}"
            );
            return;
        }
    };
    let written = file.to_text().expect("a parsed rule file writes");
    let again = RuleFile::parse("rules.yml", &written)
        .unwrap_or_else(|e| panic!("written rule file does not parse: {e}\n{written}"));
    assert_eq!(
        again, file,
        "written rule file reads back different:\n{written}"
    );
    let files = vec![("rules.yml".to_string(), text.to_string())];
    let params = RulesParams::from_json(
        r#"{"label_renames":{"severity":"level"},"add_labels":{"team":"x"},"target":"vmalert"}"#,
    )
    .unwrap();
    for params in [RulesParams::default(), params] {
        if let Ok(out) = translate_rules(&files, &params) {
            for (name, text) in &out.files {
                RuleFile::parse(name, text)
                    .unwrap_or_else(|e| panic!("translated file does not parse: {e}\n{text}"));
            }
        }
    }
});
