//! `alertmanager-routes`: a translator (contract 0.1.1) for Alertmanager
//! routing, data kind `routes`.
//!
//! Input: two documents, `old` and `new`, the two `alertmanager.yml`
//! configurations. Output: one document, `new`, the new configuration with
//! the in-scope routes of the old one merged in, with the receivers and
//! inhibition rules they need; nothing the new configuration already has is
//! dropped, and merging twice gives the same text as merging once. One
//! report item per old top-level route, inhibition rule and receiver (see
//! `translate_core::routes`). Params (JSON): `scope` (a scope or a list of
//! them; everything when absent).
//!
//! Silences, the other Alertmanager data kind, have their own translator,
//! `alertmanager-silences`: one data kind per first-party translator, so
//! `cutover translate PLUGIN FILE...` never needs `--kind`.

use cutover_plugin_sdk::{Document, PluginError, invalid_input};
use cutover_translator_util::{Output, params_text, plugin_error};
use translate_core::{RoutesParams, Selection, merge_routes_in};

/// The data kind this translator accepts.
pub const KIND: &str = "routes";

cutover_translator_util::translator_guest!(Routes {
    name: "alertmanager-routes",
    description: "Alertmanager configurations `old` and `new` in, `new` out: the old routes in \
             scope (with their receivers and inhibition rules) merged into the new \
             configuration, never dropping what it has; one report item per old route, \
             inhibition rule and receiver.",
    kind: KIND,
    run: run,
});

/// Merges document `old` into document `new` for `params` (JSON text).
pub fn run(params: &str, documents: Vec<Document>) -> Result<Output, PluginError> {
    let p = RoutesParams::from_json(params_text(params)).map_err(plugin_error)?;
    let names: Vec<&str> = documents.iter().map(|d| d.name.as_str()).collect();
    let find = |want: &str| documents.iter().find(|d| d.name == want);
    let (Some(old), Some(new), 2) = (find("old"), find("new"), documents.len()) else {
        return Err(invalid_input(format!(
            "`{KIND}` takes two documents named `old` and `new` (the old and the new \
             alertmanager.yml), got [{}]",
            names.join(", ")
        )));
    };
    let scope = p.scope.unwrap_or_else(Selection::all);
    let out = merge_routes_in(&old.text, &new.text, &scope).map_err(plugin_error)?;
    Ok(Output {
        documents: vec![Document::new("new", out.config)],
        items: out.items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use translate_core::{ItemKind, Status};

    use translate_core::samples::{ROUTES_NEW as NEW, ROUTES_OLD as OLD};

    fn docs(old: &str, new: &str) -> Vec<Document> {
        vec![Document::new("old", old), Document::new("new", new)]
    }

    #[test]
    fn in_scope_routes_are_merged_and_every_old_item_is_reported() {
        let out = run(r#"{"scope": "{team=\"core\"}"}"#, docs(OLD, NEW)).expect("merge");
        let routes: Vec<Status> = out
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Route)
            .map(|i| i.status)
            .collect();
        assert_eq!(routes, vec![Status::Ok, Status::Ok]);
        assert_eq!(
            out.items
                .iter()
                .filter(|i| i.kind == ItemKind::Receiver)
                .count(),
            3
        );
        assert_eq!(out.documents.len(), 1);
        let merged = &out.documents[0];
        assert_eq!(merged.name, "new");
        assert!(merged.text.contains("core-pager"), "{}", merged.text);
        assert!(
            merged.text.contains("team=\\\"db\\\"") || merged.text.contains("team=\"db\""),
            "{}",
            merged.text
        );
        assert!(!merged.text.contains("web-mail"), "{}", merged.text);
        // Merging the result again changes nothing.
        let again = run(r#"{"scope": "{team=\"core\"}"}"#, docs(OLD, &merged.text)).unwrap();
        assert_eq!(again.documents[0].text, merged.text);
    }

    #[test]
    fn documents_must_be_old_and_new() {
        for given in [
            vec![Document::new("old", OLD)],
            vec![Document::new("a", OLD), Document::new("new", NEW)],
            vec![
                Document::new("old", OLD),
                Document::new("new", NEW),
                Document::new("x", ""),
            ],
        ] {
            let e = run("{}", given).unwrap_err();
            assert!(
                matches!(&e, PluginError::InvalidInput(m) if m.contains("`old` and `new`")),
                "{e:?}"
            );
        }
        let e = run(r#"{"scope": 3}"#, docs(OLD, NEW)).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("scope")),
            "{e:?}"
        );
        let e = run("{}", docs("route: [", NEW)).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("old config")),
            "{e:?}"
        );
    }
}
