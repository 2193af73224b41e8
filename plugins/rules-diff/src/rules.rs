//! Prometheus rule files (YAML) to a flat list of alerting rules.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
struct Group {
    name: String,
    #[serde(default)]
    rules: Vec<RawRule>,
}

/// Scalars are read into `String` fields as written (`n: 3` is `"3"`),
/// as Prometheus reads them; a null label value is the empty string.
#[derive(Debug, Deserialize)]
struct RawRule {
    #[serde(default)]
    alert: Option<String>,
    #[serde(default)]
    record: Option<String>,
    expr: String,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, Option<String>>,
}

/// One alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Alert name.
    pub alert: String,
    /// Group it belongs to.
    pub group: String,
    /// PromQL expression, whitespace collapsed.
    pub expr: String,
    /// `for:` duration in milliseconds (0 when absent).
    pub for_ms: u64,
    /// `for:` as written (empty when absent).
    pub for_text: String,
    /// Static labels, stringified.
    pub labels: BTreeMap<String, String>,
}

/// Collapses runs of whitespace to one space and trims.
pub fn normalize(expr: &str) -> String {
    expr.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A rule's `for:` in milliseconds: 0 when absent, otherwise a Prometheus
/// duration (`1h30m`, `2s`, `500ms`, `0`) read by translate-core, which the
/// translators use for the same field.
pub fn duration_ms(text: &str) -> Result<u64, String> {
    match text.trim() {
        "" => Ok(0),
        t => translate_core::duration::parse_ms(t),
    }
}

/// Parses one rule file; `file` names it in errors (YAML errors carry line
/// and column). Recording rules are skipped.
pub fn parse(file: &str, text: &str) -> Result<Vec<Rule>, String> {
    let parsed: File = serde_saphyr::from_str(text).map_err(|e| {
        let e = e.without_snippet();
        match e.location().filter(|l| l.line() > 0) {
            Some(l) => format!("{file}: line {}, column {}: {e}", l.line(), l.column()),
            None => format!("{file}: {e}"),
        }
    })?;
    let mut out = Vec::new();
    for (gi, g) in parsed.groups.into_iter().enumerate() {
        for (ri, r) in g.rules.into_iter().enumerate() {
            let at = format!("{file}: groups[{gi}].rules[{ri}]");
            let alert = match (r.alert, r.record) {
                (Some(a), _) => a,
                (None, Some(_)) => continue,
                (None, None) => return Err(format!("{at}: neither `alert` nor `record`")),
            };
            let for_text = r.for_.unwrap_or_default();
            let for_ms = duration_ms(&for_text).map_err(|e| format!("{at}.for: {e}"))?;
            out.push(Rule {
                alert,
                group: g.name.clone(),
                expr: normalize(&r.expr),
                for_ms,
                for_text,
                labels: r
                    .labels
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alerts_and_skips_recording_rules() {
        let text = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(x)\n      - alert: A\n        expr: |\n          x   >\n          5\n        for: 1m30s\n        labels: {severity: page, n: 3, f: 1.50, e: ~, on: yes}\n";
        let rules = parse("f.yml", text).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].alert, "A");
        assert_eq!(rules[0].expr, "x > 5");
        assert_eq!(rules[0].for_ms, 90_000);
        assert_eq!(rules[0].labels["n"], "3");
        assert_eq!(rules[0].labels["f"], "1.50");
        assert_eq!(rules[0].labels["e"], "");
        assert_eq!(rules[0].labels["on"], "yes");
        assert_eq!(rules[0].group, "g");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("").unwrap(), 0);
        assert_eq!(duration_ms("0s").unwrap(), 0);
        assert_eq!(duration_ms("2s").unwrap(), 2_000);
        assert_eq!(duration_ms("1h5m").unwrap(), 3_900_000);
        assert_eq!(duration_ms("250ms").unwrap(), 250);
        assert!(duration_ms("5 minutes").is_err());
        assert!(duration_ms("m").is_err());
        assert_eq!(duration_ms(" 0 ").unwrap(), 0);
        assert_eq!(duration_ms("1y").unwrap(), 31_536_000_000);
        // Prometheus wants the units largest first, each once.
        assert!(duration_ms("30m1h").unwrap_err().contains("order"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = parse("old.yml", "groups:\n  - name: g\n    rules: [ {alert: A}\n").unwrap_err();
        assert!(err.starts_with("old.yml: line"), "{err}");
        let err = parse(
            "old.yml",
            "groups:\n  - name: g\n    rules:\n      - expr: x\n",
        )
        .unwrap_err();
        assert!(err.contains("groups[0].rules[0]"), "{err}");
        let err = parse("n.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        for: soon\n")
            .unwrap_err();
        assert!(err.contains("rules[0].for"), "{err}");
    }
}
