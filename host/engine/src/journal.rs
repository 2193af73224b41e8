//! The run's journal as the engine reads it: opened (a torn last line cut),
//! read back chain-verified, folded into a [`RunView`]. Everything that
//! reads or appends to a run's journal starts here, below the runner.

use std::path::Path;

use cutover_state::{FileJournal, Journal, JournalError, Record};

use crate::error::EngineError;
use crate::view::RunView;

pub(crate) use cutover_base::time::now_ms;

/// Opens the journal of `state_dir` (cutting a torn last line, which was never
/// acknowledged) and folds it.
pub(crate) fn open_journal(
    state_dir: &Path,
) -> Result<(FileJournal, RunView, Option<String>), EngineError> {
    let (journal, repair) = FileJournal::repair_truncated_tail(state_dir).map_err(|e| match e {
        cutover_state::JournalError::NotRepairable(inner) => *inner,
        other => other,
    })?;
    let note = repair.map(|r| {
        format!(
            "journal: cut a torn last line of {} bytes at byte offset {} (saved to {})",
            r.cut_len,
            r.offset,
            r.saved_to.display()
        )
    });
    let view = cutover_state::fold(&journal, RunView::default(), |mut v, r| {
        v.apply_record(r.seq, &r.kind, &r.payload);
        v
    })?;
    Ok((journal, view, note))
}

fn journal_exists(state_dir: &Path) -> bool {
    state_dir.join(FileJournal::FILE_NAME).exists()
}

fn read_records(state_dir: &Path) -> Result<Vec<Record>, EngineError> {
    // A live runner may append while the chain is verified: retry briefly.
    let mut last = None;
    for _ in 0..20 {
        match FileJournal::open(state_dir).and_then(|j| j.records()?.collect::<Result<Vec<_>, _>>())
        {
            Ok(r) => return Ok(r),
            Err(e @ JournalError::ConcurrentWriter { .. }) => last = Some(e),
            Err(JournalError::Corrupt {
                reason: cutover_state::CorruptReason::TornTail { .. },
                ..
            }) if last.is_none() => last = None,
            Err(e) => return Err(e.into()),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    match last {
        Some(e) => Err(e.into()),
        None => Ok(FileJournal::open(state_dir)?
            .records()?
            .collect::<Result<Vec<_>, _>>()?),
    }
}

/// Every record of the run's journal, chain-verified (empty when no run).
pub fn history(state_dir: &Path) -> Result<Vec<Record>, EngineError> {
    if !journal_exists(state_dir) {
        return Ok(Vec::new());
    }
    read_records(state_dir)
}

/// The current state folded from the journal (not started when no run).
pub fn status(state_dir: &Path) -> Result<RunView, EngineError> {
    let mut view = RunView::default();
    for r in history(state_dir)? {
        view.apply_record(r.seq, &r.kind, &r.payload);
    }
    Ok(view)
}
