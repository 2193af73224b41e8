//! Steps of a phase: the common fields ([`Step`]), the kinds as written
//! in `kind = "..."` ([`StepKind`]) and what each kind carries
//! ([`StepAction`]).

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SystemSide;

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique id within the plan.
    pub id: String,
    /// Safe to repeat after a crash.
    pub idempotent: bool,
    /// Description.
    pub description: String,
    /// What the step does.
    pub action: StepAction,
}

/// Data types a migrate step moves (each is also the adapters' data kind).
pub const MIGRATE_TYPES: [&str; 3] = ["alert_rules", "routes", "silences"];

/// Step kinds as written in `kind = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Run an action plugin.
    Action,
    /// Run a check plugin.
    Check,
    /// Back up data of a system.
    Backup,
    /// Restore an earlier backup.
    Restore,
    /// Capture a named rollback point.
    RollbackPoint,
    /// Compare old and new systems side by side.
    ParallelRun,
    /// Wait for a human approval.
    Approval,
    /// Wait a fixed time.
    Wait,
    /// Send a notification.
    Notify,
    /// Move data (rules, routes, silences) from one system to the other.
    Migrate,
    /// Page through both Alertmanagers with a synthetic alert and check
    /// that each expected receiver gets it (a paging canary check plugin).
    Canary,
    /// Predict, on a system's recorded history, what its rules and their
    /// translation would have fired, and gate on the comparison.
    Backtest,
}

impl StepKind {
    /// All kinds, in documentation order.
    pub const ALL: [StepKind; 12] = [
        StepKind::Action,
        StepKind::Check,
        StepKind::Backup,
        StepKind::Restore,
        StepKind::RollbackPoint,
        StepKind::ParallelRun,
        StepKind::Approval,
        StepKind::Wait,
        StepKind::Notify,
        StepKind::Migrate,
        StepKind::Canary,
        StepKind::Backtest,
    ];

    /// Name as written in the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Action => "action",
            StepKind::Check => "check",
            StepKind::Backup => "backup",
            StepKind::Restore => "restore",
            StepKind::RollbackPoint => "rollback-point",
            StepKind::ParallelRun => "parallel-run",
            StepKind::Approval => "approval",
            StepKind::Wait => "wait",
            StepKind::Notify => "notify",
            StepKind::Migrate => "migrate",
            StepKind::Canary => "canary",
            StepKind::Backtest => "backtest",
        }
    }

    /// Parses a kind name.
    pub fn parse(text: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Default of `idempotent` for this kind.
    pub fn default_idempotent(self) -> bool {
        matches!(
            self,
            StepKind::Check
                | StepKind::Backup
                | StepKind::RollbackPoint
                | StepKind::Wait
                | StepKind::ParallelRun
                | StepKind::Migrate
                | StepKind::Canary
                | StepKind::Backtest
        )
    }
}

/// Kind-specific step content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepAction {
    /// Run an action plugin.
    Action {
        /// Plugin id.
        plugin: String,
        /// Parameters (JSON object).
        params: serde_json::Value,
    },
    /// Run a check plugin.
    Check {
        /// Plugin id.
        plugin: String,
        /// Parameters (JSON object).
        params: serde_json::Value,
        /// Recorded, never gates.
        shadow: bool,
    },
    /// Back up data of one system.
    Backup {
        /// Which system.
        system: SystemSide,
        /// Data types.
        types: Vec<String>,
    },
    /// Restore an earlier backup.
    Restore {
        /// Id of the backup step.
        backup: String,
        /// Types to restore (all of the backup's if empty).
        types: Vec<String>,
    },
    /// Capture a named rollback point.
    RollbackPoint {
        /// Name.
        name: String,
        /// Categories to capture (empty: [`ROLLBACK_CATEGORIES`]). Left out
        /// of the serialised plan when empty, so older plans keep their
        /// fingerprint.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<String>,
    },
    /// Compare old and new.
    ParallelRun {
        /// Total window in ms.
        window_ms: u64,
        /// Sampling interval in ms.
        interval_ms: u64,
        /// Allowed start-time difference in ms.
        tolerance_ms: u64,
        /// Labels ignored when matching.
        ignore_labels: Vec<String>,
        /// Alert names renamed old -> new.
        rename: BTreeMap<String, String>,
        /// Lowest acceptable match rate.
        min_match_rate: Option<f64>,
        /// Recorded, never gates.
        shadow: bool,
        /// Where the noise floor is measured against (the old system read a
        /// second time, or a declared secondary). Left out of the serialised
        /// plan when unset, so older plans keep their fingerprint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        noise: Option<NoiseSource>,
        /// Old alerts that may be missing on the new system (default 0).
        /// Left out of the serialised plan at its default, as are the next two.
        #[serde(default, skip_serializing_if = "is_zero")]
        max_missing: u32,
        /// Fewest old episodes that make the window evidence (default 1).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        min_alerts: u32,
        /// Noisy old alerts (not reproduced by the noise source either) do
        /// not count as missing.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        noise_tolerant: bool,
        /// Label whose values each get a result in the reports (`service`).
        /// Left out when unset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        /// Missing old alerts matching these label matchers are tolerated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allow_missing: Option<translate_core::Scope>,
        /// Compares only these services (with the phase's scope), not
        /// everything moved so far: set on the instances of a wave phase,
        /// one batch each. Left out when unset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<translate_core::Scope>,
    },
    /// Wait for an approval.
    Approval {
        /// Message.
        message: String,
        /// Who may approve (empty: anyone).
        approvers: Vec<String>,
    },
    /// Wait.
    Wait {
        /// Duration in ms.
        duration_ms: u64,
    },
    /// Move data of `types` from system `from` to system `to`, through a
    /// translator restricted to the step's scope.
    Migrate {
        /// Exported from.
        from: SystemSide,
        /// Imported into.
        to: SystemSide,
        /// Data types (`alert_rules`, `routes`, `silences`), in order.
        types: Vec<String>,
        /// Translator plugin id.
        translate: Option<String>,
        /// Translator parameters (JSON object).
        params: serde_json::Value,
        /// Narrows the phase's scope.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<translate_core::Scope>,
        /// An untranslatable item does not fail the step.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        allow_untranslatable: bool,
    },
    /// Notify.
    Notify {
        /// Message.
        message: String,
        /// Target (channel, address).
        target: String,
    },
    /// Run a paging canary (a check plugin such as `alertmanager-canary`):
    /// a synthetic alert marked with the run id, delivered through both
    /// Alertmanagers to the expected receivers, then resolved.
    Canary {
        /// Check plugin id.
        plugin: String,
        /// Parameters (JSON object): `labels`, `receivers`, `timeout_ms`...
        params: serde_json::Value,
        /// Recorded, never gates.
        shadow: bool,
    },
    /// Evaluate `system`'s alerting rules and their translation over its
    /// recorded history (its adapter must export `query-range`, contract
    /// 0.1.2) and compare what each would have fired, like a parallel run.
    Backtest(Box<Backtest>),
}

