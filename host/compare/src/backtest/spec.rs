//! What the backtest needs of one alerting rule, read from its rule file:
//! evaluation interval, `for`, `keep_firing_for`, the group's
//! `query_offset` and `limit`, and the labels it adds (group `labels`
//! under the rule's own, templates parsed) — and the alert label set
//! Prometheus derives from a returned series.

use super::template::Template;
use std::collections::BTreeMap;
use translate_core::duration::parse_ms;
use translate_core::rules::{Group, Rule};
use translate_core::yaml::Yaml;

/// Prometheus's default group evaluation interval.
pub(crate) const DEFAULT_INTERVAL_MS: i64 = 60_000;

/// One alerting rule, ready to evaluate.
#[derive(Debug)]
pub(crate) struct Spec<'r> {
    /// `alert` name.
    pub(crate) name: &'r str,
    /// Expression.
    pub(crate) expr: &'r str,
    /// `for`, milliseconds.
    pub(crate) for_ms: u64,
    /// `keep_firing_for`, milliseconds (0 when unset).
    pub(crate) keep_ms: u64,
    /// The group's `query_offset`: each evaluation at `t` queries `t - offset`.
    pub(crate) offset: i64,
    /// The group's `limit` on alerts per rule (`None` when unset or 0).
    pub(crate) limit: Option<u64>,
    /// Labels set on every alert (group labels, then the rule's), in order.
    labels: Vec<(String, Template)>,
    /// Whether a label uses `{{ $value }}`, so alert labels depend on the
    /// value and not only on the series.
    pub(crate) by_value: bool,
}

/// The evaluation interval of `group`, or `step_override`, in milliseconds.
pub(crate) fn interval(group: &Group, step_override: Option<i64>) -> Result<i64, String> {
    if let Some(step) = step_override {
        return Ok(step);
    }
    let Some(text) = &group.interval else {
        return Ok(DEFAULT_INTERVAL_MS);
    };
    match parse_ms(text) {
        Ok(0) => Err(format!("group interval {text:?} must be positive")),
        Ok(ms) => i64::try_from(ms).map_err(|_| format!("group interval {text:?} is too large")),
        Err(e) => Err(format!("group interval: {e}")),
    }
}

impl<'r> Spec<'r> {
    /// Read `rule` of `group` (an alerting rule).
    pub(crate) fn new(group: &'r Group, rule: &'r Rule) -> Result<Spec<'r>, String> {
        let duration = |field: &str, text: Option<&str>| -> Result<u64, String> {
            text.map_or(Ok(0), |t| parse_ms(t).map_err(|e| format!("{field}: {e}")))
        };
        let for_ms = duration("for", rule.for_.as_deref())?;
        let keep_ms = duration("keep_firing_for", rule.keep_firing_for.as_deref())?;
        let offset_text = group.extra.get("query_offset").and_then(Yaml::scalar_text);
        let offset = duration("query_offset", offset_text.as_deref())?;
        let offset = i64::try_from(offset).map_err(|_| "query_offset: too large".to_string())?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(extra) = group.extra.get("labels") {
            let Some(map) = extra.as_map() else {
                return Err(format!(
                    "group labels: expected a mapping, got {}",
                    extra.kind()
                ));
            };
            for (k, v) in &map.0 {
                let text = v.scalar_text().ok_or_else(|| {
                    format!("group label `{k}`: expected a string, got {}", v.kind())
                })?;
                pairs.push((k.clone(), text));
            }
        }
        for (k, v) in &rule.labels.0 {
            match pairs.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v.clone(),
                None => pairs.push((k.clone(), v.clone())),
            }
        }
        let labels = pairs
            .into_iter()
            .map(|(k, v)| match Template::parse(&v) {
                Ok(t) => Ok((k, t)),
                Err(e) => Err(format!(
                    "label `{k}`: {e}; Prometheus would expand it, so the rule is not evaluated"
                )),
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Spec {
            name: rule.name(),
            expr: &rule.expr,
            for_ms,
            keep_ms,
            offset,
            limit: group.limit.filter(|&l| l > 0),
            by_value: labels.iter().any(|(_, t)| t.uses_value()),
            labels,
        })
    }

    /// The labels of the alert for a returned series with `value`, as
    /// Prometheus builds them: the series' labels without `__name__`, the
    /// rule's labels expanded over them (an empty result removes the
    /// label), then `alertname`.
    pub(crate) fn alert_labels(
        &self,
        series: &BTreeMap<String, String>,
        value: f64,
    ) -> BTreeMap<String, String> {
        let mut out = series.clone();
        out.remove("__name__");
        for (name, template) in &self.labels {
            let v = template.expand(series, value);
            if v.is_empty() {
                out.remove(name);
            } else {
                out.insert(name.clone(), v);
            }
        }
        out.insert("alertname".into(), self.name.to_string());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use translate_core::rules::RuleFile;

    fn group(text: &str) -> Group {
        RuleFile::parse("t.yml", text).unwrap().groups.remove(0)
    }

    #[test]
    fn reads_durations_offset_limit_and_labels() {
        let g = group(
            "groups:\n- name: g\n  interval: 30s\n  limit: 5\n  query_offset: 1m\n  labels: {team: core, tier: 1}\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 2m\n    keep_firing_for: 90s\n    labels: {tier: '{{ $labels.job }}', severity: page}\n",
        );
        assert_eq!(interval(&g, None), Ok(30_000));
        assert_eq!(interval(&g, Some(5_000)), Ok(5_000));
        let s = Spec::new(&g, &g.rules[0]).unwrap();
        assert_eq!(
            (s.for_ms, s.keep_ms, s.offset, s.limit),
            (120_000, 90_000, 60_000, Some(5))
        );
        assert!(!s.by_value);
        let series: BTreeMap<String, String> =
            [("__name__", "up"), ("job", "node"), ("severity", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let l = s.alert_labels(&series, 0.0);
        let want: BTreeMap<String, String> = [
            ("alertname", "A"),
            ("job", "node"),
            ("severity", "page"),
            ("team", "core"),
            ("tier", "node"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(l, want);
    }

    #[test]
    fn reports_what_it_cannot_read() {
        let rule = |extra: &str| {
            let g = group(&format!(
                "groups:\n- name: g\n{extra}  rules:\n  - alert: A\n    expr: up\n"
            ));
            interval(&g, None).and_then(|_| Spec::new(&g, &g.rules[0]).map(|_| ()))
        };
        assert!(rule("  interval: 0s\n").unwrap_err().contains("positive"));
        assert!(
            rule("  interval: 5x\n")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(
            rule("  query_offset: soon\n")
                .unwrap_err()
                .starts_with("query_offset")
        );
        assert!(rule("  labels: [a]\n").unwrap_err().contains("mapping"));
        let g = group(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 1\n    labels: {a: '{{ humanize $value }}'}\n",
        );
        assert!(Spec::new(&g, &g.rules[0]).unwrap_err().starts_with("for:"));
        let g = group(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {a: '{{ humanize $value }}'}\n",
        );
        let e = Spec::new(&g, &g.rules[0]).unwrap_err();
        assert!(e.starts_with("label `a`: template action"), "{e}");
    }
}
