//! Running `nft`: fixed argument vectors, JSON on standard input, standard
//! error captured into the error. Never a shell, so nothing in a policy or
//! a ban can be interpreted as a command; every address in the JSON was
//! parsed and validated by `rampart-policy` before it gets here.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The `nft` program (found on PATH, as root runs it).
const NFT: &str = "nft";

/// Why talking to nft failed.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// nft could not be started or fed.
    #[error("running nft (is the nftables package installed?): {0}")]
    Spawn(#[from] std::io::Error),
    /// nft refused the batch or command; its own message follows.
    #[error("nft {args} failed ({status}): {stderr}")]
    Refused {
        /// The arguments nft was called with.
        args: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on standard error.
        stderr: String,
    },
    /// nft printed something that is not the JSON it documents.
    #[error("parsing nft's JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

/// Feeds one JSON batch to `nft -j -f -`. nft runs the batch as one
/// transaction: on error nothing changed, and the error carries nft's own
/// message.
pub fn run_batch(batch: &Value) -> Result<(), NftError> {
    let text = serde_json::to_vec(batch)?;
    let mut child = Command::new(NFT)
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&text)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(NftError::Refused {
            args: "-j -f -".into(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// `nft -j list table FAMILY NAME`: the table as nft lists it, or None when
/// it does not exist (a valid state: nothing applied yet). `family` and
/// `name` come from a validated policy.
pub fn list_table(family: &str, name: &str) -> Result<Option<Value>, NftError> {
    let out = Command::new(NFT)
        .args(["-j", "list", "table", family, name])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No such file or directory") {
            return Ok(None);
        }
        return Err(NftError::Refused {
            args: format!("-j list table {family} {name}"),
            status: out.status,
            stderr: err.trim().to_string(),
        });
    }
    Ok(Some(serde_json::from_slice(&out.stdout)?))
}
