//! `rampart fw ...`: the nftables firewall policy (docs/firewall.md).
//!
//! * `fw check POLICY`: validate and summarise.
//! * `fw render POLICY`: print the nft JSON batch.
//! * `fw diff POLICY`: what an apply would change in the kernel.
//! * `fw apply POLICY [--confirm-within 60s]`: apply atomically; with a
//!   deadline, roll back unless the operator types `yes` in time.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rampart_policy::compile::FAMILY;
use rampart_policy::{
    ban_elements, compile, diff, listed_bans, parse_duration, queue_iptables_args, restore_batch,
    BanOp, Family, Hook, Policy,
};
use serde_json::{json, Value};

use rampart_sys::nft;

/// `rampart fw ...`
#[derive(Subcommand, Debug)]
pub enum FwCommand {
    /// Validate a policy and print a summary (no root needed).
    Check(PolicyArg),
    /// Print the nft JSON batch a policy compiles to (no root needed).
    Render(PolicyArg),
    /// Print what applying the policy would change in the kernel's table.
    Diff(PolicyArg),
    /// Replace Rampart's table with the policy in one atomic transaction.
    Apply(ApplyArgs),
    /// Internal: the rollback watchdog of `apply --confirm-within`, started
    /// in its own process group so that it outlives a dropped SSH session.
    #[command(hide = true)]
    RollbackWatch(WatchArgs),
}

/// Arguments of the hidden rollback watchdog.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The restore batch (deleted by whoever restores or confirms).
    #[arg(long)]
    pub file: PathBuf,
    /// Seconds to wait before restoring.
    #[arg(long)]
    pub after: u64,
}

/// A policy file argument.
#[derive(Args, Debug)]
pub struct PolicyArg {
    /// Policy file (TOML; see docs/policy-example.toml).
    pub policy: PathBuf,
}

/// Arguments of `rampart fw apply`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Policy file (TOML; see docs/policy-example.toml).
    pub policy: PathBuf,
    /// Keep the new policy only if `yes` is typed on standard input within
    /// this time (e.g. 60s, 2m); otherwise restore the previous table.
    #[arg(long, value_name = "DURATION", value_parser = parse_confirm)]
    pub confirm_within: Option<u64>,
}

fn parse_confirm(s: &str) -> Result<u64, String> {
    parse_duration(s).ok_or_else(|| format!("invalid duration {s:?} (e.g. 60s, 2m)"))
}

/// Runs a `fw` subcommand.
pub fn run(cmd: &FwCommand) -> Result<ExitCode> {
    match cmd {
        FwCommand::Check(a) => check(&a.policy),
        FwCommand::Render(a) => render(&a.policy),
        FwCommand::Diff(a) => diff_cmd(&a.policy),
        FwCommand::Apply(a) => apply(a),
        FwCommand::RollbackWatch(a) => rollback_watch(a),
    }
}

fn load(path: &Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading policy {}", path.display()))?;
    let mut p =
        Policy::from_toml(&text).with_context(|| format!("invalid policy {}", path.display()))?;
    if p.allow_host_addresses {
        p.allow_addresses(host_addresses()?);
    }
    Ok(p)
}

