//! One handler per command, each in its own module with a `run` function that
//! [`crate::main`]'s dispatch calls with the command's parsed arguments. Handlers return the
//! exit code, or a [`crate::exit::CliError`] that `main` prints.

pub(crate) mod completions;
pub(crate) mod demo;
pub(crate) mod docs;
pub(crate) mod export;
pub(crate) mod get;
pub(crate) mod history;
pub(crate) mod listen;
pub(crate) mod plan_apply;
pub(crate) mod sandbox;
pub(crate) mod sandbox_trigger;
pub(crate) mod schema;
pub(crate) mod set;
pub(crate) mod spec_check;
pub(crate) mod undo;
pub(crate) mod validate;
