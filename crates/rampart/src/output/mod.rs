//! Output formats.

pub mod eve;
