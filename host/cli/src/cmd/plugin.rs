//! `cutover plugin inspect | run | lock`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use cutover_runtime::{DirGrant, Grants, Limits, Origin, Sandbox, StaticSecrets, World, wit};

use super::usage;
use crate::exit;

/// Plugin author commands.
#[derive(Subcommand)]
pub enum PluginCmd {
    /// Show world, contract version, imports/exports, capabilities and sha256.
    Inspect(InspectArgs),
    /// Invoke one plugin export with JSON input and command-line grants.
    Run(Box<RunArgs>),
    /// Pin every plugin of a plan: fill its sha256 values and write PLAN.lock.
    Lock(LockArgs),
    /// Scaffold a plugin project (rust, js, python or c; action, check or adapter).
    New(super::scaffold::NewArgs),
    /// Run a plugin against fixture files with recorded config, secrets and
    /// HTTP answers, and check its verdict or output.
    Test(super::plugin_test::TestArgs),
}

/// Arguments of `plugin inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// Component file.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Deadline for describe() at load, e.g. 500ms, 10s.
    #[arg(long, default_value = "10s")]
    pub deadline: String,
}

/// Arguments of `plugin run`.
#[derive(Args)]
pub struct RunArgs {
    /// Component file.
    pub file: PathBuf,
    /// Export to call: describe, run, evaluate, health, collect-alerts,
    /// export-data, import-data, capture-state, restore-state (default: the
    /// world's main export; translators run with `cutover translate`).
    #[arg(long)]
    pub call: Option<String>,
    /// Step parameters as a JSON object (or @FILE).
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// Data kind or rollback category for export/import/capture/restore.
    #[arg(long)]
    pub kind: Option<String>,
    /// Window for collect-alerts as START..END, each unix millis or RFC 3339
    /// (default: the last hour).
    #[arg(long)]
    pub window: Option<String>,
    /// Input file for import-data / restore-state.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file for export-data / capture-state (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Grant outgoing HTTP to scheme://host:port (repeatable).
    #[arg(long = "allow-host")]
    pub allow_host: Vec<String>,
    /// Grant a directory: NAME=PATH (read-only) or NAME=PATH:rw (repeatable).
    #[arg(long = "dir")]
    pub dirs: Vec<String>,
    /// Grant a secret NAME, read from the environment as CUTOVER_SECRET_NAME (repeatable).
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// Config value KEY=VALUE (repeatable).
    #[arg(long = "config")]
    pub config: Vec<String>,
    /// Trust this CA (PEM) for the plugin's HTTPS, instead of the public
    /// roots, as the plan's `tls_ca` grant does (repeatable).
    #[arg(long = "tls-ca")]
    pub tls_ca: Vec<PathBuf>,
    /// Deadline per call (describe() at load included), e.g. 500ms, 10s.
    #[arg(long, default_value = "10s")]
    pub deadline: String,
    /// Memory cap, e.g. 64MiB.
    #[arg(long, default_value = "64MiB")]
    pub memory: String,
}

/// Arguments of `plugin lock`.
#[derive(Args)]
pub struct LockArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Only check that pins and lockfile are current (exit 1 if not).
    #[arg(long)]
    pub check: bool,
}

/// Runs a plugin subcommand.
pub fn run(cmd: PluginCmd) -> anyhow::Result<u8> {
    match cmd {
        PluginCmd::Inspect(a) => inspect(a),
        PluginCmd::Run(a) => invoke(*a),
        PluginCmd::Lock(a) => super::lock::lock(a.plan, a.check),
        PluginCmd::New(a) => super::scaffold::new(a),
        PluginCmd::Test(a) => super::plugin_test::test(a),
    }
}

