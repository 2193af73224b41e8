//! `migrate` steps: export each data type from one system, translate it in
//! the step's scope, capture the target's `before-<step>` rollback point,
//! import, then read the target back and check that what landed is what was
//! sent. Nothing is imported unless every type prepared cleanly (export,
//! translation, no untranslatable item unless allowed); a failed import or
//! verification rolls the target back to `before-<step>`.

pub mod codec;
pub mod prepare;

use cutover_plan::{Phase, Step, StepAction, SystemSide};
use cutover_runtime::ItemStatus;

use crate::bridge::Loaded;
use crate::consistency::Consistency;
use crate::details::{MigrateDetails, MigrateOutcome, MigrateTypes, MigratedType, StepDetails};
use crate::error::EngineError;
use crate::event::StepStatus;
use crate::runner::{Runner, StepExec};
use crate::step_ctx::StepCtx;
use prepare::{Parts, Prepared, prepare};

pub use prepare::{PrepareError, StepPreview, TypePreview, preview};

/// How many report items a step's details name (the rest: `cutover plan`).
const NAMED_ITEMS: usize = 20;

fn type_result(p: &Prepared, outcome: MigrateOutcome) -> MigratedType {
    let s = p.report.summary;
    MigratedType {
        data_type: p.data_type.clone(),
        scope: p.selection.to_string(),
        ok: s.ok,
        warning: s.warning,
        untranslatable: s.untranslatable,
        documents: p.output.len(),
        outcome,
        notes: p
            .report
            .items
            .iter()
            .filter(|i| i.status != ItemStatus::Ok)
            .take(NAMED_ITEMS)
            .map(|i| format!("{} {}: {}", i.status, i.id, i.reason))
            .collect(),
    }
}

fn failed(
    summary: String,
    migrate: MigrateTypes,
    consistency: Option<Vec<Consistency>>,
) -> StepExec {
    let mut e = StepExec::new(StepStatus::Failed, summary);
    e.details = StepDetails::Migrate(MigrateDetails {
        migrate,
        consistency,
    });
    e
}

/// Per-type results alone.
fn types_only(types: Vec<MigratedType>) -> MigrateTypes {
    MigrateTypes {
        types: Some(types),
        ..MigrateTypes::default()
    }
}

/// The target's rollback point a migrate step captures before importing.
fn point_name(step: &Step) -> String {
    format!("before-{}", step.id)
}

/// A migration prepared and judged importable.
struct Ready {
    /// Each type, prepared.
    prepared: Vec<Prepared>,
    /// The target system's adapter.
    target: Loaded,
    /// The target system.
    to: SystemSide,
    /// The target's rollback point, `before-<step>`.
    point: String,
    /// The types that will change on the target.
    changed: Vec<String>,
}

/// Each prepared type's result with `outcome`.
fn results(
    prepared: &[Prepared],
    outcome: &dyn Fn(&Prepared) -> MigrateOutcome,
) -> Vec<MigratedType> {
    prepared
        .iter()
        .map(|p| type_result(p, outcome(p)))
        .collect()
}

/// What the verification found for one type.
fn consistency(p: &Prepared, landed: codec::Landed) -> Consistency {
    Consistency {
        data_type: p.data_type.clone(),
        agreeing: landed.agreeing,
        total: landed.total,
    }
}

