//! Steps: per-kind keys, required fields and references to earlier backups.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::plugins::article_str;
use super::{Checker, Position, StepDef, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::*;
use crate::raw::*;
use crate::resolver::PluginKind;
use crate::step_fields::allowed_fields;

impl Checker<'_> {
    pub(super) fn step(
        &mut self,
        position: Position,
        st: &RawStep,
        defs: &HashMap<String, StepDef>,
    ) -> Option<Step> {
        let sid = st.id.get_ref().clone();
        let Some(kind) = StepKind::parse(st.kind.get_ref()) else {
            let all: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
            self.err(
                Diagnostic::at(
                    span_of(&st.kind),
                    format!("step `{sid}`: unknown step kind `{}`", st.kind.get_ref()),
                    "unknown kind",
                )
                .help(format!("use one of: {}", all.join(", "))),
            );
            return None;
        };
        let allowed = allowed_fields(kind);
        for (field, span) in present_fields(st) {
            if !allowed.contains(&field) {
                self.err(
                    Diagnostic::at(
                        span,
                        format!(
                            "step `{sid}`: `{field}` is not allowed in a `{}` step",
                            kind.as_str()
                        ),
                        "not allowed for this kind",
                    )
                    .help(format!(
                        "a `{}` step takes: {}",
                        kind.as_str(),
                        allowed.join(", ")
                    )),
                );
            }
        }
        let kind_span = span_of(&st.kind);
        let need = |this: &mut Self, v: Option<&Spanned<String>>, field: &str| -> String {
            match v {
                Some(v) => v.get_ref().clone(),
                None => {
                    this.err(
                        Diagnostic::at(
                            kind_span.clone(),
                            format!(
                                "step `{sid}`: {} step needs `{field}`",
                                article_str(kind.as_str())
                            ),
                            format!("`{field}` missing"),
                        )
                        .help(format!("add `{field} = ...` to this step")),
                    );
                    String::new()
                }
            }
        };
        let action = match kind {
            StepKind::Action | StepKind::Check => {
                let plugin = need(self, st.plugin.as_ref(), "plugin");
                if let Some(p) = &st.plugin {
                    let want = if kind == StepKind::Action {
                        PluginKind::Action
                    } else {
                        PluginKind::Check
                    };
                    self.plugin_use(p, want, &format!("`{}` step `{sid}`", kind.as_str()));
                }
                let params = st
                    .params
                    .as_ref()
                    .map_or(serde_json::json!({}), |p| table_to_json(p.get_ref()));
                if kind == StepKind::Action {
                    StepAction::Action { plugin, params }
                } else {
                    StepAction::Check {
                        plugin,
                        params,
                        shadow: st.shadow.as_ref().is_some_and(|s| *s.get_ref()),
                    }
                }
            }
            StepKind::Backup => {
                let system = need(self, st.system.as_ref(), "system");
                let side = self.side(st.system.as_ref(), &system);
                let types = self.types(st, None);
                StepAction::Backup {
                    system: side,
                    types,
                }
            }
            StepKind::Restore => {
                let backup = need(self, st.backup.as_ref(), "backup");
                let mut available = None;
                if let Some(b) = &st.backup {
                    available = self.backup_ref(&sid, position, b, defs);
                }
                let types = match &st.types {
                    Some(_) => self.types(st, available.as_deref()),
                    None => Vec::new(),
                };
                StepAction::Restore { backup, types }
            }
            StepKind::RollbackPoint => StepAction::RollbackPoint {
                name: need(self, st.name.as_ref(), "name"),
                categories: self.categories(st.categories.as_ref()),
            },
            StepKind::ParallelRun => self.parallel_run(&sid, st, kind_span.clone()),
            StepKind::Approval => StepAction::Approval {
                message: need(self, st.message.as_ref(), "message"),
                approvers: st
                    .approvers
                    .as_ref()
                    .map(|a| a.get_ref().clone())
                    .unwrap_or_default(),
            },
            StepKind::Wait => {
                let text = need(self, st.duration.as_ref(), "duration");
                let _ = text;
                let duration_ms = st
                    .duration
                    .as_ref()
                    .and_then(|d| self.duration_ms(d, "duration"))
                    .unwrap_or(0);
                StepAction::Wait { duration_ms }
            }
            StepKind::Migrate => self.migrate(&sid, st),
            StepKind::Backtest => self.backtest(&sid, st, kind_span.clone()),
            StepKind::Canary => {
                let plugin = need(self, st.plugin.as_ref(), "plugin");
                self.canary(&sid, st, plugin, kind_span.clone())
            }
            StepKind::Notify => StepAction::Notify {
                message: need(self, st.message.as_ref(), "message"),
                // A target that can never be sent to is refused here.
                target: st
                    .target
                    .as_ref()
                    .inspect(|t| self.notify_target(t))
                    .map(|t| t.get_ref().clone())
                    .unwrap_or_default(),
            },
        };
        Some(Step {
            id: sid,
            idempotent: st.idempotent.unwrap_or(kind.default_idempotent()),
            description: st.description.clone().unwrap_or_default(),
            action,
        })
    }

    pub(super) fn side(&mut self, span: Option<&Spanned<String>>, text: &str) -> SystemSide {
        match text {
            "old" => SystemSide::Old,
            "new" => SystemSide::New,
            other => {
                if let Some(s) = span {
                    self.err(
                        Diagnostic::at(
                            span_of(s),
                            format!("unknown system `{other}`"),
                            "not a system",
                        )
                        .help("use \"old\" or \"new\""),
                    );
                }
                SystemSide::Old
            }
        }
    }

    pub(super) fn types(&mut self, st: &RawStep, available: Option<&[String]>) -> Vec<String> {
        let Some(types) = &st.types else {
            return BACKUP_TYPES.iter().map(|s| s.to_string()).collect();
        };
        let list = types.get_ref();
        if list.is_empty() {
            self.err(
                Diagnostic::at(span_of(types), "empty list of data types", "empty").help(format!(
                    "name at least one of: {} (or an adapter-defined type)",
                    BACKUP_TYPES.join(", ")
                )),
            );
        }
        for t in list {
            let ok = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !ok {
                self.err(
                    Diagnostic::at(
                        span_of(types),
                        format!("data type `{t}` is not a valid name"),
                        "bad data type",
                    )
                    .help(format!(
                        "use lowercase names like {}",
                        BACKUP_TYPES.join(", ")
                    )),
                );
            } else if let Some(avail) = available
                && !avail.contains(t)
            {
                self.err(
                    Diagnostic::at(
                        span_of(types),
                        format!("data type `{t}` is not in the referenced backup"),
                        "not backed up",
                    )
                    .help(format!("the backup holds: {}", avail.join(", "))),
                );
            }
        }
        list.clone()
    }

    /// Checks a restore's `backup` reference; returns the backup's types.
    pub(super) fn backup_ref(
        &mut self,
        sid: &str,
        position: Position,
        b: &Spanned<String>,
        defs: &HashMap<String, StepDef>,
    ) -> Option<Vec<String>> {
        let name = b.get_ref();
        let earlier: Vec<&str> = {
            let mut v: Vec<(&Position, &str)> = defs
                .iter()
                .filter(|(_, d)| d.kind == Some(StepKind::Backup) && d.position < position)
                .map(|(k, d)| (&d.position, k.as_str()))
                .collect();
            v.sort();
            v.into_iter().map(|(_, k)| k).collect()
        };
        let hint = if earlier.is_empty() {
            "add a backup step before this restore".to_string()
        } else {
            format!("earlier backup steps: {}", earlier.join(", "))
        };
        match defs.get(name) {
            None => {
                self.err(
                    Diagnostic::at(
                        span_of(b),
                        format!("step `{sid}` restores unknown backup step `{name}`"),
                        "no such step",
                    )
                    .help(hint),
                );
                None
            }
            Some(d) if d.kind != Some(StepKind::Backup) => {
                self.err(
                    Diagnostic::at(
                        span_of(b),
                        format!("step `{sid}` restores `{name}`, which is not a backup step"),
                        "not a backup step",
                    )
                    .help(hint),
                );
                None
            }
            Some(d) if d.position >= position => {
                self.err(
                    Diagnostic::at(span_of(b), format!("step `{sid}` restores backup step `{name}`, which runs later (phase `{}`)", d.phase), "backup runs later")
                        .help(format!("a restore must name an EARLIER backup step; {hint}")),
                );
                None
            }
            Some(d) => Some(d.types.clone()),
        }
    }

    pub(super) fn parallel_run(
        &mut self,
        sid: &str,
        st: &RawStep,
        kind_span: Range<usize>,
    ) -> StepAction {
        let dur = |this: &mut Self,
                   v: Option<&Spanned<String>>,
                   field: &str,
                   default: Option<u64>|
         -> Option<u64> {
            match v {
                Some(v) => this.duration_ms(v, field),
                None => {
                    if default.is_none() {
                        this.err(
                            Diagnostic::at(
                                kind_span.clone(),
                                format!("step `{sid}`: a `parallel-run` step needs `{field}`"),
                                format!("`{field}` missing"),
                            )
                            .help(format!("add `{field} = \"...\"` (a duration) to this step")),
                        );
                    }
                    default
                }
            }
        };
        let window = dur(self, st.window.as_ref(), "window", None);
        let interval = dur(self, st.interval.as_ref(), "interval", None);
        let tolerance = st
            .tolerance
            .as_ref()
            .and_then(|t| self.duration_ms(t, "tolerance"));
        if let (Some(w), Some(i), Some(ws)) = (window, interval, st.window.as_ref())
            && (w < i || i == 0)
        {
            self.err(
                    Diagnostic::at(span_of(ws), format!("step `{sid}`: parallel-run window ({}) is shorter than its interval ({})", ws.get_ref(), st.interval.as_ref().map_or("", |i| i.get_ref().as_str())), "window < interval")
                        .help("the window must cover at least one sampling interval (and the interval must be > 0): make the window longer or the interval shorter"),
                );
        }
        if let Some(rate) = &st.min_match_rate {
            let r = *rate.get_ref();
            if !(0.0..=1.0).contains(&r) {
                self.err(
                    Diagnostic::at(
                        span_of(rate),
                        format!("step `{sid}`: min_match_rate {r} is outside 0..=1"),
                        "not a rate",
                    )
                    .help("write a fraction, e.g. 0.95"),
                );
            }
        }
        let noise = st.noise.as_ref().map(|n| self.noise_source(sid, n));
        if let Some(n) = st.noise_tolerant.as_ref().filter(|n| *n.get_ref())
            && st.noise.is_none()
        {
            self.err(
                Diagnostic::at(
                    span_of(n),
                    format!("step `{sid}`: noise_tolerant needs a noise source"),
                    "no `noise` on this step",
                )
                .help("add noise = \"second-read\" (or a replica's adapter) so that noisy alerts can be told apart"),
            );
        }
        let max_missing = self.count_field(sid, st.max_missing.as_ref(), "max_missing", 0);
        let min_alerts = self.count_field(sid, st.min_alerts.as_ref(), "min_alerts", 1);
        let allow_missing = st
            .allow_missing
            .as_ref()
            .and_then(|m| self.matcher_field(&format!("step `{sid}`"), "allow_missing", m));
        // A tolerance below the sampling interval cannot tell two stacks
        // apart from the moment each was polled: default max(interval, 60 s).
        let default_tolerance = interval.unwrap_or(0).max(DEFAULT_TOLERANCE_MS);
        StepAction::ParallelRun {
            window_ms: window.unwrap_or(0),
            interval_ms: interval.unwrap_or(0),
            tolerance_ms: tolerance.unwrap_or(default_tolerance),
            ignore_labels: st
                .ignore_labels
                .as_ref()
                .map(|l| l.get_ref().clone())
                .unwrap_or_default(),
            rename: st
                .rename
                .as_ref()
                .map(|r| r.get_ref().clone())
                .unwrap_or_default(),
            min_match_rate: st.min_match_rate.as_ref().map(|r| *r.get_ref()),
            shadow: st.shadow.as_ref().is_some_and(|s| *s.get_ref()),
            noise,
            max_missing,
            min_alerts,
            noise_tolerant: st.noise_tolerant.as_ref().is_some_and(|n| *n.get_ref()),
            allow_missing,
            by: st
                .by
                .as_ref()
                .and_then(|b| self.label_name_field(sid, "by", b)),
            scope: None,
        }
    }

    /// A label name field of step `sid` ([`is_label_name`]).
    fn label_name_field(&mut self, sid: &str, field: &str, v: &Spanned<String>) -> Option<String> {
        let name = v.get_ref();
        if is_label_name(name) {
            return Some(name.clone());
        }
        self.err(
            Diagnostic::at(
                span_of(v),
                format!("step `{sid}`: {field} must be a label name, not {name:?}"),
                "not a label name",
            )
            .help("a Prometheus label name: letters, digits and _, not starting with a digit, e.g. \"service\""),
        );
        None
    }

    /// A non-negative whole number field of step `sid` (`default` when absent).
    pub(super) fn count_field(
        &mut self,
        sid: &str,
        v: Option<&Spanned<i64>>,
        field: &str,
        default: u32,
    ) -> u32 {
        let Some(v) = v else { return default };
        match u32::try_from(*v.get_ref()) {
            Ok(n) => n,
            Err(_) => {
                self.err(
                    Diagnostic::at(
                        span_of(v),
                        format!("step `{sid}`: {field} {} is not a count", v.get_ref()),
                        "not a count",
                    )
                    .help(format!(
                        "write a whole number from 0 up, e.g. {field} = {default}"
                    )),
                );
                default
            }
        }
    }

    /// A parallel run's `noise`: `"second-read"` or a declared adapter plugin.
    fn noise_source(&mut self, sid: &str, n: &Spanned<String>) -> NoiseSource {
        let value = n.get_ref();
        if value == NoiseSource::SECOND_READ {
            return NoiseSource::SecondRead;
        }
        let (old, new) = &self.system_adapters;
        if value == new && value != old {
            self.err(
                Diagnostic::at(
                    span_of(n),
                    format!("step `{sid}`: the noise source `{value}` is the new system's adapter"),
                    "not a secondary of the old system",
                )
                .help(format!(
                    "the noise floor measures how much the old system disagrees with itself: use noise = \"{}\" or an adapter reading a replica of the old system",
                    NoiseSource::SECOND_READ
                )),
            );
        } else if self.plugin_ids.contains(value) {
            self.plugin_use(
                n,
                PluginKind::Adapter,
                &format!("the noise source of step `{sid}`"),
            );
        } else {
            let declared = if self.plugin_ids.is_empty() {
                "no plugins are declared".to_string()
            } else {
                format!("declared plugins: {}", self.plugin_ids.join(", "))
            };
            self.err(
                Diagnostic::at(
                    span_of(n),
                    format!(
                        "step `{sid}`: noise source `{value}` is neither \"{}\" nor a declared plugin",
                        NoiseSource::SECOND_READ
                    ),
                    "unknown noise source",
                )
                .help(format!(
                    "write noise = \"{}\" to read the old system twice, or the id of an adapter plugin declared under [plugins] ({declared})",
                    NoiseSource::SECOND_READ
                )),
            );
        }
        NoiseSource::Adapter(value.clone())
    }
}

