//! Group commit and status snapshots of the runner's journal.
//!
//! Records that only precede idempotent work (an idempotent step's start
//! and end, steps without side effects) are written without an fsync of
//! their own: the next durable record (a non-idempotent step's start, which
//! must be on disk before its effect), the group-commit window or the end of
//! the invocation makes them durable together. A crash can only lose a
//! suffix of such records, and resuming re-runs what they covered, which is
//! idempotent.
//!
//! Every [`SNAPSHOT_EVERY`] records the folded view is saved with an
//! [`Anchor`] (the record it covers), so `status` folds only what follows.
//! The snapshot holds what `status` shows ([`RunView::settled_for_status`]):
//! settled steps without their details, which `history` keeps.

use std::path::Path;
use std::time::Duration;

use cutover_state::{Anchor, Journal, decode_checked_json, encode_checked_json};
use serde::{Deserialize, Serialize};

use super::Runner;
use crate::error::EngineError;
use crate::event::Event;
use crate::view::RunView;

/// Longest time a deferred record waits for its fsync while the run goes on.
pub const GROUP_COMMIT_WINDOW: Duration = Duration::from_millis(25);

/// Records between two status snapshots.
pub const SNAPSHOT_EVERY: u64 = 1000;

/// The document that holds the status snapshot.
pub const SNAPSHOT_DOC: &str = "status/view.json";

/// A saved view and the record it covers.
#[derive(Serialize, Deserialize)]
pub(crate) struct StatusSnapshot {
    pub anchor: Anchor,
    pub view: RunView,
}

/// Largest decompressed snapshot accepted (a damaged size prefix must not
/// make `status` allocate without bound).
const SNAPSHOT_MAX_BYTES: usize = 1 << 30;

impl StatusSnapshot {
    /// Decodes a snapshot document (LZ4 block with its size prepended, over
    /// checksummed JSON); `None` when it does not decompress or decode.
    pub(crate) fn decode(bytes: &[u8]) -> Option<StatusSnapshot> {
        let size = bytes.get(..4)?;
        let size = u32::from_le_bytes(size.try_into().ok()?) as usize;
        if size > SNAPSHOT_MAX_BYTES {
            return None;
        }
        let json = lz4_flex::decompress_size_prepended(bytes).ok()?;
        decode_checked_json(Path::new(SNAPSHOT_DOC), &json).ok()
    }

    /// The document's bytes: checksummed JSON, LZ4-compressed.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EngineError> {
        let json = encode_checked_json(Path::new(SNAPSHOT_DOC), self)?;
        Ok(lz4_flex::compress_prepend_size(&json))
    }
}

impl Runner<'_> {
    /// Journals `ev` without waiting for its fsync (see the module), then
    /// folds it into the view.
    pub(crate) fn emit_deferred(&mut self, ev: Event) -> Result<u64, EngineError> {
        let (kind, payload) = ev.to_record();
        let r = self.journal.append_deferred(&kind, payload)?;
        self.fold(r.seq, &ev);
        self.after_append()?;
        Ok(r.seq)
    }

    /// Journals several events together without waiting for their fsync.
    pub(crate) fn emit_batch_deferred(&mut self, evs: Vec<Event>) -> Result<(), EngineError> {
        let entries = evs.iter().map(Event::to_record).collect();
        let refs = self.journal.append_batch_deferred(entries)?;
        for (r, ev) in refs.iter().zip(&evs) {
            self.fold(r.seq, ev);
        }
        self.after_append()
    }

    pub(super) fn fold(&mut self, seq: u64, ev: &Event) {
        self.view.records += 1;
        self.view.head_seq = seq;
        self.view.apply(seq, ev);
        self.observe(ev);
    }

    /// Syncs once the oldest deferred record has waited the window; saves
    /// a snapshot when one is due.
    pub(super) fn after_append(&mut self) -> Result<(), EngineError> {
        if self
            .journal
            .unsynced_since()
            .is_some_and(|t| t.elapsed() >= GROUP_COMMIT_WINDOW)
        {
            self.journal.sync()?;
        }
        if self.view.records >= self.snapshot_at + SNAPSHOT_EVERY {
            self.save_snapshot()?;
        }
        Ok(())
    }

    /// Makes every record durable and saves the snapshot (at the end of an
    /// invocation, and before anything waits).
    pub(crate) fn commit_all(&mut self) -> Result<(), EngineError> {
        self.journal.sync()?;
        if self.view.records > self.snapshot_at {
            self.save_snapshot()?;
        }
        Ok(())
    }

    fn save_snapshot(&mut self) -> Result<(), EngineError> {
        let Some(anchor) = self.journal.head_anchor() else {
            return Ok(());
        };
        // The anchor must be durable before a snapshot names it.
        self.journal.sync()?;
        let snap = StatusSnapshot {
            anchor,
            view: self.view.clone().settled_for_status(),
        };
        let bytes = snap.encode()?;
        self.backend
            .docs(self.lease.fence())?
            .put(SNAPSHOT_DOC, &bytes)?;
        self.snapshot_at = self.view.records;
        Ok(())
    }
}
