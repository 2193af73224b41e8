//! State at team scale, on both backends (a state directory and PostgreSQL
//! from the test fixture, `tests/fixture/pg/start.sh`, fsync on):
//!
//! a) 1,000 `wait 0s` steps through `Runner` (group commit: instant steps'
//!    records share commits), beside the floors measured in the same run:
//!    1,000 x (write + fdatasync) on this disk, and for PostgreSQL 1,000
//!    single-row committed INSERTs. Target: <= 2 s on each backend.
//! b) `operator::status_summary` (what `cutover status` reads) on a journal of 100,000 records: a run over
//!    10,000 services in 100 waves, five steps each (backup, migrate, check,
//!    cutover action, soak wait), every step's `step-started` and
//!    `step-finished` records built with `Event::to_record` and the details
//!    the engine writes, appended through the backend's `Journal` in
//!    batches of 1,000. The status snapshot is then saved by the runner
//!    itself: a `Runner` resumes the run (its plan's only phase is left to
//!    do) and saves it when the invocation ends. Timed with the snapshot
//!    and with the snapshot deleted (the full fold). Target: <= 200 ms with
//!    the snapshot.
//!
//! `cargo bench -p cutover-engine --bench state_scale`.

use std::path::Path;
use std::time::Instant;

use cutover_engine::{
    Event, Mode, PluginBridge, RunOptions, RunOutcome, RunView, Runner, SNAPSHOT_DOC, StateAt,
    operator,
};
use cutover_plan::LoadedPlan;
use cutover_runtime::Runtime;
use cutover_state::{Anchor, FileJournal, Journal, Lease, LeaseHandle, StateBackend};
use cutover_test_kit::pg::{PASSWORD_ENV, PgDb, PgFixture};
use cutover_test_kit::plan::{PlanBuilder, dir_grant};
use cutover_test_kit::repo_path;

#[path = "state_scale/records.rs"]
mod records;
use records::run_events;

const STEPS: usize = 1000;
const TARGET_STEPS_S: f64 = 2.0;
const CHUNK: usize = 1000;
const TARGET_STATUS_MS: f64 = 200.0;
const STATUS_RUNS: usize = 7;

/// Where the state of a bench plan lives.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Dir,
    Pg,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Dir => "dir",
            Backend::Pg => "postgres",
        }
    }
}

/// Writes the plan (named `name`, its state in `db` when given) under
/// `dir` and loads it.
fn load(rt: &Runtime, dir: &Path, name: &str, db: Option<&PgDb>, body: &str) -> LoadedPlan {
    let mut b = PlanBuilder::new(name)
        .plugin("noop", "noop-action", "")
        .plugin("file", "file-adapter", &dir_grant("data", "data", true))
        .systems("file", "file");
    if let Some(db) = db {
        b = b.plan_keys(&format!("state = \"{}\"", db.url));
    }
    // The systems' file adapters need their data directory: the runner
    // checks both systems' health when a phase starts.
    std::fs::create_dir_all(dir.join("data")).expect("data dir");
    let path = b.write(dir, body);
    match cutover_plan::load(&path, &PluginBridge::new(rt)) {
        Ok(l) => l,
        Err(d) => panic!("plan rejected:\n{}", d.render_plain()),
    }
}

fn phase_of_waits(id: &str, n: usize) -> String {
    let mut s = format!(
        "\n[[phases]]\nid = \"{id}\"\nname = \"{id}\"\nrisk = \"low\"\nrollback_point = false\n"
    );
    for i in 0..n {
        s.push_str(&format!(
            "[[phases.steps]]\nid = \"{id}-s{i}\"\nkind = \"wait\"\nduration = \"0s\"\n"
        ));
    }
    s
}

/// a) 1,000 `wait 0s` steps through the runner.
fn steps(rt: &Runtime, backend: Backend, db: Option<&PgDb>) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = load(
        rt,
        dir.path(),
        "bench-steps",
        db,
        &phase_of_waits("p", STEPS),
    );
    let t0 = Instant::now();
    let mut runner = Runner::open(rt, &loaded, Mode::Run, RunOptions::default()).expect("open");
    let out = runner.execute().expect("execute");
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(out, RunOutcome::Completed);
    println!(
        "[{}] {STEPS} wait-0s steps in {secs:.3} s ({:.3} ms/step, {} journal records)",
        backend.label(),
        secs * 1000.0 / STEPS as f64,
        runner.view().records
    );
    secs
}

/// The device floor: 1,000 x (write 200 B + fdatasync) on the same filesystem.
fn fsync_floor() -> f64 {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("raw.log"))
        .expect("open");
    let t0 = Instant::now();
    for _ in 0..STEPS {
        f.write_all(&[b'x'; 200]).expect("write");
        f.sync_data().expect("fdatasync");
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "[dir] floor: {STEPS} x (write + fdatasync) in {secs:.3} s ({:.3} ms each)",
        secs * 1000.0 / STEPS as f64
    );
    secs
}

