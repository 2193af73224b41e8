//! # cutover-systest
//!
//! Support for the real-systems integration test (`tests/systems.rs`): a
//! [`Fixture`] guard over `tests/fixture/start.sh` / `stop.sh` (Prometheus A/B,
//! Alertmanager A/B and node-exporter on 127.0.0.1) and a minimal HTTP/1.1
//! client ([`http`]) to poke the systems directly, independent of the
//! plugins under test.

mod fixture;
pub mod http;

pub use fixture::{Fixture, FixtureError};
