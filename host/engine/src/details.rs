//! What a finished step measured, typed: [`StepDetails`].
//!
//! The details are journaled in each `step-finished` record. They keep the
//! JSON the engine wrote when they were an untyped value (the journal format
//! is unchanged: a journal written before reads the same), and readers (the
//! run view, the monitor, the checklist, the CLI) take fields, never string
//! keys. Serialisation is untagged: each kind has fields no earlier kind in
//! [`StepDetails`] requires, and the order of the variants is the order in
//! which a record is tried.

use std::collections::BTreeMap;

use cutover_backup::{RestoreStatus, RollbackReport, TypeRestore, TypeResult};
use serde::{Deserialize, Serialize};

use crate::consistency::Consistency;

mod gating;

pub use gating::{
    BacktestDetails, BacktestRuleError, CanaryDetails, CanaryReceipt, NoiseFloorDetails,
    ParallelRunDetails,
};

/// Kind-specific details of a finished step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepDetails {
    /// Nothing measured (`null`).
    #[default]
    None,
    /// A parallel run (or its verdict on resume).
    ParallelRun(Box<ParallelRunDetails>),
    /// A backtest (`kind = "backtest"`): a predicted comparison.
    Backtest(Box<BacktestDetails>),
    /// A backup step.
    Backup(BackupDetails),
    /// A restore step.
    Restore(RestoreDetails),
    /// A migrate step.
    Migrate(MigrateDetails),
    /// A paging canary (`kind = "canary"`).
    Canary(CanaryDetails),
    /// A check step.
    Check(CheckDetails),
    /// An action that ran.
    Action(ActionDetails),
    /// A plugin call or store operation that failed.
    Error(ErrorDetails),
    /// An operator marked an interrupted step done.
    MarkedDone(MarkedDoneDetails),
    /// An approval step that was approved.
    Approved(ApprovedDetails),
}

impl StepDetails {
    /// No details (a step that has not finished, or whose kind records none).
    pub fn is_none(&self) -> bool {
        matches!(self, StepDetails::None)
    }

    /// The match rate a parallel run measured.
    pub fn match_rate(&self) -> Option<f64> {
        match self {
            StepDetails::ParallelRun(p) => p.match_rate,
            _ => None,
        }
    }

    /// The inventory agreement a step measured (a parity check, a
    /// migration's verification).
    pub fn consistency(&self) -> &[Consistency] {
        match self {
            StepDetails::Check(c) => &c.consistency,
            StepDetails::Migrate(m) => m.consistency.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Why the plugin call or operation failed (`deadline`, `limit`,
    /// `trap`, `load`, `io`...).
    pub fn error_kind(&self) -> Option<&str> {
        match self {
            StepDetails::Error(e) => Some(&e.error_kind),
            StepDetails::Check(c) => c.error_kind.as_deref(),
            StepDetails::Canary(c) => c.error_kind.as_deref(),
            _ => None,
        }
    }

    /// The backup a backup step stored.
    pub fn backup_id(&self) -> Option<&str> {
        match self {
            StepDetails::Backup(b) => Some(&b.backup_id),
            StepDetails::Restore(r) => Some(&r.backup_id),
            _ => None,
        }
    }

    /// The paging canary's details.
    pub fn canary(&self) -> Option<&CanaryDetails> {
        match self {
            StepDetails::Canary(c) => Some(c),
            _ => None,
        }
    }

    /// The backtest's details.
    pub fn backtest(&self) -> Option<&BacktestDetails> {
        match self {
            StepDetails::Backtest(b) => Some(b),
            _ => None,
        }
    }

    /// The parallel run's details.
    pub fn parallel_run(&self) -> Option<&ParallelRunDetails> {
        match self {
            StepDetails::ParallelRun(p) => Some(p),
            _ => None,
        }
    }

    /// An error of kind `kind`.
    pub fn error(kind: impl Into<String>) -> StepDetails {
        StepDetails::Error(ErrorDetails {
            error_kind: kind.into(),
        })
    }
}

/// What a backup step stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupDetails {
    /// The backup's id.
    pub backup_id: String,
    /// `old` or `new`.
    pub system: String,
    /// One entry per type.
    pub results: Vec<BackupTypeDetails>,
}

/// One backed-up type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupTypeDetails {
    /// Data type.
    pub kind: String,
    /// Whether it was stored.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// sha256 of the stored blob.
    pub digest: Option<String>,
    /// Bytes stored.
    pub size: u64,
}

impl From<&TypeResult> for BackupTypeDetails {
    fn from(r: &TypeResult) -> Self {
        BackupTypeDetails {
            kind: r.kind.clone(),
            ok: r.ok,
            error: r.error.clone(),
            digest: r.digest.clone(),
            size: r.size,
        }
    }
}

/// What a restore step applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreDetails {
    /// The backup restored from.
    pub backup_id: String,
    /// One entry per type.
    pub results: Vec<TypeRestore>,
}

