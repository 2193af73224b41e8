//! Escaping text taken from the inputs for the markup formats (Markdown and
//! HTML): the entities both need, control characters replaced, and what
//! else each format treats specially.

/// `s` with `&`, `<` and `>` as entities, the characters `special` maps
/// replaced by what it returns, and other control characters as U+FFFD.
pub(crate) fn escape_text(s: &str, special: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match (c, special(c)) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            (_, Some(r)) => out.push_str(r),
            (c, None) if c.is_control() => out.push('\u{fffd}'),
            (c, None) => out.push(c),
        }
    }
    out
}
