//! Scopes: which alerts a migration step covers, written in Prometheus
//! label-matcher syntax (`{team="core", service=~"checkout|cart"}`), or `*`
//! for everything.
//!
//! Regular expressions are anchored as Prometheus and Alertmanager anchor
//! them (`^(?:re)$`) and use the `regex` crate, whose syntax is RE2's, like
//! Go's. A label that is absent matches as the empty string.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use regex::Regex;

use crate::lex::{self, LexError};

/// A matcher operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    NotRe,
}

impl MatchOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }

    /// Reads an operator at `i`; returns it and its length.
    pub(crate) fn lex(src: &str, i: usize) -> Option<(MatchOp, usize)> {
        let rest = src.get(i..)?;
        if rest.starts_with("=~") {
            Some((MatchOp::Re, 2))
        } else if rest.starts_with("!=") {
            Some((MatchOp::Ne, 2))
        } else if rest.starts_with("!~") {
            Some((MatchOp::NotRe, 2))
        } else if rest.starts_with('=') {
            Some((MatchOp::Eq, 1))
        } else {
            None
        }
    }
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher, compiling (anchored) regular expressions.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let regex = match op {
            MatchOp::Re | MatchOp::NotRe => Some(compile(value)?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
            regex,
        })
    }

    /// Whether a label value (`""` when absent) satisfies the matcher.
    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => v == self.value,
            (MatchOp::Ne, _) => v != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(v),
            (MatchOp::NotRe, Some(re)) => !re.is_match(v),
            (_, None) => false,
        }
    }

    /// For `=~` matchers whose regex is a plain alternation of literals
    /// (`a|b`, `(a|b)`, `a`), the finite set of values it matches.
    pub fn literal_alternatives(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::Re {
            return None;
        }
        literal_alternatives(&self.value)
    }
}

thread_local! {
    /// Compiled regexes by source: rule files repeat the same few patterns
    /// (`code=~"5.."`) and compiling dominates the translation time.
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Compiles `value` anchored as Prometheus does (`^(?:value)$`), cached.
fn compile(value: &str) -> Result<Regex, String> {
    if let Some(re) = REGEXES.with(|c| c.borrow().get(value).cloned()) {
        return Ok(re);
    }
    let re = Regex::new(&format!("^(?:{value})$"))
        .map_err(|e| format!("invalid regular expression {}: {e}", lex::quote(value)))?;
    REGEXES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 4096 {
            c.clear();
        }
        c.insert(value.to_owned(), re.clone());
    });
    Ok(re)
}

/// The values a regex matches when it is an alternation of plain literals
/// (optionally wrapped in one group); `None` otherwise.
pub fn literal_alternatives(re: &str) -> Option<Vec<String>> {
    let mut body = re;
    if let Some(inner) = body
        .strip_prefix("(?:")
        .or_else(|| body.strip_prefix('('))
        .and_then(|b| b.strip_suffix(')'))
    {
        body = inner;
    }
    let mut out = Vec::new();
    for alt in body.split('|') {
        let mut lit = String::new();
        let mut chars = alt.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) if e.is_ascii_punctuation() => lit.push(e),
                    _ => return None,
                },
                c if "()[]{}.*+?^$|".contains(c) => return None,
                c => lit.push(c),
            }
        }
        if !out.contains(&lit) {
            out.push(lit);
        }
    }
    Some(out)
}

/// Where a scope does not parse: byte offset, 1-based column and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ScopeError {
    pub offset: usize,
    pub column: usize,
    pub message: String,
}

/// A parsed scope.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// `*`: everything.
    All,
    /// All matchers must match.
    Matchers(Vec<Matcher>),
}

impl Scope {
    /// Parses `*` or `{name op "value", ...}`.
    pub fn parse(src: &str) -> Result<Scope, ScopeError> {
        parse(src).map_err(|e| ScopeError {
            offset: e.offset,
            column: lex::line_col(src, e.offset).1,
            message: e.message,
        })
    }

