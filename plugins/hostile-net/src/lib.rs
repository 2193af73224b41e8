//! `hostile-net`: tries an HTTP GET (through the SDK) and a raw TCP connect
//! to `params.url`. Passing means the network leaked; otherwise the error
//! says exactly what each attempt returned.

use cutover_plugin_sdk::{Context, PluginError, Verdict, VerdictKind};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Params {
    url: String,
}

cutover_plugin_sdk::check_guest!(HostileNet {
    name: "hostile-net",
    description: "Hostile test plugin: HTTP GET and raw TCP connect to params.url. \
        Passes only if either succeeds (a leak); asks for no hosts.",
    evaluate: evaluate,
});

fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
    let p: Params = cutover_plugin_sdk::params(&ctx)?;
    let mut leaks = Vec::new();
    let mut http_denied = false;
    let mut errors = Vec::new();
    match cutover_plugin_sdk::http::get(&p.url, &[]) {
        Ok(r) => leaks.push(format!("HTTP GET {} -> {}", p.url, r.status)),
        Err(e) => {
            http_denied = matches!(e, PluginError::Denied(_));
            errors.push(format!("http: {e:?}"));
        }
    }
    match host_port(&p.url) {
        Some(addr) => match std::net::TcpStream::connect(addr.as_str()) {
            Ok(_) => leaks.push(format!("TCP connect {addr} succeeded")),
            Err(e) => errors.push(format!("tcp {addr}: {e}")),
        },
        None => errors.push(format!("tcp: cannot find host:port in `{}`", p.url)),
    }
    if !leaks.is_empty() {
        return Ok(Verdict {
            verdict: VerdictKind::Pass,
            message: format!("SANDBOX LEAK: {}", leaks.join("; ")),
            measurements: Vec::new(),
        });
    }
    let msg = errors.join("; ");
    if http_denied {
        Err(PluginError::Denied(msg))
    } else {
        Err(PluginError::Unavailable(msg))
    }
}

/// `host:port` of an `scheme://host[:port]/...` URL (port defaults by scheme).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    let has_port = match authority.rfind(':') {
        Some(i) => !authority[i..].contains(']'),
        None => false,
    };
    if has_port {
        Some(authority.to_owned())
    } else {
        let port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        Some(format!("{authority}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn extracts_host_port() {
        assert_eq!(
            host_port("http://127.0.0.1:8080/x?y").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            host_port("https://example.com/").as_deref(),
            Some("example.com:443")
        );
        assert_eq!(host_port("http://[::1]/").as_deref(), Some("[::1]:80"));
        assert_eq!(host_port("no-scheme"), None);
    }
}
