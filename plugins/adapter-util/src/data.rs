//! Whole-payload reads of an import's `data-source` and writes of an
//! export's `data-sink`, over the SDK's chunked streams (generic, so tests
//! can use in-memory fakes).

use std::io::{Read, Write};

use cutover_plugin_sdk::{
    ChunkSink, ChunkSource, PluginError, SinkWriter, SourceReader, failed, invalid_input,
};

/// Writes all of `bytes` to `sink`; `what` names the payload in errors
/// (e.g. "the silences export").
pub fn write_all<S: ChunkSink + ?Sized>(
    sink: &S,
    bytes: &[u8],
    what: &str,
) -> Result<(), PluginError> {
    SinkWriter::new(sink)
        .write_all(bytes)
        .map_err(|e| failed(format!("writing {what}: {e}")))
}

/// Reads all of `source`; `what` names the payload in errors.
pub fn read_all<S: ChunkSource + ?Sized>(source: &S, what: &str) -> Result<Vec<u8>, PluginError> {
    let mut buf = Vec::new();
    SourceReader::new(source)
        .read_to_end(&mut buf)
        .map_err(|e| failed(format!("reading {what}: {e}")))?;
    Ok(buf)
}

/// Reads all of `source` as UTF-8 text; bad UTF-8 is invalid input naming
/// the byte offset.
pub fn read_text<S: ChunkSource + ?Sized>(source: &S, what: &str) -> Result<String, PluginError> {
    String::from_utf8(read_all(source, what)?)
        .map_err(|e| invalid_input(format!("{what} is not UTF-8 text: {e}")))
}

/// In-memory stand-ins for the host's data streams (small chunks, as the
/// host may hand out fewer bytes than asked).
#[cfg(test)]
pub(crate) mod fake {
    pub use cutover_plugin_sdk::memory::MemorySink as Sink;

    /// A source handing out `bytes` seven at a time.
    pub fn source(bytes: impl Into<Vec<u8>>) -> cutover_plugin_sdk::memory::MemorySource {
        cutover_plugin_sdk::memory::MemorySource::chunked(bytes, 7)
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{Sink, source};
    use super::*;

    #[test]
    fn round_trips_bytes_exactly() {
        let bytes = "route:\n  receiver: é\r\n\0tail".as_bytes();
        let sink = Sink::default();
        write_all(&sink, bytes, "x").unwrap();
        assert_eq!(sink.0.borrow().as_slice(), bytes);
        assert_eq!(read_all(&source(bytes), "x").unwrap(), bytes);
        let err = read_text(&source(vec![b'a', 0xff]), "the configuration").unwrap_err();
        assert!(
            matches!(&err, PluginError::InvalidInput(m) if m.contains("the configuration is not UTF-8")),
            "{err:?}"
        );
    }
}
