//! Parsing and semantic validation of a plan file. Every problem found is
//! collected; the plan is returned only when there are none.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::duration::{RangePart, parse_duration_ms, parse_duration_range, parse_size};
use crate::model::*;
use crate::raw::*;
use crate::resolver::{PluginInfo, PluginResolver};

mod backtest;
mod canary;
mod migrate;
mod phases;
mod plugins;
mod scope;
mod steps;
mod support;
mod waves;

pub use plugins::check_host;
pub use steps::table_to_json;

/// A validated plan together with what was learned while validating it.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    /// Plan file path as given.
    pub path: PathBuf,
    /// Directory the plan's relative paths are resolved against.
    pub base_dir: PathBuf,
    /// The plan source text.
    pub source: String,
    /// The validated plan.
    pub plan: Plan,
    /// sha256 of each plugin file, by plugin id.
    pub digests: BTreeMap<String, String>,
    /// Each plugin's self-description, by plugin id.
    pub infos: BTreeMap<String, PluginInfo>,
}

impl LoadedPlan {
    /// Absolute-or-relative path of a plugin file (resolved against the plan).
    pub fn plugin_path(&self, plugin_id: &str) -> Option<PathBuf> {
        self.plan
            .plugins
            .get(plugin_id)
            .map(|p| self.base_dir.join(&p.path))
    }

    /// The state directory resolved against the plan's directory.
    pub fn state_dir(&self) -> PathBuf {
        self.base_dir.join(&self.plan.meta.state_dir)
    }

    /// The shared state database URL: `CUTOVER_STATE_URL` when set and not
    /// blank, else `[plan] state`; `None`: the state directory holds it all.
    pub fn state_url(&self) -> Option<String> {
        std::env::var(cutover_base::STATE_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| self.plan.meta.state.clone())
    }

    /// Fingerprint of the plan and its plugin files.
    pub fn fingerprint(&self) -> String {
        self.plan.fingerprint(&self.digests)
    }
}

/// Reads and validates the plan at `path`.
pub fn load(path: &Path, resolver: &dyn PluginResolver) -> Result<LoadedPlan, Diagnostics> {
    let file_name = path.display().to_string();
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(e) => {
            let mut diags = Diagnostics::new(file_name, "");
            diags.push(Diagnostic::file(format!("cannot read plan file: {e}")));
            return Err(diags);
        }
    };
    let base_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    validate_in(&source, &file_name, &base_dir, resolver).map(|mut loaded| {
        loaded.path = path.to_path_buf();
        loaded
    })
}

/// Validates plan source `src`; relative paths are resolved against the
/// directory of `file_name`, which is also the name shown in diagnostics.
pub fn validate(
    src: &str,
    file_name: &str,
    resolver: &dyn PluginResolver,
) -> Result<Plan, Diagnostics> {
    let base_dir = Path::new(file_name).parent().unwrap_or(Path::new(""));
    validate_in(src, file_name, base_dir, resolver).map(|loaded| loaded.plan)
}

/// Validates plan source `src` with an explicit base directory.
pub fn validate_in(
    src: &str,
    file_name: &str,
    base_dir: &Path,
    resolver: &dyn PluginResolver,
) -> Result<LoadedPlan, Diagnostics> {
    let mut diags = Diagnostics::new(file_name, src);
    let raw: RawFile = match toml::from_str(src) {
        Ok(raw) => raw,
        Err(e) => {
            diags.push(toml_error(&e));
            return Err(diags);
        }
    };
    let mut checker = Checker {
        diags,
        base_dir,
        resolver,
        digests: BTreeMap::new(),
        infos: BTreeMap::new(),
        plugin_ids: Vec::new(),
        system_adapters: (String::new(), String::new()),
        plugin_deadlines: BTreeMap::new(),
    };
    let plan = checker.plan(&raw);
    if checker.diags.is_empty() {
        Ok(LoadedPlan {
            path: PathBuf::from(file_name),
            base_dir: base_dir.to_path_buf(),
            source: src.to_string(),
            plan,
            digests: checker.digests,
            infos: checker.infos,
        })
    } else {
        Err(checker.diags)
    }
}

