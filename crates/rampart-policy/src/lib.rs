//! `rampart-policy`: the firewall policy and ban model, compiled to
//! nftables JSON.
//!
//! Pure: a policy comes in as TOML text, the kernel's state as the JSON
//! value `nft -j list table` printed, and everything goes out as values
//! (`serde_json::Value` batches for `nft -j -f -`, lists of changes).
//! Running `nft` is the binary's job. That keeps every address check and
//! every byte of the batch testable without root.
//!
//! * [`Policy::from_toml`] parses and validates (errors name the key).
//! * [`compile()`] makes one atomic batch that replaces Rampart's own table
//!   and touches nothing else.
//! * [`ban_elements`] batches ban-set updates (IPv6 widening in
//!   [`Ban::address`]).
//! * [`diff()`] says what an apply would change.
//! * [`BanBook`] decides bans: allowlist, IPv6 widening, escalation,
//!   expiry, restore from the store.

#![forbid(unsafe_code)]

pub mod addr;
pub mod banlist;
pub mod compile;
pub mod diff;
pub mod model;

pub use addr::{widen, Cidr, CidrError};
pub use banlist::{
    BanBook, BanDecision, BanEntry, BanPolicy, BanRecord, BanRefused, BanTarget, RestoreReport,
};
pub use compile::{ban_elements, compile, queue_iptables_args, Ban, BanOp};
pub use diff::{diff, listed_bans, restore_batch, Change};
pub use model::{
    parse_duration, Action, AddrList, Bans, CtState, Endpoint, Family, Hook, Policy, PolicyError,
    PolicySource, PortRange, Problem, Protocol, Queue, Rate, Rule, Verdict, Zone,
};

#[cfg(test)]
mod tests;
