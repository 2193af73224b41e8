//! The plan file exactly as written: serde types with spans on every value
//! that validation may need to point at. Unknown keys are rejected everywhere.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::model::{OnFailure, RiskLevel, StepKind, SystemSide};

/// Spanned string (schema: plain string).
pub type SStr = Spanned<String>;

/// The whole plan file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cutover plan")]
pub struct RawFile {
    /// Plan metadata.
    #[schemars(with = "RawMeta")]
    pub plan: Spanned<RawMeta>,
    /// Plugins by id.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawPlugin>")]
    pub plugins: BTreeMap<String, Spanned<RawPlugin>>,
    /// The old and the new alerting system.
    #[schemars(with = "Option<RawSystems>")]
    pub systems: Option<Spanned<RawSystems>>,
    /// Ordered phases.
    #[serde(default)]
    #[schemars(with = "Vec<RawPhase>")]
    pub phases: Vec<Spanned<RawPhase>>,
    /// Risk register.
    #[serde(default)]
    pub risks: Vec<RawRisk>,
    /// Emergency procedures by name.
    #[serde(default)]
    pub emergency: BTreeMap<String, RawEmergency>,
}

/// `[plan]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    /// Plan name.
    #[schemars(with = "String")]
    pub name: SStr,
    /// What the plan does.
    #[serde(default)]
    pub description: String,
    /// Who owns the plan.
    #[serde(default)]
    pub owner: String,
    /// Where run state lives (default `.cutover` beside the plan).
    #[schemars(with = "Option<String>")]
    pub state_dir: Option<SStr>,
    /// Where the journal, lease and backups live for a team:
    /// `postgres://user@host:port/dbname` (the password comes from
    /// `CUTOVER_STATE_PASSWORD`, `CUTOVER_STATE_PASSWORD_FILE` or
    /// `PGPASSWORD`, never the plan). `CUTOVER_STATE_URL` overrides it.
    /// Absent: the state directory. `state_dir` then still holds local
    /// working files (reports, metrics).
    #[schemars(with = "Option<String>")]
    pub state: Option<SStr>,
    /// Default limits for plugin calls.
    pub defaults: Option<RawLimits>,
    /// Who may approve a `cutover rollback` (one of them must, unless
    /// `--now`); empty or absent: no approval needed.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub rollback_approvers: Vec<SStr>,
    /// What a migration alert does: `pause` (default), `rollback` or
    /// `emergency:NAME` (a procedure of `[emergency]`). `--on-alert` and
    /// `CUTOVER_ON_ALERT` override it.
    #[schemars(with = "Option<String>")]
    pub on_alert: Option<SStr>,
    /// Where migration alerts, incidents and escalations are sent: webhook
    /// URLs (Alertmanager or Slack JSON) or names that are only logged.
    /// `--notify` adds to them.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub notify: Vec<SStr>,
    /// PEM files of certificate authorities (relative to the plan file) that
    /// `https://` notification targets must chain to. When given, they
    /// replace the public web PKI roots for every notification of the plan.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub notify_tls_ca: Vec<SStr>,
}

/// Limits of one plugin call.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Wall-clock deadline, e.g. "30s".
    #[schemars(with = "Option<String>")]
    pub deadline: Option<SStr>,
    /// Memory cap, e.g. "64MiB".
    #[schemars(with = "Option<String>")]
    pub memory: Option<SStr>,
    /// Most a call may hand the host (a result, an export, an alert
    /// stream), e.g. "256MiB" (default 8MiB).
    #[schemars(with = "Option<String>")]
    pub output: Option<SStr>,
}

/// `[plugins.<id>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlugin {
    /// Path of the `.wasm` component, relative to the plan file.
    #[schemars(with = "String")]
    pub path: SStr,
    /// sha256 pin of the component (64 hex digits).
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: Option<SStr>,
    /// Capabilities granted to the plugin.
    #[schemars(with = "Option<RawGrants>")]
    pub grants: Option<Spanned<RawGrants>>,
    /// Limits overriding `[plan.defaults]`.
    pub limits: Option<RawLimits>,
}

