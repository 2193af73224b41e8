//! Small OS helpers for the lease: host identity, process liveness, flock.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;

/// This machine's hostname (empty if it cannot be read).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for buf.len() bytes; gethostname writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Linux boot id; changes on every reboot, so pids from another boot are meaningless.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Liveness of a local process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcState {
    /// Running (or at least not a zombie); with its start time in clock ticks since boot if known.
    Alive(Option<u64>),
    /// No such process, or a zombie.
    Dead,
}

/// Check a local pid via `/proc/<pid>/stat`, falling back to `kill(pid, 0)`.
pub fn process_state(pid: u32) -> ProcState {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ppid ... starttime(22nd field) ..."; comm may contain spaces.
            let rest = stat.rfind(')').map(|i| &stat[i + 1..]).unwrap_or("");
            let fields: Vec<&str> = rest.split_whitespace().collect();
            match fields.first() {
                Some(&"Z") | Some(&"X") | Some(&"x") => ProcState::Dead,
                _ => ProcState::Alive(fields.get(19).and_then(|s| s.parse().ok())),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && proc_mounted() => ProcState::Dead,
        Err(_) => {
            let Ok(raw) = libc::pid_t::try_from(pid) else {
                return ProcState::Dead;
            };
            // SAFETY: signal 0 performs only the existence/permission check.
            let rc = unsafe { libc::kill(raw, 0) };
            if rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
                ProcState::Alive(None)
            } else {
                ProcState::Dead
            }
        }
    }
}

fn proc_mounted() -> bool {
    std::path::Path::new("/proc/self/stat").exists()
}

/// Start time of this process (clock ticks since boot), if known.
pub fn own_start_time() -> Option<u64> {
    match process_state(std::process::id()) {
        ProcState::Alive(t) => t,
        ProcState::Dead => None,
    }
}

/// 128 random bits as hex, from `/dev/urandom` (falls back to time and pid).
pub fn random_id() -> String {
    let mut buf = [0u8; 16];
    let ok = File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        let seed = format!(
            "{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        );
        let d = crate::digest::Digest::of(seed.as_bytes());
        buf.copy_from_slice(&d.0[..16]);
    }
    hex::encode(buf)
}

/// An exclusive `flock` held until drop (the kernel also drops it if the process dies).
pub struct FlockGuard {
    _file: File,
}

/// Block until an exclusive flock on `file` is held.
pub fn flock_exclusive(file: File) -> io::Result<FlockGuard> {
    loop {
        // SAFETY: the fd is valid for the lifetime of `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(FlockGuard { _file: file });
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_dead_child_is_dead() {
        assert!(matches!(
            process_state(std::process::id()),
            ProcState::Alive(Some(_))
        ));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(process_state(pid), ProcState::Dead);
        assert_eq!(random_id().len(), 32);
        assert_ne!(random_id(), random_id());
    }
}
