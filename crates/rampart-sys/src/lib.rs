//! Rampart's Linux edges: the kernel and storage interfaces the daemon
//! drives. Everything here does I/O; the decisions (what to ban, what
//! verdict to give) are made in the pure crates and only carried out here.
//!
//! * [`nfqueue`]: inline packets and their verdicts (NFQUEUE).
//! * [`nft`]: running `nft` with JSON on standard input, never a shell.

pub mod bans;
pub mod nfqueue;
pub mod nft;
pub mod store;
