//! Host-side streams that adapters write exported data into and read restored
//! data from (`data-sink` / `data-source` in the contract).

use std::any::Any;
use std::io::{Read, Write};

use crate::error::CallError;
use crate::limits::Limit;

/// A writer the host hands to an adapter, given back after the call.
pub trait SinkTarget: Write + Send + 'static {
    /// Turns the boxed target back into `Any` so the caller gets its own type back.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<W: Write + Send + 'static> SinkTarget for W {
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// The `data-sink` resource: counts and caps what the guest writes.
pub struct DataSink {
    pub(crate) target: Box<dyn SinkTarget>,
    pub(crate) written: u64,
    pub(crate) cap: u64,
    pub(crate) error: Option<String>,
}

impl DataSink {
    pub(crate) fn new(target: Box<dyn SinkTarget>, cap: u64) -> Self {
        Self {
            target,
            written: 0,
            cap,
            error: None,
        }
    }

    pub(crate) fn write(&mut self, chunk: &[u8]) -> Result<(), String> {
        let len = chunk.len() as u64;
        if self.written.saturating_add(len) > self.cap {
            let msg = format!("export size cap of {} bytes reached", self.cap);
            self.error = Some(msg.clone());
            return Err(msg);
        }
        if let Err(e) = self.target.write_all(chunk) {
            let msg = format!("host could not store data: {e}");
            self.error = Some(msg.clone());
            return Err(msg);
        }
        self.written += len;
        Ok(())
    }

    /// Once the call is over: the writer the host handed in, with the bytes
    /// the guest wrote. A sink that refused a write (cap reached, or the
    /// host could not store) fails the call with [`Limit::Output`], whatever
    /// the plugin answered.
    pub(crate) fn finish<W: 'static>(self, plugin: &str) -> Result<(W, u64), CallError> {
        if let Some(detail) = self.error {
            return Err(CallError::Limit {
                plugin: plugin.to_owned(),
                limit: Limit::Output,
                detail,
            });
        }
        let written = self.written;
        let writer = self
            .target
            .into_any()
            .downcast::<W>()
            .map_err(|_| CallError::Host {
                plugin: plugin.to_owned(),
                detail: "the sink's writer changed type".into(),
            })?;
        Ok((*writer, written))
    }
}

/// The `data-source` resource: serves bytes to the guest in bounded reads.
pub struct DataSource {
    pub(crate) target: Box<dyn Read + Send>,
    pub(crate) size: u64,
    pub(crate) read: u64,
}

/// Largest single read the host serves, whatever the guest asks for.
pub(crate) const MAX_READ: u32 = 1 << 20;

impl DataSource {
    pub(crate) fn new(target: Box<dyn Read + Send>, size: u64) -> Self {
        Self {
            target,
            size,
            read: 0,
        }
    }

    pub(crate) fn read(&mut self, max: u32) -> Result<Vec<u8>, String> {
        let want = max.min(MAX_READ) as usize;
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self.target.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("host could not read data: {e}")),
            }
        }
        buf.truncate(filled);
        self.read += filled as u64;
        Ok(buf)
    }
}
