//! `cutover watch PLAN`: stays up beside a paused or waiting run, escalates
//! its incidents on time and sends their notifications (journaled by
//! `watcher`), and serves `/metrics` like `serve-metrics`. It never runs
//! steps, never advances a phase and holds the lease only for the moment it
//! journals, so `cutover resume` works while it watches. SIGTERM or SIGINT
//! stop it cleanly (exit 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use cutover_base::time::{format_duration_ms, parse_duration};
use cutover_engine::watch::{Tick, Watcher};

use super::artifacts::{MetricsFeed, load};
use crate::exit;

/// Arguments of `cutover watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The plan file (TOML); its state directory is the run's.
    pub plan: PathBuf,
    /// How often to look for incidents past their escalation time, e.g. "5s".
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Loopback address to serve the metrics on (as `serve-metrics`).
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,
}

/// Set by SIGTERM and SIGINT.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // An atomic store is async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

fn catch_stop_signals() -> anyhow::Result<()> {
    let handler: extern "C" fn(libc::c_int) = on_stop_signal;
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; `signal` is given a valid signal number.
        let previous = unsafe { libc::signal(sig, handler as *const () as libc::sighandler_t) };
        if previous == libc::SIG_ERR {
            anyhow::bail!(
                "cannot install a handler for signal {sig}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(())
}

/// Sleeps up to `d`, waking early when a stop signal came.
fn sleep_unless_stopped(d: Duration) {
    let until = Instant::now() + d;
    while !STOP.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// Runs `cutover watch` until SIGTERM or SIGINT.
pub fn watch(a: WatchArgs) -> anyhow::Result<u8> {
    if a.interval.is_zero() {
        return Err(super::usage("--interval must be longer than 0s"));
    }
    let loaded = match load(&a.plan)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let mut watcher = Watcher::new(&loaded)?;
    catch_stop_signals()?;
    let mut feed = MetricsFeed::start(&loaded, a.listen)?;
    eprintln!(
        "watching plan {:?} (state dir {}): escalations checked every {}, metrics at http://{}/metrics; SIGTERM or Ctrl-C stops",
        loaded.plan.meta.name,
        loaded.state_dir().display(),
        format_duration_ms(u64::try_from(a.interval.as_millis()).unwrap_or(u64::MAX)),
        feed.addr()
    );
    let mut last: Option<Tick> = None;
    while !STOP.load(Ordering::SeqCst) {
        match watcher.tick() {
            Ok(tick) => {
                report(&tick, last.as_ref());
                last = Some(tick);
            }
            Err(e) => eprintln!("warning: {e}"),
        }
        feed.refresh(&loaded.plan);
        sleep_unless_stopped(a.interval);
    }
    match watcher.flush() {
        Ok(0) => {}
        Ok(n) => {
            eprintln!("warning: {n} notification record(s) not journaled: a runner holds the lease")
        }
        Err(e) => eprintln!("warning: notification records not journaled: {e}"),
    }
    drop(feed);
    eprintln!("stopped watching plan {:?}", loaded.plan.meta.name);
    Ok(exit::OK)
}

/// Prints what changed since the last tick and what this tick did.
fn report(tick: &Tick, last: Option<&Tick>) {
    if last.is_none_or(|l| l.status != tick.status) {
        println!("run status: {}", tick.status.as_str());
    }
    if tick.runner_active && last.is_none_or(|l| !l.runner_active) {
        println!("an incident is due, but a runner holds the lease: it escalates by itself");
    }
    if !tick.escalated.is_empty() {
        println!(
            "escalated {} (notifications: {} sent, {} failed)",
            tick.escalated.join(", "),
            tick.sent,
            tick.failed
        );
    }
}
