//! [`AdapterRangeSource`]: a backtest's [`RangeSource`] over a loaded
//! adapter of the `history-adapter` world (contract 0.1.2), each query one
//! sandboxed `query-range` call.

use std::sync::Arc;

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_compare::backtest::{RangeSeries, RangeSource, SourceError};
use cutover_runtime::{
    CallError, Plugin, PluginError, QUERY_RANGE_EXPORT, RangeQuery, Runtime, Sandbox, World,
};

use crate::bridge::Loaded;

/// Why an adapter cannot serve as a backtest's history.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    /// The plugin is not an adapter.
    #[error(
        "plugin {plugin} is a {world} plugin: reading history needs an adapter exporting {QUERY_RANGE_EXPORT}"
    )]
    NotAnAdapter {
        /// Plugin name.
        plugin: String,
        /// Its world.
        world: World,
    },
    /// The history could not be read at all (the system unreachable, a
    /// capability denied, the plugin trapped): no rule was evaluated after
    /// this.
    #[error("cannot read history through adapter {plugin}: {message}")]
    Unavailable {
        /// Plugin name.
        plugin: String,
        /// The first failure.
        message: String,
    },
    /// The adapter does not export `query-range`.
    #[error(
        "adapter {plugin} does not export {QUERY_RANGE_EXPORT}: it cannot read recorded history (use an adapter of the history-adapter world, such as the first-party prometheus adapter)"
    )]
    NoQueryRange {
        /// Plugin name.
        plugin: String,
    },
}

/// Usage when the plan or command named an adapter that cannot read
/// history; a plugin-call failure when it could not.
impl HasExitClass for HistoryError {
    fn exit_class(&self) -> ExitClass {
        match self {
            HistoryError::NotAnAdapter { .. } | HistoryError::NoQueryRange { .. } => {
                ExitClass::Usage
            }
            HistoryError::Unavailable { .. } => ExitClass::PluginCall,
        }
    }
}

/// A [`RangeSource`] that asks a loaded adapter plugin: every
/// [`RangeSource::query_range`] is one `query-range` call in a fresh
/// sandbox with the plugin's grants and limits (deadline, memory, output
/// cap), so the host never talks to the history store itself.
///
/// How call failures become [`SourceError`]s: the adapter's
/// `invalid-input`, `unsupported` and `failed` (Prometheus's `bad_data`,
/// `execution`, ... answers), an exceeded deadline or output cap are
/// [`SourceError::Rejected`]: that one rule is reported and the backtest
/// goes on; `unavailable`, `denied`, a denied capability, a trap or any
/// other failure are [`SourceError::Unavailable`], which ends the queries.
///
/// ```no_run
/// # fn demo(rt: &cutover_runtime::Runtime, loaded: &cutover_engine::bridge::Loaded) -> Result<(), Box<dyn std::error::Error>> {
/// use cutover_compare::backtest::RangeSource;
/// let mut source = cutover_engine::backtest::AdapterRangeSource::from_loaded(rt, loaded)?;
/// let series = source.query_range("up == 0", 0, 3_600_000, 60_000)?;
/// # Ok(()) }
/// ```
pub struct AdapterRangeSource<'r> {
    runtime: &'r Runtime,
    plugin: Arc<Plugin>,
    sandbox: Sandbox,
    queries: u32,
    unavailable: Option<String>,
}

impl<'r> AdapterRangeSource<'r> {
    /// A source over `plugin`, called with `sandbox` (its grants and
    /// limits); refused unless the plugin is an adapter exporting
    /// `query-range`.
    pub fn new(
        runtime: &'r Runtime,
        plugin: Arc<Plugin>,
        sandbox: Sandbox,
    ) -> Result<Self, HistoryError> {
        if plugin.world() != World::Adapter {
            return Err(HistoryError::NotAnAdapter {
                plugin: plugin.name().to_string(),
                world: plugin.world(),
            });
        }
        if !plugin.has_query_range() {
            return Err(HistoryError::NoQueryRange {
                plugin: plugin.name().to_string(),
            });
        }
        Ok(AdapterRangeSource {
            runtime,
            plugin,
            sandbox,
            queries: 0,
            unavailable: None,
        })
    }

