//! What a plan grants one plugin. Everything not granted is denied.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// An HTTP origin a plugin may call: `scheme://host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP literal, lower-cased.
    pub host: String,
    /// Port (defaulted from the scheme when the URL has none).
    pub port: u16,
}

/// A grant string that is not of the form `scheme://host:port`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid host grant {input:?}: {reason} (expected scheme://host:port, e.g. http://127.0.0.1:9093)"
)]
pub struct OriginError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Origin {
    /// Parses a grant such as `http://127.0.0.1:9093`. The port is required so
    /// that a grant never silently covers more than the operator wrote.
    pub fn parse_grant(input: &str) -> Result<Self, OriginError> {
        let err = |reason| OriginError {
            input: input.to_string(),
            reason,
        };
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| err("missing scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(err("scheme must be http or https"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('@') {
            return Err(err("a grant names an origin only (no path, query or user)"));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| err("missing :port"))?;
        if host.is_empty() {
            return Err(err("empty host"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| err("port is not a number in 1..=65535"))?;
        if port == 0 {
            return Err(err("port 0 is not a port"));
        }
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The origin of a request URI as the HTTP layer sees it.
    pub fn of_uri(uri: &http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let port = match uri.port_u16() {
            Some(p) => p,
            None if scheme == "http" => 80,
            None if scheme == "https" => 443,
            None => return None,
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        return Some((host, tail.strip_prefix(':')?));
    }
    s.rsplit_once(':')
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// A host directory mounted into the guest at `/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirGrant {
    /// Guest-visible name; mounted at `/<name>`.
    pub name: String,
    /// Host path.
    pub path: PathBuf,
    /// Read-only unless true.
    pub write: bool,
}

/// Everything one plugin may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    /// HTTP origins the plugin may call.
    pub hosts: Vec<Origin>,
    /// Directories it may see.
    pub dirs: Vec<DirGrant>,
    /// Secret names it may read.
    pub secrets: Vec<String>,
    /// Plan-scoped config values.
    pub config: BTreeMap<String, String>,
}

impl Grants {
    /// Whether a request to `origin` is allowed.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.hosts.iter().any(|o| o == origin)
    }
}
