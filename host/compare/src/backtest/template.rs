//! The part of Prometheus's Go templates that alert *labels* use, expanded
//! as Prometheus expands them: `{{ $labels.NAME }}` / `{{ .Labels.NAME }}`
//! (the series' label, empty when absent) and `{{ $value }}` /
//! `{{ .Value }}` (the sample value, printed like Go's `%v`), with `{{-`
//! and `-}}` trimming. Any other action (functions, pipelines,
//! `$externalLabels`...) is [`TemplateError::Unsupported`], so a rule using
//! it is reported instead of evaluated with wrong labels.

use std::collections::BTreeMap;

/// A label value template, parsed once per rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Label(String),
    Value,
}

/// Why a label value cannot be expanded by the backtest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    /// `{{` without its `}}`: Prometheus refuses to load such a rule.
    #[error("unclosed action in template {0:?}")]
    Unclosed(String),
    /// A Go template action the backtest does not evaluate.
    #[error(
        "template action `{{{{{0}}}}}` is not supported by the backtest (only $labels.NAME, .Labels.NAME, $value and .Value are)"
    )]
    Unsupported(String),
}

impl Template {
    /// Parse a label value.
    pub(crate) fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut trim_next = false;
        while let Some(open) = rest.find("{{") {
            let mut literal = &rest[..open];
            if trim_next {
                literal = literal.trim_start_matches(is_space);
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(text.to_string()))?;
            let mut action = &after[..close];
            // Go's trim markers are "{{- " and " -}}": the dash must be
            // separated from the action by white space.
            if action.len() >= 2 && action.starts_with('-') && action[1..].starts_with(is_space) {
                literal = literal.trim_end_matches(is_space);
                action = &action[1..];
            }
            trim_next = action.len() >= 2
                && action.ends_with('-')
                && action[..action.len() - 1].ends_with(is_space);
            if trim_next {
                action = &action[..action.len() - 1];
            }
            push_text(&mut parts, literal);
            parts.push(parse_action(action.trim_matches(is_space))?);
            rest = &after[close + 2..];
        }
        push_text(
            &mut parts,
            if trim_next {
                rest.trim_start_matches(is_space)
            } else {
                rest
            },
        );
        Ok(Template(parts))
    }

    /// Whether the expansion depends on the sample value.
    pub(crate) fn uses_value(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Part::Value))
    }

    /// The label value for a series with `labels` and sample `value`.
    pub(crate) fn expand(&self, labels: &BTreeMap<String, String>, value: f64) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                // Prometheus runs templates with missingkey=zero: "".
                Part::Label(name) => {
                    out.push_str(labels.get(name).map(String::as_str).unwrap_or(""))
                }
                Part::Value => out.push_str(&go_float(value)),
            }
        }
        out
    }
}

fn push_text(parts: &mut Vec<Part>, text: &str) {
    if !text.is_empty() {
        parts.push(Part::Text(text.to_string()));
    }
}

/// Go's template white space.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn parse_action(action: &str) -> Result<Part, TemplateError> {
    if action == "$value" || action == ".Value" {
        return Ok(Part::Value);
    }
    let name = action
        .strip_prefix("$labels.")
        .or_else(|| action.strip_prefix(".Labels."));
    match name {
        Some(n) if is_identifier(n) => Ok(Part::Label(n.to_string())),
        _ => Err(TemplateError::Unsupported(action.to_string())),
    }
}

/// A Go field name (what `.NAME` may follow with in a template).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `v` as Go's `fmt` prints a float64 with `%v` (what `{{ $value }}`
/// shows): the shortest digits that read back the same, in exponent form
/// (`1.234567e+06`, `1e-05`) when the decimal exponent is below -4 or at
/// least 6, like `strconv.FormatFloat(v, 'g', -1, 64)`; `NaN`, `+Inf`,
/// `-Inf`.
pub(crate) fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.234567e6".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Plain notation, shortest digits (Rust's `{}` never uses exponents).
        format!("{v}")
    } else {
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> BTreeMap<String, String> {
        [("instance", "a:9100"), ("job", "node")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expand(t: &str, v: f64) -> String {
        Template::parse(t).unwrap().expand(&labels(), v)
    }

    #[test]
    fn expands_labels_and_value() {
        assert_eq!(expand("page", 0.0), "page");
        assert_eq!(
            expand("{{ $labels.job }}-{{.Labels.instance}}", 0.0),
            "node-a:9100"
        );
        assert_eq!(expand("x{{ $labels.nope }}", 0.0), "x");
        assert_eq!(expand("v={{ $value }}", 0.5), "v=0.5");
        assert_eq!(expand("{{- $labels.job -}} !", 0.0), "node!");
        assert_eq!(expand("a  {{- .Value }}", 3.0), "a3");
        assert!(!Template::parse("{{ $labels.job }}").unwrap().uses_value());
        assert!(Template::parse("{{ .Value }}").unwrap().uses_value());
    }

    #[test]
    fn refuses_what_it_cannot_expand() {
        for t in [
            "{{ humanize $value }}",
            "{{ $labels }}",
            "{{ $externalLabels.cluster }}",
            "{{ $labels.job | toUpper }}",
            "{{-3}}",
            "{{ index $labels \"job\" }}",
            "{{ $labels.a.b }}",
        ] {
            assert!(
                matches!(Template::parse(t), Err(TemplateError::Unsupported(_))),
                "{t}"
            );
        }
        assert_eq!(
            Template::parse("a {{ $value").unwrap_err(),
            TemplateError::Unclosed("a {{ $value".into())
        );
        let msg = Template::parse("{{ humanize $value }}")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`{{humanize $value}}`"), "{msg}");
    }

    #[test]
    fn formats_floats_like_go() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (100000.0, "100000"),
            (123456.5, "123456.5"),
            (123456789.0, "1.23456789e+08"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-300, "1.5e-300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v}");
        }
    }
}
