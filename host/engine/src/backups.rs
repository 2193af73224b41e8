//! Backup, restore, rollback-point and rollback through cutover-backup.

use std::collections::BTreeMap;

use cutover_backup::{BackupStore, Lineage, RestoreStatus, TypeRestore};
use cutover_plan::{StepAction, SystemSide};

use crate::error::EngineError;
use crate::event::{Event, StepStatus};
use crate::plugins::Loaded;
use crate::runner::{Runner, StepExec};

const SIDES: [SystemSide; 2] = [SystemSide::Old, SystemSide::New];

/// Name under which one system's part of a rollback point is stored.
pub fn point_name(name: &str, side: SystemSide) -> String {
    format!("{name}.{side}")
}

/// One category of a rollback as journaled: `status` is `ok`, `failed` or
/// `unsupported` (the adapter cannot restore it; nothing was changed), `ok`
/// only when it was applied, `error` why not.
pub(crate) fn category_json(t: &TypeRestore) -> serde_json::Value {
    serde_json::json!({
        "category": t.kind,
        "status": t.status,
        "ok": t.is_ok(),
        "summary": t.outcome.as_ref().map(|o| o.summary.clone()),
        "error": t.reason,
    })
}

/// The categories of `results` that ended with `status`.
pub(crate) fn kinds_with(results: &[TypeRestore], status: RestoreStatus) -> Vec<String> {
    results
        .iter()
        .filter(|t| t.status == status)
        .map(|t| t.kind.clone())
        .collect()
}

impl Runner<'_> {
    fn lineage(&self) -> Lineage {
        Lineage {
            plan_fingerprint: self.view.fingerprint.clone().unwrap_or_default(),
            journal_seq: self.view.head_seq,
        }
    }

    pub(crate) fn adapter(&mut self, side: SystemSide) -> Result<(String, Loaded), String> {
        let id = match side {
            SystemSide::Old => self.plan.plan.systems.old.adapter.clone(),
            SystemSide::New => self.plan.plan.systems.new.adapter.clone(),
        };
        let l = self.plugins.get(&id)?;
        Ok((id, l))
    }

    fn store(&self) -> Result<BackupStore, String> {
        BackupStore::open(&self.state_dir).map_err(|e| format!("cannot open the backup store: {e}"))
    }

    pub(crate) fn backup(&mut self, side: &SystemSide, types: &[String]) -> StepExec {
        let (id, adapter) = match self.adapter(*side) {
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
                let mut e = StepExec::new(
                    if ok {
                        StepStatus::Succeeded
                    } else {
                        StepStatus::Failed
                    },
                    summary,
                );
                e.details = serde_json::json!({
                    "backup_id": m.id,
                    "system": side.to_string(),
                    "results": m.results.iter().map(|r| serde_json::json!({
                        "kind": r.kind, "ok": r.ok, "error": r.error, "digest": r.digest, "size": r.size,
                    })).collect::<Vec<_>>(),
                });
                e
            }
            Err(err) => {
                let mut e = StepExec::new(StepStatus::Failed, format!("backup failed: {err}"));
                e.details = serde_json::json!({ "error_kind": err.kind() });
                e
            }
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
            .and_then(|s| s.details.get("backup_id"))
            .and_then(|v| v.as_str())
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
        let (id, adapter) = match self.adapter(side) {
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
                let mut e = StepExec::new(
                    if ok {
                        StepStatus::Succeeded
                    } else {
                        StepStatus::Failed
                    },
                    summary,
                );
                e.details = serde_json::json!({
                    "backup_id": backup_id,
                    "results": r.results,
                });
                e
            }
            Err(err) => {
                let mut e = StepExec::new(StepStatus::Failed, format!("restore failed: {err}"));
                e.details = serde_json::json!({ "error_kind": err.kind() });
                e
            }
        };
        exec.plugin = Some(id);
        exec.digest = Some(adapter.digest);
        exec
    }

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
        let store = match self.store() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let mut ids = BTreeMap::new();
        for &side in sides {
            let (_, adapter) = match self.adapter(side) {
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
                self.lineage(),
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

    /// Rolls both systems back to `point` (each checksum is verified by the
    /// store before anything is applied). `Err(reason)` when it failed.
    pub(crate) fn rollback(&mut self, point: &str) -> Result<serde_json::Value, String> {
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
        let mut results = serde_json::Map::new();
        for &side in &sides {
            let (_, adapter) = self.adapter(side)?;
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
                serde_json::json!({
                    "point": stored,
                    "ok": true,
                    "applied": kinds_with(&report.results, RestoreStatus::Ok),
                    "unsupported": kinds_with(&report.results, RestoreStatus::Unsupported),
                    "resumed": report.resumed,
                    "categories": report.results.iter().map(category_json).collect::<Vec<_>>(),
                }),
            );
        }
        Ok(serde_json::Value::Object(results))
    }
}
