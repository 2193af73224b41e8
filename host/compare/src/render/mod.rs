//! Renderings of a report: [`text`] (compact, for a terminal), [`json`]
//! (the documented contract), [`markdown`] and [`html`] (one self-contained
//! page with charts).
//!
//! Each format has a `render_<format>(&Report) -> String` for a report held
//! in memory, and a `write_<format>` that writes from any `source::Source`
//! (a held report or the streaming comparison) into a `source::Out`,
//! reading the alert lists one alert at a time (JSON is written by the
//! source itself). What the formats say in common (verdict and risk
//! sentences, list titles, number and time formats, breakdown order) comes
//! from `wording`; `escape` holds what Markdown and HTML escape alike.

mod escape;
pub mod html;
pub mod json;
pub mod markdown;
pub(crate) mod source;
pub mod text;
pub(crate) mod wording;

pub use html::render_html;
pub use json::render_json;
pub use markdown::render_markdown;
pub use text::render_text;
