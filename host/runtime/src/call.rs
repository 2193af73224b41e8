//! One call into a plugin: a fresh `Store` with limits, deadline and the
//! plan's grants; typed classification of everything that can go wrong.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::error::{CallError, Denied};
use crate::grants::Grants;
use crate::http::{HttpPolicy, Violations, record};
use crate::limits::{Limit, LimitHit, Limiter, Limits};
use crate::output::Captured;
use crate::runtime::{EPOCH_TICK, Runtime};
use crate::secrets::{EnvSecrets, SecretSource, redact};
use crate::size::OutputSize;
use crate::state::{HostState, ProgressFn};
use crate::tls::{TlsCa, public_roots};

/// What one plugin gets from the plan: grants, limits, secrets, progress.
#[derive(Clone)]
pub struct Sandbox {
    /// Capabilities granted.
    pub grants: Arc<Grants>,
    /// Limits per call.
    pub limits: Limits,
    /// Where granted secrets are resolved.
    pub secrets: Arc<dyn SecretSource>,
    /// Progress receiver.
    pub progress: Option<ProgressFn>,
    /// Recorded HTTP answers served instead of the network (plugin tests);
    /// grants are still enforced first.
    pub http_replay: Option<Arc<Vec<crate::http::Recorded>>>,
    /// The certificate authorities granted for HTTPS (the plan's `tls_ca`):
    /// when set, the **only** roots trusted; when `None`, the public web
    /// PKI roots. Origin grants apply either way.
    pub tls_ca: Option<Arc<TlsCa>>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self {
            grants: Arc::new(Grants::default()),
            limits: Limits::default(),
            secrets: Arc::new(EnvSecrets),
            progress: None,
            http_replay: None,
            tls_ca: None,
        }
    }
}

impl Sandbox {
    /// A sandbox with these grants and default limits.
    pub fn with_grants(grants: Grants) -> Self {
        Self {
            grants: Arc::new(grants),
            ..Self::default()
        }
    }
}