fn inspect(a: InspectArgs) -> anyhow::Result<u8> {
    let rt = super::runtime()?;
    let limits = Limits {
        deadline: deadline_arg(&a.deadline)?,
        ..Limits::default()
    };
    let plugin = rt.load_file_with(&a.file, None, &limits)?;
    let info = plugin.info();
    if a.json {
        println!("{}", serde_json::to_string_pretty(info)?);
        return Ok(exit::OK);
    }
    let d = &info.descriptor;
    let c = &d.capabilities;
    println!("file:        {}", info.origin);
    println!("sha256:      {}", info.sha256);
    println!("size:        {} bytes", info.size);
    println!("world:       cutover:plugin/{}", info.world.as_str());
    println!(
        "contract:    {} (host {})",
        info.contract_version.as_deref().unwrap_or("none imported"),
        info.host_contract_version
    );
    println!("name:        {} {}", d.name, d.version);
    println!("description: {}", d.description);
    if !d.kinds.is_empty() {
        println!("translates:  {}", d.kinds.join(", "));
    }
    println!("wants:");
    println!("  hosts:       {}", list(&c.hosts));
    let dirs: Vec<String> = c
        .directories
        .iter()
        .map(|r| format!("{}{}", r.name, if r.writable { " (rw)" } else { " (ro)" }))
        .collect();
    println!("  directories: {}", list(&dirs));
    println!("  secrets:     {}", list(&c.secrets));
    println!("  config keys: {}", list(&c.config_keys));
    println!("exports:     {}", info.exports.join(", "));
    println!("imports:");
    for i in &info.imports {
        println!("  {i}");
    }
    Ok(exit::OK)
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

/// A `--deadline` value (at least 1 ms).
pub(crate) fn deadline_arg(text: &str) -> anyhow::Result<Duration> {
    let deadline =
        cutover_base::time::parse_duration(text).map_err(|e| usage(format!("--deadline: {e}")))?;
    Ok(deadline.max(Duration::from_millis(1)))
}

fn sandbox(a: &RunArgs) -> anyhow::Result<Sandbox> {
    let mut grants = Grants::default();
    for h in &a.allow_host {
        grants
            .hosts
            .push(Origin::parse_grant(h).map_err(|e| usage(e.to_string()))?);
    }
    for d in &a.dirs {
        let (name, rest) = d
            .split_once('=')
            .ok_or_else(|| usage(format!("--dir {d:?}: expected NAME=PATH or NAME=PATH:rw")))?;
        let (path, write) = match rest.strip_suffix(":rw") {
            Some(p) => (p, true),
            None => (rest.strip_suffix(":ro").unwrap_or(rest), false),
        };
        grants.dirs.push(DirGrant {
            name: name.to_string(),
            path: PathBuf::from(path),
            write,
        });
    }
    grants.secrets = a.secrets.clone();
    for kv in &a.config {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| usage(format!("--config {kv:?}: expected KEY=VALUE")))?;
        grants.config.insert(k.to_string(), v.to_string());
    }
    let deadline = deadline_arg(&a.deadline)?;
    let memory = cutover_plan::duration::parse_size(&a.memory)
        .map_err(|e| usage(format!("--memory: {e}")))?;
    if memory as usize > cutover_runtime::MAX_MEMORY_BYTES {
        return Err(usage(format!(
            "--memory: at most {} bytes",
            cutover_runtime::MAX_MEMORY_BYTES
        )));
    }
    let secrets: BTreeMap<String, String> = a
        .secrets
        .iter()
        .filter_map(|s| {
            cutover_runtime::SecretSource::get(&cutover_runtime::EnvSecrets, s)
                .map(|v| (s.clone(), v))
        })
        .collect();
    Ok(Sandbox {
        grants: Arc::new(grants),
        limits: Limits {
            deadline,
            memory_bytes: memory as usize,
            ..Limits::default()
        },
        secrets: Arc::new(StaticSecrets(secrets)),
        progress: None,
        http_replay: None,
        tls_ca: if a.tls_ca.is_empty() {
            None
        } else {
            Some(Arc::new(
                cutover_runtime::TlsCa::load(&a.tls_ca)
                    .map_err(|e| usage(format!("--tls-ca: {e}")))?,
            ))
        },
    })
}

/// The call a plugin of `world` answers when none is named.
pub(crate) fn default_call(world: World) -> &'static str {
    match world {
        World::Action => "run",
        World::Check => "evaluate",
        World::Adapter => "health",
        World::Translator => "translate",
    }
}

