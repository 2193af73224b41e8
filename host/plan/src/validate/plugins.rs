//! Plugin entries: file, pin, grants, requested capabilities, and uses of
//! plugins by systems, steps and checklists.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::*;
use crate::raw::*;
use crate::resolver::{PluginInfo, PluginKind};

impl Checker<'_> {
    pub(super) fn plugin(
        &mut self,
        id: &str,
        sp: &Spanned<RawPlugin>,
        defaults: &Limits,
    ) -> PluginSpec {
        let p = sp.get_ref();
        let table_span = span_of(sp);
        let rel = p.path.get_ref();
        let full = self.base_dir.join(rel);
        let digest = match std::fs::read(&full) {
            Ok(bytes) => Some(hex::encode(Sha256::digest(&bytes))),
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("plugin file not found: `{}`", full.display())
                } else {
                    format!("cannot read plugin file `{}`: {e}", full.display())
                };
                self.err(
                    Diagnostic::at(
                        span_of(&p.path),
                        format!("plugin `{id}`: {what}"),
                        "no such file",
                    )
                    .help("build the plugin or fix `path` (it is relative to the plan file)"),
                );
                None
            }
        };
        if let Some(d) = &digest {
            self.digests.insert(id.to_string(), d.clone());
        }
        let pin = match &p.sha256 {
            None => {
                let help = match &digest {
                    Some(d) => format!(
                        "add `sha256 = \"{d}\"` (the file's current digest) after reviewing the plugin, or run `cutover plugin lock`"
                    ),
                    None => "add `sha256 = \"<64 hex digits>\"`, or run `cutover plugin lock`"
                        .to_string(),
                };
                self.err(
                    Diagnostic::at(
                        table_span.clone(),
                        format!("plugin `{id}` has no sha256 pin"),
                        "pin missing",
                    )
                    .help(help),
                );
                String::new()
            }
            Some(pin) => {
                let text = pin.get_ref();
                let well_formed = text.len() == 64
                    && text
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
                if !well_formed {
                    self.err(
                        Diagnostic::at(
                            span_of(pin),
                            format!("plugin `{id}`: sha256 pin is not 64 lowercase hex digits"),
                            "malformed pin",
                        )
                        .help("write the full lowercase hex sha256 of the .wasm file"),
                    );
                } else if let Some(d) = &digest
                    && d != text
                {
                    self.err(
                            Diagnostic::at(span_of(pin), format!("plugin `{id}`: pin mismatch: the plan pins {text} but `{}` hashes to {d}", full.display()), "pin does not match the file")
                                .help("if the new build is trusted, update the pin (`cutover plugin lock`); otherwise restore the pinned file"),
                        );
                }
                text.clone()
            }
        };
        let (grants, grants_span) = match &p.grants {
            Some(g) => (self.grants(id, g.get_ref()), span_of(g)),
            None => (Grants::default(), table_span.clone()),
        };
        let limits = match &p.limits {
            Some(l) => self.limits(l, *defaults),
            None => *defaults,
        };
        if digest.is_some() {
            match self.resolver.describe_within(id, &full, &limits) {
                Ok(info) => {
                    self.capabilities(id, &info, &grants, grants_span);
                    self.infos.insert(id.to_string(), info);
                }
                Err(e) => self.err(
                    Diagnostic::at(
                        span_of(&p.path),
                        format!("plugin `{id}` could not be described: {e}"),
                        "not a usable plugin",
                    )
                    .help("point `path` at a cutover plugin component"),
                ),
            }
        }
        PluginSpec {
            path: rel.clone(),
            sha256: pin,
            grants,
            limits,
        }
    }

    pub(super) fn grants(&mut self, id: &str, g: &RawGrants) -> Grants {
        for host in &g.hosts {
            if let Err(why) = check_host(host.get_ref()) {
                self.err(
                    Diagnostic::at(span_of(host), format!("plugin `{id}`: host grant `{}` is not of the form scheme://host:port: {why}", host.get_ref()), "bad host grant")
                        .help("write e.g. \"http://127.0.0.1:9093\" (scheme http or https, explicit port, no path)"),
                );
            }
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for dir in &g.dirs {
            let d = dir.get_ref();
            if d.name.is_empty() || d.name.contains('/') {
                self.err(
                    Diagnostic::at(
                        span_of(dir),
                        format!(
                            "plugin `{id}`: directory grant name `{}` is not a plain name",
                            d.name
                        ),
                        "bad directory name",
                    )
                    .help("use a short name without `/`, e.g. name = \"data\""),
                );
            }
            if let Some(line) = seen.insert(d.name.as_str(), self.line_of(&span_of(dir))) {
                self.err(
                    Diagnostic::at(
                        span_of(dir),
                        format!(
                            "plugin `{id}`: directory `{}` is granted twice (first on line {line})",
                            d.name
                        ),
                        "duplicate directory grant",
                    )
                    .help("grant each directory name once"),
                );
            }
            if d.path.get_ref().is_empty() {
                self.err(
                    Diagnostic::at(
                        span_of(&d.path),
                        format!(
                            "plugin `{id}`: directory grant `{}` has an empty path",
                            d.name
                        ),
                        "empty path",
                    )
                    .help("give a path relative to the plan file, e.g. \"./data\""),
                );
            }
        }
        for ca in &g.tls_ca {
            if let Err((message, label)) = check_tls_ca(self.base_dir, ca.get_ref()) {
                self.err(
                    Diagnostic::at(span_of(ca), format!("plugin `{id}`: {message}"), label)
                        .help("give a PEM file of the CA certificate(s) that sign the server's certificate, relative to the plan file, e.g. \"./icinga/ca.crt\""),
                );
            }
        }
        Grants {
            hosts: g.hosts.iter().map(|h| h.get_ref().clone()).collect(),
            dirs: g
                .dirs
                .iter()
                .map(|d| DirGrant {
                    name: d.get_ref().name.clone(),
                    path: d.get_ref().path.get_ref().clone(),
                    write: d.get_ref().write,
                })
                .collect(),
            secrets: g.secrets.iter().map(|s| s.get_ref().clone()).collect(),
            config: g.config.clone(),
            tls_ca: g.tls_ca.iter().map(|c| c.get_ref().clone()).collect(),
        }
    }

    pub(super) fn capabilities(
        &mut self,
        id: &str,
        info: &PluginInfo,
        grants: &Grants,
        span: Range<usize>,
    ) {
        let mut missing = Vec::new();
        for host in &info.hosts {
            if let Some(key) = host.strip_prefix("config:") {
                match grants.config.get(key) {
                    None => missing.push(format!(
                        "config value `{key}` (the plugin reads its target URL from it)"
                    )),
                    Some(url) => {
                        if !grants.hosts.iter().any(|h| host_matches(h, url)) {
                            missing.push(format!("host `{url}` (from config `{key}`)"));
                        }
                    }
                }
            } else if !grants.hosts.iter().any(|h| host_matches(h, host)) {
                missing.push(format!("host `{host}`"));
            }
        }
        for (name, writable) in &info.dirs {
            match grants.dirs.iter().find(|d| &d.name == name) {
                None => missing.push(format!(
                    "directory `{name}`{}",
                    if *writable { " (writable)" } else { "" }
                )),
                Some(d) if *writable && !d.write => {
                    missing.push(format!("write access to directory `{name}`"))
                }
                Some(_) => {}
            }
        }
        for secret in &info.secrets {
            if !grants.secrets.contains(secret) {
                missing.push(format!("secret `{secret}`"));
            }
        }
        for what in missing {
            self.err(
                Diagnostic::at(span.clone(), format!("plugin `{id}` ({} {}) requests {what}, which the plan does not grant", info.name, info.version), "capability not granted")
                    .help(format!("grant it under [plugins.{id}.grants] (hosts = [..], dirs = [{{ name = .., path = .., write = .. }}], secrets = [..], config = {{ .. }}) or use another plugin")),
            );
        }
    }

    pub(super) fn plugin_use(&mut self, plugin: &Spanned<String>, want: PluginKind, used_as: &str) {
        let id = plugin.get_ref();
        if !self.plugin_ids.contains(id) {
            let known = if self.plugin_ids.is_empty() {
                "no plugins are declared".to_string()
            } else {
                format!("declared plugins: {}", self.plugin_ids.join(", "))
            };
            self.err(
                Diagnostic::at(
                    span_of(plugin),
                    format!("unknown plugin `{id}` used as {used_as}"),
                    "not declared under [plugins]",
                )
                .help(format!(
                    "declare [plugins.{id}] or use a declared one ({known})"
                )),
            );
            return;
        }
        if let Some(info) = self.infos.get(id)
            && info.kind != want
        {
            let kind = info.kind;
            self.err(
                Diagnostic::at(
                    span_of(plugin),
                    format!(
                        "plugin `{id}` is {} plugin, but {used_as} needs {} plugin",
                        article(kind),
                        article(want)
                    ),
                    format!("{kind} plugin"),
                )
                .help(format!(
                    "use a plugin whose describe() reports kind `{want}`"
                )),
            );
        }
    }

    pub(super) fn systems(&mut self, raw: &RawFile) -> Systems {
        let side = |this: &mut Self, sys: Option<&Spanned<RawSystem>>, name: &str| match sys {
            Some(s) => {
                let s = s.get_ref();
                this.plugin_use(
                    &s.adapter,
                    PluginKind::Adapter,
                    &format!("the adapter of system `{name}`"),
                );
                SystemSpec {
                    adapter: s.adapter.get_ref().clone(),
                    label: s.label.clone(),
                }
            }
            None => {
                let d = match &raw.systems {
                    Some(sys) => Diagnostic::at(
                        span_of(sys),
                        format!("[systems.{name}] is missing"),
                        "systems table",
                    ),
                    None => Diagnostic::file(format!("the plan has no [systems.{name}]")),
                };
                this.err(d.help(format!("add [systems.{name}] with adapter = \"<adapter plugin id>\" and label = \"...\"")));
                SystemSpec {
                    adapter: String::new(),
                    label: String::new(),
                }
            }
        };
        let systems = raw.systems.as_ref().map(|s| s.get_ref());
        Systems {
            old: side(self, systems.and_then(|s| s.old.as_ref()), "old"),
            new: side(self, systems.and_then(|s| s.new.as_ref()), "new"),
        }
    }
}

