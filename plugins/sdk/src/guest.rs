//! The glue of a check or action plugin that asks for no capabilities:
//! [`check_guest!`](crate::check_guest) and
//! [`action_guest!`](crate::action_guest) declare the guest type, implement
//! its world's `Guest` trait with `describe()` answering
//! [`descriptor`](crate::descriptor) (no capabilities, the crate's version)
//! and the one call given, and export the component. A plugin that needs
//! capabilities implements the trait itself.

/// A check plugin: `describe()` names it, `evaluate(ctx)` is the given
/// function, and the component exports it.
///
/// ```ignore
/// cutover_plugin_sdk::check_guest!(Probe {
///     name: "http-probe",
///     description: "GETs params.url; ...",
///     evaluate: evaluate,
/// });
///
/// fn evaluate(ctx: Context) -> Result<Verdict, PluginError> { ... }
/// ```
#[macro_export]
macro_rules! check_guest {
    ($ty:ident { name: $name:expr, description: $desc:expr, evaluate: $f:path $(,)? }) => {
        $crate::__plain_guest!(
            check,
            export_check,
            Check,
            $ty,
            $name,
            $desc,
            evaluate,
            Verdict,
            $f
        );
    };
}

/// An action plugin: `describe()` names it, `run(ctx)` is the given
/// function, and the component exports it.
///
/// ```ignore
/// cutover_plugin_sdk::action_guest!(Noop {
///     name: "noop-action",
///     description: "Logs its params and does nothing.",
///     run: run,
/// });
///
/// fn run(ctx: Context) -> Result<Outcome, PluginError> { ... }
/// ```
#[macro_export]
macro_rules! action_guest {
    ($ty:ident { name: $name:expr, description: $desc:expr, run: $f:path $(,)? }) => {
        $crate::__plain_guest!(
            action,
            export_action,
            Action,
            $ty,
            $name,
            $desc,
            run,
            Outcome,
            $f
        );
    };
}

/// What [`check_guest!`](crate::check_guest) and
/// [`action_guest!`](crate::action_guest) write: `$world` is the bindings
/// module, `$call` the world's one call and `$ret` what it answers.
#[doc(hidden)]
#[macro_export]
macro_rules! __plain_guest {
    ($world:ident, $export:ident, $kind:ident, $ty:ident, $name:expr, $desc:expr,
     $call:ident, $ret:ident, $f:path) => {
        struct $ty;

        impl $crate::$world::Guest for $ty {
            fn describe() -> $crate::Descriptor {
                $crate::descriptor(
                    $name,
                    env!("CARGO_PKG_VERSION"),
                    $crate::PluginKind::$kind,
                    $desc,
                )
            }

            fn $call(ctx: $crate::Context) -> Result<$crate::$ret, $crate::PluginError> {
                $f(ctx)
            }
        }

        $crate::$export!($ty);
    };
}
