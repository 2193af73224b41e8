//! Journal commit latency and blob put throughput. Run with
//! `cargo bench -p cutover-state --bench journal`. Prints figures and PASS/FAIL
//! against the targets; it never fails the build.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cutover_state::{BlobStore, Digest, FileBlobStore, FileJournal, Journal};
use sha2::{Digest as _, Sha256};

const APPENDS: u64 = 1000;
const APPEND_TARGET: Duration = Duration::from_secs(2);
const BLOB_MIB: u64 = 256;
const RATIO_TARGET: f64 = 0.9;

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// The device floor: plain `write` + `fdatasync` of a 200-byte line, no journal logic.
fn bench_raw_fdatasync(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("raw.log"))?;
    let line = [b'x'; 200];
    let start = Instant::now();
    for _ in 0..APPENDS {
        f.write_all(&line)?;
        f.sync_data()?;
    }
    let total = start.elapsed();
    println!(
        "raw: {APPENDS} x (write 200 B + fdatasync), no journal logic: total {:.3} s, {:.3} ms each (info: device floor)",
        total.as_secs_f64(),
        total.as_secs_f64() * 1000.0 / APPENDS as f64
    );
    Ok(())
}

fn bench_appends(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut j = FileJournal::open(&dir.join("journal"))?;
    let payload = serde_json::json!({"phase": "shadow", "check": "alerts-match", "ok": true});
    let start = Instant::now();
    for _ in 0..APPENDS {
        j.append("check-result", payload.clone())?;
    }
    let total = start.elapsed();
    println!(
        "journal: {APPENDS} appends, one fsync each: total {:.3} s, {:.3} ms/commit (target <= {:.1} s): {}",
        total.as_secs_f64(),
        total.as_secs_f64() * 1000.0 / APPENDS as f64,
        APPEND_TARGET.as_secs_f64(),
        verdict(total <= APPEND_TARGET)
    );
    let batch: Vec<_> = (0..APPENDS)
        .map(|_| ("check-result".to_string(), payload.clone()))
        .collect();
    let start = Instant::now();
    j.append_batch(batch)?;
    println!(
        "journal: append_batch of {APPENDS} records, one fsync: {:.3} ms (info)",
        start.elapsed().as_secs_f64() * 1000.0
    );
    let start = Instant::now();
    drop(j);
    let j = FileJournal::open(&dir.join("journal"))?;
    println!(
        "journal: reopen + verify {} records: {:.3} ms (info)",
        j.head().map_or(0, |h| h.seq),
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

fn make_file(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut f = File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..BLOB_MIB {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&buf)?;
    }
    f.sync_all()?;
    // Warm the page cache so both contenders read from memory.
    std::io::copy(&mut File::open(path)?, &mut std::io::sink())?;
    Ok(())
}

fn mb_s(d: Duration) -> f64 {
    (BLOB_MIB as f64) * 1.048_576 / d.as_secs_f64()
}

fn bench_blobs(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let src = dir.join("source.bin");
    make_file(&src)?;

    let mut best_sum = Duration::MAX;
    let mut sum_hex = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let out = Command::new("sha256sum").arg(&src).output()?;
        best_sum = best_sum.min(start.elapsed());
        sum_hex = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
    }

    let mut best_hash = Duration::MAX;
    for _ in 0..3 {
        let mut f = File::open(&src)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut h = Sha256::new();
        let start = Instant::now();
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let _ = Digest::from(h);
        best_hash = best_hash.min(start.elapsed());
    }

    let mut best_put = Duration::MAX;
    let mut put_hex = String::new();
    for round in 0..3 {
        // Fresh store each round so dedupe does not skip the rename.
        let store = FileBlobStore::open(&dir.join(format!("store{round}")))?;
        let mut f = File::open(&src)?;
        let start = Instant::now();
        let blob = store.put_stream(&mut f)?;
        best_put = best_put.min(start.elapsed());
        put_hex = blob.digest.to_hex();
        std::fs::remove_dir_all(store.root())?;
    }
    if put_hex != sum_hex {
        return Err(format!("digest mismatch: put {put_hex}, sha256sum {sum_hex}").into());
    }
    let ratio = mb_s(best_put) / mb_s(best_sum);
    println!(
        "blob: {BLOB_MIB} MiB, best of 3: sha256sum {:.0} MB/s; in-process sha2 read+hash {:.0} MB/s (info); put_stream (hash + write + fsync + rename) {:.0} MB/s",
        mb_s(best_sum),
        mb_s(best_hash),
        mb_s(best_put)
    );
    println!(
        "blob: put_stream / sha256sum = {ratio:.2}x (target >= {RATIO_TARGET}x): {}",
        verdict(ratio >= RATIO_TARGET)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run quickly then.
    let full = std::env::args().any(|a| a == "--bench");
    let dir = match std::env::var_os("BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    println!("bench dir: {}", dir.path().display());
    if !full {
        println!("not run with --bench: skipping (use `cargo bench`)");
        return Ok(());
    }
    bench_appends(dir.path())?;
    bench_raw_fdatasync(dir.path())?;
    bench_blobs(dir.path())?;
    Ok(())
}