/// "an action", "a check", "an adapter".
pub(super) fn article(kind: PluginKind) -> String {
    article_str(&kind.to_string())
}

pub(super) fn article_str(word: &str) -> String {
    let an = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} `{word}`", if an { "an" } else { "a" })
}

/// Checks the `scheme://host:port` form of a host grant.
pub fn check_host(text: &str) -> Result<(), String> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err("missing `scheme://`".into());
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme `{scheme}` is not http or https"));
    }
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err("a grant names a host and port only, no path".into());
    }
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err("missing `:port`".into());
    };
    if host.is_empty() || host.contains('@') {
        return Err("missing host".into());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("`{port}` is not a port number")),
    }
}

/// Checks a `tls_ca` grant: the file (relative to `base_dir`) is readable
/// PEM with at least one `CERTIFICATE` block and no private key. The
/// runtime parses the certificates themselves when it builds the sandbox.
/// On error: (message, label).
pub fn check_tls_ca(base_dir: &Path, rel: &str) -> Result<(), (String, &'static str)> {
    use rustls_pki_types::pem::{PemObject, SectionKind};
    if rel.trim().is_empty() {
        return Err(("`tls_ca` has an empty path".to_string(), "empty path"));
    }
    let full = base_dir.join(rel);
    let bytes = std::fs::read(&full).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            (
                format!("CA certificate file not found: `{}`", full.display()),
                "no such file",
            )
        } else {
            (
                format!("cannot read CA certificate file `{}`: {e}", full.display()),
                "unreadable",
            )
        }
    })?;
    let bad = |why: String| {
        (
            format!("`{}` is not a CA certificate file: {why}", full.display()),
            "not a PEM CA certificate",
        )
    };
    let mut certificates = 0;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        match section.map_err(|e| bad(format!("malformed PEM ({e})")))? {
            (SectionKind::Certificate, _) => certificates += 1,
            (
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey,
                _,
            ) => {
                return Err(bad(
                    "it holds a private key; grant only the CA certificate".into()
                ));
            }
            _ => {}
        }
    }
    if certificates == 0 {
        return Err(bad(
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)".into(),
        ));
    }
    Ok(())
}

