//! `cutover rules`, `cutover risks`, `cutover runbook` and
//! `cutover serve-metrics`: the command-line front of the `cutover-ops`
//! crate (what it makes of a plan for the people operating the migration).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use cutover_ops::{MigrationMetrics, Thresholds};

use crate::exit;
use cutover_engine::PluginBridge;

/// Arguments of `cutover rules`.
#[derive(Args)]
pub struct RulesArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Write the rule file here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Alert when a phase lags its schedule by more than this fraction (default 0.1).
    #[arg(long)]
    pub behind_schedule: Option<f64>,
    /// Alert below this match rate (default: the plan's lowest gating min_match_rate, else 0.9).
    #[arg(long)]
    pub match_rate: Option<f64>,
    /// Alert below this data consistency (default 1.0).
    #[arg(long)]
    pub consistency: Option<f64>,
}

/// Arguments of `cutover risks`.
#[derive(Args)]
pub struct RisksArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cutover runbook`.
#[derive(Args)]
pub struct RunbookArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Write the Markdown here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Arguments of `cutover serve-metrics`.
#[derive(Args)]
pub struct ServeMetricsArgs {
    /// The plan file (TOML); its state directory is the run's.
    pub plan: PathBuf,
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,
}

/// Loads the plan, printing diagnostics; `Err(code)` when it is invalid.
pub(crate) fn load(plan: &Path) -> anyhow::Result<Result<cutover_plan::LoadedPlan, u8>> {
    let rt = super::runtime()?;
    let resolver = PluginBridge::new(&rt);
    Ok(cutover_plan::load(plan, &resolver).map_err(|diags| {
        eprint!("{}", diags.render_auto());
        exit::USAGE
    }))
}

fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Prints or writes the migration's alerting rules.
pub fn rules(a: RulesArgs) -> anyhow::Result<u8> {
    let loaded = match load(&a.plan)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let mut t = Thresholds::for_plan(&loaded.plan);
    if let Some(v) = a.behind_schedule {
        t.behind_schedule = v;
    }
    if let Some(v) = a.match_rate {
        t.match_rate = v;
    }
    if let Some(v) = a.consistency {
        t.consistency = v;
    }
    let yaml =
        cutover_ops::rules_yaml(&loaded.plan, &t).map_err(|e| super::usage(e.to_string()))?;
    emit(&yaml, a.output.as_deref())?;
    Ok(exit::OK)
}

/// Prints the risk registry.
pub fn risks(a: RisksArgs) -> anyhow::Result<u8> {
    let loaded = match load(&a.plan)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let rows = cutover_ops::registry(&loaded.plan);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", cutover_ops::risks::table(&rows));
        for phase in &loaded.plan.phases {
            if let Some(why) = cutover_ops::phase_blocked_by_risk(&loaded.plan, phase) {
                println!("blocked: {why}");
            }
        }
    }
    Ok(exit::OK)
}

/// Prints or writes the runbook.
pub fn runbook(a: RunbookArgs) -> anyhow::Result<u8> {
    let loaded = match load(&a.plan)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let text = cutover_ops::runbook(&loaded.plan, &a.plan.display().to_string());
    emit(&text, a.output.as_deref())?;
    Ok(exit::OK)
}

/// The metrics registry of a plan's run served at `http://ADDR/metrics`:
/// every phase of the plan, with the values folded from the run's journal
/// (progress, match rate, availability, consistency, plugin calls). Used by
/// `serve-metrics` and `watch`; dropping it stops the server.
pub(crate) struct MetricsFeed {
    metrics: Arc<MigrationMetrics>,
    folded: cutover_engine::JournalMetrics,
    state: cutover_engine::StateAt,
    server: cutover_ops::MetricsServer,
}

impl MetricsFeed {
    /// Folds the journal once and starts serving on `listen` (loopback only).
    pub(crate) fn start(
        loaded: &cutover_plan::LoadedPlan,
        listen: SocketAddr,
    ) -> anyhow::Result<MetricsFeed> {
        let metrics = Arc::new(MigrationMetrics::from_plan_progress(&loaded.plan, &[])?);
        let state = cutover_engine::StateAt::of_plan(loaded)?;
        let mut folded = cutover_engine::JournalMetrics::new();
        folded.refresh(&state, &loaded.plan, &metrics)?;
        let server =
            cutover_ops::serve(metrics.clone(), listen).map_err(|e| super::usage(e.to_string()))?;
        Ok(MetricsFeed {
            metrics,
            folded,
            state,
            server,
        })
    }

    /// The address served.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Folds what the journal gained since the last refresh; a failure is
    /// printed as a warning (the previous values stay served).
    pub(crate) fn refresh(&mut self, plan: &cutover_plan::Plan) {
        if let Err(e) = self.folded.refresh(&self.state, plan, &self.metrics) {
            eprintln!("warning: cannot fold the journal: {e}");
        }
    }
}

/// Serves the metrics registry until interrupted ([`MetricsFeed`]),
/// refreshed every second.
pub fn serve_metrics(a: ServeMetricsArgs) -> anyhow::Result<u8> {
    let loaded = match load(&a.plan)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let mut feed = MetricsFeed::start(&loaded, a.listen)?;
    eprintln!(
        "serving metrics of plan {:?} (state dir {}) at http://{}/metrics; Ctrl-C stops",
        loaded.plan.meta.name,
        loaded.state_dir().display(),
        feed.addr()
    );
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        feed.refresh(&loaded.plan);
    }
}
