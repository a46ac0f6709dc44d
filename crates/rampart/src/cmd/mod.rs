//! One module per subcommand.

pub mod detect;
pub mod inspect;
pub mod rules;
