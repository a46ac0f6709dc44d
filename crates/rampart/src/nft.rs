//! Running `nft`: fixed argument vectors, JSON on standard input, standard
//! error captured into the error. Never a shell, so nothing in a policy can
//! be interpreted as a command; every address in the JSON was parsed and
//! validated by `rampart-policy` before it gets here.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The `nft` program (found on PATH, as root runs it).
const NFT: &str = "nft";

/// Feeds one JSON batch to `nft -j -f -`. nft runs the batch as one
/// transaction: on error nothing changed, and the error carries nft's own
/// message.
pub fn run_batch(batch: &Value) -> Result<()> {
    let text = serde_json::to_vec(batch).context("serialising the nft batch")?;
    let mut child = Command::new(NFT)
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running nft (is the nftables package installed?)")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&text)
            .context("writing the batch to nft's standard input")?;
    }
    let out = child.wait_with_output().context("waiting for nft")?;
    if !out.status.success() {
        bail!(
            "nft -j -f - failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `nft -j list table FAMILY NAME`: the table as nft lists it, or None when
/// it does not exist (a valid state: nothing applied yet). `family` and
/// `name` come from a validated policy.
pub fn list_table(family: &str, name: &str) -> Result<Option<Value>> {
    let out = Command::new(NFT)
        .args(["-j", "list", "table", family, name])
        .stdin(Stdio::null())
        .output()
        .context("running nft (is the nftables package installed?)")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No such file or directory") {
            return Ok(None);
        }
        bail!(
            "nft -j list table {family} {name} failed ({}): {}",
            out.status,
            err.trim()
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("parsing nft's JSON listing")?;
    Ok(Some(v))
}