/// A `kind = "backtest"` step: what is evaluated, over which history, and
/// how the comparison gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// Whose history is read and whose `alert_rules` are the old set.
    pub system: SystemSide,
    /// The window: this long, ending when the step runs, in ms.
    pub history_ms: u64,
    /// One evaluation step for every group, in ms (`None`: each group's
    /// own `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_ms: Option<u64>,
    /// The translator the new set comes from (the old rules passed through
    /// it, as the plan's rules migrate step would); `None`: the other
    /// system's exported `alert_rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translate: Option<String>,
    /// Translator parameters (JSON object).
    pub params: serde_json::Value,
    /// The rules and alerts compared (also given to the translator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<translate_core::Scope>,
    /// Allowed start-time difference in ms.
    pub tolerance_ms: u64,
    /// Labels ignored when matching.
    pub ignore_labels: Vec<String>,
    /// Alert names renamed old -> new.
    pub rename: BTreeMap<String, String>,
    /// Lowest acceptable predicted match rate.
    pub min_match_rate: Option<f64>,
    /// Predicted old alerts that may be missing (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_missing: u32,
    /// Recorded, never gates.
    pub shadow: bool,
}

impl StepAction {
    /// The kind of this step.
    pub fn kind(&self) -> StepKind {
        match self {
            StepAction::Action { .. } => StepKind::Action,
            StepAction::Check { .. } => StepKind::Check,
            StepAction::Backup { .. } => StepKind::Backup,
            StepAction::Restore { .. } => StepKind::Restore,
            StepAction::RollbackPoint { .. } => StepKind::RollbackPoint,
            StepAction::ParallelRun { .. } => StepKind::ParallelRun,
            StepAction::Approval { .. } => StepKind::Approval,
            StepAction::Wait { .. } => StepKind::Wait,
            StepAction::Notify { .. } => StepKind::Notify,
            StepAction::Migrate { .. } => StepKind::Migrate,
            StepAction::Canary { .. } => StepKind::Canary,
            StepAction::Backtest(_) => StepKind::Backtest,
        }
    }
}

/// What a parallel run compares the old system against to measure the
/// noise floor (how much the old system disagrees with itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseSource {
    /// Each poll reads the old system's adapter a second time, right after
    /// the first read (`noise = "second-read"`).
    SecondRead,
    /// Each poll also reads this adapter plugin, a secondary of the old
    /// system such as its HA replica (`noise = "<plugin id>"`).
    Adapter(String),
}

impl NoiseSource {
    /// The plan value that selects [`NoiseSource::SecondRead`].
    pub const SECOND_READ: &'static str = "second-read";

    /// The value as written in the plan: `second-read` or the plugin id.
    pub fn as_plan_value(&self) -> &str {
        match self {
            NoiseSource::SecondRead => Self::SECOND_READ,
            NoiseSource::Adapter(id) => id,
        }
    }
}

impl fmt::Display for NoiseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoiseSource::SecondRead => f.write_str("a second read of the old system"),
            NoiseSource::Adapter(id) => write!(f, "adapter `{id}`"),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}
