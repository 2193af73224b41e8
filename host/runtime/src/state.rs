//! The data of one call's `Store`: WASI context, HTTP policy, limits and the
//! host-interface implementation.

use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::wit_host::{self, LogLevel};
use crate::data::{DataSink, DataSource};
use crate::error::Denied;
use crate::grants::Grants;
use crate::http::{HttpPolicy, Violations, record};
use crate::limits::Limiter;
use crate::secrets::{SecretSource, redact};

/// Receives `progress(done, total, message)` from plugins.
pub type ProgressFn = Arc<dyn Fn(&str, u64, u64, &str) + Send + Sync>;

pub(crate) struct HostState {
    pub(crate) plugin: String,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) policy: HttpPolicy,
    pub(crate) limiter: Limiter,
    pub(crate) grants: Arc<Grants>,
    pub(crate) secrets: Arc<dyn SecretSource>,
    pub(crate) revealed: Vec<String>,
    pub(crate) violations: Violations,
    pub(crate) progress: Option<ProgressFn>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.policy,
        }
    }
}

fn fields_text(fields: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

impl wit_host::Host for HostState {
    fn log(
        &mut self,
        level: LogLevel,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let message = redact(&message, &self.revealed);
        let fields = redact(&fields_text(&fields), &self.revealed);
        let plugin = self.plugin.as_str();
        match level {
            LogLevel::Trace => {
                tracing::trace!(target: "cutover::plugin", plugin, %fields, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "cutover::plugin", plugin, %fields, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "cutover::plugin", plugin, %fields, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "cutover::plugin", plugin, %fields, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: "cutover::plugin", plugin, %fields, "{message}")
            }
        }
        Ok(())
    }

    fn progress(&mut self, done: u64, total: u64, message: String) -> wasmtime::Result<()> {
        let message = redact(&message, &self.revealed);
        match &self.progress {
            Some(f) => f(&self.plugin, done, total, &message),
            None => {
                tracing::debug!(target: "cutover::plugin", plugin = %self.plugin, done, total, "{message}")
            }
        }
        Ok(())
    }

    fn config_get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.grants.config.get(&key).cloned())
    }

    fn secret_get(&mut self, name: String) -> wasmtime::Result<Result<String, String>> {
        if !self.grants.secrets.contains(&name) {
            tracing::warn!(target: "cutover::sandbox", plugin = %self.plugin, secret = %name, "denied secret");
            record(&self.violations, Denied::Secret(name.clone()));
            return Ok(Err(format!(
                "secret {name:?} is not granted to this plugin"
            )));
        }
        match self.secrets.get(&name) {
            Some(v) => {
                self.revealed.push(v.clone());
                Ok(Ok(v))
            }
            None => Ok(Err(format!(
                "secret {name:?} is granted but not configured"
            ))),
        }
    }
}

impl wit_host::HostDataSink for HostState {
    fn write(
        &mut self,
        sink: Resource<DataSink>,
        chunk: Vec<u8>,
    ) -> wasmtime::Result<Result<(), String>> {
        let sink = self.table.get_mut(&sink)?;
        Ok(sink.write(&chunk))
    }

    fn drop(&mut self, sink: Resource<DataSink>) -> wasmtime::Result<()> {
        // The host owns sinks it creates; a guest drop of its borrow is a no-op.
        let _ = sink;
        Ok(())
    }
}

impl wit_host::HostDataSource for HostState {
    fn read(
        &mut self,
        source: Resource<DataSource>,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let source = self.table.get_mut(&source)?;
        Ok(source.read(max))
    }

    fn size(&mut self, source: Resource<DataSource>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&source)?.size)
    }

    fn drop(&mut self, source: Resource<DataSource>) -> wasmtime::Result<()> {
        let _ = source;
        Ok(())
    }
}
