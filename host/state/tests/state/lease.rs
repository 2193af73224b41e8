//! The lease: one holder at a time, heartbeats, force-unlock, and stale
//! leases (expired heartbeat, killed holder) recovered, on both backends;
//! the database lease's fencing in `lease_pg.rs`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use cutover_state::{FileLease, Lease, LeaseError, LeaseHandle, LeaseInfo, StaleReason};

use super::harness::{Backend, TestState, child_state};
use super::{child_command, child_dir};

both_backends!(
    lease_second_holder_refused_and_force_unlock,
    a_refused_acquirer_reads_what_the_holder_does,
    lease_of_killed_process_is_recovered,
);

fn lease_second_holder_refused_and_force_unlock(backend: Backend) {
    let ts = TestState::new(backend);
    let lease = ts.state.lease(None).unwrap();
    let mut first = lease.acquire().unwrap();
    assert!(first.recovered.is_none());
    match lease.acquire() {
        Err(LeaseError::Held { holder, pid, .. }) => {
            assert_eq!(holder, first.handle.info().holder);
            assert_eq!(pid, std::process::id());
        }
        other => panic!("second acquire should be refused: {other:?}"),
    }
    let before = lease.current().unwrap().unwrap().heartbeat_at;
    std::thread::sleep(Duration::from_millis(5));
    first.handle.heartbeat().unwrap();
    assert!(lease.current().unwrap().unwrap().heartbeat_at > before);

    let forced = lease.force_unlock("operator said so").unwrap().unwrap();
    assert_eq!(forced.previous.unwrap().holder, first.handle.info().holder);
    assert_eq!(forced.reason, "operator said so");
    assert!(matches!(
        first.handle.heartbeat(),
        Err(LeaseError::Lost { .. })
    ));
    let second = lease.acquire().unwrap();
    if backend == Backend::Pg {
        // A token is never reused, even after a force-unlock.
        let t1 = first.handle.info().token.unwrap();
        assert_eq!(second.handle.info().token, Some(t1 + 1));
        assert!(second.recovered.is_none());
    }
    drop(first); // must not remove the new holder's lease
    assert_eq!(
        lease.current().unwrap().unwrap().holder,
        second.handle.info().holder
    );
    second.handle.release().unwrap();
    assert!(lease.current().unwrap().is_none());
    assert!(lease.force_unlock("nothing there").unwrap().is_none());
}

fn a_refused_acquirer_reads_what_the_holder_does(backend: Backend) {
    let ts = TestState::new(backend);
    let first = ts
        .state
        .lease(Some("cutover backup create by ana"))
        .unwrap()
        .acquire()
        .unwrap();
    assert_eq!(
        first.handle.info().purpose.as_deref(),
        Some("cutover backup create by ana")
    );
    let err = ts.state.lease(None).unwrap().acquire().unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("lease held by `cutover backup create by ana`, holder "),
        "{text}"
    );
    assert!(
        text.contains(&format!("(pid {} on ", std::process::id())),
        "{text}"
    );
    drop(first);
    let unsaid = ts.state.lease(None).unwrap().acquire().unwrap();
    let err = ts.state.lease(None).unwrap().acquire().unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "lease held by {} (pid",
            unsaid.handle.info().holder
        )),
        "{err}"
    );
}

#[test]
fn the_lease_file_says_what_the_holder_does() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileLease::new(dir.path())
        .unwrap()
        .for_purpose("cutover backup create by ana")
        .acquire()
        .unwrap();
    let raw = fs::read_to_string(dir.path().join(FileLease::FILE_NAME)).unwrap();
    assert!(
        raw.contains("\"purpose\": \"cutover backup create by ana\""),
        "{raw}"
    );
    drop(first);
    // A lease written before `purpose` existed reads as one without it.
    let old = r#"{"holder":"feedface","pid":1,"host":"some-other-host.invalid","acquired_at":1,"heartbeat_at":1}"#;
    let info: LeaseInfo = serde_json::from_str(old).unwrap();
    assert_eq!(info.purpose, None);
}

