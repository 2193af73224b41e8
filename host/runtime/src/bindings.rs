//! Host-side bindings for the plugin worlds, generated from `wit/`.
//!
//! The `types` and `host` interfaces are generated once (with the `action`
//! world) and shared by the `check`, `adapter`, `history-adapter`,
//! `streaming-adapter` and `translator` worlds.

pub(crate) mod action {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/action",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "cutover:plugin/host.data-sink": crate::data::DataSink,
            "cutover:plugin/host.data-source": crate::data::DataSource,
        },
    });
}

pub(crate) mod check {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/check",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "cutover:plugin/types": super::action::cutover::plugin::types,
            "cutover:plugin/host": super::action::cutover::plugin::host,
        },
    });
}

pub(crate) mod adapter {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/adapter",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "cutover:plugin/types": super::action::cutover::plugin::types,
            "cutover:plugin/host": super::action::cutover::plugin::host,
        },
    });
}

/// `history-adapter` (contract 0.1.2): an adapter that also exports
/// `query-range`. Loaded as an adapter; this pre-instantiation is kept
/// beside the adapter one only when the component exports `query-range`.
pub(crate) mod history_adapter {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/history-adapter",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "cutover:plugin/types": super::action::cutover::plugin::types,
            "cutover:plugin/host": super::action::cutover::plugin::host,
        },
    });
}

/// `streaming-adapter` (contract 0.1.3): an adapter that also exports
/// `collect-alerts-into`. Loaded as an adapter; this pre-instantiation is
/// kept beside the adapter one only when the component exports
/// `collect-alerts-into`.
pub(crate) mod streaming_adapter {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/streaming-adapter",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "cutover:plugin/types": super::action::cutover::plugin::types,
            "cutover:plugin/host": super::action::cutover::plugin::host,
        },
    });
}

pub(crate) mod translator {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "cutover:plugin/translator",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "cutover:plugin/types": super::action::cutover::plugin::types,
            "cutover:plugin/host": super::action::cutover::plugin::host,
        },
    });
}

pub(crate) use action::cutover::plugin::host as wit_host;
pub use action::cutover::plugin::types as wit;
