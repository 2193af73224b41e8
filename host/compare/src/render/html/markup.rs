//! Escaping text taken from the inputs for HTML.

use crate::render::escape::escape_text;

/// Escape text for HTML element content and double- or single-quoted
/// attribute values. Control characters other than newline and tab become
/// U+FFFD.
pub fn escape(s: &str) -> String {
    escape_text(s, |c| match c {
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        '\n' => Some("\n"),
        '\t' => Some("\t"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{0}b\nc"), "a\u{fffd}b\nc");
    }
}