    /// A source over a plugin the [`crate::PluginBridge`] loaded for a plan
    /// (its sandbox is the one the plan grants).
    pub fn from_loaded(runtime: &'r Runtime, loaded: &Loaded) -> Result<Self, HistoryError> {
        Self::new(runtime, loaded.plugin.clone(), loaded.sandbox.clone())
    }

    /// The adapter's name.
    pub fn plugin_name(&self) -> &str {
        self.plugin.name()
    }

    /// `query-range` calls made so far.
    pub fn queries(&self) -> u32 {
        self.queries
    }

    /// The first [`SourceError::Unavailable`] a query ended in, as
    /// [`HistoryError::Unavailable`]: the backtest's rules after it were
    /// not evaluated, so its report says nothing.
    pub fn unavailable(&self) -> Option<HistoryError> {
        self.unavailable
            .as_ref()
            .map(|message| HistoryError::Unavailable {
                plugin: self.plugin.name().to_string(),
                message: message.clone(),
            })
    }
}

impl RangeSource for AdapterRangeSource<'_> {
    fn query_range(
        &mut self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<RangeSeries>, SourceError> {
        let step_ms = u64::try_from(step_ms)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| SourceError::Rejected {
                message: format!("invalid step of {step_ms} ms"),
            })?;
        self.queries += 1;
        let q = RangeQuery {
            query: expr,
            start_ms,
            end_ms,
            step_ms,
        };
        let series = match self.runtime.query_range(&self.plugin, &self.sandbox, &q) {
            Ok(series) => series,
            Err(e) => {
                let e = source_error(e);
                if let (SourceError::Unavailable { message }, None) = (&e, &self.unavailable) {
                    self.unavailable = Some(message.clone());
                }
                return Err(e);
            }
        };
        Ok(series
            .into_iter()
            .map(|s| RangeSeries {
                labels: s.labels.into_iter().collect(),
                samples: s.samples.into_iter().map(|p| (p.at, p.value)).collect(),
            })
            .collect())
    }
}

/// How a failed `query-range` call counts for the backtest (see
/// [`AdapterRangeSource`]).
pub fn source_error(e: CallError) -> SourceError {
    match &e {
        CallError::Plugin { error, .. } => match error {
            PluginError::InvalidInput(m) | PluginError::Unsupported(m) | PluginError::Failed(m) => {
                SourceError::Rejected { message: m.clone() }
            }
            PluginError::Unavailable(_) | PluginError::Denied(_) => SourceError::Unavailable {
                message: e.to_string(),
            },
        },
        CallError::Deadline { .. } | CallError::Limit { .. } => SourceError::Rejected {
            message: e.to_string(),
        },
        _ => SourceError::Unavailable {
            message: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_runtime::{Denied, Limit};

    #[test]
    fn rejections_stay_with_the_rule_and_outages_stop_the_queries() {
        let plugin = |error| CallError::Plugin {
            plugin: "prometheus".into(),
            error,
        };
        assert_eq!(
            source_error(plugin(PluginError::InvalidInput(
                "bad_data: 1:5: parse error".into()
            ))),
            SourceError::Rejected {
                message: "bad_data: 1:5: parse error".into()
            }
        );
        assert!(matches!(
            source_error(plugin(PluginError::Unavailable("connection refused".into()))),
            SourceError::Unavailable { message } if message.contains("connection refused")
        ));
        assert!(matches!(
            source_error(CallError::Limit {
                plugin: "prometheus".into(),
                limit: Limit::Output,
                detail: "returned 9000000 bytes".into()
            }),
            SourceError::Rejected { message } if message.contains("output size")
        ));
        assert!(matches!(
            source_error(CallError::Denied {
                plugin: "prometheus".into(),
                denied: Denied::Http("http://elsewhere:80".into())
            }),
            SourceError::Unavailable { message } if message.contains("elsewhere")
        ));
    }
}
