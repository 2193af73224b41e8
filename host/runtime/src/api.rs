//! Typed calls into each world's exports.

use std::io::{Read, Write};

use wasmtime::component::Resource;

use crate::bindings::wit;
use crate::call::Sandbox;
use crate::data::{DataSink, DataSource};
use crate::describe::Descriptor;
use crate::error::{CallError, PluginError};
use crate::plugin::{Plugin, Pre};
use crate::runtime::Runtime;
use crate::world::World;

impl From<wit::PluginError> for PluginError {
    fn from(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::InvalidInput(s) => PluginError::InvalidInput(s),
            wit::PluginError::Unavailable(s) => PluginError::Unavailable(s),
            wit::PluginError::Denied(s) => PluginError::Denied(s),
            wit::PluginError::Unsupported(s) => PluginError::Unsupported(s),
            wit::PluginError::Failed(s) => PluginError::Failed(s),
        }
    }
}

/// Data an adapter streamed out, with the writer handed back.
#[derive(Debug)]
pub struct Exported<W> {
    /// What the adapter said about the data.
    pub info: wit::ExportInfo,
    /// Bytes written.
    pub bytes: u64,
    /// The writer given to the call.
    pub writer: W,
}

pub(crate) fn plugin_err(p: &Plugin, e: wit::PluginError) -> CallError {
    CallError::Plugin {
        plugin: p.name.clone(),
        error: e.into(),
    }
}

pub(crate) fn wrong_world(p: &Plugin, expected: World) -> CallError {
    CallError::WorldMismatch {
        plugin: p.name.clone(),
        expected,
        found: p.world(),
    }
}

macro_rules! with_instance {
    ($self:ident, $p:ident, $sb:ident, $variant:ident, $world:expr, |$store:ident, $inst:ident| $body:expr) => {{
        let Pre::$variant(pre, ..) = &$p.pre else {
            return Err(wrong_world($p, $world));
        };
        $self.call(&$p.name, $sb, |$store| {
            let $inst = pre.instantiate(&mut *$store)?;
            $body
        })
    }};
}

impl Runtime {
    /// `describe()` in a fresh instance, under the sandbox's limits like any
    /// other call.
    pub fn describe(&self, p: &Plugin, sb: &Sandbox) -> Result<Descriptor, CallError> {
        Ok(match &p.pre {
            Pre::Action(pre) => self
                .call(&p.name, sb, |store| {
                    pre.instantiate(&mut *store)?.call_describe(&mut *store)
                })?
                .into(),
            Pre::Check(pre) => self
                .call(&p.name, sb, |store| {
                    pre.instantiate(&mut *store)?.call_describe(&mut *store)
                })?
                .into(),
            Pre::Adapter(pre, ..) => self
                .call(&p.name, sb, |store| {
                    pre.instantiate(&mut *store)?.call_describe(&mut *store)
                })?
                .into(),
            Pre::Translator(pre) => self
                .call(&p.name, sb, |store| {
                    pre.instantiate(&mut *store)?.call_describe(&mut *store)
                })?
                .into(),
        })
    }

    /// An action's `run(ctx)`.
    pub fn run_action(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        ctx: &wit::Context,
    ) -> Result<wit::Outcome, CallError> {
        with_instance!(self, p, sb, Action, World::Action, |store, inst| inst
            .call_run(&mut *store, ctx))?
        .map_err(|e| plugin_err(p, e))
    }

    /// A check's `evaluate(ctx)`.
    pub fn evaluate(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        ctx: &wit::Context,
    ) -> Result<wit::Verdict, CallError> {
        with_instance!(self, p, sb, Check, World::Check, |store, inst| inst
            .call_evaluate(&mut *store, ctx))?
        .map_err(|e| plugin_err(p, e))
    }

    /// An adapter's `health()`.
    pub fn health(&self, p: &Plugin, sb: &Sandbox) -> Result<wit::HealthReport, CallError> {
        with_instance!(self, p, sb, Adapter, World::Adapter, |store, inst| inst
            .call_health(&mut *store))?
        .map_err(|e| plugin_err(p, e))
    }

    /// An adapter's `collect-alerts(window)`.
    pub fn collect_alerts(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        window: wit::Window,
    ) -> Result<Vec<wit::Alert>, CallError> {
        with_instance!(self, p, sb, Adapter, World::Adapter, |store, inst| inst
            .call_collect_alerts(&mut *store, window))?
        .map_err(|e| plugin_err(p, e))
    }

    /// An adapter's `export-data(kind)`, streamed into `writer`.
    pub fn export_data<W: Write + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        kind: &str,
        writer: W,
    ) -> Result<Exported<W>, CallError> {
        self.export_with(p, sb, writer, |store, inst, sink| {
            inst.call_export_data(store, kind, sink)
        })
    }

    /// An adapter's `capture-state(category)`, streamed into `writer`.
    pub fn capture_state<W: Write + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        category: &str,
        writer: W,
    ) -> Result<Exported<W>, CallError> {
        self.export_with(p, sb, writer, |store, inst, sink| {
            inst.call_capture_state(store, category, sink)
        })
    }

    /// An adapter's `import-data(kind)`, reading `size` bytes from `reader`.
    pub fn import_data<R: Read + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        kind: &str,
        reader: R,
        size: u64,
    ) -> Result<wit::Outcome, CallError> {
        self.import_with(p, sb, reader, size, |store, inst, src| {
            inst.call_import_data(store, kind, src)
        })
    }

    /// An adapter's `restore-state(category)`, reading `size` bytes from `reader`.
    pub fn restore_state<R: Read + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        category: &str,
        reader: R,
        size: u64,
    ) -> Result<wit::Outcome, CallError> {
        self.import_with(p, sb, reader, size, |store, inst, src| {
            inst.call_restore_state(store, category, src)
        })
    }

    fn export_with<W: Write + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        writer: W,
        f: impl FnOnce(
            &mut wasmtime::Store<crate::state::HostState>,
            &crate::bindings::adapter::Adapter,
            Resource<DataSink>,
        ) -> wasmtime::Result<Result<wit::ExportInfo, wit::PluginError>>,
    ) -> Result<Exported<W>, CallError> {
        let cap = sb.limits.max_export_bytes;
        let (result, sink) =
            with_instance!(self, p, sb, Adapter, World::Adapter, |store, inst| {
                let sink = store
                    .data_mut()
                    .table
                    .push(DataSink::new(Box::new(writer), cap))?;
                let result = f(&mut *store, &inst, Resource::new_borrow(sink.rep()));
                let sink = store.data_mut().table.delete(sink)?;
                Ok((result?, sink))
            })?;
        let (writer, bytes) = sink.finish::<W>(&p.name)?;
        let info = result.map_err(|e| plugin_err(p, e))?;
        Ok(Exported {
            info,
            bytes,
            writer,
        })
    }

    fn import_with<R: Read + Send + 'static>(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        reader: R,
        size: u64,
        f: impl FnOnce(
            &mut wasmtime::Store<crate::state::HostState>,
            &crate::bindings::adapter::Adapter,
            Resource<DataSource>,
        ) -> wasmtime::Result<Result<wit::Outcome, wit::PluginError>>,
    ) -> Result<wit::Outcome, CallError> {
        let result = with_instance!(self, p, sb, Adapter, World::Adapter, |store, inst| {
            let src = store
                .data_mut()
                .table
                .push(DataSource::new(Box::new(reader), size))?;
            let result = f(&mut *store, &inst, Resource::new_borrow(src.rep()));
            store.data_mut().table.delete(src)?;
            result
        })?;
        result.map_err(|e| plugin_err(p, e))
    }
}
