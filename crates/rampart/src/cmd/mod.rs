//! One module per subcommand.

pub mod ctl;
pub mod detect;
pub mod fw;
pub mod inspect;
pub mod logs;
pub mod rules;
