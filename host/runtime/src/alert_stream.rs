//! `collect-alerts-into` (contract 0.1.3): an adapter's alerts streamed
//! into a host `data-sink` in the alert framing and decoded into an
//! [`AlertBatch`], with `collect-alerts` as the fallback for adapters
//! built against an older contract.

use wasmtime::component::Resource;

use crate::alert_batch::AlertBatch;
use crate::alert_frame::decode_alerts;
use crate::api::{plugin_err, wrong_world};
use crate::bindings::wit;
use crate::call::Sandbox;
use crate::data::DataSink;
use crate::error::CallError;
use crate::limits::Limit;
use crate::plugin::{Plugin, Pre};
use crate::runtime::Runtime;
use crate::world::World;

impl Runtime {
    /// An adapter's alerts over `window` as one compact [`AlertBatch`]:
    /// streamed through `collect-alerts-into` when the adapter exports it
    /// ([`Plugin::streams_alerts`]), else `collect-alerts` converted.
    ///
    /// The output cap is the one `collect-alerts` has: the stream may not
    /// exceed `max_output_bytes` (nor 4 GiB), and neither may the batch by
    /// the measure `collect-alerts`' `Vec` is counted with; over it, the
    /// call is [`CallError::Limit`] with [`Limit::Output`], whatever the
    /// plugin answered. A stream that breaks the framing is
    /// [`CallError::AlertFraming`].
    pub fn collect_alert_batch(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        window: wit::Window,
    ) -> Result<AlertBatch, CallError> {
        let Pre::Adapter(_, _, streaming) = &p.pre else {
            return Err(wrong_world(p, World::Adapter));
        };
        let Some(pre) = streaming else {
            let alerts = self.collect_alerts(p, sb, window)?;
            return AlertBatch::from_alerts(&alerts).map_err(|error| CallError::AlertFraming {
                plugin: p.name.clone(),
                error,
            });
        };
        let max = sb.limits.max_output_bytes;
        let cap = u64::try_from(max).unwrap_or(u64::MAX).min(u32::MAX as u64);
        let (result, sink) = self.call(&p.name, sb, |store| {
            let inst = pre.instantiate(&mut *store)?;
            let sink = store
                .data_mut()
                .table
                .push(DataSink::new(Box::new(Vec::<u8>::new()), cap))?;
            let result = inst.call_collect_alerts_into(
                &mut *store,
                window,
                Resource::new_borrow(sink.rep()),
            );
            let sink = store.data_mut().table.delete(sink)?;
            Ok((result?, sink))
        })?;
        let over = |detail: String| CallError::Limit {
            plugin: p.name.clone(),
            limit: Limit::Output,
            detail,
        };
        let (bytes, streamed) = match sink.finish::<Vec<u8>>(&p.name) {
            Ok(done) => done,
            Err(CallError::Limit {
                limit: Limit::Output,
                ..
            }) => {
                return Err(over(format!(
                    "the alert stream reached its cap of {cap} bytes (max_output_bytes {max})"
                )));
            }
            Err(e) => return Err(e),
        };
        let count = result.map_err(|e| plugin_err(p, e))?;
        let batch = decode_alerts(&bytes, count).map_err(|error| CallError::AlertFraming {
            plugin: p.name.clone(),
            error,
        })?;
        drop(bytes);
        let size = batch.output_size();
        if size > max {
            return Err(over(format!(
                "returned {size} bytes ({streamed} streamed), the cap is {max}"
            )));
        }
        Ok(batch)
    }
}
