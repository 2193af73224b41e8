//! `cutover history PLAN`: one line per journal record, read as the
//! engine's typed events (fields, never string keys). Records the engine
//! does not write (a repaired tail, a newer version's kinds) are shown as
//! their JSON, shortened.

use cutover_backup::RestoreStatus;
use cutover_engine::Event;
use cutover_engine::backup_cmd::{BackupDone, BackupFinished, BackupOp, BackupStarted};
use cutover_engine::details::BackupTypeDetails;
use cutover_engine::details::{RollbackResults, SystemRollback};

/// How many characters of an unknown record's JSON a line shows.
const RAW_CHARS: usize = 200;

/// The text of one record (`kind`, `payload`) after its seq, time and kind.
pub fn describe(kind: &str, payload: &serde_json::Value) -> String {
    match Event::from_record(kind, payload) {
        Some(ev) => describe_event(&ev).unwrap_or_else(|| raw(payload)),
        None => raw(payload),
    }
}

fn describe_event(ev: &Event) -> Option<String> {
    Some(match ev {
        Event::StepFinished {
            phase,
            step,
            status,
            summary,
            verdict,
            duration_ms,
            plugin,
            digest,
            ..
        } => format!(
            "{phase}/{step} {} in {duration_ms} ms{}{}: {summary}",
            status.as_str(),
            match (plugin, digest) {
                (Some(pl), Some(d)) => format!(" plugin {pl} sha256:{}", &d[..d.len().min(12)]),
                (Some(pl), None) => format!(" plugin {pl}"),
                _ => String::new(),
            },
            verdict
                .as_deref()
                .map_or(String::new(), |v| format!(" verdict {v}")),
        ),
        Event::StepStarted {
            phase,
            step,
            step_kind,
            idempotent,
        } => format!("{phase}/{step} ({step_kind}, idempotent {idempotent})"),
        Event::Approved { target, by, retry } => {
            format!("{target} by {by}{}", if *retry { " (retry)" } else { "" })
        }
        Event::ParallelPoll {
            step,
            poll,
            old,
            new,
            match_rate,
            ..
        } => format!(
            "{step} poll {poll}: +{} old, +{} new, match rate {}",
            old.len(),
            new.len(),
            super::status::pct(*match_rate)
        ),
        Event::RolledBack {
            phase,
            point,
            results,
            by,
            now,
        } => rollback_line(point, by, *now, phase, results, None),
        Event::RollbackFailed {
            phase,
            point,
            results,
            by,
            now,
            error,
        } => rollback_line(point, by, *now, phase, results, Some(error)),
        Event::RollbackRequested {
            point,
            by,
            reason,
            approvers,
        } => format!(
            "to {point} by {by}, approvers {}{}",
            approvers.join(", "),
            reason
                .as_deref()
                .map_or(String::new(), |r| format!(": {r}"))
        ),
        Event::RunStarted {
            run_id,
            plan,
            fingerprint,
            ..
        } => format!("{plan} {run_id} fingerprint {fingerprint}"),
        Event::BackupStarted(s) => backup_started(s),
        Event::BackupFinished(f) => backup_finished(f),
        _ => return None,
    })
}

fn rollback_line(
    point: &str,
    by: &str,
    now: bool,
    phase: &str,
    results: &RollbackResults,
    error: Option<&str>,
) -> String {
    let systems: Vec<String> = results.iter().map(|(sys, r)| system_line(sys, r)).collect();
    format!(
        "to {point} by {by}{}{}: {}{}",
        if now { " (--now)" } else { "" },
        match phase {
            "" => String::new(),
            ph => format!(" in phase {ph}"),
        },
        systems.join("; "),
        error.map_or(String::new(), |e| format!(" error: {e}"))
    )
}

fn system_line(sys: &str, r: &SystemRollback) -> String {
    let cats: Vec<String> = r
        .categories
        .iter()
        .map(|c| {
            let status = match c.status() {
                RestoreStatus::Ok => "ok",
                RestoreStatus::Unsupported => "unsupported",
                RestoreStatus::Failed => "FAILED",
            };
            format!("{} {status}", c.category)
        })
        .collect();
    format!(
        "{sys}: [{}]{}",
        cats.join(", "),
        match r.resumed.len() {
            0 => String::new(),
            n => format!(" +{n} resumed"),
        }
    )
}

/// `items` joined, or `none` (what an empty list means) when empty.
fn list(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(", ")
    }
}

fn backup_started(s: &BackupStarted) -> String {
    let what = match &s.op {
        BackupOp::Create { id, system, types } => {
            format!(
                "create {id} of the {system} system ({})",
                list(types, "no types")
            )
        }
        BackupOp::Point {
            name,
            system,
            categories,
        } => format!(
            "point {name} of the {system} system ({})",
            list(categories, "default categories")
        ),
        BackupOp::Restore { id, system, types } => {
            format!(
                "restore {id} to the {system} system ({})",
                list(types, "every stored type")
            )
        }
        BackupOp::Prune { keep, keep_points } => {
            format!("prune keeping {keep} backup(s) and {keep_points} point(s)")
        }
    };
    format!("{what} by {}", s.by)
}

fn backup_finished(f: &BackupFinished) -> String {
    let status = if f.ok { "ok" } else { "FAILED" };
    let head = format!("{status} by {} (started seq {})", f.by, f.started_seq);
    let types = |rs: &[BackupTypeDetails]| -> String {
        rs.iter()
            .map(|r| format!("{} {}", r.kind, if r.ok { "ok" } else { "FAILED" }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = match &f.done {
        None => String::new(),
        Some(BackupDone::Create { id, results }) => format!("create {id}: {}", types(results)),
        Some(BackupDone::Point { name, results }) => format!("point {name}: {}", types(results)),
        Some(BackupDone::Restore { id, results }) => format!(
            "restore {id}: {}",
            results
                .iter()
                .map(|r| format!("{} {}", r.kind, r.status))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(BackupDone::Prune {
            deleted_backups,
            deleted_points,
            deleted_blobs,
            freed_bytes,
            abandoned,
        }) => format!(
            "prune: deleted {} backup(s), {} point(s), {deleted_blobs} blob(s) ({freed_bytes} bytes){}",
            deleted_backups.len(),
            deleted_points.len(),
            match abandoned.len() {
                0 => String::new(),
                n => format!(", cleared {n} abandoned"),
            }
        ),
    };
    match (&f.error, what.is_empty()) {
        (Some(e), true) => format!("{head}: error: {e}"),
        (Some(e), false) => format!("{head}: {what} error: {e}"),
        (None, _) => format!("{head}: {what}"),
    }
}

/// A record's JSON without the normalized plan, shortened.
fn raw(payload: &serde_json::Value) -> String {
    let mut v = payload.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("normalized");
    }
    let text = v.to_string();
    if text.chars().count() > RAW_CHARS {
        format!("{}…", text.chars().take(RAW_CHARS).collect::<String>())
    } else {
        text
    }
}