/// The host's own addresses, from `ip -j addr show` (fixed argv, no shell);
/// each one parsed before use.
pub(crate) fn host_addresses() -> Result<Vec<std::net::IpAddr>> {
    let out = std::process::Command::new("ip")
        .args(["-j", "addr", "show"])
        .stdin(std::process::Stdio::null())
        .output()
        .context("running `ip -j addr show` for allowlist.host_addresses")?;
    if !out.status.success() {
        anyhow::bail!(
            "ip -j addr show failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("parsing `ip -j addr show`")?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("addr_info").and_then(Value::as_array))
        .flatten()
        .filter_map(|a| a.get("local").and_then(Value::as_str))
        .filter_map(|s| s.parse().ok())
        .collect())
}

fn check(path: &Path) -> Result<ExitCode> {
    let p = load(path)?;
    let batch = compile(&p);
    let n = batch["nftables"].as_array().map_or(0, Vec::len);
    outln!("{}: valid", path.display())?;
    outln!(
        "  table      {FAMILY} {} (priority {})",
        p.table,
        p.priority
    )?;
    let defaults: Vec<String> = Hook::ALL
        .iter()
        .map(|h| {
            let v = p.defaults.get(h).map_or("accept", |v| v.as_str());
            format!("{} {v}", h.as_str())
        })
        .collect();
    outln!("  defaults   {}", defaults.join(", "))?;
    outln!(
        "  zones      {}",
        if p.zones.is_empty() {
            "(none)".to_string()
        } else {
            p.zones.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    )?;
    outln!(
        "  allowlist  {} IPv4, {} IPv6 prefixes",
        p.allowlist.v4.len(),
        p.allowlist.v6.len()
    )?;
    outln!(
        "  bans       bans_v4, bans_v6: default timeout {} s, IPv6 widened to /{}",
        p.bans.timeout,
        p.bans.ipv6_prefix
    )?;
    match &p.queue {
        None => outln!("  queue      (none)")?,
        Some(q) if q.queue_statement => outln!(
            "  queue      {:?} on {} ({}), native nft queue statement in the table",
            q.numbers,
            q.chain.as_str(),
            if q.fail_open {
                "fail-open"
            } else {
                "fail-closed"
            }
        )?,
        Some(_) => outln!(
            "  queue      via iptables-nft xt target: iptables {}",
            queue_iptables_args(&p).unwrap_or_default().join(" ")
        )?,
    }
    outln!("  rules      {}", p.rules.len())?;
    for r in &p.rules {
        let fam = match r.families.as_slice() {
            [] => "any",
            [Family::V4] => "ipv4",
            [Family::V6] => "ipv6",
            _ => "ipv4+ipv6",
        };
        let rate = r
            .rate
            .as_ref()
            .map(|r| format!(", rate {}/{}", r.count, r.per))
            .unwrap_or_default();
        outln!(
            "    {:<7} {:<20} {:?} {:?} ({fam}{rate})",
            r.chain.as_str(),
            r.name,
            r.action,
            r.protocol
        )?;
    }
    outln!("  nft batch  {n} commands")?;
    for w in p.warnings() {
        outln!("warning: {w}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn render(path: &Path) -> Result<ExitCode> {
    let p = load(path)?;
    let text = serde_json::to_string_pretty(&compile(&p)).context("serialising")?;
    outln!("{text}")?;
    Ok(ExitCode::SUCCESS)
}

fn diff_cmd(path: &Path) -> Result<ExitCode> {
    let p = load(path)?;
    let current = nft::list_table(FAMILY, &p.table)?;
    let changes = diff(current.as_ref(), &compile(&p));
    if changes.is_empty() {
        outln!("table {FAMILY} {}: no changes", p.table)?;
    }
    for c in &changes {
        outln!("{c}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The compiled batch plus the bans of the current table, so replacing the
/// table does not lift them.
pub(crate) fn batch_keeping_bans(p: &Policy, current: Option<&Value>) -> (Value, usize) {
    let mut batch = compile(p);
    let bans = current.map(listed_bans).unwrap_or_default();
    let n = bans.len();
    if let Some(extra) = ban_elements(&p.table, BanOp::Add, &bans) {
        if let (Some(cmds), Some(more)) = (
            batch.get_mut("nftables").and_then(Value::as_array_mut),
            extra.get("nftables").and_then(Value::as_array),
        ) {
            cmds.extend(more.iter().cloned());
        }
    }
    (batch, n)
}

fn apply(args: &ApplyArgs) -> Result<ExitCode> {
    let p = load(&args.policy)?;
    let previous = nft::list_table(FAMILY, &p.table)?;
    let changes = diff(previous.as_ref(), &compile(&p));
    let (batch, kept) = batch_keeping_bans(&p, previous.as_ref());
    // With a deadline, the rollback is armed before the change: a watchdog
    // in its own process group restores the previous state even if this
    // process dies first (the SSH session carrying it hung up because of
    // the new policy, which is what the deadline is for).
    let mut armed = None;
    if let Some(secs) = args.confirm_within {
        let t = json!({"family": FAMILY, "name": p.table});
        let restore = match previous.as_ref().and_then(restore_batch) {
            Some(b) => b,
            // There was no table: the previous state is no table.
            None => json!({"nftables": [{"add": {"table": t.clone()}}, {"delete": {"table": t}}]}),
        };
        let watchdog = start_watchdog(&restore, secs)?;
        armed = Some((secs, restore, watchdog));
    }
    if let Err(e) = nft::run_batch(&batch) {
        // Nothing changed (one transaction): disarm.
        if let Some((_, _, mut w)) = armed {
            w.stop();
        }
        return Err(anyhow::Error::new(e).context("applying the policy"));
    }
    outln!(
        "applied table {FAMILY} {}: {} changes, {kept} bans kept",
        p.table,
        changes.len()
    )?;
    if let Some(argv) = queue_iptables_args(&p) {
        outln!(
            "note: the NFQUEUE hook is not part of the nft table on this kernel; it is installed with: iptables {}",
            argv.join(" ")
        )?;
    }
    let Some((secs, restore, mut watchdog)) = armed else {
        return Ok(ExitCode::SUCCESS);
    };
    outln!("type `yes` within {secs} s to keep it; otherwise the previous state is restored")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let ok = std::io::stdin().lock().read_line(&mut line).is_ok();
        let _ = tx.send(ok && line.trim().eq_ignore_ascii_case("yes"));
    });
    let confirmed = rx.recv_timeout(Duration::from_secs(secs)).unwrap_or(false);
    // Stop the watchdog before acting, so the two never both restore.
    watchdog.stop();
    if confirmed {
        outln!("confirmed: keeping the new policy")?;
        return Ok(ExitCode::SUCCESS);
    }
    nft::run_batch(&restore).context("restoring the previous table")?;
    outln!(
        "not confirmed: previous state of table {FAMILY} {} restored",
        p.table
    )?;
    Ok(ExitCode::from(3))
}

/// The rollback watchdog process and its restore file. Dropping it
/// without [`Watchdog::stop`] (an error, or this process killed) leaves the
/// watchdog running, so the rollback still happens.
struct Watchdog {
    child: std::process::Child,
    file: PathBuf,
}

impl Watchdog {
    /// Kills the watchdog (the process this command started, by its
    /// handle) and removes its restore file.
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.file);
    }
}

fn start_watchdog(restore: &Value, secs: u64) -> Result<Watchdog> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let file =
        std::env::temp_dir().join(format!("rampart-fw-rollback-{}.json", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("creating the rollback file {}", file.display()))?;
    f.write_all(restore.to_string().as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing the rollback file {}", file.display()))?;
    let exe = std::env::current_exe().context("locating the rampart binary")?;
    let child = std::process::Command::new(exe)
        .args(["fw", "rollback-watch", "--after"])
        .arg((secs + 5).to_string())
        .arg("--file")
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the rollback watchdog")?;
    Ok(Watchdog { child, file })
}

/// The watchdog: after the deadline, restore from the file if it is still
/// there (the file is removed by whoever confirms or restores first).
fn rollback_watch(args: &WatchArgs) -> Result<ExitCode> {
    std::thread::sleep(Duration::from_secs(args.after));
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("reading the rollback file"),
    };
    let batch: Value = serde_json::from_str(&text).context("parsing the rollback file")?;
    nft::run_batch(&batch).context("restoring the previous table")?;
    let _ = std::fs::remove_file(&args.file);
    Ok(ExitCode::from(3))
}