/// What a plugin is allowed to use.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrants {
    /// HTTP targets as `scheme://host:port`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub hosts: Vec<SStr>,
    /// Directories mapped by logical name.
    #[serde(default)]
    #[schemars(with = "Vec<RawDir>")]
    pub dirs: Vec<Spanned<RawDir>>,
    /// Secret names.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub secrets: Vec<SStr>,
    /// Plugin config values.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// PEM files of certificate authorities (relative to the plan file) that
    /// the plugin's HTTPS requests trust. When given, they replace the public
    /// web PKI roots for this plugin.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub tls_ca: Vec<SStr>,
}

/// One directory grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDir {
    /// Logical name the plugin asks for.
    pub name: String,
    /// Host path, relative to the plan file.
    #[schemars(with = "String")]
    pub path: SStr,
    /// Whether the plugin may write.
    #[serde(default)]
    pub write: bool,
}

/// `[systems]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSystems {
    /// The system being migrated away from.
    #[schemars(with = "Option<RawSystem>")]
    pub old: Option<Spanned<RawSystem>>,
    /// The system being migrated to.
    #[schemars(with = "Option<RawSystem>")]
    pub new: Option<Spanned<RawSystem>>,
}

/// `[systems.old]` / `[systems.new]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSystem {
    /// Plugin id of an adapter plugin.
    #[schemars(with = "String")]
    pub adapter: SStr,
    /// Display name.
    #[serde(default)]
    pub label: String,
}

/// `[[phases]]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    /// Unique phase id.
    #[schemars(with = "String")]
    pub id: SStr,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the phase does.
    #[serde(default)]
    pub description: String,
    /// Expected duration: one value, e.g. "2d", or a range "MIN..MAX", e.g.
    /// "1w..2w". A phase running longer than the maximum (or the single
    /// value) is reported behind schedule.
    #[schemars(with = "Option<String>")]
    pub duration: Option<SStr>,
    /// Risk level.
    #[schemars(with = "RiskLevel")]
    pub risk: SStr,
    /// Highest risk level the phase accepts.
    #[schemars(with = "Option<RiskLevel>")]
    pub max_risk: Option<SStr>,
    /// Ordered steps.
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub steps: Vec<Spanned<RawStep>>,
    /// Checklist evaluated at the end of the phase.
    #[serde(default)]
    #[schemars(with = "Vec<RawChecklistItem>")]
    pub checklist: Vec<Spanned<RawChecklistItem>>,
    /// Approval gate before the phase may complete.
    pub gate: Option<RawGate>,
    /// The services this phase moves, as Prometheus label matchers
    /// (`'{team="core", service=~"checkout|cart"}'`) or `*` for everything
    /// left. Migrate steps cover the scopes of the earlier phases plus this one.
    #[schemars(with = "Option<String>")]
    pub scope: Option<SStr>,
    /// Rollback point captured at the end of the phase (default true).
    #[schemars(with = "Option<RawRollbackPoint>")]
    pub rollback_point: Option<Spanned<RawRollbackPoint>>,
    /// Splits the phase's services into waves of `size` values of one label:
    /// the phase's migrate and parallel-run steps run once per batch of
    /// `max_parallel` waves.
    #[schemars(with = "Option<RawWaves>")]
    pub waves: Option<Spanned<RawWaves>>,
    /// How many waves are moved and compared at once (default 1); only with
    /// `waves`.
    #[schemars(with = "Option<u32>")]
    pub max_parallel: Option<Spanned<i64>>,
}

/// `[phases.waves]`: which services each wave covers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWaves {
    /// The label whose values name the services (default `service`).
    #[schemars(with = "Option<String>")]
    pub label: Option<SStr>,
    /// Values per wave.
    #[schemars(with = "u32")]
    pub size: Spanned<i64>,
    /// The services, in the order they move.
    pub values: Option<Vec<String>>,
    /// A file (relative to the plan) naming the services, one per line, in
    /// the order they move; blank lines and `#` comments are skipped.
    #[schemars(with = "Option<String>")]
    pub values_file: Option<SStr>,
}

/// `rollback_point = true | false | { name = "..", categories = [..] }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawRollbackPoint {
    /// On (default name `after-<phase id>`) or off.
    Enabled(bool),
    /// On, with details.
    Detailed(RawRollbackDetail),
}