/// Converts a TOML table to a JSON object (datetimes become strings).
pub fn table_to_json(table: &toml::Table) -> serde_json::Value {
    serde_json::Value::Object(
        table
            .iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

pub(super) fn value_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(value_to_json).collect()),
        toml::Value::Table(t) => table_to_json(t),
    }
}

pub(super) fn present_fields(st: &RawStep) -> Vec<(&'static str, Range<usize>)> {
    let mut v = Vec::new();
    let mut add = |name: &'static str, span: Option<Range<usize>>| {
        if let Some(span) = span {
            v.push((name, span));
        }
    };
    add("plugin", st.plugin.as_ref().map(span_of));
    add("params", st.params.as_ref().map(span_of));
    add("shadow", st.shadow.as_ref().map(span_of));
    add("system", st.system.as_ref().map(span_of));
    add("types", st.types.as_ref().map(span_of));
    add("backup", st.backup.as_ref().map(span_of));
    add("name", st.name.as_ref().map(span_of));
    add("categories", st.categories.as_ref().map(span_of));
    add("window", st.window.as_ref().map(span_of));
    add("interval", st.interval.as_ref().map(span_of));
    add("tolerance", st.tolerance.as_ref().map(span_of));
    add("ignore_labels", st.ignore_labels.as_ref().map(span_of));
    add("rename", st.rename.as_ref().map(span_of));
    add("min_match_rate", st.min_match_rate.as_ref().map(span_of));
    add("noise", st.noise.as_ref().map(span_of));
    add("max_missing", st.max_missing.as_ref().map(span_of));
    add("min_alerts", st.min_alerts.as_ref().map(span_of));
    add("noise_tolerant", st.noise_tolerant.as_ref().map(span_of));
    add("by", st.by.as_ref().map(span_of));
    add("allow_missing", st.allow_missing.as_ref().map(span_of));
    add("message", st.message.as_ref().map(span_of));
    add("approvers", st.approvers.as_ref().map(span_of));
    add("duration", st.duration.as_ref().map(span_of));
    add("target", st.target.as_ref().map(span_of));
    add("from", st.from.as_ref().map(span_of));
    add("to", st.to.as_ref().map(span_of));
    add("translate", st.translate.as_ref().map(span_of));
    add("scope", st.scope.as_ref().map(span_of));
    add(
        "allow_untranslatable",
        st.allow_untranslatable.as_ref().map(span_of),
    );
    v.sort_by_key(|(_, span)| span.start);
    v
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(super) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