/// What a migrate step moved and how it verified it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrateDetails {
    /// Per type.
    pub migrate: MigrateTypes,
    /// What the verification read back (empty when it did not get that far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<Vec<Consistency>>,
}

/// The per-type part of [`MigrateDetails`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MigrateTypes {
    /// One entry per type (absent when a type failed to prepare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<MigratedType>>,
    /// The type that failed to prepare (export or translation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_type: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The target's rollback point (`before-<step>`), once captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<String>,
    /// Whether the target was rolled back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<bool>,
}

/// What became of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrateOutcome {
    /// Sent to the target.
    Imported,
    /// Already in place: nothing sent.
    Unchanged,
    /// Not sent (preparation or the rollback point failed).
    NotImported,
}

/// One type's translation and import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigratedType {
    /// `alert_rules`, `routes`, `silences`.
    pub data_type: String,
    /// The scope it was translated in.
    pub scope: String,
    /// Items translated plainly.
    pub ok: u64,
    /// Items translated with a warning.
    pub warning: u64,
    /// Items that could not be translated.
    pub untranslatable: u64,
    /// Documents sent (rule files, one configuration, one silence list).
    pub documents: usize,
    /// What became of it.
    pub outcome: MigrateOutcome,
    /// The items that were not plainly ok (up to a few; `cutover plan`
    /// lists them all).
    pub notes: Vec<String>,
}

/// What a check measured.
///
/// Journaled as `{"measurements": {...}, "shadow": .., "consistency": [..]}`;
/// a check whose call failed keeps its error kind under
/// `measurements.error_kind`, as the engine has always written it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "CheckRecord", into = "CheckRecord")]
pub struct CheckDetails {
    /// Measurements by name (`None`: the plugin reported no number, e.g. NaN).
    pub measurements: BTreeMap<String, Option<f64>>,
    /// Why the call failed, when it did.
    pub error_kind: Option<String>,
    /// Whether the check is shadow (never gates).
    pub shadow: bool,
    /// Agreement the check measured (`consistency.<type>` measurements).
    pub consistency: Vec<Consistency>,
}

/// The measurement name under which a failed check's error kind is journaled.
const CHECK_ERROR_KIND: &str = "error_kind";