/// Detailed end-of-phase rollback point.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRollbackDetail {
    /// Rollback point name.
    pub name: Option<String>,
    /// Categories to capture (default: all).
    pub categories: Option<Vec<String>>,
}

/// Approval gate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// Who may approve.
    pub approvers: Vec<String>,
    /// What the approvers confirm.
    #[serde(default)]
    pub message: String,
}

/// `[[phases.steps]]`: one flat table; which keys are allowed depends on `kind`
/// (checked during validation, with spans).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = crate::step_fields::step_kind_rules)]
pub struct RawStep {
    /// Step id, unique within the plan.
    #[schemars(with = "String")]
    pub id: SStr,
    /// Step kind.
    #[schemars(with = "StepKind")]
    pub kind: SStr,
    /// Safe to repeat after a crash (default depends on kind).
    pub idempotent: Option<bool>,
    /// What the step does.
    pub description: Option<String>,
    /// action/check: plugin id.
    #[schemars(with = "Option<String>")]
    pub plugin: Option<SStr>,
    /// action/check: parameters passed to the plugin as JSON.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub params: Option<Spanned<toml::Table>>,
    /// check/parallel-run: recorded, never gates.
    #[schemars(with = "Option<bool>")]
    pub shadow: Option<Spanned<bool>>,
    /// migrate: the system exported from (`old` or `new`).
    #[schemars(with = "Option<SystemSide>")]
    pub from: Option<SStr>,
    /// migrate: the system imported into.
    #[schemars(with = "Option<SystemSide>")]
    pub to: Option<SStr>,
    /// migrate: translator plugin id.
    #[schemars(with = "Option<String>")]
    pub translate: Option<SStr>,
    /// migrate: narrows the phase's scope (label matchers).
    #[schemars(with = "Option<String>")]
    pub scope: Option<SStr>,
    /// migrate: an untranslatable item does not fail the step (default false).
    #[schemars(with = "Option<bool>")]
    pub allow_untranslatable: Option<Spanned<bool>>,
    /// backup: which system.
    #[schemars(with = "Option<SystemSide>")]
    pub system: Option<SStr>,
    /// backup/restore: data types.
    #[schemars(with = "Option<Vec<String>>")]
    pub types: Option<Spanned<Vec<String>>>,
    /// restore: id of an earlier backup step.
    #[schemars(with = "Option<String>")]
    pub backup: Option<SStr>,
    /// rollback-point: name.
    #[schemars(with = "Option<String>")]
    pub name: Option<SStr>,
    /// rollback-point: categories to capture (default: configurations,
    /// active_alerts, system_metrics, user_permissions); each must be
    /// declared by both systems' adapters.
    #[schemars(with = "Option<Vec<String>>")]
    pub categories: Option<Spanned<Vec<String>>>,
    /// parallel-run: how long to compare.
    #[schemars(with = "Option<String>")]
    pub window: Option<SStr>,
    /// backtest: how much recorded history, ending when the step runs.
    #[schemars(with = "Option<String>")]
    pub history: Option<SStr>,
    /// backtest: one evaluation step for every rule group (default: each
    /// group's own interval).
    #[schemars(with = "Option<String>")]
    pub step: Option<SStr>,
    /// parallel-run: how often to sample.
    #[schemars(with = "Option<String>")]
    pub interval: Option<SStr>,
    /// parallel-run: allowed start-time difference between matching alerts.
    #[schemars(with = "Option<String>")]
    pub tolerance: Option<SStr>,
    /// parallel-run: labels ignored when matching.
    #[schemars(with = "Option<Vec<String>>")]
    pub ignore_labels: Option<Spanned<Vec<String>>>,
    /// parallel-run: alert names renamed old -> new.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub rename: Option<Spanned<BTreeMap<String, String>>>,
    /// parallel-run: lowest acceptable match rate (0..=1).
    #[schemars(with = "Option<f64>")]
    pub min_match_rate: Option<Spanned<f64>>,
    /// parallel-run: noise calibration source, `"second-read"` (read the old
    /// system again right after each read) or the id of an adapter plugin
    /// (a secondary of the old system, e.g. its HA replica).
    #[schemars(with = "Option<String>")]
    pub noise: Option<SStr>,
    /// parallel-run: how many old alerts may be missing on the new system
    /// (default 0: any missing alert fails the run).
    #[schemars(with = "Option<u32>")]
    pub max_missing: Option<Spanned<i64>>,
    /// parallel-run: fewest old alert episodes that make the window evidence
    /// (default 1); fewer is `inconclusive`, never a pass.
    #[schemars(with = "Option<u32>")]
    pub min_alerts: Option<Spanned<i64>>,
    /// parallel-run: an old alert the noise source did not reproduce either
    /// (`noisy`) does not count as missing.
    #[schemars(with = "Option<bool>")]
    pub noise_tolerant: Option<Spanned<bool>>,
    /// parallel-run: a label (e.g. `"service"`) whose every value gets its
    /// own result in the step's reports: match rate, missing, extra, delays.
    #[schemars(with = "Option<String>")]
    pub by: Option<SStr>,
    /// parallel-run: missing old alerts whose labels match these Prometheus
    /// label matchers are tolerated (e.g. `'{severity!="critical"}'`); the
    /// others still count against `max_missing`.
    #[schemars(with = "Option<String>")]
    pub allow_missing: Option<SStr>,
    /// approval/notify: message.
    #[schemars(with = "Option<String>")]
    pub message: Option<SStr>,
    /// approval: who may approve.
    #[schemars(with = "Option<Vec<String>>")]
    pub approvers: Option<Spanned<Vec<String>>>,
    /// wait: how long.
    #[schemars(with = "Option<String>")]
    pub duration: Option<SStr>,
    /// notify: where to send.
    #[schemars(with = "Option<String>")]
    pub target: Option<SStr>,
}

