//! Backup, restore, rollback-point and rollback through cutover-backup.

use std::collections::BTreeMap;

use cutover_backup::{BackupStore, Lineage};
use cutover_plan::{StepAction, SystemSide};

use crate::details::{
    BackupDetails, BackupTypeDetails, RestoreDetails, RollbackResults, StepDetails, SystemRollback,
};
use crate::error::EngineError;
use crate::event::{Event, StepStatus};
use crate::runner::{Runner, StepExec};
use crate::step_ctx::StepCtx;

const SIDES: [SystemSide; 2] = [SystemSide::Old, SystemSide::New];

/// Name under which one system's part of a rollback point is stored.
pub fn point_name(name: &str, side: SystemSide) -> String {
    format!("{name}.{side}")
}

impl StepCtx<'_, '_> {
    pub(crate) fn lineage(&self) -> Lineage {
        Lineage {
            plan_fingerprint: self.view.fingerprint.clone().unwrap_or_default(),
            journal_seq: self.view.head_seq,
        }
    }

    pub(crate) fn store(&self) -> Result<BackupStore, String> {
        crate::journal::backup_store(self.backend, self.state_dir, self.fence)
            .map_err(|e| format!("cannot open the backup store: {e}"))
    }

    pub(crate) fn backup(&mut self, side: &SystemSide, types: &[String]) -> StepExec {
        let (id, adapter) = match self.plugins.adapter(*side) {
            Ok(a) => a,
            Err(e) => return StepExec::new(StepStatus::Failed, e),
        };
        let store = match self.store() {
            Ok(s) => s,
            Err(e) => return StepExec::new(StepStatus::Failed, e),
        };
        let rt = self.plugins.runtime();
        let mut exec = match store.backup(
            rt,
            &adapter.plugin,
            &adapter.sandbox,
            &side.to_string(),
            types,
            self.lineage(),
        ) {
            Ok(m) => {
                let failed: Vec<String> = m
                    .results
                    .iter()
                    .filter(|r| !r.ok)
                    .map(|r| format!("{}: {}", r.kind, r.error.clone().unwrap_or_default()))
                    .collect();
                let ok = failed.is_empty();
                let summary = if ok {
                    format!(
                        "backup {} of the {side} system: {} types stored",
                        m.id,
                        m.results.len()
                    )
                } else {
                    format!(
                        "backup {} of the {side} system incomplete: {}",
                        m.id,
                        failed.join("; ")
                    )
                };
                StepExec::ended(
                    ok,
                    summary,
                    StepDetails::Backup(BackupDetails {
                        backup_id: m.id.clone(),
                        system: side.to_string(),
                        results: m.results.iter().map(BackupTypeDetails::from).collect(),
                    }),
                )
            }
            Err(err) => StepExec::error(err.kind(), format!("backup failed: {err}")),
        };
        exec.plugin = Some(id);
        exec.digest = Some(adapter.digest);
        exec
    }

    pub(crate) fn restore(&mut self, backup_step: &str, types: &[String]) -> StepExec {
        let side = self
            .plan
            .plan
            .phases
            .iter()
            .flat_map(|p| &p.steps)
            .find_map(|s| match &s.action {
                StepAction::Backup { system, .. } if s.id == backup_step => Some(*system),
                _ => None,
            });
        let Some(side) = side else {
            return StepExec::new(
                StepStatus::Failed,
                format!("`{backup_step}` is not a backup step of this plan"),
            );
        };
        let backup_id = self
            .view
            .steps
            .get(backup_step)
            .filter(|s| s.status == StepStatus::Succeeded)
            .and_then(|s| s.details.backup_id())
            .map(str::to_string);
        let Some(backup_id) = backup_id else {
            return StepExec::new(
                StepStatus::Failed,
                format!(
                    "backup step `{backup_id_of}` has not completed in this run",
                    backup_id_of = backup_step
                ),
            );
        };
        let (id, adapter) = match self.plugins.adapter(side) {
            Ok(a) => a,
            Err(e) => return StepExec::new(StepStatus::Failed, e),
        };
        let store = match self.store() {
            Ok(s) => s,
            Err(e) => return StepExec::new(StepStatus::Failed, e),
        };
        let selected = (!types.is_empty()).then_some(types);
        let rt = self.plugins.runtime();
        let mut exec = match store.restore(
            rt,
            &adapter.plugin,
            &adapter.sandbox,
            &backup_id,
            selected,
        ) {
            Ok(r) => {
                let failed: Vec<String> = r
                    .failed()
                    .map(|t| format!("{}: {}", t.kind, t.reason.as_deref().unwrap_or("")))
                    .collect();
                let restored = r.results.len() - failed.len();
                let ok = failed.is_empty();
                let summary = if ok {
                    format!("restored backup {backup_id} to the {side} system ({restored} types)")
                } else {
                    format!(
                        "restore of backup {backup_id} to the {side} system incomplete: {restored} of {} types restored; failed: {}",
                        r.results.len(),
                        failed.join("; ")
                    )
                };
                StepExec::ended(
                    ok,
                    summary,
                    StepDetails::Restore(RestoreDetails {
                        backup_id: backup_id.clone(),
                        results: r.results,
                    }),
                )
            }
            Err(err) => StepExec::error(err.kind(), format!("restore failed: {err}")),
        };
        exec.plugin = Some(id);
        exec.digest = Some(adapter.digest);
        exec
    }

