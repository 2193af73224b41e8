//! `prometheus-rules`: a translator (contract 0.1.1) for Prometheus rule
//! files, data kind `alert_rules`.
//!
//! Input: one document per rule file (the name is the file name). Output:
//! the translated files under the same names, holding the rules in scope
//! with the params' changes applied; one report item per input rule (see
//! `translate_core::rules_translate`). Params (JSON, all optional):
//! `scope` (a scope or a list of them), `renames` (alert names),
//! `label_renames`, `add_labels`, `for_overrides`, `target`
//! (`prometheus` | `vmalert`).

use cutover_plugin_sdk::{Document, PluginError};
use cutover_translator_util::{Output, params_text, plugin_error};
use translate_core::{RulesParams, translate_rules};

/// The data kind this translator accepts.
pub const KIND: &str = "alert_rules";

cutover_translator_util::translator_guest!(Rules {
    name: "prometheus-rules",
    description: "Prometheus rule files in, Prometheus (or vmalert) rule files out: the rules in \
             scope, with alert and label renames, added labels and `for:` overrides; one \
             report item per rule.",
    kind: KIND,
    run: run,
});

/// Translates rule files with `params` (JSON text).
pub fn run(params: &str, documents: Vec<Document>) -> Result<Output, PluginError> {
    let params = RulesParams::from_json(params_text(params)).map_err(plugin_error)?;
    let files: Vec<(String, String)> = documents.into_iter().map(|d| (d.name, d.text)).collect();
    let out = translate_rules(&files, &params).map_err(plugin_error)?;
    Ok(Output {
        documents: out
            .files
            .into_iter()
            .map(|(name, text)| Document::new(name, text))
            .collect(),
        items: out.items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use translate_core::{ItemKind, Status};

    use translate_core::samples::RULES;

    /// What the sample lacks: a recording rule that does not fix `team`
    /// and an alert with an invalid `for`.
    const MORE: &str = "groups:\n- name: more\n  rules:\n  - record: job:up:count\n    \
                        expr: count by (job) (up)\n  - alert: Broken\n    \
                        expr: up{team=\"core\"} == 0\n    for: soon\n";

    fn docs() -> Vec<Document> {
        vec![
            Document::new("node.yml", RULES),
            Document::new("more.yml", MORE),
        ]
    }

    #[test]
    fn one_item_per_rule_and_only_the_scope_is_written() {
        let out = run(
            r#"{"scope": "{team=\"core\"}", "renames": {"NodeDown": "HostDown"},
                "for_overrides": {"HostDown": "10m"}, "add_labels": {"migrated": "yes"}}"#,
            docs(),
        )
        .expect("translate");
        let got: Vec<(ItemKind, Status)> = out.items.iter().map(|i| (i.kind, i.status)).collect();
        assert_eq!(
            got,
            vec![
                (ItemKind::AlertRule, Status::Ok),
                (ItemKind::AlertRule, Status::Ok),
                (ItemKind::RecordingRule, Status::Ok),
                (ItemKind::RecordingRule, Status::Warning),
                (ItemKind::AlertRule, Status::Untranslatable),
            ]
        );
        assert!(
            out.items[1].reason.contains("out of scope"),
            "{:?}",
            out.items[1]
        );
        assert_eq!(out.documents.len(), 2);
        let text = &out.documents[0].text;
        assert_eq!(out.documents[0].name, "node.yml");
        assert!(
            text.contains("alert: HostDown") && text.contains("10m"),
            "{text}"
        );
        assert!(
            text.contains("migrated: yes")
                || text.contains("migrated: \"yes\"")
                || text.contains("migrated: 'yes'"),
            "{text}"
        );
        assert!(!text.contains("WebDown"), "{text}");
        let more = &out.documents[1];
        assert_eq!(more.name, "more.yml");
        assert!(
            more.text.contains("job:up:count") && !more.text.contains("Broken"),
            "{}",
            more.text
        );
    }

    #[test]
    fn empty_params_translate_everything_unchanged() {
        let out = run("", docs()).expect("translate");
        assert_eq!(out.items.len(), 5);
        assert_eq!(
            out.items.iter().filter(|i| i.status == Status::Ok).count(),
            4
        );
    }

    #[test]
    fn bad_params_and_files_are_invalid_input() {
        let e = run(r#"{"scope": "{team=}"}"#, docs()).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("scope")),
            "{e:?}"
        );
        let e = run(r#"{"nope": 1}"#, docs()).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("nope")),
            "{e:?}"
        );
        let e = run("{}", vec![Document::new("bad.yml", "groups: [")]).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("bad.yml")),
            "{e:?}"
        );
    }
}