/// `[[phases.checklist]]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChecklistItem {
    /// What must be true.
    pub item: String,
    /// A failure of a critical item blocks the phase.
    #[serde(default)]
    pub critical: bool,
    /// Check plugin id that verifies the item (manual confirmation if absent).
    #[schemars(with = "Option<String>")]
    pub check: Option<SStr>,
    /// Parameters for the check plugin.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub params: Option<Spanned<toml::Table>>,
    /// What to do when the item fails (default halt).
    #[schemars(with = "Option<OnFailure>")]
    pub on_failure: Option<SStr>,
    /// Rollback point to return to when `on_failure = "rollback"`.
    #[schemars(with = "Option<String>")]
    pub rollback_to: Option<SStr>,
    /// Built-in check: the match rate of this phase's parallel run must be
    /// at least this fraction (no data fails). Excludes `check`.
    #[schemars(with = "Option<f64>")]
    pub min_match_rate: Option<Spanned<f64>>,
    /// The parallel-run step of this phase that `min_match_rate` judges
    /// (default: the phase's last parallel-run step).
    #[schemars(with = "Option<String>")]
    pub parallel_run: Option<SStr>,
    /// Recorded, never gates.
    #[serde(default)]
    pub shadow: bool,
}

/// `[[risks]]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRisk {
    /// Risk id.
    pub id: String,
    /// Short name.
    pub name: String,
    /// Details.
    #[serde(default)]
    pub description: String,
    /// Probability.
    #[schemars(with = "RiskLevel")]
    pub probability: SStr,
    /// Impact.
    #[schemars(with = "RiskLevel")]
    pub impact: SStr,
    /// How the risk is reduced.
    #[serde(default)]
    pub mitigation: String,
    /// Who watches it.
    #[serde(default)]
    pub owner: String,
}

/// `[emergency.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEmergency {
    /// When to use this procedure.
    #[serde(default)]
    pub description: String,
    /// Rollback point to return to.
    #[schemars(with = "Option<String>")]
    pub rollback_to: Option<SStr>,
    /// Who to notify.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub notify: Vec<SStr>,
    /// Manual instructions, in order.
    #[serde(default)]
    pub steps: Vec<String>,
    /// How long the procedure may stay unresolved before its `notify`
    /// targets are escalated to, e.g. "15m" (default 15m).
    #[schemars(with = "Option<String>")]
    pub escalation: Option<SStr>,
}
