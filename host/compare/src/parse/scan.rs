//! Low-level JSON scanning for the streaming parsers.
//!
//! A [`Cursor`] walks a UTF-8 buffer holding a prefix of the input. Every
//! read either yields a value, asks for more input ([`Stop::More`]: the
//! buffer ended inside the value), or gives up ([`Stop::Bail`]) on anything it
//! does not handle. Giving up is never an error by itself: the caller then
//! re-reads the input with the serde-based reference parser, which either
//! accepts it or reports the exact error and position. The scanner is
//! therefore strict: it only accepts what serde_json accepts, and gives up on
//! rarities (escaped object keys, huge numbers, deep nesting).

/// Why a scan stopped before producing a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The buffer ended inside the value and more input may follow.
    More,
    /// Not handled here: let the reference parser decide.
    Bail,
    /// The input is a cutover export (bare array of `starts_at` entries),
    /// not an Alertmanager dump.
    NotAlertmanager,
}

/// Result of a scan step.
pub(crate) type Scan<T> = Result<T, Stop>;

/// A string read from the input: borrowed when it had no escapes, else a
/// range of the caller's scratch buffer holding the decoded text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Str<'a> {
    Borrowed(&'a str),
    Scratch(u32, u32),
}

impl<'a> Str<'a> {
    /// The text, given the scratch buffer the escapes were decoded into.
    pub(crate) fn get<'s>(self, scratch: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self {
            Str::Borrowed(s) => s,
            Str::Scratch(a, b) => scratch.get(a as usize..b as usize).unwrap_or(""),
        }
    }
}

/// Deepest nesting skipped before giving up (serde_json's limit is 128).
const MAX_DEPTH: u32 = 100;

