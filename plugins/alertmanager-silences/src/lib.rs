//! `alertmanager-silences`: a translator (contract 0.1.1) for Alertmanager
//! silences, data kind `silences`.
//!
//! Input: one document, a silence list as `GET /api/v2/silences` returns it
//! (what the alertmanager adapter exports as `silences`). Output: the same
//! document name, holding the live silences in scope, label renames
//! applied; one report item per input silence (see
//! `translate_core::silences`). Params (JSON, all optional): `scope` (a
//! scope or a list of them), `label_renames`.
//!
//! A separate translator from `alertmanager-routes` so that each
//! first-party translator has one data kind (`cutover translate` needs no
//! `--kind`) and a plan can grant and pin them independently.

use cutover_plugin_sdk::{Document, PluginError};
use cutover_translator_util::{Output, params_text, plugin_error, single};
use translate_core::{SilencesParams, restrict_silences};

/// The data kind this translator accepts.
pub const KIND: &str = "silences";

cutover_translator_util::translator_guest!(Silences {
    name: "alertmanager-silences",
    description: "An Alertmanager silence list in, the live silences in scope out (label renames \
             applied); one report item per silence.",
    kind: KIND,
    run: run,
});

/// Restricts the one silence list in `documents` for `params` (JSON text).
pub fn run(params: &str, documents: Vec<Document>) -> Result<Output, PluginError> {
    let params = SilencesParams::from_json(params_text(params)).map_err(plugin_error)?;
    let doc = single(KIND, documents)?;
    let out = restrict_silences(&doc.name, &doc.text, &params).map_err(plugin_error)?;
    Ok(Output {
        documents: vec![Document::new(doc.name, out.text)],
        items: out.items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use translate_core::Status;

    use translate_core::samples::SILENCES;

    #[test]
    fn keeps_the_scope_and_reports_every_silence() {
        let out = run(
            r#"{"scope": ["{team=\"core\"}"]}"#,
            vec![Document::new("silences.json", SILENCES)],
        )
        .expect("restrict");
        let ids: Vec<(&str, Status)> = out
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.status))
            .collect();
        assert_eq!(ids, vec![("s1", Status::Ok), ("s2", Status::Ok)]);
        assert_eq!(out.documents[0].name, "silences.json");
        let kept: Vec<serde_json::Value> = serde_json::from_str(&out.documents[0].text).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["comment"], "core maintenance");
    }

    #[test]
    fn one_list_and_valid_params_only() {
        let e = run("{}", vec![]).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("exactly one")),
            "{e:?}"
        );
        let e = run(r#"{"scope": "x"}"#, vec![Document::new("s", SILENCES)]).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("scope")),
            "{e:?}"
        );
        let e = run("{}", vec![Document::new("s.json", "{}")]).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("s.json")),
            "{e:?}"
        );
    }
}