/// True when the grant `grant` (`scheme://host:port`) covers the URL `url`.
pub(super) fn host_matches(grant: &str, url: &str) -> bool {
    let origin = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            format!("{scheme}://{authority}")
        }
        None => url.to_string(),
    };
    grant.eq_ignore_ascii_case(&origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_forms() {
        assert!(check_host("http://127.0.0.1:9093").is_ok());
        assert!(check_host("https://am.example:443").is_ok());
        assert!(check_host("127.0.0.1:9093").is_err());
        assert!(check_host("http://127.0.0.1").is_err());
        assert!(check_host("ftp://h:21").is_err());
        assert!(check_host("http://h:80/path").is_err());
        assert!(check_host("http://h:99999").is_err());
    }

    #[test]
    fn tls_ca_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cert = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        std::fs::write(dir.path().join("ca.crt"), cert).unwrap();
        assert!(check_tls_ca(dir.path(), "ca.crt").is_ok());
        let key = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
        std::fs::write(dir.path().join("both.pem"), format!("{cert}{key}")).unwrap();
        let (msg, _) = check_tls_ca(dir.path(), "both.pem").unwrap_err();
        assert!(
            msg.contains("both.pem") && msg.contains("private key"),
            "{msg}"
        );
        std::fs::write(dir.path().join("text.pem"), "hello").unwrap();
        let (msg, label) = check_tls_ca(dir.path(), "text.pem").unwrap_err();
        assert!(msg.contains("no PEM certificate"), "{msg}");
        assert_eq!(label, "not a PEM CA certificate");
        let (msg, label) = check_tls_ca(dir.path(), "missing.crt").unwrap_err();
        assert!(msg.contains("missing.crt"), "{msg}");
        assert_eq!(label, "no such file");
        assert!(check_tls_ca(dir.path(), " ").is_err());
    }

    #[test]
    fn host_matching_uses_origin() {
        assert!(host_matches(
            "http://127.0.0.1:9093",
            "http://127.0.0.1:9093/api/v2/alerts"
        ));
        assert!(!host_matches(
            "http://127.0.0.1:9093",
            "http://127.0.0.1:9094"
        ));
    }
}
