//! Backup and verify-restore throughput of adapter-exported data, next to
//! `sha256sum` of the same file.
//!
//! Generates `CUTOVER_BENCH_BYTES` (default 1 GiB) in a temp data directory,
//! backs it up through the real `file-adapter` component (export-data streamed
//! into the blob store), then verifies it for restore (re-hash of the blob),
//! and runs `sha256sum` on the source file. Prints MB/s and ratios.
//!
//! Run: `cargo bench -p cutover-backup --bench backup`
//! (needs `scripts/build-plugins.sh` to have built the plugins).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cutover_backup::{BackupStore, Lineage};
use cutover_runtime::{DirGrant, Grants, Limits, Runtime, Sandbox};
use cutover_state::Digest;

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn generate(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = fastrand::Rng::with_seed(1);
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        rng.fill(&mut chunk);
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    w.flush()?;
    w.get_ref().sync_all()
}

fn sha256sum(path: &Path) -> Option<(Duration, String)> {
    let started = Instant::now();
    let out = Command::new("sha256sum").arg(path).output().ok()?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    Some((elapsed, text.split_whitespace().next()?.to_string()))
}

fn main() {
    let bytes: u64 = std::env::var("CUTOVER_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let wasm = cutover_test_kit::plugin_path("file-adapter");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let file = data.join("bulk");
    eprintln!("generating {bytes} bytes...");
    generate(&file, bytes).expect("generate data");

    let rt = Runtime::new(None).expect("runtime");
    let plugin = rt.load_file(&wasm, None).expect("load file-adapter");
    let sb = Sandbox {
        limits: Limits {
            deadline: Duration::from_secs(3600),
            ..Limits::default()
        },
        ..Sandbox::with_grants(Grants {
            dirs: vec![DirGrant {
                name: "data".into(),
                path: data.clone(),
                write: true,
            }],
            ..Grants::default()
        })
    };
    let store = BackupStore::open(&dir.path().join("state")).expect("store");

    // Warm the page cache for both contenders.
    let (_, expected) = sha256sum(&file).expect("sha256sum must be installed");

    let started = Instant::now();
    let m = store
        .backup(
            &rt,
            &plugin,
            &sb,
            "old",
            &["bulk".to_string()],
            Lineage::default(),
        )
        .expect("backup");
    let backup_time = started.elapsed();
    let r = &m.results[0];
    assert!(r.ok, "backup failed: {:?}", r.error);
    assert_eq!(r.size, bytes);
    assert_eq!(r.digest.as_deref(), Some(expected.as_str()));

    let started = Instant::now();
    let d = Digest::from_hex(&expected).expect("digest");
    let verified = store.blobs().verify(&d).expect("verify");
    let verify_time = started.elapsed();
    assert_eq!(verified.size, bytes);

    let (sum_time, sum) = sha256sum(&file).expect("sha256sum");
    assert_eq!(sum, expected);

    let sum_rate = mbps(bytes, sum_time);
    let backup_rate = mbps(bytes, backup_time);
    let verify_rate = mbps(bytes, verify_time);
    println!("bytes                       {bytes}");
    println!(
        "sha256sum                   {sum_rate:8.1} MB/s ({:.2?})",
        sum_time
    );
    println!(
        "backup (export+hash+store)  {backup_rate:8.1} MB/s ({:.2?})  ratio {:.2}x",
        backup_time,
        backup_rate / sum_rate
    );
    println!(
        "verify for restore (rehash) {verify_rate:8.1} MB/s ({:.2?})  ratio {:.2}x",
        verify_time,
        verify_rate / sum_rate
    );
}
