//! The alert framing of `collect-alerts-into` (contract 0.1.3, the
//! `streaming-adapter` world): [`AlertWriter`] encodes alerts into a host
//! `data-sink` in chunks of about [`CHUNK_SIZE`] bytes.
//!
//! Version 1, as documented in `wit/plugin.wit` (all integers
//! little-endian, a string is a `u32` byte length and its UTF-8 bytes):
//!
//! ```text
//! stream = version:u8 (= 1) alert*
//! alert  = starts-at:s64 flags:u8 [ends-at:s64]
//!          n-labels:u32 n-annotations:u32 fingerprint:string
//!          (name:string value:string){n-labels}
//!          (name:string value:string){n-annotations}
//! flags  = bits 0-1 state (0 active, 1 suppressed, 2 resolved),
//!          bit 2 ends-at present, bits 3-7 zero
//! ```
//!
//! ```no_run
//! # use cutover_plugin_sdk::*;
//! fn collect_alerts_into(window: Window, sink: &DataSink) -> Result<u64, PluginError> {
//!     let mut out = AlertWriter::new(sink);
//!     for alert in my_alerts(&window) {
//!         out.push(&alert)?;
//!     }
//!     out.finish()
//! }
//! # fn my_alerts(_: &Window) -> Vec<Alert> { vec![] }
//! ```

use crate::io::{CHUNK_SIZE, ChunkSink};
use crate::{Alert, AlertState, DataSink, PluginError};

/// The framing version [`AlertWriter`] writes.
pub const ALERT_FRAMING_VERSION: u8 = 1;

const HAS_END: u8 = 0b100;

/// Encodes alerts into a sink; [`AlertWriter::finish`] sends the rest and
/// returns the count `collect-alerts-into` answers with.
pub struct AlertWriter<'a, S: ChunkSink + ?Sized = DataSink> {
    sink: &'a S,
    buf: Vec<u8>,
    count: u64,
    written: u64,
}

impl<'a, S: ChunkSink + ?Sized> AlertWriter<'a, S> {
    /// A writer over `sink`; the version byte goes first.
    pub fn new(sink: &'a S) -> Self {
        let mut buf = Vec::with_capacity(CHUNK_SIZE + 4096);
        buf.push(ALERT_FRAMING_VERSION);
        Self {
            sink,
            buf,
            count: 0,
            written: 0,
        }
    }

    /// Appends one alert (sent once about [`CHUNK_SIZE`] bytes are pending).
    pub fn push(&mut self, a: &Alert) -> Result<(), PluginError> {
        self.push_parts(
            a.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            a.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            a.starts_at,
            a.ends_at,
            a.state,
            &a.fingerprint,
        )
    }

