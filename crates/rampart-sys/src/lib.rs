//! Rampart's Linux edges: the kernel and storage interfaces the daemon
//! drives. Everything here does I/O; the decisions (what to ban, what
//! verdict to give) are made in the pure crates and only carried out here.
//!
//! * [`afpacket`]: live capture for IDS mode (AF_PACKET, TPACKET_V3 ring, fanout).
//! * [`nfqueue`]: inline packets and their verdicts (NFQUEUE), over Rampart's
//!   own netlink code (shared with [`bans`]).
//! * [`nft`]: running `nft` with JSON on standard input, never a shell.
//! * [`tail`]: following log files (rotation, truncation, saved positions), refusing symlinks and FIFOs.

pub mod afpacket;
pub mod bans;
mod netlink;
pub mod nfqueue;
pub mod nft;
pub mod store;
pub mod tail;