#[test]
fn lease_corrupt_file_requires_force_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let lease = FileLease::new(dir.path()).unwrap();
    fs::write(dir.path().join(FileLease::FILE_NAME), b"{not json").unwrap();
    assert!(matches!(lease.acquire(), Err(LeaseError::Corrupt { .. })));
    let forced = lease.force_unlock("garbage").unwrap().unwrap();
    assert!(forced.previous.is_none());
    assert_eq!(forced.raw, "{not json");
    lease.acquire().unwrap();
}

#[test]
fn lease_expired_heartbeat_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let lease = FileLease::with_ttl(dir.path(), Duration::from_secs(60)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let other = |heartbeat_at| LeaseInfo {
        holder: "feedface".into(),
        pid: 1,
        host: "some-other-host.invalid".into(),
        boot_id: None,
        pid_start: None,
        acquired_at: now - 7_200_000,
        heartbeat_at,
        token: None,
        purpose: None,
    };
    let path = dir.path().join(FileLease::FILE_NAME);
    fs::write(&path, serde_json::to_vec(&other(now - 1000)).unwrap()).unwrap();
    assert!(matches!(lease.acquire(), Err(LeaseError::Held { .. })));
    fs::write(&path, serde_json::to_vec(&other(now - 3_600_000)).unwrap()).unwrap();
    let got = lease.acquire().unwrap();
    let rec = got.recovered.unwrap();
    assert_eq!(rec.previous.holder, "feedface");
    assert!(
        matches!(rec.reason, StaleReason::HeartbeatExpired { age } if age >= Duration::from_secs(3600))
    );
}

/// Helper run as a child: takes the lease, says so, then waits to be killed.
#[test]
#[ignore = "child helper for lease_of_killed_process_is_recovered"]
fn lease_child_holder() {
    let state = child_state(&child_dir());
    let held = state.lease(None).unwrap().acquire().unwrap();
    println!("HELD {}", held.handle.info().holder);
    std::thread::sleep(Duration::from_secs(60));
}

/// The database lease of a killed holder lives until it expires.
const KILLED_TTL: Duration = Duration::from_millis(1500);

fn lease_of_killed_process_is_recovered(backend: Backend) {
    let ts = TestState::new(backend);
    let mut cmd = child_command("lease::lease_child_holder", ts.dir.path());
    ts.child_env(&mut cmd);
    cmd.env(
        cutover_state::LEASE_TTL_ENV,
        KILLED_TTL.as_millis().to_string(),
    );
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let holder = loop {
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(at) = line.find("HELD ") {
            break line[at + 5..].trim().to_string();
        }
    };
    let lease = ts.state.lease(None).unwrap();
    match lease.acquire() {
        Err(LeaseError::Held { pid, .. }) => assert_eq!(pid, child.id()),
        other => panic!("live child's lease must be refused: {other:?}"),
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    let got = loop {
        match lease.acquire() {
            Ok(got) => break got,
            // The database cannot see a dead pid: the lease lives out its TTL.
            Err(LeaseError::Held { .. }) if backend == Backend::Pg => {
                assert!(start.elapsed() < KILLED_TTL + Duration::from_secs(5));
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("acquire after the holder was killed: {e}"),
        }
    };
    let rec = got.recovered.expect("stale lease should be reported");
    assert_eq!(rec.previous.holder, holder);
    assert_eq!(rec.previous.pid, child.id());
    match backend {
        Backend::Dir => {
            assert_eq!(rec.reason, StaleReason::DeadPid);
            assert!(start.elapsed() < Duration::from_secs(5));
        }
        Backend::Pg => {
            assert!(
                matches!(rec.reason, StaleReason::HeartbeatExpired { age } if age >= KILLED_TTL),
                "{:?}",
                rec.reason
            );
            assert!(start.elapsed() >= Duration::from_millis(500));
            let old = rec.previous.token.unwrap();
            assert_eq!(got.handle.info().token, Some(old + 1));
        }
    }
}
