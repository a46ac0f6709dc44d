//! The ban service: the pure ban book (decisions, escalation, allowlist)
//! carried out on the SQLite store and the kernel's ban sets. One lock
//! around the three keeps them in step; the control API and the alert-ban
//! thread are its only callers, never the packet path.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rampart_policy::banlist::{BanBook, BanDecision, BanPolicy, BanRefused, BanTarget};
use rampart_policy::{Ban, Cidr, Policy};
use rampart_sys::bans::KernelBans;
use rampart_sys::store::BanStore;
use serde_json::{json, Value};

use super::config::Config;
use super::worker::AlertBan;

/// How long expired bans are remembered for escalation (seconds).
const OFFENCE_MEMORY: u64 = 7 * 86_400;

/// Why a ban was not made.
#[derive(Debug)]
pub enum BanError {
    /// The request is valid but not allowed (allowlist, zero duration).
    Refused(String),
    /// The store or the kernel failed.
    Failed(String),
}

/// Parses a ban target: an address or a prefix, validated.
pub fn parse_target(s: &str) -> Result<BanTarget, String> {
    let s = s.trim();
    if s.contains('/') {
        s.parse::<Cidr>()
            .map(BanTarget::Cidr)
            .map_err(|e| format!("{s:?}: {e}"))
    } else {
        s.parse::<IpAddr>()
            .map(BanTarget::Addr)
            .map_err(|_| format!("{s:?} is not an IP address or prefix"))
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Inner {
    book: BanBook,
    store: BanStore,
    kernel: KernelBans,
}

/// The daemon's bans.
pub struct BanService {
    inner: Mutex<Inner>,
}

/// The ban policy a config describes: durations and prefix from the
/// firewall's `[bans]`, escalation from `[escalation]`, the firewall's
/// allowlist (with the host's own addresses when asked).
pub fn ban_policy(cfg: &Config, firewall: &Policy) -> BanPolicy {
    BanPolicy {
        default_duration: firewall.bans.timeout,
        escalation_factor: cfg.escalation.factor,
        max_duration: cfg.escalation.max_duration,
        ipv6_prefix: firewall.bans.ipv6_prefix,
        allowlist: firewall
            .allowlist
            .v4
            .iter()
            .chain(firewall.allowlist.v6.iter())
            .copied()
            .collect(),
    }
}

impl BanService {
    /// Opens the store under the state directory and loads the bans that
    /// are still running (the kernel is brought in line by
    /// [`BanService::reconcile`] once the table exists).
    pub fn open(cfg: &Config, firewall: &Policy) -> Result<BanService> {
        std::fs::create_dir_all(&cfg.state_dir).with_context(|| {
            format!("cannot create state directory {}", cfg.state_dir.display())
        })?;
        let path = cfg.state_dir.join("bans.db");
        let store = BanStore::open(&path)
            .with_context(|| format!("opening ban store {}", path.display()))?;
        let now = unix_now();
        let loaded = store
            .load_all()
            .with_context(|| format!("reading ban store {}", path.display()))?;
        for c in &loaded.corrupt {
            tracing::warn!("{}: {c}", path.display());
        }
        let records = loaded.records;
        let mut book = BanBook::new(ban_policy(cfg, firewall));
        let report = book.restore(&records, now);
        tracing::info!(
            "ban store {}: {} bans restored, {} expired, {} now allowlisted, {} overlapping",
            path.display(),
            report.restored,
            report.expired.len(),
            report.allowlisted.len(),
            report.overlapping.len()
        );
        for (c, entry) in &report.allowlisted {
            tracing::warn!("stored ban {c} not restored: allowlist entry {entry} covers it");
        }
        Ok(BanService {
            inner: Mutex::new(Inner {
                book,
                store,
                kernel: KernelBans::new(&firewall.table),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the kernel sets hold exactly the book's active bans.
    pub fn reconcile(&self) -> Result<()> {
        let g = self.lock();
        let want = g.book.kernel_bans(unix_now());
        let r = g
            .kernel
            .reconcile(&want)
            .context("reconciling the kernel ban sets")?;
        tracing::info!("ban sets reconciled: {r:?}");
        Ok(())
    }

    /// Applies a new policy (after a reload): returns nothing; bans the
    /// new allowlist covers are lifted.
    pub fn set_policy(&self, policy: BanPolicy) {
        let mut g = self.lock();
        let lifted = g.book.set_policy(policy);
        if lifted.is_empty() {
            return;
        }
        let bans: Vec<Ban> = lifted
            .iter()
            .map(|c| Ban {
                cidr: *c,
                timeout: None,
            })
            .collect();
        if let Err(e) = g.kernel.delete(&bans) {
            tracing::warn!("lifting allowlisted bans: {e}");
        }
        for c in &lifted {
            let _ = g.store.delete(c);
            tracing::info!("ban {c} lifted: now allowlisted");
        }
    }

    /// Bans one target now.
    pub fn ban(
        &self,
        target: BanTarget,
        duration: Option<u64>,
        reason: &str,
        origin: &str,
    ) -> Result<Value, BanError> {
        self.ban_one(reason, origin, |book, now| {
            book.request(target, duration, reason, origin, now)
        })
    }

    /// Bans one target for exactly `duration` (a jail that escalates by
    /// itself, `bantime.increment`): the book's own escalation is not
    /// applied on top. None: permanent.
    pub fn ban_exact(
        &self,
        target: BanTarget,
        duration: Option<u64>,
        reason: &str,
        origin: &str,
    ) -> Result<Value, BanError> {
        let d = duration.unwrap_or(rampart_sys::bans::MAX_TIMEOUT_SECS);
        self.ban_one(reason, origin, |book, now| {
            book.request_exact(target, d, reason, origin, now)
        })
    }

    /// One book decision carried out on the kernel and the store, logged.
    fn ban_one(
        &self,
        reason: &str,
        origin: &str,
        decide: impl FnOnce(&mut BanBook, u64) -> Result<BanDecision, BanRefused>,
    ) -> Result<Value, BanError> {
        let mut g = self.lock();
        let now = unix_now();
        let d = decide(&mut g.book, now).map_err(|e| BanError::Refused(e.to_string()))?;
        if d.kernel_update {
            apply(&mut g, std::slice::from_ref(&d))
                .map_err(|e| BanError::Failed(format!("{e:#}")))?;
        }
        tracing::info!(
            "banned {} for {} s ({origin}: {reason})",
            d.ban.cidr,
            d.record.until.saturating_sub(now)
        );
        Ok(record_json(&d.record, now))
    }

    /// Bans many targets at once (`rampart ban add --file`): one store
    /// transaction and one kernel batch for all. Returns (banned, refused
    /// with reasons).
    pub fn ban_many(
        &self,
        targets: &[BanTarget],
        duration: Option<u64>,
        reason: &str,
        origin: &str,
    ) -> Result<(usize, Vec<String>), BanError> {
        let mut g = self.lock();
        let now = unix_now();
        let mut decisions = Vec::with_capacity(targets.len());
        let mut refused = Vec::new();
        for t in targets {
            match g.book.request(*t, duration, reason, origin, now) {
                Ok(d) if d.kernel_update => decisions.push(d),
                Ok(_) => {}
                Err(e) => refused.push(e.to_string()),
            }
        }
        apply(&mut g, &decisions).map_err(|e| BanError::Failed(format!("{e:#}")))?;
        tracing::info!(
            "{} bans made in one batch ({origin}: {reason}), {} refused",
            decisions.len(),
            refused.len()
        );
        Ok((decisions.len(), refused))
    }

    /// Bans what alerts asked for, in one store transaction and one kernel
    /// batch. Returns how many bans changed.
    pub fn ban_alerts(&self, reqs: &[AlertBan]) -> usize {
        let mut g = self.lock();
        let now = unix_now();
        let mut decisions = Vec::new();
        for r in reqs {
            match g
                .book
                .request(r.addr, r.duration, &r.reason, &r.origin, now)
            {
                Ok(d) if d.kernel_update => {
                    tracing::info!(
                        "banned {} until {} ({}: {})",
                        d.ban.cidr,
                        d.record.until,
                        r.origin,
                        r.reason
                    );
                    decisions.push(d);
                }
                Ok(_) => {}
                Err(e) => tracing::debug!("{}: {e}", r.origin),
            }
        }
        if let Err(e) = apply(&mut g, &decisions) {
            tracing::error!("applying {} bans: {e:#}", decisions.len());
        }
        decisions.len()
    }

    /// Lifts the ban on exactly `target` (an address is widened as a ban
    /// on it would be). False when there was none.
    pub fn unban(&self, target: BanTarget) -> Result<bool, String> {
        let mut g = self.lock();
        let cidr = g.book.ban_prefix(target);
        if !g.book.remove(&cidr) {
            return Ok(false);
        }
        g.kernel
            .delete(&[Ban {
                cidr,
                timeout: None,
            }])
            .map_err(|e| e.to_string())?;
        g.store.delete(&cidr).map_err(|e| e.to_string())?;
        tracing::info!("ban {cidr} lifted by the operator");
        Ok(true)
    }

    /// The active bans, for the API.
    pub fn list(&self) -> Vec<Value> {
        let g = self.lock();
        let now = unix_now();
        g.book
            .records(now)
            .iter()
            .map(|r| record_json(r, now))
            .collect()
    }

    /// Number of active bans.
    pub fn count(&self) -> usize {
        let g = self.lock();
        g.book.active(unix_now()).count()
    }

    /// Forgets expired bans (the kernel has dropped them already). Their
    /// store rows stay for a week, so that a restart still knows how often
    /// a prefix offended (escalation); older ones are pruned.
    pub fn expire(&self) {
        let mut g = self.lock();
        let now = unix_now();
        let gone = g.book.expire(now);
        if let Err(e) = g.store.prune(now.saturating_sub(OFFENCE_MEMORY)) {
            tracing::warn!("ban store: {e}");
        }
        if !gone.is_empty() {
            tracing::info!("{} bans expired", gone.len());
        }
    }
}

fn apply(g: &mut Inner, decisions: &[rampart_policy::banlist::BanDecision]) -> Result<()> {
    if decisions.is_empty() {
        return Ok(());
    }
    let replaced: Vec<Ban> = decisions
        .iter()
        .flat_map(|d| {
            d.replaces.iter().map(|c| Ban {
                cidr: *c,
                timeout: None,
            })
        })
        .collect();
    let bans: Vec<Ban> = decisions.iter().map(|d| d.ban.clone()).collect();
    let records: Vec<_> = decisions.iter().map(|d| d.record.clone()).collect();
    let gone: Vec<Cidr> = decisions
        .iter()
        .flat_map(|d| d.replaces.iter().copied())
        .collect();
    // The kernel batch (one transaction: no moment where neither the old
    // nor the new ban holds) and the store write run side by side.
    let Inner { kernel, store, .. } = g;
    let (k, st) = std::thread::scope(|s| {
        let k = s.spawn(|| kernel.apply(&replaced, &bans));
        let st = store.upsert_many(&records).and_then(|()| {
            if gone.is_empty() {
                Ok(0)
            } else {
                store.delete_many(&gone)
            }
        });
        (k.join(), st)
    });
    match k {
        Ok(r) => r.context("updating the kernel ban sets")?,
        Err(_) => anyhow::bail!("the kernel update thread panicked"),
    }
    st.context("saving bans")?;
    Ok(())
}

fn record_json(r: &rampart_policy::banlist::BanRecord, now: u64) -> Value {
    let target = if r.cidr.is_host() {
        r.cidr.addr().to_string()
    } else {
        r.cidr.to_string()
    };
    json!({
        "target": target,
        "until": r.until,
        "remaining": r.until.saturating_sub(now),
        "offences": r.offences,
        "reason": r.reason,
        "origin": r.origin,
        "created": r.created,
    })
}
