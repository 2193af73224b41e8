//! An HTTP endpoint from plugin config (`url`, `timeout_ms`, `auth`), through
//! the SDK client. Credentials never appear in errors or logs.

use std::time::Duration;

use crate::base64::basic_auth;
use crate::reload::ReloadAnswer;
use cutover_plugin_sdk::http::{HttpMethod, Response};
use cutover_plugin_sdk::{Capabilities, PluginError, config, invalid_input, secret, unavailable};

/// Default per-request timeout.
const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// What a plugin that only talks to one endpoint through [`Client::from_config`]
/// asks for: the host in config `url`, config `url`, `timeout_ms` and
/// `auth`, and the secrets `<prefix>_user` and `<prefix>_password`.
pub fn capabilities(secret_prefix: &str) -> Capabilities {
    Capabilities {
        hosts: vec!["config:url".to_owned()],
        directories: Vec::new(),
        config_keys: ["url", "timeout_ms", "auth"].map(String::from).to_vec(),
        secrets: vec![
            format!("{secret_prefix}_user"),
            format!("{secret_prefix}_password"),
        ],
    }
}

/// A configured HTTP endpoint.
pub struct Client {
    base: String,
    auth: Option<String>,
    timeout: Duration,
}

impl Client {
    /// From config `url` (required), `timeout_ms` (optional) and, when config
    /// `auth` is `basic` (or `require_auth`), the secrets `<prefix>_user` and
    /// `<prefix>_password`.
    pub fn from_config(secret_prefix: &str, require_auth: bool) -> Result<Self, PluginError> {
        Self::from_config_key("url", secret_prefix, require_auth)
    }

    /// As [`Client::from_config`], with the base URL read from config key
    /// `url_key` (e.g. `alertmanager_url`) instead of `url`.
    pub fn from_config_key(
        url_key: &str,
        secret_prefix: &str,
        require_auth: bool,
    ) -> Result<Self, PluginError> {
        Self::from_config_keys(url_key, "auth", secret_prefix, require_auth)
    }

    /// As [`Client::from_config_key`], with the auth mode read from config
    /// key `auth_key` (e.g. `alertmanager_auth`), for a second endpoint of
    /// one plugin.
    pub fn from_config_keys(
        url_key: &str,
        auth_key: &str,
        secret_prefix: &str,
        require_auth: bool,
    ) -> Result<Self, PluginError> {
        let base = config(url_key)
            .ok_or_else(|| invalid_input(format!("config `{url_key}` is not set")))?;
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid_input(format!(
                "config `{url_key}` = {base:?}: expected http:// or https://"
            )));
        }
        let timeout_ms = match config("timeout_ms") {
            None => DEFAULT_TIMEOUT_MS,
            Some(t) => t.trim().parse().map_err(|_| {
                invalid_input(format!("config `timeout_ms` = {t:?}: not a whole number"))
            })?,
        };
        let mode = config(auth_key)
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| if require_auth { "basic" } else { "none" }.to_owned());
        let auth = match mode.as_str() {
            "none" if !require_auth => None,
            "basic" => Some(basic_auth(
                &secret(&format!("{secret_prefix}_user"))?,
                &secret(&format!("{secret_prefix}_password"))?,
            )),
            "none" => {
                return Err(invalid_input(format!(
                    "config `{auth_key}` = \"none\": this system needs basic auth"
                )));
            }
            other => {
                return Err(invalid_input(format!(
                    "config `{auth_key}` = {other:?}: expected `none` or `basic`"
                )));
            }
        };
        Ok(Self {
            base,
            auth,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; any status is returned.
    pub fn send(
        &self,
        method: HttpMethod,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, PluginError> {
        self.send_with(method, path, &[], body)
    }

    /// Sends a request with extra headers; any status is returned.
    pub fn send_with(
        &self,
        method: HttpMethod,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, PluginError> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &self.auth {
            all.push(("authorization", a.as_str()));
        }
        let body = match body {
            Some(b) => {
                if !all
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    all.push(("content-type", "application/json"));
                }
                b
            }
            None => Vec::new(),
        };
        crate::transport::send(method, &self.url(path), &all, body, self.timeout)
    }

    /// `GET path`, requiring a 2xx answer; returns the body text.
    pub fn get_ok(&self, path: &str) -> Result<String, PluginError> {
        let r = self.send(HttpMethod::GET, path, None)?;
        ok_text(&self.url(path), "GET", r)
    }

    /// `POST path` with a JSON body, requiring a 2xx answer.
    pub fn post_json_ok(&self, path: &str, body: String) -> Result<String, PluginError> {
        let r = self.send(HttpMethod::POST, path, Some(body.into_bytes()))?;
        ok_text(&self.url(path), "POST", r)
    }

    /// `POST /-/reload`; a transport failure is `Err`, any status is `Ok`.
    pub fn reload(&self) -> Result<ReloadAnswer, String> {
        match self.send(HttpMethod::POST, "/-/reload", None) {
            Ok(r) => Ok(ReloadAnswer {
                status: r.status,
                body: r.text(),
            }),
            Err(e) => Err(describe(&e)),
        }
    }
}

/// The text of a plugin error without its variant name.
pub fn describe(e: &PluginError) -> String {
    match e {
        PluginError::InvalidInput(m)
        | PluginError::Unavailable(m)
        | PluginError::Denied(m)
        | PluginError::Unsupported(m)
        | PluginError::Failed(m) => m.clone(),
    }
}

/// The body of a 2xx answer, or `unavailable` naming method, URL and status.
pub fn ok_text(url: &str, method: &str, r: Response) -> Result<String, PluginError> {
    let text = r.text();
    if (200..300).contains(&r.status) {
        Ok(text)
    } else {
        let short: String = text.chars().take(500).collect();
        Err(unavailable(format!(
            "{method} {url}: HTTP {}: {}",
            r.status,
            short.trim()
        )))
    }
}
