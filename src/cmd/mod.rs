//! One module a subcommand.

pub mod check;
