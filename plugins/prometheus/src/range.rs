//! `query-range` (contract 0.1.2): Prometheus's `/api/v1/query_range`,
//! POSTed as a form to the configured (granted) server, its matrix answer
//! read into typed series.
//!
//! Prometheus answers a rejected expression (`bad_data`), a failed
//! evaluation (`execution`) or a timeout with `{"status":"error",...}` and
//! a 4xx/5xx status: that is `invalid-input` carrying Prometheus's
//! `errorType` and message, which the host reports against the one rule
//! (the backtest goes on with the others). An answer that is not
//! Prometheus's JSON at all is `unavailable`. NaN and ±Inf are values.

use cutover_adapter_util::client::Client;
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{PluginError, RangeSeries, Sample, invalid_input, unavailable};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// The API path.
pub const PATH: &str = "/api/v1/query_range";

/// Evaluates `query` from `start_ms` to `end_ms` every `step_ms` on the
/// server `c` points at.
pub fn query_range(
    c: &Client,
    query: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: u64,
) -> Result<Vec<RangeSeries>, PluginError> {
    if step_ms == 0 {
        return Err(invalid_input("query-range: step-ms must be positive"));
    }
    if start_ms > end_ms {
        return Err(invalid_input(format!(
            "query-range: start {start_ms} is after end {end_ms}"
        )));
    }
    let body = form_body(query, start_ms, end_ms, step_ms);
    let r = c.send_with(
        HttpMethod::POST,
        PATH,
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(body.into_bytes()),
    )?;
    let text = r.text();
    parse(&text).map_err(|e| match e {
        Answer::Error(m) => invalid_input(m),
        Answer::Unreadable(m) if (200..300).contains(&r.status) => {
            unavailable(format!("POST {}: {m}", c.url(PATH)))
        }
        Answer::Unreadable(_) => {
            let short: String = text.chars().take(300).collect();
            unavailable(format!(
                "POST {}: HTTP {}: {}",
                c.url(PATH),
                r.status,
                short.trim()
            ))
        }
    })
}

/// `query=...&start=...&end=...&step=...`, times in (fractional) seconds.
pub fn form_body(query: &str, start_ms: i64, end_ms: i64, step_ms: u64) -> String {
    format!(
        "query={}&start={}&end={}&step={}",
        urlencode(query),
        seconds(start_ms),
        seconds(end_ms),
        seconds(step_ms as i64)
    )
}

/// Milliseconds as seconds with up to three decimals (`1712345678.123`).
fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    match abs % 1000 {
        0 => format!("{sign}{}", abs / 1000),
        frac => format!("{sign}{}.{frac:03}", abs / 1000),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Why an answer gave no series.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Prometheus's own error answer: `"<errorType>: <error>"`.
    Error(String),
    /// Not a range-query answer; says where and why.
    Unreadable(String),
}

/// Reads Prometheus's answer: a matrix, or its error.
pub fn parse(text: &str) -> Result<Vec<RangeSeries>, Answer> {
    let head: Head = read(text)?;
    match head.status.as_str() {
        "success" => {}
        "error" => {
            return Err(Answer::Error(format!(
                "{}: {}",
                head.error_type.as_deref().unwrap_or("error"),
                head.error.as_deref().unwrap_or("(no message)")
            )));
        }
        other => {
            return Err(Answer::Unreadable(format!(
                "`status` is {other:?}, expected \"success\" or \"error\""
            )));
        }
    }
    let Some(data) = head.data else {
        return Err(Answer::Unreadable(
            "`data` missing in a successful answer".into(),
        ));
    };
    if data.result_type != "matrix" {
        return Err(Answer::Unreadable(format!(
            "`data.resultType` is {:?}, expected \"matrix\" (a range query)",
            data.result_type
        )));
    }
    let body: Body = read(text)?;
    body.data
        .result
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if s.histograms.is_some() {
                return Err(Answer::Unreadable(format!(
                    "`data.result[{i}].histograms`: native histogram samples are not supported"
                )));
            }
            Ok(RangeSeries {
                labels: s.metric.into_iter().collect(),
                samples: s
                    .values
                    .into_iter()
                    .map(|p| Sample {
                        at: p.0,
                        value: p.1,
                    })
                    .collect(),
            })
        })
        .collect()
}

fn read<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, Answer> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Answer::Unreadable(format!("at `{path}`: {}", e.inner()))
    })?;
    de.end()
        .map_err(|e| Answer::Unreadable(format!("after the answer: {e}")))?;
    Ok(value)
}

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

/// `[seconds, "value"]` as (unix milliseconds, value).
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
        // Beyond 2^53 ms milliseconds are no longer exact.
        if !ms.is_finite() || ms.abs() > 9_007_199_254_740_992.0 {
            return Err(de::Error::custom(format!(
                "timestamp {secs} is out of range"
            )));
        }
        // Prometheus writes NaN, +Inf and -Inf; Rust's parser reads all three.
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
    fn reads_a_matrix_with_nan_and_infinities_as_values() {
        let s = parse(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"__name__":"up","job":"a"},"values":[[1712345678.123,"1"],[1712345738.123,"NaN"],[1712345798,"+Inf"],[1712345858,"-Inf"]]},
              {"metric":{},"values":[]}]},"warnings":["x"]}"#,
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].labels,
            vec![("__name__".into(), "up".into()), ("job".into(), "a".into())]
        );
        assert_eq!(
            (s[0].samples[0].at, s[0].samples[0].value),
            (1_712_345_678_123, 1.0)
        );
        assert!(s[0].samples[1].value.is_nan());
        assert_eq!(s[0].samples[2].value, f64::INFINITY);
        assert_eq!(s[0].samples[3].value, f64::NEG_INFINITY);
        assert!(s[1].samples.is_empty() && s[1].labels.is_empty());
    }

    #[test]
    fn prometheus_errors_keep_their_type_and_message() {
        let e = parse(
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected <op:*>"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            Answer::Error(
                "bad_data: invalid parameter \"query\": 1:5: parse error: unexpected <op:*>".into()
            )
        );
    }

    #[test]
    fn other_answers_say_where_and_why() {
        let msg = |t: &str| match parse(t) {
            Err(Answer::Unreadable(m)) => m,
            other => panic!("{other:?}"),
        };
        let m = msg(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
        assert!(m.contains("resultType") && m.contains("\"vector\""), "{m}");
        let m = msg(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"abc"]]}]}}"#,
        );
        assert!(
            m.contains("data.result[0].values[1]") && m.contains("\"abc\""),
            "{m}"
        );
        let m = msg("<html>502 Bad Gateway</html>");
        assert!(m.contains("at `"), "{m}");
        let m = msg(r#"{"status":"success"}"#);
        assert!(m.contains("`data` missing"), "{m}");
        let m = msg(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[]}]}}"#,
        );
        assert!(m.contains("histograms"), "{m}");
    }

    #[test]
    fn the_form_encodes_the_expression_and_times_in_seconds() {
        assert_eq!(
            form_body(
                "rate(x{a=\"b c\"}[5m]) > 0.5",
                1_712_345_678_123,
                1_712_349_278_000,
                60_000
            ),
            "query=rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%20%3E%200.5&start=1712345678.123&end=1712349278&step=60"
        );
        assert_eq!(seconds(-1500), "-1.500");
        assert_eq!(seconds(5), "0.005");
    }
}
