//! The exit codes the commands return, as `u8`: each one is the code of an
//! [`ExitClass`], whose meaning is documented there and in README's "Exit
//! codes" table.

use cutover_base::exit::ExitClass;

/// [`ExitClass::Ok`].
pub const OK: u8 = ExitClass::Ok.code();
/// [`ExitClass::Failed`].
pub const FAILED: u8 = ExitClass::Failed.code();
/// [`ExitClass::Usage`].
pub const USAGE: u8 = ExitClass::Usage.code();
/// [`ExitClass::Paused`].
pub const PAUSED: u8 = ExitClass::Paused.code();
/// [`ExitClass::Inconclusive`].
pub const INCONCLUSIVE: u8 = ExitClass::Inconclusive.code();
/// [`ExitClass::State`].
pub const STATE: u8 = ExitClass::State.code();
