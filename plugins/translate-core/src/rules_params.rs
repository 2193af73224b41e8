//! Parameters of [`translate_rules`](crate::translate_rules), read from
//! JSON (snake_case, unknown fields rejected, errors naming the JSON path)
//! and validated (label names, durations).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Selection, TranslateError, duration, lex};

/// Which rule engine the output is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    #[default]
    Prometheus,
    Vmalert,
}

impl Target {
    pub(crate) fn group_fields(self) -> &'static [&'static str] {
        match self {
            Target::Prometheus => &["query_offset", "labels"],
            Target::Vmalert => &[
                "eval_offset",
                "eval_delay",
                "concurrency",
                "labels",
                "params",
                "headers",
                "notifier_headers",
                "eval_alignment",
                "type",
            ],
        }
    }

    pub(crate) fn rule_fields(self) -> &'static [&'static str] {
        match self {
            Target::Prometheus => &[],
            Target::Vmalert => &["debug", "update_entries_limit"],
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Target::Prometheus => "Prometheus",
            Target::Vmalert => "vmalert",
        }
    }
}

/// Parameters of [`translate_rules`] (JSON, snake_case, unknown fields
/// rejected; every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesParams {
    /// `None` (or `*`): every rule is in scope. One scope or a list (any of
    /// them).
    pub scope: Option<Selection>,
    /// Alert names, old -> new.
    pub renames: BTreeMap<String, String>,
    /// Label names, old -> new (static labels, selectors, grouping lists
    /// and `$labels.x` in templates).
    pub label_renames: BTreeMap<String, String>,
    /// Static labels added to every written rule.
    pub add_labels: BTreeMap<String, String>,
    /// `for:` by alert name (old or new; the new name wins when both are given).
    pub for_overrides: BTreeMap<String, String>,
    pub target: Target,
}

fn param_err(path: String, message: impl Into<String>) -> TranslateError {
    TranslateError::Params {
        path,
        message: message.into(),
    }
}

fn check_label_name(path: String, name: &str) -> Result<(), TranslateError> {
    if !lex::is_label_name(name) {
        return Err(param_err(
            path,
            format!("{name:?} is not a valid label name"),
        ));
    }
    if name.starts_with("__") || name == "alertname" {
        return Err(param_err(path, format!("label {name:?} is reserved")));
    }
    Ok(())
}

impl RulesParams {
    /// Parses JSON params; errors name the JSON path.
    pub fn from_json(text: &str) -> Result<RulesParams, TranslateError> {
        let p: RulesParams = crate::params_from_json(text)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks names and durations.
    pub fn validate(&self) -> Result<(), TranslateError> {
        for (old, new) in &self.renames {
            if old.is_empty() || new.trim().is_empty() {
                return Err(param_err(
                    format!("renames.{old}"),
                    "alert names must not be empty",
                ));
            }
        }
        for (old, new) in &self.label_renames {
            let path = format!("label_renames.{old}");
            check_label_name(path.clone(), old)?;
            check_label_name(path.clone(), new)?;
            if self.label_renames.contains_key(new) {
                return Err(param_err(
                    path,
                    format!("{new:?} is itself renamed; renames are not chained"),
                ));
            }
            if let Some((other, _)) = self
                .label_renames
                .iter()
                .find(|(o, n)| *n == new && *o != old)
            {
                return Err(param_err(
                    path,
                    format!("{other:?} is also renamed to {new:?}"),
                ));
            }
        }
        for name in self.add_labels.keys() {
            check_label_name(format!("add_labels.{name}"), name)?;
        }
        for (name, d) in &self.for_overrides {
            duration::parse_ms(d).map_err(|e| param_err(format!("for_overrides.{name}"), e))?;
        }
        Ok(())
    }
}
