//! Label-matcher fields of a plan (`allow_missing`, and scopes): parsed with
//! the translators' own parser (`translate_core::scope`), so the plan and
//! the plugins read a matcher the same way. A syntax error points at the
//! column inside the string where the parser stopped.

use std::ops::Range;

use toml::Spanned;
use translate_core::Scope;

use super::Checker;
use crate::diagnostics::Diagnostic;

impl Checker<'_> {
    /// Parses the matcher in `value` (field `field` of `owner`, e.g. "step
    /// `pilot-run`"); `None` after reporting an error.
    pub(super) fn matcher_field(
        &mut self,
        owner: &str,
        field: &str,
        value: &Spanned<String>,
    ) -> Option<Scope> {
        match Scope::parse(value.get_ref()) {
            Ok(scope) => Some(scope),
            Err(e) => {
                let span = inner_span(&self.diags.source, value.span(), e.offset);
                self.err(
                    Diagnostic::at(
                        span,
                        format!("{owner}: {field} is not a label matcher: {}", e.message),
                        "here",
                    )
                    .help(format!(
                        "write Prometheus label matchers, e.g. {field} = '{{team=\"core\", service=~\"checkout|cart\"}}', or '*' for everything"
                    )),
                );
                None
            }
        }
    }
}

/// The one-character span at byte `offset` of the string value whose TOML
/// source is `span`, when the source is a one-line string without escapes
/// (so offsets inside the value are offsets inside the source); the whole
/// value otherwise.
fn inner_span(source: &str, span: Range<usize>, offset: usize) -> Range<usize> {
    let Some(text) = source.get(span.clone()) else {
        return span;
    };
    let plain = text.len() >= 2
        && !text.starts_with("'''")
        && !text.starts_with("\"\"\"")
        && (text.starts_with('\'') || (text.starts_with('"') && !text.contains('\\')));
    if !plain {
        return span;
    }
    let start = (span.start + 1 + offset).min(span.end.saturating_sub(1));
    start..start + 1
}

#[cfg(test)]
mod tests {
    use super::inner_span;

    #[test]
    fn inner_span_points_into_plain_strings_only() {
        let src = r#"x = '{a="b" c}'"#;
        let span = 4..src.len();
        assert_eq!(inner_span(src, span.clone(), 7), 12..13);
        let escaped = r#"x = "{a=\"b\" c}""#;
        let span = 4..escaped.len();
        assert_eq!(inner_span(escaped, span.clone(), 7), span);
    }
}