fn params(a: &RunArgs) -> anyhow::Result<String> {
    let text = match a.params.strip_prefix('@') {
        Some(path) => super::read_input(path, "--params file")?,
        None => a.params.clone(),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("--params: invalid JSON: {e}")))?;
    if !v.is_object() {
        return Err(usage("--params must be a JSON object"));
    }
    Ok(text)
}

fn window(a: &RunArgs) -> anyhow::Result<wit::Window> {
    use cutover_base::time::{UnixUnit, parse_instant};
    match &a.window {
        Some(w) => {
            let (start, end) = w
                .split_once("..")
                .ok_or_else(|| usage("--window: expected START..END (unix millis or RFC 3339)"))?;
            let read = |text: &str, what: &str| {
                parse_instant(text, UnixUnit::Millis)
                    .map_err(|e| usage(format!("--window {what}: {e}")))
            };
            Ok(wit::Window {
                start: read(start, "START")?,
                end: read(end, "END")?,
            })
        }
        None => {
            let now = cutover_base::time::now_ms();
            Ok(wit::Window {
                start: now - 3_600_000,
                end: now,
            })
        }
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn invoke(a: RunArgs) -> anyhow::Result<u8> {
    let rt = super::runtime()?;
    let sb = sandbox(&a)?;
    // describe() at load gets the same deadline and memory as the call.
    let plugin = rt.load_file_with(&a.file, None, &sb.limits)?;
    let ctx = wit::Context {
        plan: String::new(),
        phase: String::new(),
        step: String::new(),
        run_id: "adhoc".into(),
        params: params(&a)?,
    };
    let call = a
        .call
        .clone()
        .unwrap_or_else(|| default_call(plugin.world()).to_string());
    let kind = || {
        a.kind
            .clone()
            .ok_or_else(|| usage(format!("--call {call} needs --kind")))
    };
    match call.as_str() {
        "describe" => print_json(&rt.describe(&plugin, &sb)?)?,
        "run" => print_json(&rt.run_action(&plugin, &sb, &ctx)?)?,
        "evaluate" => {
            let v = rt.evaluate(&plugin, &sb, &ctx)?;
            print_json(&v)?;
            return Ok(match v.verdict {
                wit::VerdictKind::Pass => exit::OK,
                wit::VerdictKind::Fail => exit::FAILED,
                wit::VerdictKind::Inconclusive | wit::VerdictKind::NoData => exit::INCONCLUSIVE,
            });
        }
        "health" => {
            let h = rt.health(&plugin, &sb)?;
            print_json(&h)?;
            return Ok(if h.available { exit::OK } else { exit::FAILED });
        }
        "collect-alerts" => print_json(&rt.collect_alerts(&plugin, &sb, window(&a)?)?)?,
        "export-data" | "capture-state" => {
            let kind = kind()?;
            let out: Box<dyn std::io::Write + Send> = match &a.output {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let done = if call == "export-data" {
                rt.export_data(&plugin, &sb, &kind, out)?
            } else {
                rt.capture_state(&plugin, &sb, &kind, out)?
            };
            eprintln!(
                "{} bytes, {}, metadata {:?}",
                done.bytes, done.info.content_type, done.info.metadata
            );
        }
        "import-data" | "restore-state" => {
            let kind = kind()?;
            let path = a
                .input
                .clone()
                .ok_or_else(|| usage(format!("--call {call} needs --input FILE")))?;
            let file = std::fs::File::open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            let size = file.metadata()?.len();
            let outcome = if call == "import-data" {
                rt.import_data(&plugin, &sb, &kind, file, size)?
            } else {
                rt.restore_state(&plugin, &sb, &kind, file, size)?
            };
            print_json(&outcome)?;
        }
        "translate" => {
            return Err(usage(
                "a translator runs on files with `cutover translate PLUGIN INPUT...`",
            ));
        }
        other => return Err(usage(format!("--call {other}: unknown export"))),
    }
    Ok(exit::OK)
}
