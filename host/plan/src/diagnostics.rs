//! Collected validation errors and their rendering (file:line:column, the
//! offending line, a caret under the span, and a help line).

use std::borrow::Cow;
use std::fmt;
use std::io::IsTerminal;
use std::ops::Range;

use annotate_snippets::{Level, Renderer, Snippet};

/// One problem found in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the plan source, when the problem has a place.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// Short label under the caret.
    pub label: String,
    /// What would be right.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at `span`.
    pub fn at(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic {
            span: Some(span),
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    /// A diagnostic about the whole file.
    pub fn file(message: impl Into<String>) -> Self {
        Diagnostic {
            span: None,
            message: message.into(),
            label: String::new(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All problems found in one plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// File name as shown to the user.
    pub file_name: String,
    /// The plan source the spans refer to.
    pub source: String,
    /// The problems, in the order found.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Empty collection for a file.
    pub fn new(file_name: impl Into<String>, source: impl Into<String>) -> Self {
        Diagnostics {
            file_name: file_name.into(),
            source: source.into(),
            items: Vec::new(),
        }
    }

    /// Adds one problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = clamp_to_boundary(&self.source, offset);
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.source[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// Deterministic rendering without colors (for tests and pipes).
    pub fn render_plain(&self) -> String {
        self.render_with(&Renderer::plain())
    }

    /// Rendering with colors when stderr is a terminal.
    pub fn render_auto(&self) -> String {
        if std::io::stderr().is_terminal() {
            self.render_with(&Renderer::styled())
        } else {
            self.render_plain()
        }
    }

    fn render_with(&self, renderer: &Renderer) -> String {
        let mut out = String::new();
        for diagnostic in &self.items {
            out.push_str(&self.render_one(renderer, diagnostic));
            out.push_str("\n\n");
        }
        let n = self.items.len();
        out.push_str(&format!(
            "error: {} has {} problem{}\n",
            self.file_name,
            n,
            if n == 1 { "" } else { "s" }
        ));
        out
    }

    fn render_one(&self, renderer: &Renderer, d: &Diagnostic) -> String {
        let Some(span) = &d.span else {
            let mut text = format!("error: {}\n --> {}", d.message, self.file_name);
            if let Some(help) = &d.help {
                text.push_str(&format!("\n  = help: {help}"));
            }
            return text;
        };
        let span = self.fit_span(span.clone());
        let (line, col) = self.line_col(span.start);
        let _ = (line, col);
        let title = d.message.clone();
        let source = displayable(&self.source);
        // annotate-snippets 0.11 underflows trimming a long line when the
        // span starts in its leading whitespace: never trim such a line.
        let renderer = if in_leading_whitespace(&source, span.start) {
            renderer.clone().term_width(usize::MAX / 4)
        } else {
            renderer.clone()
        };
        let snippet = Snippet::source(&source)
            .origin(&self.file_name)
            .fold(true)
            .annotation(Level::Error.span(span).label(&d.label));
        let mut message = Level::Error.title(&title).snippet(snippet);
        if let Some(help) = &d.help {
            message = message.footer(Level::Help.title(help));
        }
        renderer.render(message).to_string()
    }

    /// Keeps a span inside the source, on char boundaries and non-empty when
    /// possible; a span covering several lines is cut to its first line.
    fn fit_span(&self, span: Range<usize>) -> Range<usize> {
        let src = &self.source;
        let start = clamp_to_boundary(src, span.start.min(src.len()));
        let mut end = clamp_to_boundary(src, span.end.max(start).min(src.len()));
        if let Some(nl) = src[start..end].find('\n')
            && nl > 0
        {
            end = start + nl;
        }
        if end == start
            && let Some(c) = src[start..].chars().next()
        {
            end = start + c.len_utf8();
        }
        start..end
    }
}

/// The source as the snippet renderer is given it, byte for byte (spans stay
/// valid): control characters (NUL, a `\r` not ending a line...) shown as `?`
/// and other whitespace than spaces and line ends (tabs...) as spaces, so
/// every character the renderer counts as leading whitespace is one column
/// wide, as it assumes (a zero-width one made it underflow and panic).
fn displayable(src: &str) -> Cow<'_, str> {
    let odd = |i: usize, c: char| match c {
        '\n' | ' ' => false,
        '\r' => !src[i + 1..].starts_with('\n'),
        c => c.is_control() || c.is_whitespace(),
    };
    if !src.char_indices().any(|(i, c)| odd(i, c)) {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len());
    for (i, c) in src.char_indices() {
        if odd(i, c) {
            let blank = c == '\t' || c.is_whitespace() && !c.is_control();
            let fill = if blank { ' ' } else { '?' };
            out.extend(std::iter::repeat_n(fill, c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether byte `at` of `src` is in the leading whitespace of its line.
fn in_leading_whitespace(src: &str, at: usize) -> bool {
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    src[line_start..at].chars().all(char::is_whitespace)
        && src[at..].chars().next().is_some_and(char::is_whitespace)
}

fn clamp_to_boundary(src: &str, mut offset: usize) -> usize {
    offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_plain())
    }
}

impl std::error::Error for Diagnostics {}

/// An invalid plan is a usage error: the diagnostics say what to fix.
impl cutover_base::exit::HasExitClass for Diagnostics {
    fn exit_class(&self) -> cutover_base::exit::ExitClass {
        cutover_base::exit::ExitClass::Usage
    }
}
