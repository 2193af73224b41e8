//! Current-state views folded from the journal, and snapshots of them.
//!
//! The runner defines the concrete state type; this module only folds records
//! into it and persists it atomically with the record it covers, so a restart
//! replays only newer records.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic::{FileError, read_checked_json, write_checked_json};
use crate::journal::{Journal, JournalError, Record, RecordRef};

/// Fold every record of `journal` (in order, chain-verified) into a state.
pub fn fold<J, S, F>(journal: &J, init: S, mut f: F) -> Result<S, JournalError>
where
    J: Journal + ?Sized,
    F: FnMut(S, &Record) -> S,
{
    let mut state = init;
    for record in journal.records()? {
        state = f(state, &record?);
    }
    Ok(state)
}

#[derive(Serialize, Deserialize)]
struct SnapshotBody<S> {
    covers: RecordRef,
    state: S,
}

/// How [`Snapshot::restore`] obtained the state.
#[derive(Debug)]
pub enum SnapshotSource {
    /// No snapshot file: folded from scratch.
    Missing,
    /// Snapshot loaded; only newer records were replayed.
    Loaded,
    /// Snapshot unreadable or failing its checksum: folded from scratch.
    Corrupt(FileError),
    /// Snapshot's record hash differs from the journal's at that seq: folded from scratch.
    Diverged {
        /// What the snapshot claimed to cover.
        snapshot: RecordRef,
    },
}

/// Result of [`Snapshot::restore`].
#[derive(Debug)]
pub struct Restored<S> {
    /// The current state.
    pub state: S,
    /// Last record folded into `state` (None for an empty journal).
    pub head: Option<RecordRef>,
    /// Where the starting point came from.
    pub source: SnapshotSource,
    /// Number of records replayed on top of the starting point.
    pub replayed: u64,
}

/// Snapshot errors.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading the journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Writing the snapshot failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The snapshot covers records the journal no longer has: acknowledged
    /// records were lost (e.g. the journal was truncated at a line boundary).
    #[error("{}: snapshot covers seq {snapshot_seq} but the journal ends at seq {journal_head}", path.display())]
    JournalBehind {
        /// Snapshot file.
        path: PathBuf,
        /// Seq covered by the snapshot.
        snapshot_seq: u64,
        /// Last seq in the journal (0 if empty).
        journal_head: u64,
    },
}

/// A view snapshot stored as a checked JSON document
/// (`{"sha256":..,"body":{"covers":{"seq":..,"hash":..},"state":..}}`).
#[derive(Debug, Clone)]
pub struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    /// Conventional file name inside the state directory.
    pub const DEFAULT_NAME: &'static str = "snapshot.json";

    /// A snapshot stored at `path`.
    pub fn new(path: &Path) -> Snapshot {
        Snapshot {
            path: path.to_path_buf(),
        }
    }

    /// A snapshot at `state_dir/snapshot.json`.
    pub fn in_dir(state_dir: &Path) -> Snapshot {
        Self::new(&state_dir.join(Self::DEFAULT_NAME))
    }

    /// Path of the snapshot file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Atomically store `state` as covering everything up to and including `covers`.
    pub fn save<S: Serialize>(&self, state: &S, covers: RecordRef) -> Result<(), FileError> {
        write_checked_json(&self.path, &SnapshotBody { covers, state })
    }

    /// Load the snapshot: `Ok(None)` if there is none.
    pub fn load<S: DeserializeOwned>(&self) -> Result<Option<(S, RecordRef)>, FileError> {
        match read_checked_json::<SnapshotBody<S>>(&self.path) {
            Ok(body) => Ok(Some((body.state, body.covers))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Rebuild the current state: start from the snapshot if it is valid and
    /// matches the journal, else from `init()`, then fold newer records with `f`.
    pub fn restore<J, S, I, F>(
        &self,
        journal: &J,
        init: I,
        mut f: F,
    ) -> Result<Restored<S>, SnapshotError>
    where
        J: Journal + ?Sized,
        S: DeserializeOwned,
        I: Fn() -> S,
        F: FnMut(S, &Record) -> S,
    {
        let source = match self.load::<S>() {
            Ok(None) => SnapshotSource::Missing,
            Err(e) => SnapshotSource::Corrupt(e),
            Ok(Some((state, covers))) => {
                let mut state = Some(state);
                let mut acc = None;
                let mut matched = false;
                let mut head = None;
                let mut replayed = 0;
                for record in journal.records()? {
                    let record = record?;
                    head = Some(RecordRef {
                        seq: record.seq,
                        hash: record.hash,
                    });
                    if record.seq == covers.seq {
                        matched = record.hash == covers.hash;
                        if !matched {
                            break;
                        }
                        acc = state.take();
                    } else if record.seq > covers.seq
                        && let Some(s) = acc.take()
                    {
                        acc = Some(f(s, &record));
                        replayed += 1;
                    }
                }
                let journal_head = head.map_or(0, |h| h.seq);
                if journal_head < covers.seq {
                    return Err(SnapshotError::JournalBehind {
                        path: self.path.clone(),
                        snapshot_seq: covers.seq,
                        journal_head,
                    });
                }
                match (matched, acc) {
                    (true, Some(state)) => {
                        return Ok(Restored {
                            state,
                            head,
                            source: SnapshotSource::Loaded,
                            replayed,
                        });
                    }
                    _ => SnapshotSource::Diverged { snapshot: covers },
                }
            }
        };
        let mut head = None;
        let mut replayed = 0;
        let state = fold(journal, init(), |s, r| {
            head = Some(RecordRef {
                seq: r.seq,
                hash: r.hash,
            });
            replayed += 1;
            f(s, r)
        })?;
        Ok(Restored {
            state,
            head,
            source,
            replayed,
        })
    }
}
