//! Step parameters and the probe alerts (label sets) they describe.

use std::collections::BTreeMap;

use cutover_plugin_sdk::{PluginError, invalid_input};
use serde::Deserialize;
use translate_core::Scope;
use translate_core::scope::MatchOp;

/// A probe alert's labels.
pub type Labels = BTreeMap<String, String>;

/// The `alertname` a probe built from a scope gets when the scope does not
/// fix one: every real alert has an `alertname`, and a silence of
/// everything (`alertname=~".+"`) would not match an alert without one.
pub const PROBE_ALERTNAME: &str = "CutoverProbe";

/// At most this many probe alerts are built from one scope.
pub const MAX_PROBES: usize = 64;

/// Step parameters (JSON, unknown fields rejected): `labels` or `scope`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// An example alert's labels.
    #[serde(default)]
    pub labels: Option<Labels>,
    /// A scope to build probe alerts from.
    #[serde(default)]
    pub scope: Option<Scope>,
}

fn at(path: &str, why: impl std::fmt::Display) -> PluginError {
    invalid_input(format!("params: at JSON path `{path}`: {why}"))
}

impl Params {
    /// The alerts that must be silenced: the given labels, or the probes
    /// built from the scope (see [`from_scope`]).
    pub fn probes(&self) -> Result<Vec<Labels>, PluginError> {
        match (&self.labels, &self.scope) {
            (Some(_), Some(_)) => Err(at("scope", "give `labels` or `scope`, not both")),
            (None, None) => Err(invalid_input(
                "params: give `labels` (an example alert's label set) or `scope`",
            )),
            (Some(l), None) if l.is_empty() => Err(at(
                "labels",
                "empty: give the label set of an alert in scope, e.g. {\"alertname\": \"Probe\", \"team\": \"core\"}",
            )),
            (Some(l), None) => Ok(vec![l.clone()]),
            (None, Some(s)) => from_scope(s).map_err(|why| at("scope", why)),
        }
    }
}

/// Probe alerts for a scope: its `=` matchers fix their labels, and each
/// `=~` matcher that is an alternation of literals (`checkout|cart`) gives
/// one probe per value; `alertname` is [`PROBE_ALERTNAME`] unless the scope
/// fixes it. Every probe must be in the scope.
pub fn from_scope(scope: &Scope) -> Result<Vec<Labels>, String> {
    let ms = scope.matchers();
    let mut choices: Vec<(&str, Vec<String>)> = Vec::new();
    for m in ms {
        let values = match m.op {
            MatchOp::Eq => vec![m.value.clone()],
            MatchOp::Re => match m.literal_alternatives() {
                Some(v) => v,
                None => continue,
            },
            MatchOp::Ne | MatchOp::NotRe => continue,
        };
        match choices.iter_mut().find(|(name, _)| *name == m.name) {
            // Two matchers on one label: keep the values both accept.
            Some((_, old)) => old.retain(|v| values.contains(v)),
            None => choices.push((&m.name, values)),
        }
    }
    if choices.is_empty() {
        return Err(format!(
            "{scope} has no equality matcher (`=`, or `=~` over literals like \"a|b\") to build \
             a probe alert from; give `labels` instead"
        ));
    }
    let count = choices
        .iter()
        .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
        .unwrap_or(usize::MAX);
    if count > MAX_PROBES {
        return Err(format!(
            "{scope} gives {count} probe alerts (at most {MAX_PROBES}); give `labels` instead"
        ));
    }
    let mut probes: Vec<Labels> = vec![Labels::new()];
    for (name, values) in &choices {
        probes = probes
            .iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.insert((*name).to_owned(), v.clone());
                    p
                })
            })
            .collect();
    }
    for p in &mut probes {
        p.entry("alertname".to_owned())
            .or_insert_with(|| PROBE_ALERTNAME.to_owned());
    }
    if probes.is_empty() {
        return Err(format!(
            "{scope} fixes one label to values that exclude each other: no alert is in it"
        ));
    }
    // Probes the scope's other matchers exclude (`team=~"a|b", team!="b"`)
    // are not alerts in scope.
    let unsatisfied = |p: &Labels| {
        ms.iter()
            .find(|m| !m.matches_value(p.get(&m.name).map_or("", String::as_str)))
            .map(|m| m.to_string())
    };
    let first_miss = probes.first().and_then(unsatisfied);
    probes.retain(|p| unsatisfied(p).is_none());
    if probes.is_empty() {
        return Err(format!(
            "no probe alert built from {scope} is in it (it does not satisfy the matcher {}); \
             give `labels` of an alert in scope instead",
            first_miss.unwrap_or_default()
        ));
    }
    Ok(probes)
}