fn sql(db: &PgDb) -> postgres::Client {
    postgres::Config::new()
        .host("127.0.0.1")
        .port(PgFixture::start().port())
        .user("cutover")
        .password(&db.password)
        .dbname(&db.name)
        .connect(postgres::NoTls)
        .expect("connect")
}

/// The database floor: 1,000 single-row INSERTs, each its own committed
/// transaction, on one connection.
fn pg_floor(db: &PgDb) -> f64 {
    let mut c = sql(db);
    c.batch_execute("CREATE TABLE floor (seq bigint PRIMARY KEY, line text NOT NULL)")
        .expect("create");
    let line = "x".repeat(200);
    let t0 = Instant::now();
    for i in 0..STEPS as i64 {
        c.execute(
            "INSERT INTO floor (seq, line) VALUES ($1, $2)",
            &[&i, &line],
        )
        .expect("insert");
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "[postgres] floor: {STEPS} single-row committed INSERTs in {secs:.3} s ({:.3} ms each)",
        secs * 1000.0 / STEPS as f64
    );
    secs
}

fn journal_bytes(state: &StateAt, backend: &StateBackend, db: Option<&PgDb>) -> u64 {
    match (backend, db) {
        (StateBackend::Postgres(pg), Some(db)) => {
            let table = pg.config().journal_table();
            let bytes: i64 = sql(db)
                .query_one(
                    &format!("SELECT sum(octet_length(line) + 1)::bigint FROM {table}"),
                    &[],
                )
                .expect("size")
                .get(0);
            bytes as u64
        }
        _ => std::fs::metadata(state.dir.join(FileJournal::FILE_NAME)).map_or(0, |m| m.len()),
    }
}

/// The status snapshot as the runner saves it (`{anchor, view}`).
#[derive(serde::Deserialize)]
struct Snapshot {
    anchor: Anchor,
    view: RunView,
}

/// Where the time of `status` with the snapshot goes: reading the
/// document, checking and decoding it, reading the records after its anchor.
fn snapshot_breakdown(label: &str, be: &StateBackend) {
    let t0 = Instant::now();
    let bytes = be
        .docs(None)
        .expect("docs")
        .get(SNAPSHOT_DOC)
        .expect("get")
        .expect("snapshot");
    let read_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t1 = Instant::now();
    let json = lz4_flex::decompress_size_prepended(&bytes).expect("an LZ4 block");
    let inflate_ms = t1.elapsed().as_secs_f64() * 1000.0;
    let t1 = Instant::now();
    let snap: Snapshot =
        cutover_state::decode_checked_json(Path::new(SNAPSHOT_DOC), &json).expect("decode");
    let decode_ms = t1.elapsed().as_secs_f64() * 1000.0;
    let t2 = Instant::now();
    let after = be
        .records_after_anchor(&snap.anchor)
        .expect("records after the anchor")
        .expect("anchored");
    let after_ms = t2.elapsed().as_secs_f64() * 1000.0;
    let json_len = |id: &str| {
        snap.view
            .steps
            .get(id)
            .and_then(|s| serde_json::to_string(s).ok())
            .map_or(0, |j| j.len())
    };
    println!(
        "[{label}] snapshot per step: {} bytes of JSON on average; a `wait` step (no details) {} bytes, \
         a migrate step {} bytes, a check step {} bytes",
        json.len() / snap.view.steps.len().max(1),
        json_len("soak-svc-00001"),
        json_len("migrate-svc-00001"),
        json_len("check-svc-00001")
    );
    println!(
        "[{label}] snapshot: {} bytes LZ4 of {:.1} MB JSON holding {} steps; read {read_ms:.1} ms, \
         decompress {inflate_ms:.1} ms, checksum + decode {decode_ms:.1} ms, {} records after its anchor \
         read in {after_ms:.1} ms",
        bytes.len(),
        json.len() as f64 / 1e6,
        snap.view.steps.len(),
        after.len()
    );
}

/// Times `operator::status_summary` `STATUS_RUNS` times; returns the median in ms.
fn time_status(state: &StateAt) -> (f64, f64, serde_json::Value) {
    let mut ms = Vec::new();
    let mut view = serde_json::Value::Null;
    for _ in 0..STATUS_RUNS {
        let t0 = Instant::now();
        let v = operator::status_summary(state).expect("status");
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        view = serde_json::to_value(&v).expect("view json");
    }
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[0], view)
}

