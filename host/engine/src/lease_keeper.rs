//! The held lease, kept alive by a thread: a step or a backup may take
//! longer than the lease's time to live, and a runner must not lose its
//! lease for being busy. A process that is stopped (SIGSTOP) stops its
//! keeper too, so its lease expires and another runner may take over; the
//! database then refuses the woken holder's writes (its fence is stale).

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use cutover_state::{AnyLeaseHandle, Fence, LeaseError, LeaseHandle, LeaseInfo};

use crate::runner::HEARTBEAT_EVERY;

/// How often the lease of `handle` is refreshed: every
/// [`HEARTBEAT_EVERY`], or a third of a database lease's time to live when
/// that is shorter.
pub(crate) fn interval(handle: &AnyLeaseHandle) -> Duration {
    match handle {
        AnyLeaseHandle::File(_) => HEARTBEAT_EVERY,
        AnyLeaseHandle::Pg(_) => HEARTBEAT_EVERY.min(cutover_state::db_lease_ttl() / 3),
    }
}

/// A lease refreshed by a thread until stopped or dropped (then released).
pub(crate) struct LeaseKeeper {
    info: LeaseInfo,
    fence: Option<Fence>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<Result<(), LeaseError>>>,
    lost: bool,
}

impl LeaseKeeper {
    /// Starts refreshing `handle`.
    pub(crate) fn start(mut handle: AnyLeaseHandle) -> LeaseKeeper {
        let info = handle.info().clone();
        let fence = handle.fence();
        let every = interval(&handle);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                match stopped.recv_timeout(every) {
                    Err(mpsc::RecvTimeoutError::Timeout) => handle.heartbeat()?,
                    _ => return handle.release(),
                }
            }
        });
        LeaseKeeper {
            info,
            fence,
            stop: Some(stop),
            thread: Some(thread),
            lost: false,
        }
    }

    /// The fencing token writes present (database leases).
    pub(crate) fn fence(&self) -> Option<Fence> {
        self.fence
    }

    /// The lease's error once the keeper stopped on one (the lease lost),
    /// and every time after.
    pub(crate) fn check(&mut self) -> Result<(), LeaseError> {
        if self.lost {
            return Err(self.lost_error());
        }
        if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            let r = self.stop();
            self.lost = true;
            return match r {
                Ok(()) => Err(self.lost_error()),
                e => e,
            };
        }
        Ok(())
    }

    fn lost_error(&self) -> LeaseError {
        LeaseError::Lost {
            holder: self.info.holder.clone(),
            current: None,
        }
    }

    /// Stops refreshing and releases the lease.
    pub(crate) fn stop(&mut self) -> Result<(), LeaseError> {
        self.stop.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            // The thread only heartbeats; it cannot panic on its own.
            Some(Err(_)) | None => Ok(()),
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
