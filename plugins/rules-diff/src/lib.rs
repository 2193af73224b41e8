//! `rules-diff`: a check comparing two Prometheus rule files.
//!
//! Params: `{ "old": "<file in /old>", "new": "<file in /new>",
//! "fail_on": ["removed", ...] }` (`fail_on` defaults to `["removed"]`;
//! categories: removed, renamed, added, threshold_changed, for_changed,
//! expr_changed). Directories: `old` and `new` (read-only).
//!
//! Verdict: `fail` when a `fail_on` category has findings, `no-data` when
//! neither file has an alerting rule, `pass` otherwise. The message lists
//! one finding per line; measurements count each category and the rules.

mod diff;
mod rules;

use cutover_plugin_sdk::check::Guest;
use cutover_plugin_sdk::{
    Capabilities, Context, Descriptor, DirectoryRequest, Measurement, PluginError, PluginKind,
    Verdict, VerdictKind, failed, invalid_input, log, params,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    old: String,
    new: String,
    #[serde(default = "default_fail_on")]
    fail_on: Vec<String>,
}

fn default_fail_on() -> Vec<String> {
    vec!["removed".to_owned()]
}

fn plain(key: &str, name: &str) -> Result<(), PluginError> {
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Err(invalid_input(format!(
            "params: at JSON path `{key}`: {name:?} must be a plain file name in /{key}"
        )));
    }
    Ok(())
}

fn load(dir: &str, name: &str) -> Result<Vec<rules::Rule>, PluginError> {
    let path = format!("/{dir}/{name}");
    let text = std::fs::read_to_string(&path).map_err(|e| failed(format!("{path}: {e}")))?;
    rules::parse(&path, &text).map_err(invalid_input)
}

/// How far the two rule sets agree, as the host's `data_consistency`
/// reads it: rules identical on both sides (same name, expression and
/// `for:`), out of the rules on either side (a renamed rule counts once).
fn agreement(findings: &[diff::Finding], old_rules: usize) -> (usize, usize) {
    let count = |c: &str| findings.iter().filter(|f| f.category() == c).count();
    let changed: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| match f {
            diff::Finding::ThresholdChanged { alert, .. }
            | diff::Finding::ExprChanged { alert, .. }
            | diff::Finding::ForChanged { alert, .. } => Some(alert.as_str()),
            _ => None,
        })
        .collect();
    let both = old_rules.saturating_sub(count("removed") + count("renamed"));
    (
        both.saturating_sub(changed.len()),
        old_rules + count("added"),
    )
}

/// Builds the verdict from the findings; split out for tests.
fn judge(
    findings: &[diff::Finding],
    old_rules: usize,
    new_rules: usize,
    fail_on: &[String],
) -> Verdict {
    let count = |c: &str| findings.iter().filter(|f| f.category() == c).count();
    let mut measurements: Vec<Measurement> = diff::CATEGORIES
        .iter()
        .map(|c| Measurement {
            name: (*c).to_owned(),
            value: count(c) as f64,
        })
        .collect();
    measurements.push(Measurement {
        name: "old_rules".into(),
        value: old_rules as f64,
    });
    measurements.push(Measurement {
        name: "new_rules".into(),
        value: new_rules as f64,
    });
    let (agreeing, total) = agreement(findings, old_rules);
    measurements.push(Measurement {
        name: "consistency.alert_rules.agreeing".into(),
        value: agreeing as f64,
    });
    measurements.push(Measurement {
        name: "consistency.alert_rules.total".into(),
        value: total as f64,
    });
    let failing: Vec<&str> = fail_on
        .iter()
        .map(String::as_str)
        .filter(|c| count(c) > 0)
        .collect();
    let verdict = if old_rules == 0 && new_rules == 0 {
        VerdictKind::NoData
    } else if failing.is_empty() {
        VerdictKind::Pass
    } else {
        VerdictKind::Fail
    };
    let mut message = if findings.is_empty() {
        format!("{old_rules} old and {new_rules} new alerting rules: no differences")
    } else {
        let counts: Vec<String> = diff::CATEGORIES
            .iter()
            .filter(|c| count(c) > 0)
            .map(|c| format!("{} {c}", count(c)))
            .collect();
        format!(
            "{old_rules} old, {new_rules} new alerting rules: {}",
            counts.join(", ")
        )
    };
    if !failing.is_empty() {
        message.push_str(&format!(" (fails on: {})", failing.join(", ")));
    }
    for f in findings {
        message.push('\n');
        message.push_str(&f.to_string());
    }
    Verdict {
        verdict,
        message,
        measurements,
    }
}

