//! Lexical helpers shared by the scope parser, the PromQL selector
//! extractor and the Alertmanager matcher parser: PromQL string literals
//! (`"..."`, `'...'` with Go escapes, raw `` `...` ``), label names and
//! Go-style quoting for output.

/// A lexical error at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Byte offset in the input.
    pub offset: usize,
    /// What was expected or what is wrong.
    pub message: String,
}

impl LexError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        LexError {
            offset,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Whether `s` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `s` is a valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Length in bytes of the identifier starting at `start` (`[a-zA-Z_:][a-zA-Z0-9_:]*`
/// when `colons`, else without `:`); 0 when none starts there.
pub fn ident_len(src: &str, start: usize, colons: bool) -> usize {
    let bytes = src.as_bytes();
    let ok_first = |b: u8| b.is_ascii_alphabetic() || b == b'_' || (colons && b == b':');
    let ok_rest = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (colons && b == b':');
    match bytes.get(start) {
        Some(&b) if ok_first(b) => {}
        _ => return 0,
    }
    1 + bytes[start + 1..]
        .iter()
        .take_while(|&&b| ok_rest(b))
        .count()
}

/// Offset of the first non-whitespace byte at or after `i`.
pub fn skip_ws(src: &str, mut i: usize) -> usize {
    let bytes = src.as_bytes();
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn hex_value(src: &str, at: usize, digits: usize) -> Result<u32, LexError> {
    let text = src
        .get(at..at + digits)
        .filter(|t| t.len() == digits && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| LexError::new(at, format!("expected {digits} hexadecimal digits")))?;
    u32::from_str_radix(text, 16).map_err(|_| LexError::new(at, "invalid hexadecimal escape"))
}

/// Parses the string literal starting at `start` (which must be a quote:
/// `"`, `'` or `` ` ``). Returns the unescaped text and the offset just
/// past the closing quote. Escapes follow PromQL (Go `strconv.Unquote`):
/// `\a \b \f \n \r \t \v \\`, the enclosing quote, `\xHH`, `\OOO`,
/// `\uHHHH`, `\UHHHHHHHH`; backtick strings are raw.
pub fn parse_string(src: &str, start: usize) -> Result<(String, usize), LexError> {
    let bytes = src.as_bytes();
    let quote = bytes[start];
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(LexError::new(
                src.len(),
                format!(
                    "unterminated string starting at column {}: expected closing {}",
                    line_col(src, start).1,
                    quote as char
                ),
            ));
        };
        if b == quote {
            i += 1;
            break;
        }
        if quote == b'`' {
            out.push(b);
            i += 1;
            continue;
        }
        if b == b'\n' {
            return Err(LexError::new(i, "newline in string literal"));
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = bytes.get(i + 1) else {
            return Err(LexError::new(i, "unterminated escape sequence"));
        };
        let mut push_char = |c: u32, at: usize| -> Result<(), LexError> {
            let ch = char::from_u32(c)
                .ok_or_else(|| LexError::new(at, format!("invalid Unicode code point {c:#x}")))?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            Ok(())
        };
        match e {
            b'a' => push_char(7, i)?,
            b'b' => push_char(8, i)?,
            b'f' => push_char(12, i)?,
            b'n' => push_char(10, i)?,
            b'r' => push_char(13, i)?,
            b't' => push_char(9, i)?,
            b'v' => push_char(11, i)?,
            b'\\' => push_char(u32::from(b'\\'), i)?,
            q if q == quote => push_char(u32::from(q), i)?,
            b'x' => {
                let v = hex_value(src, i + 2, 2)?;
                out.push(v as u8);
                i += 2;
            }
            b'u' => {
                push_char(hex_value(src, i + 2, 4)?, i)?;
                i += 4;
            }
            b'U' => {
                push_char(hex_value(src, i + 2, 8)?, i)?;
                i += 8;
            }
            b'0'..=b'7' => {
                let digits = src
                    .get(i + 1..i + 4)
                    .filter(|d| d.bytes().all(|b| (b'0'..=b'7').contains(&b)))
                    .ok_or_else(|| LexError::new(i, "expected 3 octal digits after '\\'"))?;
                let v = u32::from_str_radix(digits, 8)
                    .ok()
                    .filter(|v| *v <= 255)
                    .ok_or_else(|| LexError::new(i, "octal escape value > 255"))?;
                out.push(v as u8);
                i += 2;
            }
            other => {
                let shown = src[i + 1..].chars().next().unwrap_or(other as char);
                return Err(LexError::new(
                    i,
                    format!("unknown escape sequence '\\{shown}'"),
                ));
            }
        }
        i += 2;
    }
    let text = String::from_utf8(out)
        .map_err(|_| LexError::new(start, "string literal is not valid UTF-8"))?;
    Ok((text, i))
}

/// Quotes `s` as a PromQL / Alertmanager double-quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let v = c as u32;
                if v <= 0xFFFF {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Label name as written in a selector: bare when valid, quoted otherwise.
pub fn label_name_text(name: &str) -> String {
    if is_label_name(name) {
        name.to_owned()
    } else {
        quote(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(src: &str) -> Result<String, LexError> {
        parse_string(src, 0).map(|(t, end)| {
            assert_eq!(end, src.len(), "{src}");
            t
        })
    }

    #[test]
    fn string_escapes() {
        assert_eq!(s(r#""a\"b""#).unwrap(), "a\"b");
        assert_eq!(s(r"'it\'s'").unwrap(), "it's");
        assert_eq!(
            s(r#""\n\t\\\x41\101\u00e9\U0001F600""#).unwrap(),
            "\n\t\\AAé😀"
        );
        assert_eq!(s(r"`raw\d+`").unwrap(), r"raw\d+");
        assert_eq!(s(r#""a.*""#).unwrap(), "a.*");
    }

    #[test]
    fn string_errors() {
        let e = s(r#""abc"#).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("expected closing \""), "{e:?}");
        let e = s(r#""\d""#).unwrap_err();
        assert_eq!(e.message, "unknown escape sequence '\\d'");
        assert_eq!(e.offset, 1);
        assert!(s(r"'\'").is_err());
        assert!(s(r#""\x4""#).is_err());
        assert!(s(r#""\uD800""#).is_err());
        assert!(s(r#""\400""#).is_err());
        assert!(s(r#""\xff""#).unwrap_err().message.contains("UTF-8"));
        assert!(s("\"a\nb\"").is_err());
        // `\"` is not an escape in a single-quoted string (Go rules).
        assert!(s(r#"'\"'"#).is_err());
    }

    #[test]
    fn quoting_round_trips() {
        for t in ["plain", "a\"b\\c", "line\nbreak\ttab", "é😀", "\u{1}"] {
            assert_eq!(s(&quote(t)).unwrap(), t);
        }
        assert_eq!(quote("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn names_and_positions() {
        assert!(is_label_name("team_1") && is_label_name("_x"));
        assert!(!is_label_name("1a") && !is_label_name("a:b") && !is_label_name(""));
        assert!(is_metric_name("job:rate5m") && !is_metric_name("a-b"));
        assert_eq!(ident_len("job:up{", 0, true), 6);
        assert_eq!(ident_len("job:up{", 0, false), 3);
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é=x", 2), (1, 2));
        assert_eq!(label_name_text("a.b"), "\"a.b\"");
    }
}
