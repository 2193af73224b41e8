//! Where a backtest reads history from: the [`RangeSource`] trait (one
//! Prometheus `query_range` call) and the series it answers with. The
//! answer's JSON is read where it is fetched: by the adapter (the
//! first-party prometheus adapter's `query-range`, contract 0.1.2), which
//! hands the host typed series.

use std::collections::BTreeMap;

/// One series of a range query's matrix result: its labels (with
/// `__name__` when the expression keeps it) and its samples, one per
/// evaluation step at which the expression returned it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RangeSeries {
    /// Label name → value.
    pub labels: BTreeMap<String, String>,
    /// `(unix milliseconds, value)` pairs. The evaluator tolerates any order,
    /// repeated timestamps (the last one wins) and timestamps off the step
    /// grid (ignored and counted), but a well-behaved source answers in
    /// ascending order on the grid, like Prometheus.
    pub samples: Vec<(i64, f64)>,
}

/// Why a [`RangeSource`] could not answer a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The source refused or failed to evaluate this expression (Prometheus
    /// answers `bad_data`, `execution`, `timeout`...). The rule is reported
    /// as failed and the backtest goes on with the others.
    #[error("the query was rejected: {message}")]
    Rejected {
        /// The source's own explanation.
        message: String,
    },
    /// The source cannot answer at all (unreachable, not authorised, an
    /// answer the adapter could not read...).
    /// No further query is made: the remaining rules are reported as not
    /// evaluated.
    #[error("the source is unavailable: {message}")]
    Unavailable {
        /// Why.
        message: String,
    },
}

/// A store of recorded history that evaluates an expression over a range,
/// like Prometheus's `GET /api/v1/query_range`.
pub trait RangeSource {
    /// The matrix `expr` evaluates to at `start_ms`, `start_ms + step_ms`,
    /// ... up to `end_ms` inclusive (unix milliseconds), with Prometheus's
    /// lookback rules. The backtest never asks for more than
    /// [`MAX_POINTS_PER_QUERY`] steps in one call.
    fn query_range(
        &mut self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<RangeSeries>, SourceError>;
}

/// Most evaluation steps asked of a [`RangeSource`] in one query: Prometheus
/// refuses a `query_range` resolving to more than 11,000 points per series.
/// Longer ranges are read in several queries.
pub const MAX_POINTS_PER_QUERY: u32 = 11_000;

/// The stale marker Prometheus stores when a series disappears: a NaN with
/// this bit pattern. Query results never carry it (Prometheus drops it),
/// but a source reading raw samples may; such a sample counts as absent.
/// Any other NaN is an ordinary value: the series is present.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is Prometheus's stale marker (see [`STALE_NAN_BITS`]).
pub fn is_stale_marker(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}
