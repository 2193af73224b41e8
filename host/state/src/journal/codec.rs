//! Line format of the file journal.
//!
//! One record per line (`\n`-terminated). Each line is a JSON object with keys in
//! this fixed order:
//!
//! ```text
//! {"seq":7,"ts_ms":1764210000000,"prev":"<64 hex>","kind":"phase-started","payload":{...},"sha256":"<64 hex>"}
//! ```
//!
//! The *canonical bytes* of a record are the line with the trailing
//! `,"sha256":"<64 hex>"` removed, i.e. `{"seq":..,"ts_ms":..,"prev":..,"kind":..,"payload":..}`
//! (records written by `append_batch` also carry `"batch":[index,len]` after `payload`)
//! exactly as written. `sha256` is the digest of those bytes and the next
//! record's `prev` is that same digest. Verification hashes the raw bytes of the
//! line, so it never depends on re-serializing the payload.

use serde::{Deserialize, Serialize};

use super::{BatchPos, CorruptReason, Record};
use crate::digest::Digest;

const TRAILER_HEAD: &[u8] = b",\"sha256\":\"";
const TRAILER_TAIL: &[u8] = b"\"}";
/// Length of the `,"sha256":"<hex>"}` trailer.
const TRAILER_LEN: usize = TRAILER_HEAD.len() + 64 + TRAILER_TAIL.len();

#[derive(Serialize)]
struct CanonOut<'a> {
    seq: u64,
    ts_ms: i64,
    prev: String,
    kind: &'a str,
    payload: &'a serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<[u32; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanonIn {
    seq: u64,
    ts_ms: i64,
    prev: Digest,
    kind: String,
    payload: serde_json::Value,
    #[serde(default)]
    batch: Option<[u32; 2]>,
}

/// Encode a record as a full line (with trailing newline). Returns the line and the record digest.
pub fn encode_line(
    seq: u64,
    ts_ms: i64,
    prev: &Digest,
    kind: &str,
    payload: &serde_json::Value,
    batch: Option<BatchPos>,
) -> Result<(Vec<u8>, Digest), serde_json::Error> {
    let canon = serde_json::to_vec(&CanonOut {
        seq,
        ts_ms,
        prev: prev.to_hex(),
        kind,
        payload,
        batch: batch.map(|b| [b.index, b.len]),
    })?;
    let hash = Digest::of(&canon);
    let mut line = canon;
    line.pop(); // the closing '}'
    line.extend_from_slice(TRAILER_HEAD);
    line.extend_from_slice(hash.to_hex().as_bytes());
    line.extend_from_slice(TRAILER_TAIL);
    line.push(b'\n');
    Ok((line, hash))
}

/// Decode and self-verify one line (without its newline). Chain checks
/// (seq and prev) are done by the caller.
pub fn decode_line(line: &[u8]) -> Result<Record, CorruptReason> {
    if line.len() < TRAILER_LEN + 2 || !line.ends_with(TRAILER_TAIL) {
        return Err(CorruptReason::BadFraming);
    }
    let split = line.len() - TRAILER_LEN;
    let (body, trailer) = line.split_at(split);
    if !trailer.starts_with(TRAILER_HEAD) {
        return Err(CorruptReason::BadFraming);
    }
    let hex_part = &trailer[TRAILER_HEAD.len()..TRAILER_HEAD.len() + 64];
    let mut canon = Vec::with_capacity(body.len() + 1);
    canon.extend_from_slice(body);
    canon.push(b'}');
    let actual = Digest::of(&canon);
    // Compare bytes exactly (lowercase hex), so even a case flip in the trailer is caught.
    if hex_part != actual.to_hex().as_bytes() {
        let well_formed = hex_part
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        return Err(if well_formed {
            CorruptReason::ChecksumMismatch
        } else {
            CorruptReason::BadFraming
        });
    }
    let parsed: CanonIn =
        serde_json::from_slice(&canon).map_err(|e| CorruptReason::BadJson(e.to_string()))?;
    Ok(Record {
        seq: parsed.seq,
        ts_ms: parsed.ts_ms,
        prev: parsed.prev,
        kind: parsed.kind,
        payload: parsed.payload,
        batch: parsed.batch.map(|[index, len]| BatchPos { index, len }),
        hash: actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let payload = serde_json::json!({"a": [1, 2, "x\ny"], "b": null});
        let (line, hash) = encode_line(
            3,
            42,
            &Digest::ZERO,
            "k",
            &payload,
            Some(BatchPos { index: 1, len: 2 }),
        )
        .unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let rec = decode_line(&line[..line.len() - 1]).unwrap();
        assert_eq!(rec.seq, 3);
        assert_eq!(rec.ts_ms, 42);
        assert_eq!(rec.kind, "k");
        assert_eq!(rec.payload, payload);
        assert_eq!(rec.hash, hash);
        assert_eq!(rec.batch, Some(BatchPos { index: 1, len: 2 }));
    }

    #[test]
    fn any_single_byte_change_is_rejected() {
        let (line, _) = encode_line(
            1,
            5,
            &Digest::ZERO,
            "kind",
            &serde_json::json!({"n": 1}),
            None,
        )
        .unwrap();
        let body = &line[..line.len() - 1];
        for i in 0..body.len() {
            let mut bad = body.to_vec();
            bad[i] ^= 0x01;
            assert!(decode_line(&bad).is_err(), "flip at {i} not detected");
        }
    }
}
