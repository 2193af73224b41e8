//! Where granted secrets come from. Values never reach logs or reports.

/// Resolves a secret by name. Only consulted for names the plan grants.
pub trait SecretSource: Send + Sync {
    /// The secret's value, or `None` if it is not configured.
    fn get(&self, name: &str) -> Option<String>;
}

/// Secrets from the runner's environment: `NAME` is read from
/// `CUTOVER_SECRET_NAME` (upper-cased, non-alphanumerics as `_`).
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

impl EnvSecrets {
    /// The environment variable that holds secret `name`.
    pub fn var_name(name: &str) -> String {
        let mut v = String::from("CUTOVER_SECRET_");
        v.extend(name.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        v
    }
}

impl SecretSource for EnvSecrets {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(Self::var_name(name)).ok()
    }
}

/// A fixed set of secrets (tests, `plugin run --secret`).
#[derive(Debug, Default, Clone)]
pub struct StaticSecrets(pub std::collections::BTreeMap<String, String>);

impl SecretSource for StaticSecrets {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Replaces every known secret value in `text` with `***`.
pub(crate) fn redact(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for v in values.iter().filter(|v| v.len() >= 4) {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), "***");
        }
    }
    out
}