    /// Rolls both systems back to `point` (each checksum is verified by the
    /// store before anything is applied). `Err(reason)` when it failed.
    pub(crate) fn rollback(&mut self, point: &str) -> Result<RollbackResults, String> {
        let store = self.store()?;
        // The systems the point was captured for (both, unless the journal
        // says it holds fewer, like a migrate step's `before-<step>`).
        let sides: Vec<SystemSide> = match self.view.points.iter().find(|p| p.name == point) {
            Some(p) => SIDES
                .into_iter()
                .filter(|s| p.ids.contains_key(&s.to_string()))
                .collect(),
            None => SIDES.to_vec(),
        };
        // Every system's point verified before any system is touched.
        for &side in &sides {
            let stored = point_name(point, side);
            let items = store
                .verify(Some(&format!("point:{stored}")))
                .map_err(|e| format!("rollback to {point} refused: {e}"))?;
            if let Some(bad) = items.iter().find(|i| !i.ok) {
                return Err(format!(
                    "rollback to {point} refused, nothing applied: {} {} is corrupt ({})",
                    bad.id,
                    bad.kind,
                    bad.problem.as_deref().unwrap_or("")
                ));
            }
        }
        let mut results = RollbackResults::new();
        for &side in &sides {
            let (_, adapter) = self.plugins.adapter(side)?;
            let rt = self.plugins.runtime();
            let stored = point_name(point, side);
            let report = store
                .rollback(rt, &adapter.plugin, &adapter.sandbox, &stored, None)
                .map_err(|e| format!("rollback of the {side} system to {point} failed: {e}"))?;
            let failed: Vec<String> = report
                .failed()
                .map(|t| format!("{}: {}", t.kind, t.reason.clone().unwrap_or_default()))
                .collect();
            if !failed.is_empty() {
                return Err(format!(
                    "rollback of the {side} system to {point} incomplete: {}",
                    failed.join("; ")
                ));
            }
            results.insert(
                side.to_string(),
                SystemRollback::of(&stored, true, Some(&report), None),
            );
        }
        Ok(results)
    }
}

impl Runner<'_> {
    /// Captures rollback point `name` of both systems and journals it.
    /// `Ok(Err(reason))` when the capture failed.
    pub(crate) fn capture_point(
        &mut self,
        phase: &str,
        name: &str,
        categories: &[String],
    ) -> Result<Result<String, String>, EngineError> {
        self.capture_point_of(phase, name, categories, &SIDES)
    }

    /// Captures rollback point `name` of the systems `sides` and journals it
    /// (a rollback to it restores those systems only).
    pub(crate) fn capture_point_of(
        &mut self,
        phase: &str,
        name: &str,
        categories: &[String],
        sides: &[SystemSide],
    ) -> Result<Result<String, String>, EngineError> {
        let store = match self.step_ctx().store() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let mut ids = BTreeMap::new();
        for &side in sides {
            let (_, adapter) = match self.plugins.adapter(side) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let stored = point_name(name, side);
            let rt = self.plugins.runtime();
            match store.capture_point(
                rt,
                &adapter.plugin,
                &adapter.sandbox,
                &side.to_string(),
                &stored,
                categories,
                self.step_ctx().lineage(),
            ) {
                Ok(m) => {
                    let failed: Vec<String> = m
                        .results
                        .iter()
                        .filter(|r| !r.ok)
                        .map(|r| format!("{}: {}", r.kind, r.error.clone().unwrap_or_default()))
                        .collect();
                    if !failed.is_empty() {
                        return Ok(Err(format!(
                            "rollback point {name} of the {side} system incomplete: {}",
                            failed.join("; ")
                        )));
                    }
                }
                Err(e) => {
                    return Ok(Err(format!(
                        "rollback point {name} of the {side} system: {e}"
                    )));
                }
            }
            ids.insert(side.to_string(), stored);
        }
        self.emit(Event::PointCaptured {
            phase: phase.to_string(),
            name: name.to_string(),
            ids,
        })?;
        let which = match sides {
            [one] => format!("the {one} system"),
            _ => "both systems".to_string(),
        };
        Ok(Ok(format!("rollback point {name} captured for {which}")))
    }
}
