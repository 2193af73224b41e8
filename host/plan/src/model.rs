//! The validated plan: typed, defaults applied, durations in milliseconds.
//! Its canonical JSON form is what the fingerprint is computed over.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod step;

pub use step::{Backtest, MIGRATE_TYPES, NoiseSource, Step, StepAction, StepKind};

/// A validated plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `[plan]` metadata.
    pub meta: PlanMeta,
    /// Plugins by id.
    pub plugins: BTreeMap<String, PluginSpec>,
    /// Old and new systems.
    pub systems: Systems,
    /// Ordered phases.
    pub phases: Vec<Phase>,
    /// Risk register.
    pub risks: Vec<Risk>,
    /// Emergency procedures by name.
    pub emergency: BTreeMap<String, Emergency>,
}

/// Plan metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanMeta {
    /// Plan name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Owner.
    pub owner: String,
    /// State directory as written, relative to the plan file (default `.cutover`).
    pub state_dir: String,
    /// Shared state database URL (`postgres://user@host:port/db`), when the
    /// plan's state is not only the state directory. Left out when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Default limits for plugin calls.
    pub defaults: Limits,
    /// Who may approve a `cutover rollback` without `--now` (empty: no
    /// approval needed). Left out of the normalized plan when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollback_approvers: Vec<String>,
    /// Alert policy (`pause`, `rollback`, `emergency:NAME`); `None`: pause,
    /// unless the command line names one. Left out when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_alert: Option<String>,
    /// Notification targets of the run. Left out when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    /// CA files (relative to the plan file) that `https://` notification
    /// targets must chain to instead of the public roots. Left out when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify_tls_ca: Vec<String>,
}

/// Limits for one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Deadline in milliseconds.
    pub deadline_ms: u64,
    /// Memory cap in bytes.
    pub memory_bytes: u64,
    /// Most a call may hand the host, in bytes (`None`: the host's default,
    /// 8 MiB). Left out of the serialised plan when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 30_000,
            memory_bytes: 64 << 20,
            output_bytes: None,
        }
    }
}

/// One plugin entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginSpec {
    /// Path as written, relative to the plan file.
    pub path: String,
    /// sha256 pin (lowercase hex).
    pub sha256: String,
    /// Granted capabilities.
    pub grants: Grants,
    /// Effective limits (plugin override or plan defaults).
    pub limits: Limits,
}

/// Granted capabilities.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    /// `scheme://host:port` targets.
    pub hosts: Vec<String>,
    /// Directory grants.
    pub dirs: Vec<DirGrant>,
    /// Secret names.
    pub secrets: Vec<String>,
    /// Config values.
    pub config: BTreeMap<String, String>,
    /// CA certificate files (PEM) trusted for HTTPS instead of the public
    /// roots, as written (relative to the plan file). Left out of the
    /// normalized plan when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_ca: Vec<String>,
}

/// One directory grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirGrant {
    /// Logical name (mounted at `/<name>`).
    pub name: String,
    /// Host path as written, relative to the plan file.
    pub path: String,
    /// Writable.
    pub write: bool,
}

/// Old and new systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Systems {
    /// Migrated from.
    pub old: SystemSpec,
    /// Migrated to.
    pub new: SystemSpec,
}

impl Systems {
    /// The system on `side`.
    pub fn side(&self, side: SystemSide) -> &SystemSpec {
        match side {
            SystemSide::Old => &self.old,
            SystemSide::New => &self.new,
        }
    }
}

/// One system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemSpec {
    /// Adapter plugin id.
    pub adapter: String,
    /// Display name.
    pub label: String,
}

/// Which side of the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SystemSide {
    /// The old system.
    Old,
    /// The new system.
    New,
}

impl SystemSide {
    /// The other side.
    pub fn other(self) -> SystemSide {
        match self {
            SystemSide::Old => SystemSide::New,
            SystemSide::New => SystemSide::Old,
        }
    }
}

impl fmt::Display for SystemSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SystemSide::Old => "old",
            SystemSide::New => "new",
        })
    }
}

/// Risk level, ordered low < medium < high.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl RiskLevel {
    /// Parses `low`, `medium` or `high`.
    pub fn parse(text: &str) -> Option<RiskLevel> {
        match text {
            "low" => Some(RiskLevel::Low),
            "medium" => Some(RiskLevel::Medium),
            "high" => Some(RiskLevel::High),
            _ => None,
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        })
    }
}

/// A phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Expected duration in milliseconds: the single value, or the minimum
    /// of a range `MIN..MAX`.
    pub duration_ms: Option<u64>,
    /// The maximum of a range `MIN..MAX` (absent for a single value, which is
    /// both). Left out of the serialised plan when absent, so plans without
    /// ranges keep their fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_max_ms: Option<u64>,
    /// Risk level.
    pub risk: RiskLevel,
    /// Highest accepted risk level.
    pub max_risk: Option<RiskLevel>,
    /// Ordered steps.
    pub steps: Vec<Step>,
    /// End-of-phase checklist.
    pub checklist: Vec<ChecklistItem>,
    /// Approval gate.
    pub gate: Option<Gate>,
    /// End-of-phase rollback point, if any.
    pub rollback_point: Option<RollbackPoint>,
    /// The services this phase moves (label matchers); `None`: no scope of
    /// its own. Left out of the serialised plan when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<translate_core::Scope>,
    /// The phase moves its services in waves: its migrate and parallel-run
    /// steps are already expanded, once per batch. Left out when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waves: Option<WavePlan>,
}

