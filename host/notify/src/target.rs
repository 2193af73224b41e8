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

    /// [`Target::parse`], refusing what can never be sent to: an empty
    /// target, a URL whose scheme is not `http`/`https` (after an optional
    /// `am+`/`alertmanager+`/`slack+` prefix), a URL without a host or with
    /// a bad port. Text without `://` is a named recipient.
    pub fn check(text: &str) -> Result<Target, TargetError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(TargetError::Empty);
        }
        let Some((scheme, rest)) = t.split_once("://") else {
            return Ok(Target::parse(t));
        };
        let bare = match scheme.split_once('+') {
            Some(("am" | "alertmanager" | "slack", bare)) => bare,
            _ => scheme,
        };
        if !(bare.eq_ignore_ascii_case("http") || bare.eq_ignore_ascii_case("https")) {
            return Err(TargetError::Scheme {
                target: t.to_string(),
                scheme: scheme.to_string(),
            });
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, tail)) => (h, tail.strip_prefix(':')),
                None => ("", None),
            }
        } else {
            match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(TargetError::NoHost(t.to_string()));
        }
        if let Some(p) = port
            && !p.parse::<u16>().is_ok_and(|p| p > 0)
        {
            return Err(TargetError::Port {
                target: t.to_string(),
                port: p.to_string(),
            });
        }
        Ok(Target::parse(t))
    }

    /// Whether this target is a webhook.
    pub fn is_webhook(&self) -> bool {
        matches!(self, Target::Webhook { .. })
    }
}

/// A notification target that can never be sent to ([`Target::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Blank.
    #[error("notification target is empty")]
    Empty,
    /// A URL with a scheme other than http/https.
    #[error(
        "notification target `{target}` has scheme `{scheme}`: webhooks are sent over http or https only"
    )]
    Scheme {
        /// The target.
        target: String,
        /// The scheme as written (with any format prefix).
        scheme: String,
    },
    /// A URL without a host.
    #[error("notification target `{0}` has no host")]
    NoHost(String),
    /// A URL whose port is not a number from 1 to 65535.
    #[error("notification target `{target}` has port `{port}`, not a number from 1 to 65535")]
    Port {
        /// The target.
        target: String,
        /// The port as written.
        port: String,
    },
}

impl TargetError {
    /// A short label for a diagnostic.
    pub fn label(&self) -> &'static str {
        match self {
            TargetError::Empty => "empty target",
            TargetError::Scheme { .. } => "not http or https",
            TargetError::NoHost(_) => "no host",
            TargetError::Port { .. } => "bad port",
        }
    }
}

/// Usage: a target that can never work is bad input.
impl cutover_base::exit::HasExitClass for TargetError {
    fn exit_class(&self) -> cutover_base::exit::ExitClass {
        cutover_base::exit::ExitClass::Usage
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

    #[test]
    fn check_refuses_targets_that_can_never_work() {
        for ok in [
            "am+https://hooks.example:8443/x",
            "slack+http://127.0.0.1:9/x?y=1",
            "HTTPS://user:pw@h/",
            "http://[::1]:8080/x",
            "#ops",
            "oncall@example.org",
        ] {
            assert!(Target::check(ok).is_ok(), "{ok}: {:?}", Target::check(ok));
        }
        let bad = |t: &str| Target::check(t).expect_err(t);
        assert_eq!(bad("  "), TargetError::Empty);
        assert!(matches!(bad("ftp://h/x"), TargetError::Scheme { scheme, .. } if scheme == "ftp"));
        assert!(
            matches!(bad("teams+https://h/x"), TargetError::Scheme { scheme, .. } if scheme == "teams+https")
        );
        assert!(matches!(bad("am+smtp://h"), TargetError::Scheme { .. }));
        assert!(matches!(bad("https:///hook"), TargetError::NoHost(_)));
        assert!(matches!(bad("http://"), TargetError::NoHost(_)));
        assert!(matches!(
            bad("am+http://user@:80/x"),
            TargetError::NoHost(_)
        ));
        assert!(matches!(bad("http://h:0/x"), TargetError::Port { .. }));
        assert!(matches!(bad("http://h:https/x"), TargetError::Port { .. }));
        assert_eq!(bad("ftp://h").label(), "not http or https");
    }
}
