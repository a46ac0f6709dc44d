//! Putting the daemon's firewall in place: Rampart's nft table (policy,
//! ban sets, reject chain) in one transaction, keeping the bans the kernel
//! holds, and the NFQUEUE hook.
//!
//! The hook is tried as a native nft `queue` statement first; kernels
//! without it (CONFIG_NFT_QUEUE unset, as here) refuse that batch as a
//! whole, and the hook is then installed with iptables-nft's xt `NFQUEUE`
//! target, for IPv4 and IPv6, and removed again on a clean stop. Every
//! command is a fixed argument vector: no shell.

use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use rampart_policy::compile::FAMILY;
use rampart_policy::{queue_iptables_args, Policy};
use rampart_sys::nft;

use crate::cmd::fw::{batch_keeping_bans, host_addresses};

/// The xt rules installed for the queue, to remove on shutdown.
#[derive(Debug, Default)]
pub struct QueueHook {
    installed: Vec<(&'static str, Vec<String>)>,
    /// How the hook was installed, for the log and the status API.
    pub kind: &'static str,
}

/// The policy with the host's addresses added to its allowlist when it asks
/// for them.
pub fn prepare(mut p: Policy) -> Result<Policy> {
    if p.allow_host_addresses {
        p.allow_addresses(host_addresses()?);
    }
    Ok(p)
}

/// Replaces Rampart's table with `p` (bans kept) and installs the queue
/// hook. Other tables are never touched.
pub fn apply(p: &Policy) -> Result<QueueHook> {
    let previous = nft::list_table(FAMILY, &p.table).context("reading the current table")?;
    let Some(q) = p.queue.as_ref() else {
        let (batch, _) = batch_keeping_bans(p, previous.as_ref());
        nft::run_batch(&batch).context("applying the firewall table")?;
        return Ok(QueueHook {
            installed: Vec::new(),
            kind: "none",
        });
    };
    let mut native = p.clone();
    if let Some(nq) = native.queue.as_mut() {
        nq.queue_statement = true;
    }
    if !q.queue_statement {
        let (batch, _) = batch_keeping_bans(&native, previous.as_ref());
        if nft::run_batch(&batch).is_ok() {
            return Ok(QueueHook {
                installed: Vec::new(),
                kind: "nft queue statement",
            });
        }
        tracing::info!(
            "this kernel has no nft queue statement; using iptables-nft's NFQUEUE target"
        );
    }
    let mut xt = p.clone();
    if let Some(xq) = xt.queue.as_mut() {
        xq.queue_statement = false;
    }
    let (batch, _) = batch_keeping_bans(&xt, previous.as_ref());
    nft::run_batch(&batch).context("applying the firewall table")?;
    let Some(args) = queue_iptables_args(&xt) else {
        bail!("no queue hook to install");
    };
    let mut hook = QueueHook {
        installed: Vec::new(),
        kind: "iptables-nft NFQUEUE target",
    };
    // A daemon killed in the other fail mode left its rule behind: with it
    // a switch to fail-closed would still bypass, or the reverse.
    let mut other = xt.clone();
    if let Some(oq) = other.queue.as_mut() {
        oq.fail_open = !oq.fail_open;
    }
    let stale = queue_iptables_args(&other);
    for prog in ["iptables", "ip6tables"] {
        if let Some(st) = &stale {
            while run(prog, &with_verb(st, "-C")).unwrap_or(false) {
                tracing::info!("removing a stale queue rule: {prog} {}", st.join(" "));
                if run(prog, &with_verb(st, "-D")).is_err() {
                    break;
                }
            }
        }
        install(prog, &args).with_context(|| format!("installing the queue hook with {prog}"))?;
        hook.installed.push((prog, args.clone()));
    }
    Ok(hook)
}

/// `-I CHAIN …` → the same rule with another verb (`-C`, `-D`).
fn with_verb(args: &[String], verb: &str) -> Vec<String> {
    let mut v = args.to_vec();
    if let Some(first) = v.first_mut() {
        *first = verb.to_string();
    }
    v
}

fn run(prog: &str, args: &[String]) -> Result<bool> {
    let out = Command::new(prog)
        .args(["-w", "5"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {prog} (is the iptables package installed?)"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if args.first().map(String::as_str) == Some("-C") {
            return Ok(false);
        }
        bail!("{prog} {} failed: {}", args.join(" "), err.trim());
    }
    Ok(true)
}

fn install(prog: &str, args: &[String]) -> Result<()> {
    // A daemon killed without cleanup left its rule: keep that one rather
    // than stacking a second.
    if run(prog, &with_verb(args, "-C"))? {
        return Ok(());
    }
    run(prog, args).map(|_| ())
}

impl QueueHook {
    /// Removes the xt rules this daemon installed.
    pub fn remove(&self) {
        for (prog, args) in &self.installed {
            if let Err(e) = run(prog, &with_verb(args, "-D")) {
                tracing::warn!("removing the queue hook: {e:#}");
            }
        }
    }
}
