//! `query-range` (contract 0.1.2): recorded history read through an
//! adapter of the `history-adapter` world, for backtests.

use crate::api::{plugin_err, wrong_world};
use crate::bindings::wit;
use crate::call::Sandbox;
use crate::error::CallError;
use crate::plugin::{Plugin, Pre};
use crate::runtime::Runtime;
use crate::world::World;

/// The name of the export and the contract version that added it, as
/// errors name it.
pub const QUERY_RANGE_EXPORT: &str = "contract 0.1.2 query-range";

/// One range query: what `query-range` is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeQuery<'q> {
    /// The expression (PromQL for a Prometheus adapter).
    pub query: &'q str,
    /// First evaluation instant, unix milliseconds.
    pub start_ms: i64,
    /// Last evaluation instant (inclusive), unix milliseconds.
    pub end_ms: i64,
    /// Milliseconds between evaluation instants (positive).
    pub step_ms: u64,
}

impl Plugin {
    /// Whether the plugin is an adapter that also exports `query-range`
    /// (the `history-adapter` world of contract 0.1.2).
    pub fn has_query_range(&self) -> bool {
        matches!(&self.pre, Pre::Adapter(_, Some(_), _))
    }
}

impl Runtime {
    /// An adapter's `query-range(query, start, end, step-ms)`, under the
    /// sandbox's limits like every other call (deadline, memory, table,
    /// output cap). An adapter that does not export it is
    /// [`CallError::NotExported`] (a usage error: the plan or command named
    /// the wrong adapter); another world is [`CallError::WorldMismatch`].
    pub fn query_range(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        q: &RangeQuery<'_>,
    ) -> Result<Vec<wit::RangeSeries>, CallError> {
        let Pre::Adapter(_, history, _) = &p.pre else {
            return Err(wrong_world(p, World::Adapter));
        };
        let Some(pre) = history else {
            return Err(CallError::NotExported {
                plugin: p.name.clone(),
                export: QUERY_RANGE_EXPORT.to_string(),
                why: "reading recorded history needs an adapter of the history-adapter world (built against contract 0.1.2 or later, exporting query-range)".to_string(),
            });
        };
        if q.step_ms == 0 {
            return Err(CallError::Host {
                plugin: p.name.clone(),
                detail: "query-range called with a step of 0 ms".to_string(),
            });
        }
        self.call(&p.name, sb, |store| {
            pre.instantiate(&mut *store)?.call_query_range(
                &mut *store,
                q.query,
                q.start_ms,
                q.end_ms,
                q.step_ms,
            )
        })?
        .map_err(|e| plugin_err(p, e))
    }
}