struct RulesDiff;

impl Guest for RulesDiff {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                hosts: Vec::new(),
                directories: vec![
                    DirectoryRequest {
                        name: "old".into(),
                        writable: false,
                    },
                    DirectoryRequest {
                        name: "new".into(),
                        writable: false,
                    },
                ],
                config_keys: Vec::new(),
                secrets: Vec::new(),
            },
            ..cutover_plugin_sdk::descriptor(
                "rules-diff",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Check,
                "Compares Prometheus rule files /old/<old> and /new/<new>: renamed, removed, \
                 added, threshold/for/expression changes; fails on `fail_on` categories \
                 (default: removed).",
            )
        }
    }

    fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
        let p: Params = params(&ctx)?;
        plain("old", &p.old)?;
        plain("new", &p.new)?;
        for (i, c) in p.fail_on.iter().enumerate() {
            if !diff::CATEGORIES.contains(&c.as_str()) {
                return Err(invalid_input(format!(
                    "params: at JSON path `fail_on[{i}]`: unknown category {c:?} (known: {})",
                    diff::CATEGORIES.join(", ")
                )));
            }
        }
        let old = load("old", &p.old)?;
        let new = load("new", &p.new)?;
        let findings = diff::diff(&old, &new);
        log::info(format!("{} findings", findings.len()));
        Ok(judge(&findings, old.len(), new.len(), &p.fail_on))
    }
}

cutover_plugin_sdk::export_check!(RulesDiff);

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: &Verdict, name: &str) -> f64 {
        v.measurements
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
            .unwrap_or(-1.0)
    }

    #[test]
    fn verdicts() {
        let removed = [diff::Finding::Removed { alert: "A".into() }];
        let v = judge(&removed, 2, 1, &default_fail_on());
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert!(v.message.contains("\nremoved: A"), "{}", v.message);
        assert_eq!(value(&v, "removed"), 1.0);
        assert_eq!(value(&v, "old_rules"), 2.0);
        let v = judge(&removed, 2, 1, &[]);
        assert_eq!(v.verdict, VerdictKind::Pass);
        let added = [diff::Finding::Added { alert: "B".into() }];
        assert_eq!(
            judge(&added, 1, 2, &default_fail_on()).verdict,
            VerdictKind::Pass
        );
        assert_eq!(
            judge(&added, 1, 2, &["added".into()]).verdict,
            VerdictKind::Fail
        );
        assert_eq!(
            judge(&[], 0, 0, &default_fail_on()).verdict,
            VerdictKind::NoData
        );
        assert_eq!(
            judge(&[], 3, 3, &default_fail_on()).verdict,
            VerdictKind::Pass
        );
    }

    #[test]
    fn agreement_counts_identical_rules_out_of_either_side() {
        let findings = [
            diff::Finding::Removed {
                alert: "Gone".into(),
            },
            diff::Finding::Renamed {
                old: "Old".into(),
                new: "New".into(),
            },
            diff::Finding::Added {
                alert: "Extra".into(),
            },
            diff::Finding::ExprChanged {
                alert: "Twice".into(),
                old: "a".into(),
                new: "b".into(),
            },
            diff::Finding::ForChanged {
                alert: "Twice".into(),
                old: "1m".into(),
                new: "2m".into(),
            },
        ];
        // Old: Gone, Old, Twice and 7 identical rules (10); new: New,
        // Extra, Twice and the 7 (10). Either side: 11 (Old/New once).
        let v = judge(&findings, 10, 10, &[]);
        assert_eq!(value(&v, "consistency.alert_rules.agreeing"), 7.0);
        assert_eq!(value(&v, "consistency.alert_rules.total"), 11.0);
        let v = judge(&[], 3, 3, &[]);
        assert_eq!(value(&v, "consistency.alert_rules.agreeing"), 3.0);
        assert_eq!(value(&v, "consistency.alert_rules.total"), 3.0);
    }

    #[test]
    fn params_validation() {
        assert!(plain("old", "v1.yml").is_ok());
        assert!(
            matches!(plain("old", "../etc/passwd"), Err(PluginError::InvalidInput(m)) if m.contains("`old`"))
        );
    }
}