/// A position in a buffer of UTF-8 text.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread byte.
    pub(crate) pos: usize,
    /// True when the buffer holds the rest of the input.
    eof: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte at or after `i` that is `"`, `\` or a control
/// character (< 0x20), eight bytes at a time.
#[inline]
pub(crate) fn find_special(b: &[u8], mut i: usize) -> Option<usize> {
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let q = w ^ (LO * u64::from(b'"'));
        let s = w ^ (LO * u64::from(b'\\'));
        // The lowest flagged byte of each term is exact (borrows only
        // create false positives above a true one), so the lowest flagged
        // byte overall is a true match.
        let hit = ((q.wrapping_sub(LO) & !q)
            | (s.wrapping_sub(LO) & !s)
            | (w.wrapping_sub(LO * 0x20) & !w))
            & HI;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl<'a> Cursor<'a> {
    /// A cursor at `pos` of `text`; `eof` when nothing follows `text`.
    pub(crate) fn new(text: &'a str, pos: usize, eof: bool) -> Cursor<'a> {
        Cursor {
            text,
            bytes: text.as_bytes(),
            pos,
            eof,
        }
    }

    /// What running out of buffer means here.
    #[inline]
    fn end(&self) -> Stop {
        if self.eof { Stop::Bail } else { Stop::More }
    }

    /// Skip JSON whitespace and return the next byte without consuming it.
    #[inline]
    pub(crate) fn peek(&mut self) -> Scan<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                _ => return Ok(b),
            }
        }
        Err(self.end())
    }

    /// True when only whitespace remains and the buffer is the whole rest.
    pub(crate) fn at_end(&mut self) -> Scan<bool> {
        match self.peek() {
            Ok(_) => Ok(false),
            Err(Stop::Bail) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Consume `b` (after whitespace) or give up.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> Scan<()> {
        if self.peek()? == b {
            self.pos += 1;
            Ok(())
        } else {
            Err(Stop::Bail)
        }
    }

    /// After an opening `{` or `[`: the members or elements up to `close`,
    /// each read by `item` (none when `close` comes first).
    #[inline]
    pub(crate) fn items(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Scan<()>,
    ) -> Scan<()> {
        if self.peek()? == close {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            if !self.next_or_close(close)? {
                return Ok(());
            }
        }
    }

    /// After a member or element: `,` (returns true) or `close` (false).
    #[inline]
    pub(crate) fn next_or_close(&mut self, close: u8) -> Scan<bool> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b',' {
            Ok(true)
        } else if b == close {
            Ok(false)
        } else {
            Err(Stop::Bail)
        }
    }

    /// An object key without escapes (gives up on escaped keys).
    #[inline]
    pub(crate) fn key(&mut self) -> Scan<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        match find_special(self.bytes, start) {
            Some(i) if self.bytes[i] == b'"' => {
                self.pos = i + 1;
                self.text.get(start..i).ok_or(Stop::Bail)
            }
            Some(_) => Err(Stop::Bail),
            None => Err(self.end()),
        }
    }

    /// A string value; escapes are decoded into `scratch`.
    #[inline]
    pub(crate) fn string(&mut self, scratch: &mut String) -> Scan<Str<'a>> {
        self.eat(b'"')?;
        let start = self.pos;
        match find_special(self.bytes, start) {
            Some(i) if self.bytes[i] == b'"' => {
                self.pos = i + 1;
                Ok(Str::Borrowed(self.text.get(start..i).ok_or(Stop::Bail)?))
            }
            Some(i) if self.bytes[i] == b'\\' => self.decode(start, i, scratch),
            Some(_) => Err(Stop::Bail),
            None => Err(self.end()),
        }
    }

    /// Skip a string (the opening quote not yet consumed), checking escapes.
    #[inline]
    pub(crate) fn skip_string(&mut self) -> Scan<()> {
        self.eat(b'"')?;
        let mut i = self.pos;
        loop {
            match find_special(self.bytes, i) {
                Some(j) if self.bytes[j] == b'"' => {
                    self.pos = j + 1;
                    return Ok(());
                }
                Some(j) if self.bytes[j] == b'\\' => {
                    self.pos = j;
                    self.escape(None)?;
                    i = self.pos;
                }
                Some(_) => return Err(Stop::Bail),
                None => return Err(self.end()),
            }
        }
    }

    /// Decode a string with escapes: `start` is the first content byte,
    /// `first` the first backslash.
    fn decode(&mut self, start: usize, first: usize, scratch: &mut String) -> Scan<Str<'a>> {
        let from = scratch.len();
        scratch.push_str(self.text.get(start..first).ok_or(Stop::Bail)?);
        self.pos = first;
        loop {
            self.escape(Some(scratch))?;
            let i = self.pos;
            match find_special(self.bytes, i) {
                Some(j) => {
                    scratch.push_str(self.text.get(i..j).ok_or(Stop::Bail)?);
                    self.pos = j;
                    match self.bytes[j] {
                        b'"' => {
                            self.pos = j + 1;
                            let to = scratch.len();
                            return Ok(Str::Scratch(
                                u32::try_from(from).map_err(|_| Stop::Bail)?,
                                u32::try_from(to).map_err(|_| Stop::Bail)?,
                            ));
                        }
                        b'\\' => {}
                        _ => return Err(Stop::Bail),
                    }
                }
                None => return Err(self.end()),
            }
        }
    }

    /// One escape sequence at `pos` (a backslash), appended to `out` if any.
    fn escape(&mut self, out: Option<&mut String>) -> Scan<()> {
        let b = *self.bytes.get(self.pos + 1).ok_or_else(|| self.end())?;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(self.pos + 2)?;
                if (0xDC00..0xE000).contains(&hi) {
                    return Err(Stop::Bail);
                }
                if (0xD800..0xDC00).contains(&hi) {
                    // Must be followed by a low surrogate escape.
                    let tail = self.bytes.get(self.pos + 6..self.pos + 8);
                    match tail {
                        Some(b"\\u") => {}
                        Some(_) => return Err(Stop::Bail),
                        None => return Err(self.end()),
                    }
                    let lo = self.hex4(self.pos + 8)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(Stop::Bail);
                    }
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    self.pos += 12;
                    if let Some(out) = out {
                        out.push(char::from_u32(cp).ok_or(Stop::Bail)?);
                    }
                    return Ok(());
                }
                self.pos += 6;
                if let Some(out) = out {
                    out.push(char::from_u32(hi).ok_or(Stop::Bail)?);
                }
                return Ok(());
            }
            _ => return Err(Stop::Bail),
        };
        self.pos += 2;
        if let Some(out) = out {
            out.push(c);
        }
        Ok(())
    }

    fn hex4(&self, at: usize) -> Scan<u32> {
        let digits = self.bytes.get(at..at + 4).ok_or_else(|| self.end())?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + char::from(d).to_digit(16).ok_or(Stop::Bail)?;
        }
        Ok(v)
    }

    /// `null` (consumed, returns true) or anything else (untouched, false).
    #[inline]
    pub(crate) fn null(&mut self) -> Scan<bool> {
        if self.peek()? != b'n' {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        match self.bytes.get(self.pos..self.pos + word.len()) {
            Some(w) if w == word => {
                self.pos += word.len();
                self.delimited()
            }
            Some(_) => Err(Stop::Bail),
            None => {
                let have = &self.bytes[self.pos..];
                if word.starts_with(have) {
                    Err(self.end())
                } else {
                    Err(Stop::Bail)
                }
            }
        }
    }

    /// A scalar must be followed by a delimiter (or the end of the input).
    #[inline]
    fn delimited(&self) -> Scan<()> {
        match self.bytes.get(self.pos) {
            Some(b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}') => Ok(()),
            Some(_) => Err(Stop::Bail),
            None if self.eof => Ok(()),
            None => Err(Stop::More),
        }
    }

    /// Scan a number; returns its text. Gives up on exponents and on more
    /// than 18 digits (serde_json may reject those as out of range).
    fn number(&mut self) -> Scan<(&'a str, bool)> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            Some(_) => return Err(Stop::Bail),
            None => return Err(self.end()),
        }
        let mut digits = i - int_start;
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            let frac = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == frac {
                return Err(if i == b.len() { self.end() } else { Stop::Bail });
            }
            digits += i - frac;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) || digits > 18 {
            return Err(Stop::Bail);
        }
        self.pos = i;
        self.delimited()?;
        Ok((self.text.get(start..i).ok_or(Stop::Bail)?, integer))
    }

    /// An integer that fits an `i64` (what serde gives `visit_i64`/`visit_u64`).
    pub(crate) fn integer(&mut self) -> Scan<i64> {
        let (text, integer) = self.number()?;
        if !integer {
            return Err(Stop::Bail);
        }
        text.parse::<i64>().map_err(|_| Stop::Bail)
    }

    /// Skip any JSON value, validating it.
    pub(crate) fn skip_value(&mut self) -> Scan<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: u32) -> Scan<()> {
        if depth > MAX_DEPTH {
            return Err(Stop::Bail);
        }
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => {
                self.pos += 1;
                self.items(b'}', |c| {
                    c.skip_string()?;
                    c.eat(b':')?;
                    c.skip_nested(depth + 1)
                })
            }
            b'[' => {
                self.pos += 1;
                self.items(b']', |c| c.skip_nested(depth + 1))
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// Read an object of string values into `out` (in document order).
    pub(crate) fn string_map(
        &mut self,
        out: &mut Vec<(Str<'a>, Str<'a>)>,
        scratch: &mut String,
    ) -> Scan<()> {
        self.eat(b'{')?;
        self.items(b'}', |c| {
            let k = c.string(scratch)?;
            c.eat(b':')?;
            let v = c.string(scratch)?;
            out.push((k, v));
            Ok(())
        })
    }

    /// Skip an object of string values, validating it.
    pub(crate) fn skip_string_map(&mut self) -> Scan<()> {
        self.eat(b'{')?;
        self.items(b'}', |c| {
            c.skip_string()?;
            c.eat(b':')?;
            if c.peek()? != b'"' {
                return Err(Stop::Bail);
            }
            c.skip_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(s: &str) -> Cursor<'_> {
        Cursor::new(s, 0, true)
    }

    #[test]
    fn special_bytes_are_found_in_words_and_tails() {
        for (s, want) in [
            ("abcdefghij\"", Some(10)),
            ("abc\\", Some(3)),
            ("abcdefgh\u{1}", Some(8)),
            ("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\"", Some(10)),
            ("plain", None),
            ("", None),
        ] {
            assert_eq!(find_special(s.as_bytes(), 0), want, "{s:?}");
        }
    }

    #[test]
    fn strings_decode_escapes_like_json() {
        let mut scratch = String::new();
        let mut c = cur(r#""a\"b\\c\/\n\u00e9\ud83d\ude00" "#);
        let s = c.string(&mut scratch).unwrap();
        assert_eq!(s.get(&scratch), "a\"b\\c/\n\u{e9}\u{1f600}");
        let mut c = cur(r#""plain""#);
        assert!(matches!(c.string(&mut scratch), Ok(Str::Borrowed("plain"))));
        for bad in [r#""\x""#, r#""\ud800""#, r#""\udc00x""#, "\"a\u{1}\""] {
            assert_eq!(
                cur(bad).string(&mut scratch).err(),
                Some(Stop::Bail),
                "{bad}"
            );
            assert_eq!(cur(bad).skip_string().err(), Some(Stop::Bail), "{bad}");
        }
    }

    #[test]
    fn truncated_input_asks_for_more_unless_at_eof() {
        let mut scratch = String::new();
        for s in [r#""abc"#, r#""a\u00"#, "[1, {\"a\": tru", "-"] {
            let mut c = Cursor::new(s, 0, false);
            let got = if s.starts_with('"') {
                c.string(&mut scratch).map(|_| ())
            } else {
                c.skip_value()
            };
            assert_eq!(got, Err(Stop::More), "{s}");
            assert_eq!(cur(s).skip_value().err(), Some(Stop::Bail), "{s}");
        }
        assert_eq!(Cursor::new("12", 0, false).skip_value(), Err(Stop::More));
    }

    #[test]
    fn values_are_validated_while_skipped() {
        for ok in [
            r#"{"a": [1, -2.5, true, false, null, "x", {}], "b": []}"#,
            "0",
            "-0.0",
        ] {
            let mut c = cur(ok);
            assert_eq!(c.skip_value(), Ok(()), "{ok}");
            assert_eq!(c.pos, ok.len());
        }
        for bad in [
            "01",
            "1.",
            "1e5",
            "+1",
            "[1,]",
            "{\"a\" 1}",
            "tru ",
            "nul",
            "[1 2]",
            "{,}",
        ] {
            assert_eq!(cur(bad).skip_value(), Err(Stop::Bail), "{bad}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(cur(&deep).skip_value(), Err(Stop::Bail));
    }

    #[test]
    fn integers_fit_i64() {
        assert_eq!(cur("1795165200000,").integer(), Ok(1_795_165_200_000));
        assert_eq!(cur("-5 ").integer(), Ok(-5));
        assert_eq!(cur("1.5 ").integer(), Err(Stop::Bail));
        assert_eq!(cur("9999999999999999999 ").integer(), Err(Stop::Bail));
    }
}
