//! Clients of the running daemon's control API: `rampart ban add|del|list`,
//! `rampart status` and `rampart reload`. A plain HTTP/1.1 request on the
//! unix socket (no HTTP client library needed for three verbs); addresses
//! are validated here first for a quick, clear error, and again by the
//! daemon.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

/// Where the daemon listens by default (`[daemon] control_socket`).
pub const DEFAULT_SOCKET: &str = "/run/rampart/control.sock";

/// The socket option shared by the client commands.
#[derive(Args, Debug, Clone)]
pub struct SocketArg {
    /// The daemon's control socket.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
}

/// `rampart ban ...`
#[derive(Subcommand, Debug)]
pub enum BanCommand {
    /// Ban an address or prefix now.
    Add {
        /// An address (IPv6 widened to the configured prefix) or a prefix.
        #[arg(required_unless_present = "file")]
        target: Option<String>,
        /// Ban every address or prefix listed in this file (one per line,
        /// `#` comments), in one batch.
        #[arg(long, value_name = "FILE", conflicts_with = "target")]
        file: Option<PathBuf>,
        /// How long (e.g. 600, 10m, 1h, 7d); default: the firewall's.
        #[arg(long)]
        duration: Option<String>,
        /// Why (kept in the store and shown by `ban list`).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Lift a ban.
    Del {
        /// The banned address or prefix.
        target: String,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// List the active bans.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
}

/// One request to the daemon: the status code and the JSON body.
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let mut s = UnixStream::connect(socket).with_context(|| {
        format!(
            "cannot reach the daemon at {} (is `rampart run` running, and are you root?)",
            socket.display()
        )
    })?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: rampart\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .context("reading the daemon's answer")?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(&raw).context("parsing the daemon's answer")? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => bail!("truncated answer from the daemon"),
    };
    let code = resp.code.unwrap_or(0);
    let chunked = resp.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value).contains("chunked")
    });
    let rest = raw.get(head..).unwrap_or(&[]);
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    let v: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| json!({"error": String::from_utf8_lossy(&body)}))
    };
    Ok((code, v))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(b.get(..pos).unwrap_or(&[]))
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let data = b.get(pos + 2..pos + 2 + size).unwrap_or(&[]);
        out.extend_from_slice(data);
        b = b.get(pos + 4 + size..).unwrap_or(&[]);
    }
    out
}

fn check_ok(code: u16, v: &Value) -> Result<()> {
    if (200..300).contains(&code) {
        return Ok(());
    }
    let msg = v.get("error").and_then(Value::as_str).unwrap_or("");
    bail!("the daemon refused ({code}): {msg}")
}

fn validate_target(t: &str) -> Result<()> {
    let ok = if t.contains('/') {
        t.parse::<rampart_policy::Cidr>()
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        t.parse::<std::net::IpAddr>()
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    ok.map_err(|e| anyhow::anyhow!("{t:?} is not an IP address or prefix: {e}"))
}

/// Percent-encodes a validated target for the query string.
fn encode(t: &str) -> String {
    t.replace('%', "%25")
        .replace('/', "%2F")
        .replace(':', "%3A")
}

/// Runs a `ban` subcommand.
pub fn ban(cmd: &BanCommand) -> Result<ExitCode> {
    match cmd {
        BanCommand::Add {
            target,
            file,
            duration,
            reason,
            socket,
        } => {
            if let Some(d) = duration {
                if rampart_policy::parse_duration(d).is_none() {
                    bail!("--duration {d:?}: invalid duration (e.g. 600, 10m, 1h, 7d)");
                }
            }
            if let Some(f) = file {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                let mut targets = Vec::new();
                for (i, line) in text.lines().enumerate() {
                    let t = line.split('#').next().unwrap_or("").trim();
                    if t.is_empty() {
                        continue;
                    }
                    validate_target(t).with_context(|| format!("{}:{}", f.display(), i + 1))?;
                    targets.push(t);
                }
                let body = json!({"targets": targets, "duration": duration, "reason": reason});
                let (code, v) = request(&socket.socket, "POST", "/v1/bans", Some(&body))?;
                check_ok(code, &v)?;
                outln!(
                    "banned {} of {} ({} refused)",
                    v.get("banned").and_then(Value::as_u64).unwrap_or(0),
                    targets.len(),
                    v.get("refused").and_then(Value::as_u64).unwrap_or(0)
                )?;
                for r in v
                    .get("refusals")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    outln!("  refused: {}", r.as_str().unwrap_or(""))?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(target) = target else {
                bail!("give an address or --file");
            };
            validate_target(target)?;
            let body = json!({"target": target, "duration": duration, "reason": reason});
            let (code, v) = request(&socket.socket, "POST", "/v1/bans", Some(&body))?;
            check_ok(code, &v)?;
            outln!(
                "banned {} for {} s",
                v.get("target").and_then(Value::as_str).unwrap_or(target),
                v.get("remaining").and_then(Value::as_u64).unwrap_or(0)
            )?;
        }
        BanCommand::Del { target, socket } => {
            validate_target(target)?;
            let (code, v) = request(
                &socket.socket,
                "DELETE",
                &format!("/v1/bans?target={}", encode(target)),
                None,
            )?;
            check_ok(code, &v)?;
            outln!("lifted the ban on {target}")?;
        }
        BanCommand::List { json, socket } => {
            let (code, v) = request(&socket.socket, "GET", "/v1/bans", None)?;
            check_ok(code, &v)?;
            let bans = v
                .get("bans")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if *json {
                outln!("{}", Value::Array(bans))?;
            } else {
                outln!(
                    "{:<40} {:>9} {:>8}  {:<14} reason",
                    "target",
                    "remaining",
                    "offences",
                    "origin"
                )?;
                for b in &bans {
                    outln!(
                        "{:<40} {:>8}s {:>8}  {:<14} {}",
                        b.get("target").and_then(Value::as_str).unwrap_or(""),
                        b.get("remaining").and_then(Value::as_u64).unwrap_or(0),
                        b.get("offences").and_then(Value::as_u64).unwrap_or(0),
                        b.get("origin").and_then(Value::as_str).unwrap_or(""),
                        b.get("reason").and_then(Value::as_str).unwrap_or("")
                    )?;
                }
                outln!("{} active bans", bans.len())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `rampart status`: the daemon's counters as JSON.
pub fn status(socket: &SocketArg) -> Result<ExitCode> {
    let (code, v) = request(&socket.socket, "GET", "/v1/status", None)?;
    check_ok(code, &v)?;
    outln!("{}", serde_json::to_string_pretty(&v)?)?;
    Ok(ExitCode::SUCCESS)
}

/// `rampart reload`: reload config and rules now.
pub fn reload(socket: &SocketArg) -> Result<ExitCode> {
    let (code, v) = request(&socket.socket, "POST", "/v1/reload", None)?;
    check_ok(code, &v)?;
    outln!("reloaded: {v}")?;
    Ok(ExitCode::SUCCESS)
}
