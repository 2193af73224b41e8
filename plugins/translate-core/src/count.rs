//! How many report items a translation of a data kind must have: one per
//! input item. A host that can count them refuses a report with fewer
//! (a translator must account for every input item).

use serde::de::IgnoredAny;

use crate::TranslateError;
use crate::alertmanager::{self as am, AmConfig};
use crate::rules::RuleFile;

/// The input items of `documents` (name, text) for data kind `kind`:
/// rules for `alert_rules`, silences for `silences`, and the top-level
/// routes, inhibition rules and receivers of document `old` for `routes`.
/// `Ok(None)` for a kind this crate does not know (or `routes` without an
/// `old` document); an error when a document does not parse.
pub fn input_items(
    kind: &str,
    documents: &[(String, String)],
) -> Result<Option<usize>, TranslateError> {
    match kind {
        "alert_rules" => {
            let mut n = 0;
            for (name, text) in documents {
                let file = RuleFile::parse(name, text)?;
                n += file.groups.iter().map(|g| g.rules.len()).sum::<usize>();
            }
            Ok(Some(n))
        }
        "silences" => {
            let mut n = 0;
            for (name, text) in documents {
                let list: Vec<IgnoredAny> =
                    serde_json::from_str(text).map_err(|e| TranslateError::Invalid {
                        file: name.clone(),
                        message: format!("not a JSON array: {e}"),
                    })?;
                n += list.len();
            }
            Ok(Some(n))
        }
        "routes" => {
            let Some((name, text)) = documents.iter().find(|(n, _)| n == "old") else {
                return Ok(None);
            };
            let old = AmConfig::parse(name, text)?;
            Ok(Some(
                old.children().len()
                    + am::seq(&old.root, "inhibit_rules").len()
                    + old.receivers().len(),
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn counts_rules_silences_and_route_items() {
        let rules = "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up == 0\n  - record: r\n    expr: up\n- name: b\n  rules:\n  - alert: B\n    expr: up == 0\n";
        assert_eq!(
            input_items("alert_rules", &docs(&[("x.yml", rules), ("y.yml", "")])).unwrap(),
            Some(3)
        );
        assert_eq!(
            input_items("silences", &docs(&[("s.json", "[{}, {}]")])).unwrap(),
            Some(2)
        );
        let am = "route:\n  receiver: r\n  routes:\n  - receiver: r\n  - receiver: r\nreceivers:\n- name: r\ninhibit_rules:\n- equal: [x]\n";
        assert_eq!(
            input_items("routes", &docs(&[("old", am), ("new", am)])).unwrap(),
            Some(4)
        );
        assert_eq!(input_items("routes", &docs(&[("new", am)])).unwrap(), None);
        assert_eq!(input_items("dashboards", &[]).unwrap(), None);
        assert!(input_items("silences", &docs(&[("s", "{}")])).is_err());
        assert!(input_items("alert_rules", &docs(&[("x.yml", "groups: 3")])).is_err());
    }
}