impl StepCtx<'_, '_> {
    /// Exports, translates and judges each type of migrate step `step`.
    /// `Err` ends the step here: a type that cannot be prepared, an
    /// untranslatable item not allowed, a scope that selects nothing, or
    /// everything already in place.
    fn prepare_migration(&mut self, step: &Step, reapply: bool) -> Result<Ready, Box<StepExec>> {
        let StepAction::Migrate {
            to,
            types,
            allow_untranslatable,
            ..
        } = &step.action
        else {
            return Err(Box::new(StepExec::new(
                StepStatus::Failed,
                "not a migrate step",
            )));
        };
        let plan = &self.plan.plan;
        let parts = match Parts::load(self.plugins, plan, step) {
            Ok(p) => p,
            Err(e) => return Err(Box::new(StepExec::new(StepStatus::Failed, e.to_string()))),
        };
        let rt = self.plugins.runtime();
        let mut prepared = Vec::new();
        for t in types {
            match prepare(rt, plan, step, &parts, t) {
                Ok(p) => prepared.push(p),
                Err(e) => {
                    return Err(Box::new(failed(
                        format!("{e}; nothing was imported"),
                        MigrateTypes {
                            failed_type: Some(t.clone()),
                            error: Some(e.to_string()),
                            ..MigrateTypes::default()
                        },
                        None,
                    )));
                }
            }
        }
        // An earlier attempt captured the point and may have been killed in
        // the import: what the target's export shows may not be in effect
        // (rule files written, the reload never sent). Import again.
        if reapply {
            for p in &mut prepared {
                p.in_place = false;
            }
        }
        let results = |outcome: &dyn Fn(&Prepared) -> MigrateOutcome| results(&prepared, outcome);
        let untranslatable: Vec<String> = prepared
            .iter()
            .flat_map(|p| {
                p.report
                    .items
                    .iter()
                    .filter(|i| i.status == ItemStatus::Untranslatable)
                    .map(move |i| format!("{} {} ({})", p.data_type, i.id, i.reason))
            })
            .collect();
        if !untranslatable.is_empty() && !allow_untranslatable {
            return Err(Box::new(failed(
                format!(
                    "{} untranslatable item(s), nothing was imported: {}{}",
                    untranslatable.len(),
                    untranslatable
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                    if untranslatable.len() > 3 {
                        "; ..."
                    } else {
                        ""
                    }
                ),
                types_only(results(&|_| MigrateOutcome::NotImported)),
                None,
            )));
        }
        // A scope that selects nothing proves nothing: never a silent pass.
        if prepared.iter().all(|p| p.moved == Some(0)) {
            let mut e = failed(
                format!(
                    "no data: the scope selects nothing to migrate ({}); a scope that matches nothing is never a pass",
                    prepared
                        .iter()
                        .map(|p| format!("{} in {}", p.data_type, p.selection))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                types_only(results(&|_| MigrateOutcome::NotImported)),
                None,
            );
            e.verdict = Some("no-data".into());
            return Err(Box::new(e));
        }
        if prepared.iter().all(|p| p.in_place) {
            let mut e = StepExec::new(
                StepStatus::Succeeded,
                format!(
                    "already in place: the {} system holds the translated {}; nothing changed",
                    to,
                    types.join(", ")
                ),
            );
            let agree: Vec<Consistency> = prepared
                .iter()
                .map(|p| {
                    let n = p.output.len() as u64;
                    consistency(
                        p,
                        codec::Landed {
                            agreeing: n,
                            total: n,
                        },
                    )
                })
                .collect();
            e.details = StepDetails::Migrate(MigrateDetails {
                migrate: types_only(results(&|_| MigrateOutcome::Unchanged)),
                consistency: Some(agree),
            });
            return Err(Box::new(e));
        }
        let point = point_name(step);
        let changed: Vec<String> = prepared
            .iter()
            .filter(|p| !p.in_place)
            .map(|p| p.data_type.clone())
            .collect();
        Ok(Ready {
            target: parts.target.1.clone(),
            to: *to,
            point,
            changed,
            prepared,
        })
    }

    /// Imports what was prepared into the target and reads it back; a
    /// failed import or verification rolls the target back to the point.
    fn import_and_verify(&mut self, ready: Ready) -> StepExec {
        let Ready {
            prepared,
            target,
            to,
            point,
            changed,
        } = ready;
        let rt = self.plugins.runtime();
        let mut problem: Option<String> = None;
        for p in prepared.iter().filter(|p| !p.in_place) {
            let size = p.payload.len() as u64;
            if let Err(e) = rt.import_data(
                &target.plugin,
                &target.sandbox,
                &p.data_type,
                std::io::Cursor::new(p.payload.clone()),
                size,
            ) {
                problem = Some(format!(
                    "importing {} into the {to} system: {e}",
                    p.data_type
                ));
                break;
            }
        }
        // Verify everything sent, read back from the target.
        let mut agree = Vec::new();
        if problem.is_none() {
            for p in &prepared {
                let landed = prepare::export(rt, &target, &p.data_type)
                    .and_then(|now| p.codec.landed(&p.output, &p.payload, &now));
                match landed {
                    Ok(l) if l.all() => agree.push(consistency(p, l)),
                    Ok(l) => {
                        agree.push(consistency(p, l));
                        problem = Some(format!(
                            "verification: {} of {} {} item(s) sent are on the {to} system as sent",
                            l.agreeing, l.total, p.data_type
                        ));
                        break;
                    }
                    Err(e) => {
                        problem = Some(format!("verification: reading {} back: {e}", p.data_type));
                        break;
                    }
                }
            }
        }
        let imported = |p: &Prepared| {
            if p.in_place {
                MigrateOutcome::Unchanged
            } else {
                MigrateOutcome::Imported
            }
        };
        match problem {
            None => {
                let mut e = StepExec::new(
                    StepStatus::Succeeded,
                    format!(
                        "migrated {} to the {to} system and verified it landed as sent (rollback point {point})",
                        changed.join(", ")
                    ),
                );
                e.details = StepDetails::Migrate(MigrateDetails {
                    migrate: MigrateTypes {
                        point: Some(point),
                        ..types_only(results(&prepared, &imported))
                    },
                    consistency: Some(agree),
                });
                e
            }
            Some(problem) => {
                let undo = match self.rollback(&point) {
                    Ok(_) => format!("the {to} system was rolled back to {point}"),
                    Err(e) => format!("ROLLBACK TO {point} FAILED: {e}"),
                };
                failed(
                    format!("{problem}; {undo}"),
                    MigrateTypes {
                        point: Some(point),
                        rolled_back: Some(true),
                        ..types_only(results(&prepared, &imported))
                    },
                    Some(agree),
                )
            }
        }
    }
}

impl Runner<'_> {
    /// Runs migrate step `step` of `phase`: prepared and imported through
    /// the step's narrow context; the runner journals the target's
    /// `before-<step>` point in between (once per run: a resumed step keeps
    /// the point its first attempt captured, and imports again even when
    /// the target's export already matches, since a kill between writing
    /// and reloading leaves data that looks in place but is not in effect).
    pub(crate) fn migrate(&mut self, phase: &Phase, step: &Step) -> Result<StepExec, EngineError> {
        // Captured by an earlier attempt: kept, and the import is redone.
        let captured = self.view.points.iter().any(|p| p.name == point_name(step));
        let ready = match self.step_ctx().prepare_migration(step, captured) {
            Ok(r) => r,
            Err(done) => return Ok(*done),
        };
        if !captured
            && let Err(reason) =
                self.capture_point_of(&phase.id, &ready.point, &ready.changed, &[ready.to])?
        {
            return Ok(failed(
                format!("{reason}; nothing was imported"),
                types_only(results(&ready.prepared, &|_| MigrateOutcome::NotImported)),
                None,
            ));
        }
        Ok(self.step_ctx().import_and_verify(ready))
    }
}