/// How a phase's services are split into waves (`[phases.waves]`) and how
/// many waves move at once (`max_parallel`). The phase's migrate and
/// parallel-run steps appear once per batch of `max_parallel` waves, with
/// ids `<step>.w<first>-<last>` (1-based wave numbers): each batch is
/// imported at once, verified, then compared on its own services, with a
/// result per service; the next batch starts only when this one passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WavePlan {
    /// The label whose values name the services.
    pub label: String,
    /// Values per wave.
    pub size: u32,
    /// Waves moved and compared at once.
    pub max_parallel: u32,
    /// The services, in the order they move.
    pub values: Vec<String>,
    /// The expanded steps, per batch: the steps' ids as written, and each
    /// batch's instances (`(instance id, first wave, last wave)`).
    pub batches: Vec<WaveBatch>,
}

/// One batch of a [`WavePlan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveBatch {
    /// First wave (1-based).
    pub first_wave: u32,
    /// Last wave (inclusive).
    pub last_wave: u32,
    /// The services this batch moves.
    pub services: u32,
    /// `(step id as written, instance id)`.
    pub steps: Vec<(String, String)>,
}

impl WavePlan {
    /// Waves in all.
    pub fn waves(&self) -> u32 {
        u32::try_from(self.values.len().div_ceil(self.size.max(1) as usize)).unwrap_or(u32::MAX)
    }

    /// The services batch `b` moves.
    pub fn values_of(&self, b: &WaveBatch) -> &[String] {
        let per_batch = (self.size as usize).saturating_mul(self.max_parallel.max(1) as usize);
        let index = (b.first_wave.saturating_sub(1) / self.max_parallel.max(1)) as usize;
        let start = index.saturating_mul(per_batch).min(self.values.len());
        let end = start
            .saturating_add(b.services as usize)
            .min(self.values.len());
        &self.values[start..end]
    }

    /// The batch and the step as written of instance `id`.
    pub fn instance(&self, id: &str) -> Option<(&WaveBatch, &str)> {
        self.batches.iter().find_map(|b| {
            b.steps
                .iter()
                .find(|(_, i)| i == id)
                .map(|(s, _)| (b, s.as_str()))
        })
    }
}

impl Phase {
    /// The longest the phase is expected to take: the maximum of a range, or
    /// the single duration. Past it, the phase is behind schedule.
    pub fn max_duration_ms(&self) -> Option<u64> {
        self.duration_max_ms.or(self.duration_ms)
    }

    /// The duration as written in a plan: `2d` or `1w..2w`.
    pub fn duration_text(&self) -> Option<String> {
        let min = self.duration_ms?;
        Some(crate::duration::format_duration_range(
            min,
            self.duration_max_ms.unwrap_or(min),
        ))
    }
}

/// End-of-phase rollback point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPoint {
    /// Name (default `after-<phase id>`).
    pub name: String,
    /// Categories to capture.
    pub categories: Vec<String>,
}

/// Rollback categories captured by default (see `capture-state` in the WIT).
pub const ROLLBACK_CATEGORIES: [&str; 4] = [
    "configurations",
    "active_alerts",
    "system_metrics",
    "user_permissions",
];

/// Standard backup data types (adapters may define more).
pub const BACKUP_TYPES: [&str; 4] = [
    "configurations",
    "alert_rules",
    "user_data",
    "historical_alerts",
];

/// Approval gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Who may approve.
    pub approvers: Vec<String>,
    /// Message shown.
    pub message: String,
}

/// What to do when a checklist item fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Stop the run.
    Halt,
    /// Record and continue.
    Warn,
    /// Wait for an operator.
    Pause,
    /// Roll back to a rollback point.
    Rollback,
}

impl OnFailure {
    /// Parses `halt`, `warn`, `pause` or `rollback`.
    pub fn parse(text: &str) -> Option<OnFailure> {
        match text {
            "halt" => Some(OnFailure::Halt),
            "warn" => Some(OnFailure::Warn),
            "pause" => Some(OnFailure::Pause),
            "rollback" => Some(OnFailure::Rollback),
            _ => None,
        }
    }
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// What must be true.
    pub item: String,
    /// Blocks the phase on failure.
    pub critical: bool,
    /// Check plugin id (manual confirmation when absent).
    pub check: Option<String>,
    /// Check parameters (JSON object).
    pub params: serde_json::Value,
    /// Failure policy.
    pub on_failure: OnFailure,
    /// Rollback point for `on_failure = rollback` (latest earlier one if absent).
    pub rollback_to: Option<String>,
    /// Built-in match-rate check (instead of a check plugin). Left out of
    /// the serialised plan when unset, so older plans keep their fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_rate: Option<MatchRateCheck>,
    /// Recorded, never gates.
    pub shadow: bool,
}

/// A checklist item judged on a parallel run of its phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRateCheck {
    /// Minimum match rate (fraction); no data fails.
    pub min: f64,
    /// Parallel-run step id (of the same phase).
    pub step: String,
}

/// One risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Probability.
    pub probability: RiskLevel,
    /// Impact.
    pub impact: RiskLevel,
    /// Mitigation.
    pub mitigation: String,
    /// Owner.
    pub owner: String,
}

/// One emergency procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emergency {
    /// When to use it.
    pub description: String,
    /// Rollback point to return to.
    pub rollback_to: Option<String>,
    /// Who to notify.
    pub notify: Vec<String>,
    /// Manual instructions.
    pub steps: Vec<String>,
    /// Time to resolve before escalating, in milliseconds.
    pub escalation_ms: u64,
}

/// Escalation time of an emergency procedure that does not set one.
pub const DEFAULT_ESCALATION_MS: u64 = 15 * 60 * 1000;

/// Default `tolerance` of a parallel run when its interval is shorter: two
/// stacks evaluate the same rule up to an evaluation interval apart.
pub const DEFAULT_TOLERANCE_MS: u64 = 60_000;
