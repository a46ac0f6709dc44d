//! One module per subcommand.

pub mod detect;
pub mod inspect;
pub mod logs;
pub mod rules;
