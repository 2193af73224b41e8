//! The rule: every alerting rule has a non-empty `runbook_url` annotation and
//! a non-empty `severity` label.

use cutover_plugin_sdk::serde_json::{self, Value};
use cutover_plugin_sdk::{Measurement, PluginError, Verdict, VerdictKind, invalid_input};

/// True when `obj` is an object whose `key` holds a non-empty string.
fn has_text(obj: Option<&Value>, key: &str) -> bool {
    obj.and_then(|o| o.get(key))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

fn text<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or("")
}

fn measurement(name: &str, value: usize) -> Measurement {
    Measurement {
        name: name.to_owned(),
        value: value as f64,
    }
}

/// Judges a Prometheus `/api/v1/rules` JSON document.
pub fn judge(rules_text: &str) -> Result<Verdict, PluginError> {
    let doc: Value = serde_json::from_str(rules_text)
        .map_err(|e| invalid_input(format!("params.rules: not valid JSON: {e}")))?;
    let groups = doc
        .get("data")
        .and_then(|d| d.get("groups"))
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_input("params.rules: expected data.groups to be an array"))?;
    let (mut total, mut missing_runbook, mut missing_severity) = (0, 0, 0);
    let mut offenders = Vec::new();
    for (gi, group) in groups.iter().enumerate() {
        let rules = group
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                invalid_input(format!(
                    "params.rules: data.groups[{gi}].rules: expected an array"
                ))
            })?;
        for rule in rules {
            if rule.get("type").and_then(Value::as_str) != Some("alerting") {
                continue;
            }
            total += 1;
            let mut missing = Vec::new();
            if !has_text(rule.get("annotations"), "runbook_url") {
                missing_runbook += 1;
                missing.push("runbook_url");
            }
            if !has_text(rule.get("labels"), "severity") {
                missing_severity += 1;
                missing.push("severity");
            }
            if !missing.is_empty() {
                offenders.push(format!(
                    "{}/{} ({})",
                    text(group, "name"),
                    text(rule, "name"),
                    missing.join(", ")
                ));
            }
        }
    }
    let (verdict, message) = if total == 0 {
        (
            VerdictKind::NoData,
            "no alerting rules in the rule set".to_owned(),
        )
    } else if !offenders.is_empty() {
        (
            VerdictKind::Fail,
            format!(
                "{} of {total} alerting rules lack a runbook_url annotation or a severity label: {}",
                offenders.len(),
                offenders.join(", ")
            ),
        )
    } else {
        (
            VerdictKind::Pass,
            format!(
                "all {total} alerting rules have a runbook_url annotation and a severity label"
            ),
        )
    };
    Ok(Verdict {
        verdict,
        message,
        measurements: vec![
            measurement("rules_total", total),
            measurement("rules_missing_runbook", missing_runbook),
            measurement("rules_missing_severity", missing_severity),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &Verdict) -> Vec<f64> {
        v.measurements.iter().map(|m| m.value).collect()
    }

    #[test]
    fn missing_pieces_are_counted_per_rule() {
        let v = judge(
            r#"{"data":{"groups":[{"name":"g","rules":[
                {"name":"A","type":"alerting","labels":{"severity":"page"},"annotations":{}},
                {"name":"B","type":"alerting","labels":{},"annotations":{"runbook_url":"u"}},
                {"name":"r","type":"recording"}]}]}}"#,
        )
        .unwrap();
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert_eq!(values(&v), vec![2.0, 1.0, 1.0]);
        assert!(
            v.message.ends_with("g/A (runbook_url), g/B (severity)"),
            "{}",
            v.message
        );
    }

    #[test]
    fn no_alerting_rules_is_no_data() {
        let v = judge(r#"{"data":{"groups":[]}}"#).unwrap();
        assert_eq!(v.verdict, VerdictKind::NoData);
    }

    #[test]
    fn bad_shape_is_invalid_input_with_path() {
        let e = judge(r#"{"data":{"groups":[{"rules":{}}]}}"#).unwrap_err();
        assert_eq!(
            e,
            PluginError::InvalidInput(
                "params.rules: data.groups[0].rules: expected an array".into()
            )
        );
    }
}