/// Labels as `{alertname="X", team="core"}`.
pub fn labels_text(labels: &Labels) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = serde_json::to_string(v).unwrap_or_else(|_| v.clone());
            format!("{k}={v}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(scope: &str) -> Result<Vec<String>, String> {
        from_scope(&Scope::parse(scope).unwrap()).map(|ps| ps.iter().map(labels_text).collect())
    }

    #[test]
    fn probes_from_equalities_and_literal_alternations() {
        assert_eq!(
            probes(r#"{team="core", service=~"checkout|cart", env!="dev"}"#).unwrap(),
            [
                r#"{alertname="CutoverProbe", service="checkout", team="core"}"#,
                r#"{alertname="CutoverProbe", service="cart", team="core"}"#,
            ]
        );
        assert_eq!(
            probes(r#"{alertname="Down", team=~"a|b", team!="b"}"#).unwrap(),
            [r#"{alertname="Down", team="a"}"#]
        );
        assert_eq!(
            probes(r#"{team=~"a|b", team=~"b|c"}"#).unwrap(),
            [r#"{alertname="CutoverProbe", team="b"}"#]
        );
    }

    #[test]
    fn scopes_without_a_probe_are_refused() {
        let e = probes("*").unwrap_err();
        assert!(e.contains("* has no equality matcher"), "{e}");
        let e = probes(r#"{team!="core", service=~"check.*"}"#).unwrap_err();
        assert!(e.contains("no equality matcher"), "{e}");
        let e = probes(r#"{team="core", service=~"check.*"}"#).unwrap_err();
        assert!(
            e.contains(r#"does not satisfy the matcher service=~"check.*""#),
            "{e}"
        );
        let e = probes(r#"{team="a", team="b"}"#).unwrap_err();
        assert!(e.contains("exclude each other"), "{e}");
        let alts: Vec<String> = (0..9).map(|i| format!("v{i}")).collect();
        let e = probes(&format!(r#"{{a=~"{0}", b=~"{0}"}}"#, alts.join("|"))).unwrap_err();
        assert!(e.contains("81 probe alerts (at most 64)"), "{e}");
    }

    fn params(text: &str) -> Result<Vec<Labels>, String> {
        let ctx = cutover_plugin_sdk::Context {
            plan: String::new(),
            phase: String::new(),
            step: String::new(),
            run_id: String::new(),
            params: text.into(),
        };
        let text = |e: PluginError| match e {
            PluginError::InvalidInput(m) => format!("InvalidInput: {m}"),
            other => format!("{other:?}"),
        };
        let p: Params = cutover_plugin_sdk::params(&ctx).map_err(text)?;
        p.probes().map_err(text)
    }

    #[test]
    fn params_give_labels_or_scope() {
        let ps = params(r#"{"labels":{"alertname":"Probe","team":"core"}}"#).unwrap();
        assert_eq!(labels_text(&ps[0]), r#"{alertname="Probe", team="core"}"#);
        assert_eq!(params(r#"{"scope":"{team=\"core\"}"}"#).unwrap().len(), 1);
        for (text, want) in [
            ("{}", "give `labels`"),
            (r#"{"labels":{}}"#, "`labels`: empty"),
            (
                r#"{"labels":{"a":"b"},"scope":"*"}"#,
                "`scope`: give `labels` or `scope`, not both",
            ),
            (r#"{"scope":"*"}"#, "`scope`: * has no equality matcher"),
            (r#"{"scope":"{team"}"#, "`scope`"),
            (r#"{"labels":{"a":1}}"#, "`labels.a`"),
            (r#"{"label":{}}"#, "unknown field `label`"),
        ] {
            let e = params(text).unwrap_err();
            assert!(e.starts_with("InvalidInput"), "{text}: {e}");
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