/// [`CheckDetails`] as journaled.
#[derive(Serialize, Deserialize)]
struct CheckRecord {
    measurements: BTreeMap<String, Measured>,
    shadow: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    consistency: Vec<Consistency>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Measured {
    Number(f64),
    Text(String),
    Missing,
}

impl From<CheckRecord> for CheckDetails {
    fn from(r: CheckRecord) -> Self {
        let mut measurements = BTreeMap::new();
        let mut error_kind = None;
        for (name, value) in r.measurements {
            match value {
                Measured::Number(n) => {
                    measurements.insert(name, Some(n));
                }
                Measured::Missing => {
                    measurements.insert(name, None);
                }
                Measured::Text(t) if name == CHECK_ERROR_KIND => error_kind = Some(t),
                // No other text was ever written; keep it readable.
                Measured::Text(_) => {
                    measurements.insert(name, None);
                }
            }
        }
        CheckDetails {
            measurements,
            error_kind,
            shadow: r.shadow,
            consistency: r.consistency,
        }
    }
}

impl From<CheckDetails> for CheckRecord {
    fn from(d: CheckDetails) -> Self {
        let mut measurements: BTreeMap<String, Measured> = d
            .measurements
            .into_iter()
            .map(|(k, v)| (k, v.map_or(Measured::Missing, Measured::Number)))
            .collect();
        if let Some(kind) = d.error_kind {
            measurements.insert(CHECK_ERROR_KIND.to_string(), Measured::Text(kind));
        }
        CheckRecord {
            measurements,
            shadow: d.shadow,
            consistency: d.consistency,
        }
    }
}

/// What an action reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDetails {
    /// The action's outcome details, by name.
    pub outcome: BTreeMap<String, String>,
}

/// A failure's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// `deadline`, `limit`, `trap`, `denied`, `load`, `io`, `corrupt`...
    pub error_kind: String,
}

/// Who marked an interrupted step done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkedDoneDetails {
    /// The operator.
    pub marked_done_by: String,
}

/// Who approved an approval step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedDetails {
    /// The approver.
    pub approved_by: String,
}

/// What a rollback did to each system, by system (`old`, `new`), as
/// journaled in `rolled-back` and `rollback-failed` records.
pub type RollbackResults = BTreeMap<String, SystemRollback>;

/// What a rollback did to one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRollback {
    /// Stored point name.
    pub point: String,
    /// Whether every category was applied (or is capture only).
    pub ok: bool,
    /// Categories applied.
    #[serde(default)]
    pub applied: Vec<String>,
    /// Categories the adapter cannot restore (kept as evidence).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Categories an earlier interrupted attempt had applied.
    #[serde(default)]
    pub resumed: Vec<String>,
    /// Each category's result.
    #[serde(default)]
    pub categories: Vec<CategoryRollback>,
    /// Why the store refused, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SystemRollback {
    /// `system`'s rollback to stored point `point` as the store reported it.
    pub fn of(
        point: &str,
        ok: bool,
        report: Option<&RollbackReport>,
        error: Option<String>,
    ) -> Self {
        let results: &[TypeRestore] = report.map_or(&[], |r| &r.results);
        let with = |status: RestoreStatus| {
            results
                .iter()
                .filter(|t| t.status == status)
                .map(|t| t.kind.clone())
                .collect()
        };
        SystemRollback {
            point: point.to_string(),
            ok,
            applied: with(RestoreStatus::Ok),
            unsupported: with(RestoreStatus::Unsupported),
            resumed: report.map_or_else(Vec::new, |r| r.resumed.clone()),
            categories: results.iter().map(CategoryRollback::from).collect(),
            error,
        }
    }
}

/// One category of a system's rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRollback {
    /// The category.
    pub category: String,
    /// How it ended (records older than `unsupported` have `ok` only).
    #[serde(default)]
    pub status: Option<RestoreStatus>,
    /// Whether it was applied.
    pub ok: bool,
    /// What the adapter said.
    #[serde(default)]
    pub summary: Option<String>,
    /// Why not, when not applied.
    #[serde(default)]
    pub error: Option<String>,
}

impl CategoryRollback {
    /// How it ended, for records written before `status` existed too.
    pub fn status(&self) -> RestoreStatus {
        self.status.unwrap_or(if self.ok {
            RestoreStatus::Ok
        } else {
            RestoreStatus::Failed
        })
    }
}

impl From<&TypeRestore> for CategoryRollback {
    fn from(t: &TypeRestore) -> Self {
        CategoryRollback {
            category: t.kind.clone(),
            status: Some(t.status),
            ok: t.is_ok(),
            summary: t.outcome.as_ref().map(|o| o.summary.clone()),
            error: t.reason.clone(),
        }
    }
}
