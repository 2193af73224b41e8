//! What the fuzz targets share: scratch directories, the re-sealing of
//! checksummed inputs (so the fuzzer reaches past the checksums) and the
//! "nothing written" check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cutover_state::Digest;

/// A fresh, empty scratch directory for `target` in this process, in memory
/// when `/dev/shm` exists, else under the system temp dir (`scripts/fuzz.sh`
/// removes both after the run).
pub fn scratch(target: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base
        .join("cutover-fuzz")
        .join(format!("{target}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// Every file under `dir` with its bytes (directories as empty entries).
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).ok());
            }
        }
    }
    out
}

/// Splits off the mode byte: odd means "re-seal the rest", even "as is".
pub fn mode(data: &[u8]) -> (bool, &[u8]) {
    match data.split_first() {
        Some((m, rest)) => (m & 1 == 1, rest),
        None => (false, data),
    }
}

const TRAILER_HEAD: &[u8] = b",\"sha256\":\"";
const PREV: &[u8] = b"\"prev\":\"";

/// Re-seals journal lines: a line with the `,"sha256":"<64>"}` trailer gets
/// its `prev` set to the previous line's digest and its trailer recomputed,
/// as the writer would have; other lines are kept as they are.
pub fn reseal_journal(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut prev = Digest::ZERO;
    let mut lines = data.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let trailer = TRAILER_HEAD.len() + 64 + 2;
        let framed = line.len() >= trailer + 2
            && line.ends_with(b"\"}")
            && line[line.len() - trailer..].starts_with(TRAILER_HEAD);
        if framed {
            let mut canon = line[..line.len() - trailer].to_vec();
            if let Some(at) = find(&canon, PREV)
                && canon.len() >= at + PREV.len() + 64
            {
                let at = at + PREV.len();
                canon[at..at + 64].copy_from_slice(prev.to_hex().as_bytes());
            }
            canon.push(b'}');
            let digest = Digest::of(&canon);
            canon.pop();
            out.extend_from_slice(&canon);
            out.extend_from_slice(TRAILER_HEAD);
            out.extend_from_slice(digest.to_hex().as_bytes());
            out.extend_from_slice(b"\"}");
            prev = digest;
        } else {
            out.extend_from_slice(line);
        }
        if !last {
            out.push(b'\n');
        }
    }
    out
}

/// Wraps `body` as checked JSON, `{"sha256":"<hex>","body":<body>}\n`, the
/// way `cutover_state::encode_checked_json` writes documents.
pub fn seal_checked(body: &[u8]) -> Vec<u8> {
    let mut out = b"{\"sha256\":\"".to_vec();
    out.extend_from_slice(Digest::of(body).to_hex().as_bytes());
    out.extend_from_slice(b"\",\"body\":");
    out.extend_from_slice(body);
    out.extend_from_slice(b"}\n");
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The largest single allocation a target may make: 2 GiB.
const ALLOC_LIMIT: usize = 2 << 30;

/// The system allocator, aborting (a finding libFuzzer saves) on any single
/// allocation over [`ALLOC_LIMIT`], as a sanitizer's malloc limit would;
/// `-rss_limit_mb` catches what grows in many small steps.
struct Capped;

fn over_limit(_size: usize) -> ! {
    use std::io::Write;
    let _ = std::io::stderr().write_all(b"==fuzz== allocation over 2 GiB\n");
    std::process::abort()
}

// SAFETY: forwards to the system allocator unchanged (or aborts).
unsafe impl std::alloc::GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() > ALLOC_LIMIT {
            over_limit(layout.size());
        }
        // SAFETY: same layout contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() > ALLOC_LIMIT {
            over_limit(layout.size());
        }
        // SAFETY: same layout contract as the caller's.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        if new > ALLOC_LIMIT {
            over_limit(new);
        }
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;
