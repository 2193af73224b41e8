//! Where a backtest reads history from: the [`RangeSource`] trait (one
//! Prometheus `query_range` call), the series it answers with, and
//! [`parse_query_range_json`], which reads Prometheus's own JSON answer so
//! an adapter only has to fetch it.

use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

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
    /// The source answered something that is not a range query result.
    #[error("malformed query_range answer at {at}: {message}")]
    Malformed {
        /// Where in the answer (JSON path, line and column).
        at: String,
        /// What was wrong there.
        message: String,
    },
    /// The source cannot answer at all (unreachable, not authorised...).
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

/// Read Prometheus's answer to `/api/v1/query_range`:
/// `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{...},"values":[[1712345678.123,"1"],...]}]}}`.
/// An error answer (`"status":"error"`) is [`SourceError::Rejected`] with
/// its `errorType` and `error`; anything unreadable is
/// [`SourceError::Malformed`] naming the JSON path, line and column.
pub fn parse_query_range_json(text: &str) -> Result<Vec<RangeSeries>, SourceError> {
    let head: Head = read(text)?;
    match head.status.as_str() {
        "success" => {}
        "error" => {
            let kind = head.error_type.unwrap_or_else(|| "error".into());
            let message = head.error.unwrap_or_else(|| "(no message)".into());
            return Err(SourceError::Rejected {
                message: format!("{kind}: {message}"),
            });
        }
        other => {
            return Err(malformed(
                "status",
                format!("expected \"success\" or \"error\", got {other:?}"),
            ));
        }
    }
    let Some(data) = head.data else {
        return Err(malformed("data", "missing in a successful answer"));
    };
    if data.result_type != "matrix" {
        return Err(malformed(
            "data.resultType",
            format!(
                "expected \"matrix\" (a range query), got {:?}",
                data.result_type
            ),
        ));
    }
    let body: Body = read(text)?;
    body.data
        .result
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s.histograms {
            Some(_) => Err(malformed(
                &format!("data.result[{i}].histograms"),
                "native histogram samples are not supported by the backtest",
            )),
            None => Ok(RangeSeries {
                labels: s.metric,
                samples: s.values.into_iter().map(|p| (p.0, p.1)).collect(),
            }),
        })
        .collect()
}

fn malformed(at: &str, message: impl Into<String>) -> SourceError {
    SourceError::Malformed {
        at: at.to_string(),
        message: message.into(),
    }
}

/// Deserialise `text`, turning an error into [`SourceError::Malformed`]
/// with the JSON path and position.
fn read<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, SourceError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(&e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| json_error("", &e))?;
    Ok(value)
}

/// [`SourceError::Malformed`] for a serde_json error at `path`.
fn json_error(path: &str, e: &serde_json::Error) -> SourceError {
    let path = if path.is_empty() || path == "." {
        "(top level)"
    } else {
        path
    };
    SourceError::Malformed {
        at: format!("`{path}` (line {}, column {})", e.line(), e.column()),
        message: strip_position(&e.to_string()),
    }
}

/// A serde_json message without its trailing " at line L column C" (the
/// position is reported separately).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The parts of an answer looked at before its result.
#[derive(Deserialize)]
struct Head {
    status: String,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    data: Option<HeadData>,
}

#[derive(Deserialize)]
struct HeadData {
    #[serde(rename = "resultType")]
    result_type: String,
}

/// A successful matrix answer.
#[derive(Deserialize)]
struct Body {
    data: BodyData,
}

#[derive(Deserialize)]
struct BodyData {
    result: Vec<WireSeries>,
}

#[derive(Deserialize)]
struct WireSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Point>,
    histograms: Option<IgnoredAny>,
}

/// `[seconds, "value"]`.
struct Point(i64, f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Point, D::Error> {
        d.deserialize_seq(PointVisitor)
    }
}

struct PointVisitor;

impl<'de> Visitor<'de> for PointVisitor {
    type Value = Point;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sample [unix seconds, \"value\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
        let secs: f64 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let value: std::borrow::Cow<'de, str> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        let ms = (secs * 1000.0).round();
        // Beyond 2^53 ms (year 287,396) milliseconds are no longer exact.
        if !ms.is_finite() || ms.abs() > 9_007_199_254_740_992.0 {
            return Err(de::Error::custom(format!(
                "timestamp {secs} is out of range"
            )));
        }
        let v: f64 = value
            .parse()
            .map_err(|_| de::Error::custom(format!("invalid sample value {value:?}")))?;
        Ok(Point(ms as i64, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_matrix() {
        let s = parse_query_range_json(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"__name__":"up","job":"a"},"values":[[1712345678.123,"1"],[1712345738.123,"NaN"],[1712345798,"+Inf"]]},
              {"metric":{},"values":[]}]},"warnings":["x"]}"#,
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels["job"], "a");
        assert_eq!(s[0].samples[0], (1_712_345_678_123, 1.0));
        assert!(s[0].samples[1].1.is_nan() && !is_stale_marker(s[0].samples[1].1));
        assert_eq!(s[0].samples[2], (1_712_345_798_000, f64::INFINITY));
        assert!(s[1].samples.is_empty());
    }

    #[test]
    fn error_answers_are_rejections() {
        let e = parse_query_range_json(
            r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            SourceError::Rejected {
                message: "bad_data: 1:5: parse error: unexpected".into()
            }
        );
    }

    #[test]
    fn malformed_answers_say_where_and_why() {
        let at = |text: &str| match parse_query_range_json(text) {
            Err(SourceError::Malformed { at, message }) => format!("{at}: {message}"),
            other => panic!("{other:?}"),
        };
        let m = at(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"abc"]]}]}}"#,
        );
        assert!(m.contains("data.result[0].values[1]"), "{m}");
        assert!(m.contains("invalid sample value \"abc\""), "{m}");
        let m = at(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
        assert!(
            m.contains("data.resultType") && m.contains("\"vector\""),
            "{m}"
        );
        let m = at(r#"{"status":"success"}"#);
        assert!(m.starts_with("data"), "{m}");
        let m = at(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}"#,
        );
        assert!(
            m.contains("values[0]") && m.contains("invalid length"),
            "{m}"
        );
        let m = at(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[]}]}}"#,
        );
        assert!(m.contains("histograms"), "{m}");
        let m = at(r#"{"status":"success","data":"#);
        assert!(m.contains("line 1"), "{m}");
        let m = at(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1e300,"1"]]}]}}"#,
        );
        assert!(m.contains("out of range"), "{m}");
        let m = at(r#"{"status":"ok"}"#);
        assert!(m.contains("\"ok\""), "{m}");
    }
}