    /// Whether a label set satisfies the scope.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Scope::All => true,
            Scope::Matchers(ms) => ms
                .iter()
                .all(|m| m.matches_value(labels.get(&m.name).map_or("", String::as_str))),
        }
    }

    /// The labels the scope constrains, in order of first appearance.
    pub fn labels(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Scope::Matchers(ms) = self {
            for m in ms {
                if !out.contains(&m.name.as_str()) {
                    out.push(&m.name);
                }
            }
        }
        out
    }

    /// The matchers (empty for `*`).
    pub fn matchers(&self) -> &[Matcher] {
        match self {
            Scope::All => &[],
            Scope::Matchers(ms) => ms,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Matchers(ms) => {
                f.write_str("{")?;
                for (i, m) in ms.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{m}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            lex::label_name_text(&self.name),
            self.op.as_str(),
            lex::quote(&self.value)
        )
    }
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Scope, ScopeError> {
        Scope::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let text = String::deserialize(d)?;
        Scope::parse(&text)
            .map_err(|e| serde::de::Error::custom(format!("invalid scope {text:?}: {e}")))
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

fn parse(src: &str) -> Result<Scope, LexError> {
    let bytes = src.as_bytes();
    let mut i = lex::skip_ws(src, 0);
    match bytes.get(i) {
        Some(b'*') => {
            let end = lex::skip_ws(src, i + 1);
            if end < src.len() {
                return Err(LexError::new(end, "unexpected text after '*'"));
            }
            return Ok(Scope::All);
        }
        Some(b'{') => i += 1,
        None => {
            return Err(LexError::new(
                i,
                "expected '{' or '*' (a scope is `*` or label matchers like {team=\"core\"})",
            ));
        }
        Some(_) => return Err(LexError::new(i, "expected '{' or '*'")),
    }
    let mut matchers = Vec::new();
    loop {
        i = lex::skip_ws(src, i);
        if bytes.get(i) == Some(&b'}') && !matchers.is_empty() {
            i += 1;
            break;
        }
        // Label name: identifier or quoted string (UTF-8 label names).
        let (name, after_name) = match bytes.get(i) {
            Some(b'"' | b'\'' | b'`') => lex::parse_string(src, i)?,
            _ => {
                let n = lex::ident_len(src, i, false);
                if n == 0 {
                    let what = if matchers.is_empty() && bytes.get(i) == Some(&b'}') {
                        "expected a label name: an empty scope `{}` is not allowed, use `*` for everything"
                    } else if bytes.get(i).is_none() {
                        "expected a label name or '}'"
                    } else {
                        "expected a label name"
                    };
                    return Err(LexError::new(i, what));
                }
                (src[i..i + n].to_owned(), i + n)
            }
        };
        if name.is_empty() {
            return Err(LexError::new(i, "label name must not be empty"));
        }
        i = lex::skip_ws(src, after_name);
        let Some((op, op_len)) = MatchOp::lex(src, i) else {
            return Err(LexError::new(
                i,
                "expected '=', '!=', '=~' or '!~' after label name",
            ));
        };
        i = lex::skip_ws(src, i + op_len);
        if !matches!(bytes.get(i), Some(b'"' | b'\'' | b'`')) {
            return Err(LexError::new(
                i,
                format!("expected a quoted label value after '{}'", op.as_str()),
            ));
        }
        let value_at = i;
        let (value, after) = lex::parse_string(src, i)?;
        let m = Matcher::new(&name, op, &value).map_err(|e| LexError::new(value_at, e))?;
        matchers.push(m);
        i = lex::skip_ws(src, after);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {
                i += 1;
                break;
            }
            _ => return Err(LexError::new(i, "expected ',' or '}' after matcher")),
        }
    }
    let end = lex::skip_ws(src, i);
    if end < src.len() {
        return Err(LexError::new(end, "unexpected text after '}'"));
    }
    Ok(Scope::Matchers(matchers))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A label set from `(name, value)` pairs (also for the other modules'
    /// tests).
    pub(crate) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_and_matches() {
        let s = Scope::parse(r#"{team="core", service=~"checkout|cart"}"#).unwrap();
        assert_eq!(s.labels(), vec!["team", "service"]);
        assert!(s.matches(&labels(&[("team", "core"), ("service", "cart")])));
        assert!(!s.matches(&labels(&[("team", "core"), ("service", "carts")])));
        assert!(!s.matches(&labels(&[("team", "core")])));
        let s = Scope::parse(r#"{team!="core",env!~"dev|test",}"#).unwrap();
        assert!(s.matches(&labels(&[("team", "infra"), ("env", "prod")])));
        assert!(s.matches(&labels(&[])));
        assert!(!s.matches(&labels(&[("env", "dev")])));
        // Anchoring: `core` does not match `score` or `core2`.
        let s = Scope::parse(r#"{team=~"core"}"#).unwrap();
        assert!(!s.matches(&labels(&[("team", "score")])));
        assert!(!s.matches(&labels(&[("team", "core2")])));
        let s = Scope::parse(r#"{team=~"a|b"}"#).unwrap();
        assert!(!s.matches(&labels(&[("team", "ab")])));
        // Empty value matches an absent label.
        let s = Scope::parse(r#"{team=""}"#).unwrap();
        assert!(s.matches(&labels(&[("x", "y")])));
    }

    #[test]
    fn everything() {
        let s = Scope::parse("  * ").unwrap();
        assert_eq!(s, Scope::All);
        assert!(s.matches(&labels(&[])));
        assert!(s.labels().is_empty());
        assert_eq!(s.to_string(), "*");
    }

    #[test]
    fn quotes_and_escapes() {
        let s = Scope::parse(r#"{a='x\'y', b=`c\d+`, "dotted.name"="\u00e9"}"#).unwrap();
        let ms = s.matchers();
        assert_eq!(ms[0].value, "x'y");
        assert_eq!(ms[1].value, r"c\d+");
        assert_eq!(ms[2].name, "dotted.name");
        assert_eq!(ms[2].value, "é");
        assert_eq!(s.to_string(), r#"{a="x'y", b="c\\d+", "dotted.name"="é"}"#);
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let s = Scope::parse("{ team = \"core\" ,service=~'a\"b|c' }").unwrap();
        let shown = s.to_string();
        assert_eq!(shown, r#"{team="core", service=~"a\"b|c"}"#);
        assert_eq!(Scope::parse(&shown).unwrap(), s);
    }

    fn err(src: &str) -> ScopeError {
        Scope::parse(src).unwrap_err()
    }

    #[test]
    fn errors_name_column_and_expectation() {
        let e = err(r#"{team="core", service "x"}"#);
        assert_eq!(
            e.to_string(),
            "column 23: expected '=', '!=', '=~' or '!~' after label name"
        );
        assert_eq!(e.offset, 22);
        let e = err(r#"{team="core" service="x"}"#);
        assert_eq!(
            e.to_string(),
            "column 14: expected ',' or '}' after matcher"
        );
        assert_eq!(
            err(r#"{team=core}"#).to_string(),
            "column 7: expected a quoted label value after '='"
        );
        assert_eq!(err("").to_string().split(':').next(), Some("column 1"));
        assert!(err("{}").message.contains("use `*`"));
        assert!(
            err(r#"{team="core""#)
                .message
                .contains("expected ',' or '}'")
        );
        assert!(
            err(r#"{team="core"#)
                .message
                .contains("unterminated string")
        );
        let e = err(r#"{team=~"(unclosed"}"#);
        assert_eq!(e.column, 8);
        assert!(e.message.starts_with("invalid regular expression"), "{e}");
        assert_eq!(err(r#"{team="a"} x"#).message, "unexpected text after '}'");
        assert_eq!(err("* x").message, "unexpected text after '*'");
        assert_eq!(err("team=\"x\"").message, "expected '{' or '*'");
        assert_eq!(
            err(r#"{1team="x"}"#).to_string(),
            "column 2: expected a label name"
        );
        assert_eq!(
            err(r#"{team="\q"}"#).to_string(),
            "column 8: unknown escape sequence '\\q'"
        );
        // Columns count characters, offsets bytes.
        let e = err(r#"{"é"="x" y}"#);
        assert_eq!((e.offset, e.column), (10, 10));
    }

    #[test]
    fn literal_alternation() {
        let m = |re: &str| {
            Matcher::new("t", MatchOp::Re, re)
                .unwrap()
                .literal_alternatives()
        };
        assert_eq!(m("a|b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(m("(a|b)"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(m("(?:x)"), Some(vec!["x".into()]));
        assert_eq!(m(r"a\.b"), Some(vec!["a.b".into()]));
        assert_eq!(m("a.*"), None);
        assert_eq!(m("a|b+"), None);
        assert_eq!(m(r"\d"), None);
        assert_eq!(
            Matcher::new("t", MatchOp::Eq, "a")
                .unwrap()
                .literal_alternatives(),
            None
        );
    }

    #[test]
    fn serde_from_json_string() {
        let s: Scope = serde_json::from_str(r#""{team=\"core\"}""#).unwrap();
        assert_eq!(s.labels(), vec!["team"]);
        let e = serde_json::from_str::<Scope>(r#""{team}""#).unwrap_err();
        assert!(e.to_string().contains("column 6"), "{e}");
    }
}