/// b) `status` on a 100,000-record journal, with and without the snapshot.
fn status(rt: &Runtime, backend: Backend, db: Option<&PgDb>) -> f64 {
    let label = backend.label();
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = load(
        rt,
        dir.path(),
        "bench-status",
        db,
        &phase_of_waits("final", 1),
    );
    let state = StateAt::of_plan(&loaded).expect("state");
    let be = state.open().expect("backend");
    be.ensure().expect("ensure");
    let t0 = Instant::now();
    let evs = run_events(&loaded);
    {
        let lease = be
            .lease(Some("bench: generating a journal"))
            .expect("lease");
        let held = lease.acquire().expect("acquire").handle;
        let (mut journal, _) = be.journal_for_write(&held).expect("journal");
        for chunk in evs.chunks(CHUNK) {
            journal
                .append_batch(chunk.iter().map(Event::to_record).collect())
                .expect("append");
        }
        drop(journal);
        held.release().expect("release");
    }
    let gen_s = t0.elapsed().as_secs_f64();
    // The runner resumes the run, does the plan's last phase and saves the
    // status snapshot as it does at the end of every invocation.
    let t1 = Instant::now();
    let mut runner = Runner::open(rt, &loaded, Mode::Resume, RunOptions::default()).expect("open");
    assert_eq!(runner.execute().expect("execute"), RunOutcome::Completed);
    let records = runner.view().records;
    assert!(records as usize > evs.len(), "records");
    drop(runner);
    let resume_s = t1.elapsed().as_secs_f64();
    assert!(
        be.docs(None)
            .expect("docs")
            .get(SNAPSHOT_DOC)
            .expect("get")
            .is_some(),
        "the runner saved no snapshot"
    );
    let bytes = journal_bytes(&state, &be, db);
    println!(
        "[{label}] journal: {records} records, {bytes} bytes ({:.1} MB, {} B/record); \
         appended in {gen_s:.2} s; the runner's resume (fold + last phase + snapshot) {resume_s:.2} s",
        bytes as f64 / 1e6,
        bytes / records
    );
    let (snap_ms, snap_min, with_snapshot) = time_status(&state);
    snapshot_breakdown(label, &be);
    {
        let held = be
            .lease(Some("bench: deleting the snapshot"))
            .expect("lease")
            .acquire()
            .expect("acquire")
            .handle;
        assert!(
            be.docs(held.fence())
                .expect("docs")
                .delete(SNAPSHOT_DOC)
                .expect("delete")
        );
        held.release().expect("release");
    }
    let (full_ms, full_min, full) = time_status(&state);
    assert_eq!(
        with_snapshot, full,
        "the snapshot's status differs from the full fold"
    );
    println!(
        "[{label}] status with the snapshot: {snap_ms:.1} ms (median of {STATUS_RUNS}, min {snap_min:.1}); \
         full fold: {full_ms:.1} ms (min {full_min:.1}); snapshot/full = {:.3} ({:.0}x faster)",
        snap_ms / full_ms,
        full_ms / snap_ms
    );
    snap_ms
}

fn main() {
    let t_all = Instant::now();
    let cache = repo_path("target/engine-test-cache");
    let rt = Runtime::new(Some(&cache)).expect("runtime");
    let fx = PgFixture::start();
    // The runner reads the database password from the environment, like
    // `cutover run`; set before any other thread of ours reads it.
    // SAFETY: no thread of this process reads the environment concurrently.
    unsafe { std::env::set_var(PASSWORD_ENV, fx.password()) };

    let dir_floor = fsync_floor();
    let dir_steps = steps(&rt, Backend::Dir, None);
    let db = fx.fresh_db();
    let pg_floor = pg_floor(&db);
    let pg_steps = steps(&rt, Backend::Pg, Some(&db));
    for (label, secs, floor) in [
        ("dir", dir_steps, dir_floor),
        ("postgres", pg_steps, pg_floor),
    ] {
        println!(
            "target [{label}]: {STEPS} wait-0s steps <= {TARGET_STEPS_S} s: {} ({secs:.3} s; floor {floor:.3} s, steps/floor {:.2})",
            if secs <= TARGET_STEPS_S {
                "met"
            } else {
                "NOT met"
            },
            secs / floor
        );
    }

    let dir_status = status(&rt, Backend::Dir, None);
    let db = fx.fresh_db();
    let pg_status = status(&rt, Backend::Pg, Some(&db));
    for (label, ms) in [("dir", dir_status), ("postgres", pg_status)] {
        println!(
            "target [{label}]: status on 100,000 records <= {TARGET_STATUS_MS} ms with the snapshot: {} ({ms:.1} ms)",
            if ms <= TARGET_STATUS_MS {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    println!("bench total: {:.1} s", t_all.elapsed().as_secs_f64());
}
