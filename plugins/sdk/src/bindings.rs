//! Generated bindings for the six worlds of `wit/plugin.wit`.
//!
//! The `types` and `host` interfaces are generated once (in [`action`]) and
//! reused by the other worlds through wit-bindgen's `with` option, so a
//! `PluginError` is the same Rust type whichever world a plugin targets.

/// Bindings for the `action` world; also home of the shared `types`/`host`.
#[allow(clippy::too_many_arguments)] // generated code
pub mod action {
    wit_bindgen::generate!({
        world: "action",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_action",
        default_bindings_module: "cutover_plugin_sdk::action",
        additional_derives: [PartialEq],
    });
}

/// Bindings for the `check` world.
#[allow(clippy::too_many_arguments)] // generated code
pub mod check {
    wit_bindgen::generate!({
        world: "check",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_check",
        default_bindings_module: "cutover_plugin_sdk::check",
        with: {
            "cutover:plugin/types@0.1.3": crate::action::cutover::plugin::types,
            "cutover:plugin/host@0.1.3": crate::action::cutover::plugin::host,
        },
    });
}

/// Bindings for the `adapter` world.
#[allow(clippy::too_many_arguments)] // generated code
pub mod adapter {
    wit_bindgen::generate!({
        world: "adapter",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_adapter",
        default_bindings_module: "cutover_plugin_sdk::adapter",
        with: {
            "cutover:plugin/types@0.1.3": crate::action::cutover::plugin::types,
            "cutover:plugin/host@0.1.3": crate::action::cutover::plugin::host,
        },
    });
}

/// Bindings for the `history-adapter` world (contract 0.1.2): every export
/// of `adapter` plus `query-range`.
#[allow(clippy::too_many_arguments)] // generated code
pub mod history_adapter {
    wit_bindgen::generate!({
        world: "history-adapter",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_history_adapter",
        default_bindings_module: "cutover_plugin_sdk::history_adapter",
        with: {
            "cutover:plugin/types@0.1.3": crate::action::cutover::plugin::types,
            "cutover:plugin/host@0.1.3": crate::action::cutover::plugin::host,
        },
    });
}

/// Bindings for the `streaming-adapter` world (contract 0.1.3): every
/// export of `adapter` plus `collect-alerts-into`.
#[allow(clippy::too_many_arguments)] // generated code
pub mod streaming_adapter {
    wit_bindgen::generate!({
        world: "streaming-adapter",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_streaming_adapter",
        default_bindings_module: "cutover_plugin_sdk::streaming_adapter",
        with: {
            "cutover:plugin/types@0.1.3": crate::action::cutover::plugin::types,
            "cutover:plugin/host@0.1.3": crate::action::cutover::plugin::host,
        },
    });
}

/// Bindings for the `translator` world (contract 0.1.1).
#[allow(clippy::too_many_arguments)] // generated code
pub mod translator {
    wit_bindgen::generate!({
        world: "translator",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_translator",
        default_bindings_module: "cutover_plugin_sdk::translator",
        with: {
            "cutover:plugin/types@0.1.3": crate::action::cutover::plugin::types,
            "cutover:plugin/host@0.1.3": crate::action::cutover::plugin::host,
        },
    });
}
