//! A small PromQL scanner: finds the vector selectors of an expression
//! (`metric`, `metric{...}` and bare `{...}`) with their label matchers,
//! and the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/
//! `group_right`. It skips strings, comments, numbers and durations, keeps
//! function-call and range brackets balanced, and is not a full parser:
//! operator precedence and types are not checked (promtool does that).

use crate::lex::{self, LexError};
use crate::scope::{MatchOp, Matcher};

/// A label matcher inside a selector, with the byte span of its name.
#[derive(Debug, Clone)]
pub struct SelMatcher {
    pub matcher: Matcher,
    pub name_span: (usize, usize),
}

/// One vector selector.
#[derive(Debug, Clone)]
pub struct Selector {
    /// Byte span of the selector text (name and matcher block).
    pub span: (usize, usize),
    /// Metric name (before the braces or quoted inside them).
    pub metric: Option<String>,
    pub matchers: Vec<SelMatcher>,
}

impl Selector {
    /// The selector as written, for messages.
    pub fn text<'a>(&self, expr: &'a str) -> &'a str {
        &expr[self.span.0..self.span.1]
    }

    /// Its matchers, with the metric name as a `__name__` equality matcher.
    pub fn all_matchers(&self) -> Vec<Matcher> {
        let mut out: Vec<Matcher> = self.matchers.iter().map(|m| m.matcher.clone()).collect();
        if let Some(name) = &self.metric
            && let Ok(m) = Matcher::new("__name__", MatchOp::Eq, name)
        {
            out.push(m);
        }
        out
    }
}

/// Everything the scanner found in an expression.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub selectors: Vec<Selector>,
    /// Label names in grouping/matching lists, with their spans.
    pub grouping_labels: Vec<(String, (usize, usize))>,
    /// String literals outside matcher blocks (function arguments).
    pub strings: Vec<(String, (usize, usize))>,
}

/// Where and why an expression could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ExprError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

const GROUPING: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const KEYWORDS: [&str; 8] = [
    "and", "or", "unless", "atan2", "bool", "offset", "inf", "nan",
];
const AGGREGATORS: [&str; 14] = [
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "limitk",
    "limit_ratio",
];

/// Scans `expr`.
pub fn analyze(expr: &str) -> Result<Analysis, ExprError> {
    scan(expr).map_err(|e| {
        let (line, column) = lex::line_col(expr, e.offset);
        ExprError {
            offset: e.offset,
            line,
            column,
            message: e.message,
        }
    })
}

fn scan(src: &str) -> Result<Analysis, LexError> {
    let bytes = src.as_bytes();
    let mut out = Analysis::default();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b if b.is_ascii_whitespace() => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' | b'`' => {
                let (text, end) = lex::parse_string(src, i)?;
                out.strings.push((text, (i, end)));
                i = end;
            }
            b'(' | b'[' => {
                stack.push((b, i));
                i += 1;
            }
            b')' | b']' => {
                let want = if b == b')' { b'(' } else { b'[' };
                match stack.pop() {
                    Some((open, _)) if open == want => i += 1,
                    Some((open, at)) => {
                        return Err(LexError::new(
                            i,
                            format!(
                                "unbalanced '{}': '{}' at column {} is still open",
                                b as char,
                                open as char,
                                lex::line_col(src, at).1
                            ),
                        ));
                    }
                    None => {
                        return Err(LexError::new(
                            i,
                            format!("unbalanced '{}': nothing to close", b as char),
                        ));
                    }
                }
            }
            b'{' => {
                let sel = matcher_block(src, i, i, None)?;
                i = sel.span.1;
                out.selectors.push(sel);
            }
            b'}' => return Err(LexError::new(i, "unbalanced '}': no matcher block is open")),
            b'0'..=b'9' | b'.' => {
                // Numbers and durations: 5m, 1h30m, 0x1f, 1e-3, .5
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    i += 1;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' | b',' | b':'
            | b'@' => i += 1,
            _ if lex::ident_len(src, i, true) > 0 => {
                i = identifier(src, i, &mut out)?;
            }
            _ => {
                let c = src[i..].chars().next().unwrap_or('?');
                return Err(LexError::new(i, format!("unexpected character {c:?}")));
            }
        }
    }
    if let Some((open, at)) = stack.pop() {
        return Err(LexError::new(
            at,
            format!("unbalanced '{}': never closed", open as char),
        ));
    }
    Ok(out)
}

/// Handles the identifier at `i`; returns the offset after what it consumed.
fn identifier(src: &str, i: usize, out: &mut Analysis) -> Result<usize, LexError> {
    let n = lex::ident_len(src, i, true);
    let word = &src[i..i + n];
    let lower = word.to_ascii_lowercase();
    let next = lex::skip_ws(src, i + n);
    let next_byte = src.as_bytes().get(next).copied();
    if GROUPING.contains(&lower.as_str()) {
        if next_byte == Some(b'(') {
            return label_list(src, next, out);
        }
        return Ok(i + n);
    }
    if KEYWORDS.contains(&lower.as_str()) || AGGREGATORS.contains(&lower.as_str()) {
        return Ok(i + n);
    }
    if next_byte == Some(b'(') {
        // Function call: its parentheses are handled by the main loop.
        return Ok(i + n);
    }
    if next_byte == Some(b'{') {
        let sel = matcher_block(src, next, i, Some(word.to_owned()))?;
        let end = sel.span.1;
        out.selectors.push(sel);
        return Ok(end);
    }
    out.selectors.push(Selector {
        span: (i, i + n),
        metric: Some(word.to_owned()),
        matchers: Vec::new(),
    });
    Ok(i + n)
}

/// `( name, name, ... )` after a grouping keyword; returns the offset past `)`.
fn label_list(src: &str, open: usize, out: &mut Analysis) -> Result<usize, LexError> {
    let bytes = src.as_bytes();
    let mut i = open + 1;
    loop {
        i = lex::skip_ws(src, i);
        match bytes.get(i) {
            Some(b')') => return Ok(i + 1),
            Some(b'"' | b'\'' | b'`') => {
                let (name, end) = lex::parse_string(src, i)?;
                out.grouping_labels.push((name, (i, end)));
                i = end;
            }
            _ => {
                let n = lex::ident_len(src, i, false);
                if n == 0 {
                    return Err(LexError::new(
                        i,
                        "expected a label name or ')' in label list",
                    ));
                }
                out.grouping_labels
                    .push((src[i..i + n].to_owned(), (i, i + n)));
                i += n;
            }
        }
        i = lex::skip_ws(src, i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b')') => return Ok(i + 1),
            _ => return Err(LexError::new(i, "expected ',' or ')' in label list")),
        }
    }
}