fn toml_error(e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_string();
    let help = if message.starts_with("unknown field") {
        Some("remove the key or fix its spelling; the keys allowed here are listed above")
    } else if message.starts_with("missing field") {
        Some("add the missing key to this table")
    } else if message.starts_with("invalid type") {
        Some("change the value to the expected type")
    } else {
        None
    };
    let mut diagnostic = match e.span() {
        Some(span) => Diagnostic::at(span, message, "here"),
        None => Diagnostic::file(message),
    };
    if let Some(help) = help {
        diagnostic = diagnostic.help(help);
    }
    diagnostic
}

/// Where something happens in plan order: (phase index, slot). Steps use
/// their index, the checklist `CHECKLIST_SLOT`, the end-of-phase point `END_SLOT`.
type Position = (usize, usize);
const CHECKLIST_SLOT: usize = usize::MAX - 1;
const END_SLOT: usize = usize::MAX;

struct StepDef {
    phase: String,
    position: Position,
    kind: Option<StepKind>,
    types: Vec<String>,
}

struct PointDef {
    phase: String,
    position: Position,
}

struct Checker<'a> {
    diags: Diagnostics,
    base_dir: &'a Path,
    resolver: &'a dyn PluginResolver,
    digests: BTreeMap<String, String>,
    infos: BTreeMap<String, PluginInfo>,
    plugin_ids: Vec<String>,
    /// Adapter plugin ids of the old and the new system.
    system_adapters: (String, String),
    /// Each plugin's deadline in ms (a canary's wait must fit in it).
    plugin_deadlines: BTreeMap<String, u64>,
}

fn span_of<T>(s: &Spanned<T>) -> Range<usize> {
    s.span()
}