impl Runtime {
    fn new_store(
        &self,
        plugin: &str,
        sb: &Sandbox,
    ) -> Result<(Store<HostState>, Captured, Captured), CallError> {
        let limits = &sb.limits;
        let violations = Violations::default();
        let stdout = Captured::new(limits.max_log_bytes);
        let stderr = Captured::new(limits.max_log_bytes);
        let mut b = WasiCtxBuilder::new();
        b.stdout(stdout.clone()).stderr(stderr.clone());
        b.allow_udp(false)
            .allow_ip_name_lookup(false)
            .allow_tcp(true);
        let v = violations.clone();
        b.socket_addr_check(move |addr, _| {
            record(&v, Denied::Socket(addr.to_string()));
            Box::pin(async { false })
        });
        for d in &sb.grants.dirs {
            let perms = if d.write {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            b.preopened_dir(&d.path, format!("/{}", d.name), perms)
                .map_err(|e| CallError::Host {
                    plugin: plugin.to_owned(),
                    detail: format!(
                        "cannot open granted directory {} ({}): {e}",
                        d.name,
                        d.path.display()
                    ),
                })?;
        }
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits.max_resources);
        let state = HostState {
            plugin: plugin.to_owned(),
            wasi: b.build(),
            table,
            http: WasiHttpCtx::new(),
            policy: HttpPolicy {
                allowed: sb.grants.hosts.clone(),
                violations: violations.clone(),
                timeout: limits.deadline,
                replay: sb.http_replay.clone(),
                tls: match &sb.tls_ca {
                    Some(ca) => Ok(ca.config.clone()),
                    None => public_roots(),
                },
                plugin: Arc::from(plugin),
            },
            limiter: Limiter::new(limits.clone()),
            grants: sb.grants.clone(),
            secrets: sb.secrets.clone(),
            revealed: Vec::new(),
            violations,
            progress: sb.progress.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // The store starts somewhere within a tick, and the epoch may lag
        // the wall clock by ticks the ticker is about to catch up; one tick
        // more than the deadline plus that lag holds: never stopped before
        // its deadline, and at most two ticks after it (plus scheduling).
        let ticks = (limits.deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64)
            .saturating_add(1)
            .saturating_add(self.epoch_lag());
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store.set_hostcall_fuel(limits.max_output_bytes);
        Ok((store, stdout, stderr))
    }

    /// Runs `f` in a fresh store for the plugin named `plugin` and
    /// classifies the result.
    pub(crate) fn call<R: OutputSize>(
        &self,
        plugin: &str,
        sb: &Sandbox,
        f: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let (mut store, stdout, stderr) = self.new_store(plugin, sb)?;
        let started = Instant::now();
        let result = f(&mut store);
        let elapsed = started.elapsed();
        emit_output(plugin, "stdout", &stdout, &store.data().revealed);
        emit_output(plugin, "stderr", &stderr, &store.data().revealed);
        let name = plugin.to_owned();
        let value = match result {
            Ok(v) => v,
            Err(e) => return Err(classify(e, &store, &name, sb)),
        };
        tracing::debug!(target: "cutover::plugin", plugin = %name, elapsed_us = elapsed.as_micros() as u64, "call finished");
        let first_denied = store
            .data()
            .violations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first()
            .cloned();
        if let Some(denied) = first_denied {
            return Err(CallError::Denied {
                plugin: name,
                denied,
            });
        }
        let size = value.output_size();
        if size > sb.limits.max_output_bytes {
            return Err(CallError::Limit {
                plugin: name,
                limit: Limit::Output,
                detail: format!(
                    "returned {size} bytes, the cap is {}",
                    sb.limits.max_output_bytes
                ),
            });
        }
        Ok(value)
    }
}

fn emit_output(plugin: &str, stream: &str, cap: &Captured, secrets: &[String]) {
    let (text, dropped) = cap.take();
    for line in redact(&text, secrets)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        tracing::info!(target: "cutover::plugin", plugin, stream, "{line}");
    }
    if dropped > 0 {
        tracing::warn!(target: "cutover::plugin", plugin, stream, dropped, "plugin output over the capture cap was dropped");
    }
}

fn classify(e: wasmtime::Error, store: &Store<HostState>, plugin: &str, sb: &Sandbox) -> CallError {
    let plugin = plugin.to_string();
    // The limiter's own words say what was refused; wasmtime's rendering of
    // the trap would repeat the limit (`LimitHit`) the variant already names.
    if let Some(refused) = store.data().limiter.hit {
        return CallError::Limit {
            plugin,
            limit: refused.limit,
            detail: refused.detail(),
        };
    }
    if let Some(hit) = e.downcast_ref::<LimitHit>() {
        return CallError::Limit {
            plugin,
            limit: hit.limit,
            detail: "stopped by the host".into(),
        };
    }
    let detail = format!("{e:#}");
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => CallError::Deadline {
                plugin,
                deadline_ms: sb.limits.deadline.as_millis() as u64,
            },
            wasmtime::Trap::StackOverflow => CallError::Limit {
                plugin,
                limit: Limit::Stack,
                detail,
            },
            _ => CallError::Trap { plugin, detail },
        };
    }
    if let Some(wasmtime::component::ResourceTableError::Full) =
        e.downcast_ref::<wasmtime::component::ResourceTableError>()
    {
        return CallError::Limit {
            plugin,
            limit: Limit::ResourceTable,
            detail,
        };
    }
    // wasmtime's hostcall-fuel error type is private; its message is the
    // only handle on it.
    if detail.contains("fuel allocated for hostcalls has been exhausted") {
        return CallError::Limit {
            plugin,
            limit: Limit::Output,
            detail: format!(
                "handed the host more than {} bytes at once",
                sb.limits.max_output_bytes
            ),
        };
    }
    if let Some(denied) = store
        .data()
        .violations
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .first()
        .cloned()
    {
        return CallError::Denied { plugin, denied };
    }
    CallError::Trap { plugin, detail }
}