    /// Appends one alert from borrowed parts, for adapters that never build
    /// an [`Alert`]. A string longer than `u32::MAX` bytes, or more than
    /// `u32::MAX` labels, is `invalid-input`.
    pub fn push_parts<'s>(
        &mut self,
        labels: impl ExactSizeIterator<Item = (&'s str, &'s str)>,
        annotations: impl ExactSizeIterator<Item = (&'s str, &'s str)>,
        starts_at: i64,
        ends_at: Option<i64>,
        state: AlertState,
        fingerprint: &str,
    ) -> Result<(), PluginError> {
        let b = &mut self.buf;
        b.extend_from_slice(&starts_at.to_le_bytes());
        let state = match state {
            AlertState::Active => 0,
            AlertState::Suppressed => 1,
            AlertState::Resolved => 2,
        };
        match ends_at {
            Some(e) => {
                b.push(state | HAS_END);
                b.extend_from_slice(&e.to_le_bytes());
            }
            None => b.push(state),
        }
        b.extend_from_slice(&len32(labels.len(), "labels")?.to_le_bytes());
        b.extend_from_slice(&len32(annotations.len(), "annotations")?.to_le_bytes());
        string(b, fingerprint)?;
        for (k, v) in labels.chain(annotations) {
            string(b, k)?;
            string(b, v)?;
        }
        self.count += 1;
        if self.buf.len() >= CHUNK_SIZE {
            self.flush(false)?;
        }
        Ok(())
    }

    /// Alerts pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes the host accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Sends the whole chunks pending (all of it when `all`); the rest
    /// stays for the next records, so that every chunk but the last is
    /// [`CHUNK_SIZE`] bytes.
    fn flush(&mut self, all: bool) -> Result<(), PluginError> {
        let send = if all {
            self.buf.len()
        } else {
            self.buf.len() / CHUNK_SIZE * CHUNK_SIZE
        };
        for chunk in self.buf[..send].chunks(CHUNK_SIZE) {
            self.sink
                .write_chunk(chunk)
                .map_err(|e| PluginError::Failed(format!("data-sink refused alerts: {e}")))?;
            self.written += chunk.len() as u64;
        }
        self.buf.drain(..send);
        Ok(())
    }

    /// Sends what is pending; the number of alerts written, which
    /// `collect-alerts-into` returns.
    pub fn finish(mut self) -> Result<u64, PluginError> {
        self.flush(true)?;
        Ok(self.count)
    }
}

fn len32(n: usize, what: &str) -> Result<u32, PluginError> {
    u32::try_from(n)
        .map_err(|_| PluginError::InvalidInput(format!("{n} {what} do not fit the alert framing")))
}

#[inline]
fn string(b: &mut Vec<u8>, s: &str) -> Result<(), PluginError> {
    b.extend_from_slice(&len32(s.len(), "bytes of one string")?.to_le_bytes());
    b.extend_from_slice(s.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    struct Chunks(RefCell<Vec<Vec<u8>>>);

    impl ChunkSink for Chunks {
        fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
            self.0.borrow_mut().push(chunk.to_vec());
            Ok(())
        }
    }

    fn alert(i: i64) -> Alert {
        Alert {
            labels: vec![("alertname".into(), format!("A{i}"))],
            annotations: vec![],
            starts_at: i,
            ends_at: (i == 1).then_some(-1),
            state: if i == 1 {
                AlertState::Resolved
            } else {
                AlertState::Active
            },
            fingerprint: "ff".into(),
        }
    }

    #[test]
    fn writes_the_documented_bytes() {
        let sink = Chunks(RefCell::new(Vec::new()));
        let mut w = AlertWriter::new(&sink);
        w.push(&alert(1)).unwrap();
        assert_eq!(w.finish().unwrap(), 1);
        let mut want = vec![1u8];
        want.extend_from_slice(&1i64.to_le_bytes());
        want.push(0b110);
        want.extend_from_slice(&(-1i64).to_le_bytes());
        want.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[2, 0, 0, 0, b'f', b'f']);
        want.extend_from_slice(&[9, 0, 0, 0]);
        want.extend_from_slice(b"alertname");
        want.extend_from_slice(&[2, 0, 0, 0, b'A', b'1']);
        assert_eq!(sink.0.borrow().concat(), want);
    }

    #[test]
    fn sends_chunks_of_at_most_chunk_size() {
        let sink = Chunks(RefCell::new(Vec::new()));
        let mut w = AlertWriter::new(&sink);
        for i in 0..10_000 {
            w.push(&alert(i)).unwrap();
        }
        assert_eq!(w.count(), 10_000);
        let n = w.finish().unwrap();
        assert_eq!(n, 10_000);
        let chunks = sink.0.borrow();
        assert!(chunks.len() > 3, "{}", chunks.len());
        let (last, full) = chunks.split_last().unwrap();
        assert!(full.iter().all(|c| c.len() == CHUNK_SIZE));
        assert!(!last.is_empty() && last.len() <= CHUNK_SIZE);
        assert_eq!(chunks[0][0], ALERT_FRAMING_VERSION);
    }
}