impl Checker<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.diags.line_col(span.start).0
    }

    fn plan(&mut self, raw: &RawFile) -> Plan {
        self.plugin_ids = raw.plugins.keys().cloned().collect();
        let meta = self.meta(&raw.plan);
        let mut plugins = BTreeMap::new();
        for (id, plugin) in &raw.plugins {
            let spec = self.plugin(id, plugin, &meta.defaults);
            self.plugin_deadlines
                .insert(id.clone(), spec.limits.deadline_ms);
            plugins.insert(id.clone(), spec);
        }
        let systems = self.systems(raw);
        self.system_adapters = (systems.old.adapter.clone(), systems.new.adapter.clone());
        let phases = self.phases(raw);
        self.declared_support(raw, &systems, &phases.0);
        let risks = raw.risks.iter().map(|r| self.risk(r)).collect();
        let emergency = self.emergency(raw, &phases.1);
        self.alert_policy(raw.plan.get_ref(), &emergency);
        Plan {
            meta,
            plugins,
            systems,
            phases: phases.0,
            risks,
            emergency,
        }
    }

    fn meta(&mut self, plan: &Spanned<RawMeta>) -> PlanMeta {
        let m = plan.get_ref();
        if m.name.get_ref().trim().is_empty() {
            self.err(
                Diagnostic::at(span_of(&m.name), "plan name is empty", "empty name")
                    .help("give the plan a name, e.g. name = \"alerting-migration\""),
            );
        }
        let defaults = match &m.defaults {
            Some(l) => self.limits(l, Limits::default()),
            None => Limits::default(),
        };
        PlanMeta {
            name: m.name.get_ref().clone(),
            description: m.description.clone(),
            owner: m.owner.clone(),
            state_dir: m
                .state_dir
                .as_ref()
                .map_or_else(|| ".cutover".to_string(), |s| s.get_ref().clone()),
            state: m.state.as_ref().and_then(|s| self.state_url(s)),
            defaults,
            rollback_approvers: self.rollback_approvers(&m.rollback_approvers),
            on_alert: m.on_alert.as_ref().map(|s| s.get_ref().trim().to_string()),
            notify: m.notify.iter().map(|s| s.get_ref().clone()).collect(),
            notify_tls_ca: m
                .notify_tls_ca
                .iter()
                .map(|s| s.get_ref().clone())
                .collect(),
        }
    }

    /// `[plan] state`: a `postgres://` URL without a password.
    fn state_url(&mut self, s: &Spanned<String>) -> Option<String> {
        let url = s.get_ref().trim();
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"));
        let Some(rest) = rest else {
            self.err(
                Diagnostic::at(span_of(s), "state must be a postgres:// URL", "not a database URL")
                    .help("e.g. state = \"postgres://cutover@db.internal:5432/cutover\"; leave it out to keep state in state_dir"),
            );
            return None;
        };
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        if authority
            .rsplit_once('@')
            .is_some_and(|(user, _)| user.contains(':'))
        {
            self.err(
                Diagnostic::at(span_of(s), "state URL carries a password", "password in the plan")
                    .help("remove it; give the password in CUTOVER_STATE_PASSWORD, CUTOVER_STATE_PASSWORD_FILE or PGPASSWORD"),
            );
            return None;
        }
        if authority.is_empty()
            || rest
                .split_once('/')
                .is_none_or(|(_, db)| db.split('?').next().unwrap_or("").is_empty())
        {
            self.err(
                Diagnostic::at(
                    span_of(s),
                    "state URL names no server or no database",
                    "incomplete URL",
                )
                .help("write postgres://USER@HOST:PORT/DATABASE"),
            );
            return None;
        }
        Some(url.to_string())
    }

    /// `[plan] on_alert`: `pause`, `rollback` or `emergency:NAME` naming a
    /// procedure of the plan; `[plan] notify`: non-blank targets.
    fn alert_policy(&mut self, m: &RawMeta, emergency: &BTreeMap<String, Emergency>) {
        if let Some(p) = &m.on_alert {
            let text = p.get_ref().trim();
            match text {
                "pause" | "rollback" => {}
                _ => match text.strip_prefix("emergency:").map(str::trim) {
                    Some(name) if emergency.contains_key(name) => {}
                    Some(name) if !name.is_empty() => {
                        let known: Vec<&str> = emergency.keys().map(String::as_str).collect();
                        self.err(
                            Diagnostic::at(
                                span_of(p),
                                format!("on_alert names emergency procedure `{name}`, which the plan does not define"),
                                "unknown procedure",
                            )
                            .help(if known.is_empty() {
                                format!("add an [emergency.{name}] section with its steps")
                            } else {
                                format!("procedures of this plan: {}", known.join(", "))
                            }),
                        );
                    }
                    _ => self.err(
                        Diagnostic::at(
                            span_of(p),
                            format!("invalid on_alert `{text}`"),
                            "not an alert policy",
                        )
                        .help("use pause, rollback or emergency:NAME"),
                    ),
                },
            }
        }
        for t in &m.notify {
            self.notify_target(t);
        }
        for ca in &m.notify_tls_ca {
            if let Err((message, label)) = plugins::check_tls_ca(self.base_dir, ca.get_ref()) {
                self.err(
                    Diagnostic::at(span_of(ca), format!("notify_tls_ca: {message}"), label)
                        .help("give a PEM file of the CA certificate(s) that sign the webhook server's certificate, relative to the plan file, e.g. \"./certs/hooks-ca.pem\""),
                );
            }
        }
    }

    /// A notification target (`[plan] notify`, an emergency procedure's
    /// `notify`, a notify step's `target`) that can never be sent to.
    fn notify_target(&mut self, t: &Spanned<String>) {
        if let Err(e) = cutover_notify::Target::check(t.get_ref()) {
            self.err(
                Diagnostic::at(span_of(t), e.to_string(), e.label())
                    .help("a webhook URL (http://host:port/path or https://..., optionally prefixed am+ or slack+) or a name such as \"#alerting\""),
            );
        }
    }

    /// `[plan] rollback_approvers`: names must be non-blank and listed once.
    fn rollback_approvers(&mut self, raw: &[Spanned<String>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in raw {
            let text = name.get_ref();
            if text.trim().is_empty() {
                self.err(
                    Diagnostic::at(span_of(name), "rollback approver is empty", "empty name").help(
                        "name who may approve a rollback, e.g. rollback_approvers = [\"sre-lead\"]",
                    ),
                );
            } else if out.contains(text) {
                self.err(
                    Diagnostic::at(
                        span_of(name),
                        format!("rollback approver `{text}` is listed twice"),
                        "duplicate",
                    )
                    .help("list each approver once"),
                );
            } else {
                out.push(text.clone());
            }
        }
        out
    }

    fn duration_ms(&mut self, text: &Spanned<String>, what: &str) -> Option<u64> {
        match parse_duration_ms(text.get_ref()) {
            Ok(ms) => Some(ms),
            Err(e) => {
                let mut e = e.to_string();
                if text.get_ref().contains("..") {
                    e.push_str("; a range MIN..MAX is only allowed for a phase's `duration`");
                }
                self.err(
                    Diagnostic::at(span_of(text), format!("bad duration for `{what}`: {e}"), "not a duration")
                        .help("write a number followed by a unit: \"500ms\", \"30s\", \"15m\", \"4h\", \"2d\", \"1w\" or a combination like \"1h30m\""),
                );
                None
            }
        }
    }

    /// A phase's `duration`: one duration or a range `MIN..MAX`. Returns
    /// `(min_ms, max_ms)`; a problem in one side of a range points at it.
    fn phase_duration(&mut self, text: &Spanned<String>) -> Option<(u64, u64)> {
        let value = text.get_ref();
        if !value.contains("..") {
            return self.duration_ms(text, "duration").map(|d| (d, d));
        }
        match parse_duration_range(value) {
            Ok(range) => Some(range),
            Err(e) => {
                let span = span_of(text);
                // Point inside the string when it is written plainly (no escapes).
                let inner = span.start + 1..span.end.saturating_sub(1);
                let narrowed = e.part != RangePart::Whole
                    && self.diags.source.get(inner.clone()) == Some(value.as_str());
                let (span, label) = if narrowed {
                    (
                        inner.start + e.at.start..inner.start + e.at.end,
                        "not a duration",
                    )
                } else {
                    (span, "not a duration range")
                };
                self.err(
                    Diagnostic::at(span, format!("bad duration for `duration`: {}", e.message), label)
                        .help("write a duration such as \"2d\", or a range MIN..MAX such as \"1w..2w\" (units ms, s, m, h, d, w)"),
                );
                None
            }
        }
    }

    fn limits(&mut self, raw: &RawLimits, base: Limits) -> Limits {
        let mut limits = base;
        if let Some(d) = &raw.deadline
            && let Some(ms) = self.duration_ms(d, "deadline")
        {
            limits.deadline_ms = ms;
        }
        if let Some(m) = &raw.memory {
            match parse_size(m.get_ref()) {
                Ok(bytes) => limits.memory_bytes = bytes,
                Err(e) => self.err(
                    Diagnostic::at(span_of(m), format!("bad memory size: {e}"), "not a size")
                        .help("write e.g. \"64MiB\""),
                ),
            }
        }
        if let Some(o) = &raw.output {
            match parse_size(o.get_ref()) {
                Ok(bytes) => limits.output_bytes = Some(bytes),
                Err(e) => self.err(
                    Diagnostic::at(span_of(o), format!("bad output size: {e}"), "not a size")
                        .help("write e.g. \"256MiB\" (the most a call may hand the host)"),
                ),
            }
        }
        limits
    }
}
