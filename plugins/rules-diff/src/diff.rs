//! Comparison of two alerting rule sets.

use std::collections::BTreeMap;

use crate::rules::Rule;

/// One difference between the old and the new rule set.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Same expression, different alert name.
    Renamed { old: String, new: String },
    /// In the old set only.
    Removed { alert: String },
    /// In the new set only.
    Added { alert: String },
    /// Expression differs only in numeric literals.
    ThresholdChanged {
        alert: String,
        old: String,
        new: String,
    },
    /// Expression differs otherwise.
    ExprChanged {
        alert: String,
        old: String,
        new: String,
    },
    /// `for:` differs.
    ForChanged {
        alert: String,
        old: String,
        new: String,
    },
}

impl Finding {
    /// Category name used by `fail_on` and the measurements.
    pub fn category(&self) -> &'static str {
        match self {
            Finding::Renamed { .. } => "renamed",
            Finding::Removed { .. } => "removed",
            Finding::Added { .. } => "added",
            Finding::ThresholdChanged { .. } => "threshold_changed",
            Finding::ExprChanged { .. } => "expr_changed",
            Finding::ForChanged { .. } => "for_changed",
        }
    }
}

/// Every category, in report order.
pub const CATEGORIES: [&str; 6] = [
    "removed",
    "renamed",
    "added",
    "threshold_changed",
    "for_changed",
    "expr_changed",
];

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Renamed { old, new } => write!(f, "renamed: {old} -> {new}"),
            Finding::Removed { alert } => write!(f, "removed: {alert}"),
            Finding::Added { alert } => write!(f, "added: {alert}"),
            Finding::ThresholdChanged { alert, old, new } => {
                write!(f, "threshold changed: {alert}: {old} -> {new}")
            }
            Finding::ExprChanged { alert, old, new } => {
                write!(f, "expression changed: {alert}: `{old}` -> `{new}`")
            }
            Finding::ForChanged { alert, old, new } => {
                let show = |s: &str| {
                    if s.is_empty() {
                        "(none)".to_owned()
                    } else {
                        s.to_owned()
                    }
                };
                write!(f, "for changed: {alert}: {} -> {}", show(old), show(new))
            }
        }
    }
}

/// Splits an expression into its skeleton (numbers replaced by `#`) and
/// its numeric literals. A digit run that continues an identifier
/// (`http_5xx`, `node1`) is not a number.
pub fn skeleton(expr: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::new();
    let mut numbers = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let starts_number = (c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            && !prev_ident;
        if starts_number {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            numbers.push(chars[start..i].iter().collect());
            out.push('#');
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, numbers)
}

fn by_name(rules: &[Rule]) -> BTreeMap<String, &Rule> {
    let mut map = BTreeMap::new();
    for r in rules {
        let mut key = r.alert.clone();
        let mut n = 1;
        while map.contains_key(&key) {
            n += 1;
            key = format!("{}#{n}", r.alert);
        }
        map.insert(key, r);
    }
    map
}

/// Compares `old` with `new`. Renames are detected by identical expressions
/// among the alerts that exist on one side only.
pub fn diff(old: &[Rule], new: &[Rule]) -> Vec<Finding> {
    let old_map = by_name(old);
    let new_map = by_name(new);
    let mut findings = Vec::new();
    for (name, o) in &old_map {
        let Some(n) = new_map.get(name) else { continue };
        if o.expr != n.expr {
            let (os, on) = skeleton(&o.expr);
            let (ns, nn) = skeleton(&n.expr);
            if os == ns {
                findings.push(Finding::ThresholdChanged {
                    alert: name.clone(),
                    old: on.join(","),
                    new: nn.join(","),
                });
            } else {
                findings.push(Finding::ExprChanged {
                    alert: name.clone(),
                    old: o.expr.clone(),
                    new: n.expr.clone(),
                });
            }
        }
        if o.for_ms != n.for_ms {
            findings.push(Finding::ForChanged {
                alert: name.clone(),
                old: o.for_text.clone(),
                new: n.for_text.clone(),
            });
        }
    }
    let mut added: Vec<(&String, &&Rule)> = new_map
        .iter()
        .filter(|(k, _)| !old_map.contains_key(*k))
        .collect();
    for (name, o) in old_map.iter().filter(|(k, _)| !new_map.contains_key(*k)) {
        if let Some(pos) = added.iter().position(|(_, n)| n.expr == o.expr) {
            let (new_name, _) = added.remove(pos);
            findings.push(Finding::Renamed {
                old: name.clone(),
                new: new_name.clone(),
            });
        } else {
            findings.push(Finding::Removed {
                alert: name.clone(),
            });
        }
    }
    for (name, _) in added {
        findings.push(Finding::Added {
            alert: name.clone(),
        });
    }
    findings.sort_by_key(|f| CATEGORIES.iter().position(|c| *c == f.category()));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse;

    const V1: &str = include_str!("../../../tests/fixture/rules/v1-old.rules.yml");
    const V2: &str = include_str!("../../../tests/fixture/rules/v2-new.rules.yml");

    #[test]
    fn fixture_v1_vs_v2() {
        let old = parse("v1", V1).unwrap();
        let new = parse("v2", V2).unwrap();
        let found: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            vec![
                "removed: DiskAlmostFull",
                "renamed: ServiceDown -> InstanceDown",
                "threshold changed: HighQueueDepth: 50 -> 80",
                "for changed: ErrorRateHigh: (none) -> 2s",
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn skeleton_keeps_identifiers() {
        assert_eq!(
            skeleton("rate(http_5xx[5m]) > 0.5e-3 and node1 < .7"),
            (
                "rate(http_5xx[#m]) > # and node1 < #".to_owned(),
                vec!["5".into(), "0.5e-3".into(), ".7".into()]
            )
        );
    }

    #[test]
    fn expr_change_and_added() {
        let r = |alert: &str, expr: &str| Rule {
            alert: alert.into(),
            group: "g".into(),
            expr: expr.into(),
            for_ms: 0,
            for_text: String::new(),
            labels: BTreeMap::new(),
        };
        let found = diff(&[r("A", "up == 0")], &[r("A", "down == 0"), r("B", "x")]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].category(), "added");
        assert_eq!(found[1].category(), "expr_changed");
    }
}