/// The `{...}` block at `open`; the selector starts at `start`.
fn matcher_block(
    src: &str,
    open: usize,
    start: usize,
    metric: Option<String>,
) -> Result<Selector, LexError> {
    let bytes = src.as_bytes();
    let mut sel = Selector {
        span: (start, open),
        metric,
        matchers: Vec::new(),
    };
    let mut i = open + 1;
    loop {
        i = lex::skip_ws(src, i);
        match bytes.get(i) {
            Some(b'}') => break,
            None => {
                return Err(LexError::new(
                    open,
                    "unbalanced '{': matcher block never closed",
                ));
            }
            _ => {}
        }
        let name_start = i;
        let (name, quoted, after) = match bytes[i] {
            b'"' | b'\'' | b'`' => {
                let (n, end) = lex::parse_string(src, i)?;
                (n, true, end)
            }
            _ => {
                let n = lex::ident_len(src, i, false);
                if n == 0 {
                    return Err(LexError::new(i, "expected a label name in matcher block"));
                }
                (src[i..i + n].to_owned(), false, i + n)
            }
        };
        i = lex::skip_ws(src, after);
        match MatchOp::lex(src, i) {
            Some((op, len)) => {
                i = lex::skip_ws(src, i + len);
                if !matches!(bytes.get(i), Some(b'"' | b'\'' | b'`')) {
                    return Err(LexError::new(
                        i,
                        format!("expected a quoted label value after '{}'", op.as_str()),
                    ));
                }
                let value_at = i;
                let (value, end) = lex::parse_string(src, i)?;
                let matcher =
                    Matcher::new(&name, op, &value).map_err(|e| LexError::new(value_at, e))?;
                sel.matchers.push(SelMatcher {
                    matcher,
                    name_span: (name_start, after),
                });
                i = end;
            }
            None if quoted && sel.metric.is_none() => sel.metric = Some(name),
            None => {
                return Err(LexError::new(
                    i,
                    "expected '=', '!=', '=~' or '!~' after label name",
                ));
            }
        }
        i = lex::skip_ws(src, i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => break,
            None => {
                return Err(LexError::new(
                    open,
                    "unbalanced '{': matcher block never closed",
                ));
            }
            _ => return Err(LexError::new(i, "expected ',' or '}' in matcher block")),
        }
    }
    sel.span.1 = i + 1;
    Ok(sel)
}

/// Renames label `old` to `new` in the selectors and grouping lists of
/// `expr`. `Ok(None)`: the label does not occur. `Err(why)`: a rewrite would
/// not be safe (the name occurs in a string argument such as
/// `label_replace`'s, or a selector/list already uses `new`).
pub fn rename_label(expr: &str, old: &str, new: &str) -> Result<Option<String>, String> {
    let a = analyze(expr).map_err(|e| e.to_string())?;
    if let Some((_, (s, _))) = a.strings.iter().find(|(t, _)| t == old || t == new) {
        return Err(format!(
            "a string argument at column {} names the label; rewrite it by hand",
            lex::line_col(expr, *s).1
        ));
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for sel in &a.selectors {
        let names: Vec<&str> = sel
            .matchers
            .iter()
            .map(|m| m.matcher.name.as_str())
            .collect();
        if names.contains(&old) && names.contains(&new) {
            return Err(format!("selector `{}` already uses {new}", sel.text(expr)));
        }
        spans.extend(
            sel.matchers
                .iter()
                .filter(|m| m.matcher.name == old)
                .map(|m| m.name_span),
        );
    }
    let lists: Vec<&(String, (usize, usize))> =
        a.grouping_labels.iter().filter(|(n, _)| n == old).collect();
    if !lists.is_empty() && a.grouping_labels.iter().any(|(n, _)| n == new) {
        return Err(format!("a label list already uses {new}"));
    }
    spans.extend(lists.iter().map(|(_, s)| *s));
    if spans.is_empty() {
        return Ok(None);
    }
    spans.sort_unstable();
    let replacement = lex::label_name_text(new);
    let mut out = String::with_capacity(expr.len() + spans.len() * new.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(&expr[last..s]);
        out.push_str(&replacement);
        last = e;
    }
    out.push_str(&expr[last..]);
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
