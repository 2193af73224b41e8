//! An adapter's declaration of the backup types and rollback categories it
//! supports. The contract's `descriptor` has no field for it (a record
//! cannot gain one compatibly), so it is written into the description that
//! `describe()` returns, one line each, which the host reads:
//!
//! ```text
//! backup types: configurations, silences
//! rollback categories: configurations, silences
//! capture-only categories: active_alerts
//! ```
//!
//! A plan may ask an adapter only for what it declares; `cutover validate`
//! refuses the rest, and a rollback reports a capture-only category
//! `unsupported` without calling `restore-state`.

/// What an adapter supports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Support<'a> {
    /// Data kinds `export-data` and `import-data` accept.
    pub backup_types: &'a [&'a str],
    /// Rollback categories `capture-state` and `restore-state` accept.
    pub rollback_categories: &'a [&'a str],
    /// Rollback categories `capture-state` accepts and `restore-state`
    /// answers `unsupported` for (captured as evidence only).
    pub capture_only: &'a [&'a str],
}

/// `description` followed by the declaration lines of `support` (a line
/// only for a non-empty list).
///
/// ```ignore
/// descriptor("my-adapter", env!("CARGO_PKG_VERSION"), PluginKind::Adapter,
///     &declare_support("My system's REST API.", &Support {
///         backup_types: &["configurations"],
///         rollback_categories: &["configurations"],
///         capture_only: &["active_alerts"],
///     }))
/// ```
pub fn declare_support(description: &str, support: &Support) -> String {
    let mut out = description.trim_end().to_string();
    for (prefix, names) in [
        ("backup types:", support.backup_types),
        ("rollback categories:", support.rollback_categories),
        ("capture-only categories:", support.capture_only),
    ] {
        if !names.is_empty() {
            out.push('\n');
            out.push_str(prefix);
            out.push(' ');
            out.push_str(&names.join(", "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_description() {
        let text = declare_support(
            "Files in /data.\n",
            &Support {
                backup_types: &["configurations", "alert_rules"],
                rollback_categories: &["configurations"],
                capture_only: &["active_alerts"],
            },
        );
        assert_eq!(
            text,
            "Files in /data.\nbackup types: configurations, alert_rules\n\
             rollback categories: configurations\ncapture-only categories: active_alerts"
        );
        assert_eq!(
            declare_support("Read-only.", &Support::default()),
            "Read-only."
        );
    }
}
