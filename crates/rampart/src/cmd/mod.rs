//! One module per subcommand.

pub mod ctl;
pub mod detect;
pub mod fw;
pub mod inspect;
pub mod logs;
mod logs_pipeline;
pub mod rules;
