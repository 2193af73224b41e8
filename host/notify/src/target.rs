//! Notification targets as written in plans and on the command line.

use std::fmt;

/// Body format of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Alertmanager webhook JSON (`version` "4").
    Alertmanager,
    /// Slack-compatible `{"text": ...}`.
    Slack,
}

impl Format {
    /// Name as printed: `alertmanager` or `slack`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alertmanager => "alertmanager",
            Format::Slack => "slack",
        }
    }
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An HTTP(S) webhook.
    Webhook {
        /// Body format.
        format: Format,
        /// URL (without the format prefix).
        url: String,
    },
    /// A named recipient without a transport: journaled and logged only.
    Named(String),
}

impl Target {
    /// Parses `am+URL`, `alertmanager+URL`, `slack+URL`, a bare `http(s)://`
    /// URL (Slack format) or a plain name.
    pub fn parse(text: &str) -> Target {
        let t = text.trim();
        let (format, rest) = match t.split_once('+') {
            Some(("am" | "alertmanager", rest)) => (Some(Format::Alertmanager), rest),
            Some(("slack", rest)) => (Some(Format::Slack), rest),
            _ => (None, t),
        };
        if is_http(rest) {
            Target::Webhook {
                format: format.unwrap_or(Format::Slack),
                url: rest.to_string(),
            }
        } else {
            Target::Named(t.to_string())
        }
    }

    /// Whether this target is a webhook.
    pub fn is_webhook(&self) -> bool {
        matches!(self, Target::Webhook { .. })
    }
}

fn is_http(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("http://") && s.len() > 7) || (lower.starts_with("https://") && s.len() > 8)
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Webhook {
                format: Format::Alertmanager,
                url,
            } => write!(f, "am+{url}"),
            Target::Webhook {
                format: Format::Slack,
                url,
            } => write!(f, "slack+{url}"),
            Target::Named(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_the_format() {
        assert_eq!(
            Target::parse("am+http://127.0.0.1:9/hook"),
            Target::Webhook {
                format: Format::Alertmanager,
                url: "http://127.0.0.1:9/hook".into()
            }
        );
        assert_eq!(
            Target::parse("slack+https://hooks.example/x"),
            Target::Webhook {
                format: Format::Slack,
                url: "https://hooks.example/x".into()
            }
        );
        assert_eq!(
            Target::parse("http://h/x"),
            Target::Webhook {
                format: Format::Slack,
                url: "http://h/x".into()
            }
        );
        assert_eq!(Target::parse("#ops"), Target::Named("#ops".into()));
        assert_eq!(Target::parse("am+#ops"), Target::Named("am+#ops".into()));
        assert_eq!(Target::parse("http://"), Target::Named("http://".into()));
        assert_eq!(
            Target::parse("am+http://h/x").to_string(),
            "am+http://h/x".to_string()
        );
    }
}
