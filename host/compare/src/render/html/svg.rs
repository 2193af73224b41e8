//! Pieces of the inline SVG charts: the view box, coordinates, titles,
//! legends and the marks' shapes and colours. Geometry is computed in a
//! fixed 800-unit-wide view box; the SVG scales to the page width.

use super::markup::escape;
use crate::render::source::Out;
use crate::render::wording::Kind;
use std::fmt::Write;

/// Most alertnames drawn in the match-rate and timeline charts (worst first);
/// the rest is counted under the chart.
pub const CHART_ROWS_MAX: usize = 40;

/// View-box width.
pub(super) const W: f64 = 800.0;
/// Estimated width of one character of 12px text.
pub(super) const CHAR_W: f64 = 6.8;

/// CSS classes and colours of the episode kinds (Okabe-Ito palette, safe
/// for colour-blind readers; shapes and words carry the meaning too).
pub(super) fn kind_colour(k: Kind) -> &'static str {
    match k {
        Kind::Matched => "#0072b2",
        Kind::Missing => "#d55e00",
        Kind::Extra => "#b8860b",
    }
}

/// A coordinate with one decimal.
pub(super) fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// At most `max` characters, with an ellipsis when cut.
pub(super) fn trunc(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub(super) fn open_svg(s: &mut Out<'_>, id: &str, title: &str, height: f64) {
    let _ = write!(
        s,
        "<svg class=\"chart\" id=\"chart-{id}\" role=\"img\" aria-labelledby=\"chart-{id}-title\" \
         viewBox=\"0 0 {W} {h}\" preserveAspectRatio=\"xMinYMin meet\">\n\
         <title id=\"chart-{id}-title\">{title}</title>\n",
        h = f(height),
        title = escape(title)
    );
}

/// A valid, small SVG saying there is nothing to draw.
pub(super) fn no_data(s: &mut Out<'_>, id: &str, title: &str, message: &str) {
    open_svg(s, id, title, 60.0);
    let _ = write!(
        s,
        "<rect class=\"track\" x=\"1\" y=\"1\" width=\"{}\" height=\"58\"/>\n\
         <text class=\"nodata\" x=\"{}\" y=\"36\" text-anchor=\"middle\">{}</text>\n</svg>\n",
        W - 2.0,
        W / 2.0,
        escape(message)
    );
}

/// Width of the left label column for these names.
pub(super) fn label_width(names: &[String]) -> f64 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    (longest as f64 * CHAR_W + 16.0).clamp(90.0, 250.0)
}

/// One legend entry (swatch + words) at `x`; returns the x after it.
pub(super) fn legend_item(
    s: &mut Out<'_>,
    x: f64,
    y: f64,
    kind: Kind,
    shape: &str,
    words: &str,
) -> f64 {
    let c = kind_colour(kind);
    let swatch = match shape {
        "circle" => format!(
            "<circle class=\"legend-mark\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{c}\"/>",
            f(x + 5.0),
            f(y - 4.0)
        ),
        "cross" => cross(x + 5.0, y - 4.0, c, "legend-mark"),
        "diamond" => diamond(x + 5.0, y - 4.0, c, "legend-mark"),
        _ => format!(
            "<rect class=\"legend-mark\" x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{c}\"/>",
            f(x),
            f(y - 9.0)
        ),
    };
    let _ = writeln!(
        s,
        "{swatch}<text x=\"{}\" y=\"{}\">{}</text>",
        f(x + 17.0),
        f(y),
        escape(words)
    );
    x + 17.0 + words.chars().count() as f64 * CHAR_W + 18.0
}

pub(super) fn cross(x: f64, y: f64, colour: &str, class: &str) -> String {
    format!(
        "<path class=\"{class}\" d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{colour}\" \
         stroke-width=\"2.5\" fill=\"none\"",
        f(x - 5.0),
        f(y - 5.0),
        f(x + 5.0),
        f(y + 5.0),
        f(x - 5.0),
        f(y + 5.0),
        f(x + 5.0),
        f(y - 5.0)
    ) + if class == "legend-mark" { "/>" } else { ">" }
}

pub(super) fn diamond(x: f64, y: f64, colour: &str, class: &str) -> String {
    format!(
        "<path class=\"{class}\" d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{colour}\" \
         stroke=\"#5c4400\" stroke-width=\"1\"",
        f(x),
        f(y - 6.0),
        f(x + 6.0),
        f(y),
        f(x),
        f(y + 6.0),
        f(x - 6.0),
        f(y)
    ) + if class == "legend-mark" { "/>" } else { ">" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunc_adds_ellipsis() {
        assert_eq!(trunc("abcdef", 4), "abc…");
        assert_eq!(trunc("abc", 4), "abc");
    }
}
