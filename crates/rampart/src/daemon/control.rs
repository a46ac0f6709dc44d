//! The local control API: HTTP/1.1 + JSON on a unix socket only root can
//! open (mode 0600 in a 0700 directory). `rampart ban ...` and
//! `rampart status` are its clients; the management work extends this same
//! API. Every address in a request is parsed before anything is changed,
//! and a refused request changes nothing.
//!
//! * `GET /v1/status`: counters of every worker and of the kernel queues.
//! * `GET /v1/bans`: active bans.
//! * `POST /v1/bans` `{"target": "192.0.2.7" | "2001:db8::/48", "duration": "1h", "reason": "..."}`
//! * `DELETE /v1/bans?target=192.0.2.7`
//! * `POST /v1/reload`: reload rules and config (as SIGHUP does).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Daemon;

/// A JSON error body with its status.
type ApiError = (StatusCode, Json<Value>);

fn api_error(status: StatusCode, msg: impl std::fmt::Display) -> ApiError {
    (status, Json(json!({"error": msg.to_string()})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BanBody {
    target: Option<String>,
    /// Many targets in one request, banned in one batch.
    targets: Option<Vec<String>>,
    duration: Option<String>,
    reason: Option<String>,
}

/// Most targets one request may carry.
const MAX_TARGETS: usize = 1_000_000;

#[derive(Debug, Deserialize)]
struct TargetQuery {
    target: String,
}

/// Serves on a bound socket until the runtime stops.
pub async fn serve(listener: tokio::net::UnixListener, daemon: Arc<Daemon>) -> Result<()> {
    let app = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/bans", get(list_bans).post(add_ban).delete(del_ban))
        .route("/v1/reload", post(reload))
        // A bulk ban of 1,000,000 addresses fits; the default 2 MB would not.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(daemon);
    axum::serve(listener, app)
        .await
        .context("serving the control API")
}

/// Binds the control socket (replacing a stale one left by a killed
/// daemon), readable by root only.
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    // A socket left by a killed daemon: connecting to it fails, so it is
    // stale and can go. A live one means another daemon runs.
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!(
                "{} is in use: another rampart daemon is running",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove stale {}", path.display()))?;
    }
    let l = tokio::net::UnixListener::bind(path)
        .with_context(|| format!("cannot bind the control socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(l)
}

async fn status(State(d): State<Arc<Daemon>>) -> Json<Value> {
    Json(d.status_json())
}

async fn list_bans(State(d): State<Arc<Daemon>>) -> Result<Json<Value>, ApiError> {
    let d2 = d.clone();
    let bans = tokio::task::spawn_blocking(move || d2.bans.list())
        .await
        .map_err(|e| api_error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Json(json!({"bans": bans})))
}

async fn add_ban(
    State(d): State<Arc<Daemon>>,
    body: Result<Json<BanBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body.map_err(|e| api_error(StatusCode::BAD_REQUEST, e.body_text()))?;
    let duration = match &b.duration {
        None => None,
        Some(s) => Some(rampart_policy::parse_duration(s).ok_or_else(|| {
            api_error(
                StatusCode::BAD_REQUEST,
                format!("duration: invalid duration {s:?} (e.g. 3600, 90s, 10m, 1h, 7d)"),
            )
        })?),
    };
    let reason = b.reason.unwrap_or_else(|| "manual ban".into());
    if let Some(list) = b.targets {
        if b.target.is_some() {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "give target or targets, not both",
            ));
        }
        if list.len() > MAX_TARGETS {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                format!("targets: {} entries, at most {MAX_TARGETS}", list.len()),
            ));
        }
        // Every address is parsed before anything changes.
        let mut parsed = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            parsed.push(
                super::bans::parse_target(t).map_err(|e| {
                    api_error(StatusCode::BAD_REQUEST, format!("targets[{i}]: {e}"))
                })?,
            );
        }
        let res =
            tokio::task::spawn_blocking(move || d.bans.ban_many(&parsed, duration, &reason, "api"))
                .await
                .map_err(|e| api_error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        return match res {
            Ok((n, refused)) => Ok((
                StatusCode::CREATED,
                Json(
                    json!({"banned": n, "refused": refused.len(), "refusals": refused.iter().take(20).collect::<Vec<_>>()}),
                ),
            )),
            Err(super::bans::BanError::Refused(m)) => Err(api_error(StatusCode::FORBIDDEN, m)),
            Err(super::bans::BanError::Failed(m)) => {
                Err(api_error(StatusCode::INTERNAL_SERVER_ERROR, m))
            }
        };
    }
    let Some(target) = b.target else {
        return Err(api_error(StatusCode::BAD_REQUEST, "target missing"));
    };
    let target = super::bans::parse_target(&target)
        .map_err(|e| api_error(StatusCode::BAD_REQUEST, format!("target: {e}")))?;
    let outcome = tokio::task::spawn_blocking(move || d.bans.ban(target, duration, &reason, "api"))
        .await
        .map_err(|e| api_error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    match outcome {
        Ok(v) => Ok((StatusCode::CREATED, Json(v))),
        Err(super::bans::BanError::Refused(m)) => Err(api_error(StatusCode::FORBIDDEN, m)),
        Err(super::bans::BanError::Failed(m)) => {
            Err(api_error(StatusCode::INTERNAL_SERVER_ERROR, m))
        }
    }
}

async fn del_ban(
    State(d): State<Arc<Daemon>>,
    q: Result<Query<TargetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| api_error(StatusCode::BAD_REQUEST, e.body_text()))?;
    let target = super::bans::parse_target(&q.target)
        .map_err(|e| api_error(StatusCode::BAD_REQUEST, format!("target: {e}")))?;
    let res = tokio::task::spawn_blocking(move || d.bans.unban(target))
        .await
        .map_err(|e| api_error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    match res {
        Ok(true) => Ok(Json(json!({"removed": q.target}))),
        Ok(false) => Err(api_error(
            StatusCode::NOT_FOUND,
            format!("{} is not banned", q.target),
        )),
        Err(e) => Err(api_error(StatusCode::INTERNAL_SERVER_ERROR, e)),
    }
}

async fn reload(State(d): State<Arc<Daemon>>) -> Result<Json<Value>, ApiError> {
    let res = tokio::task::spawn_blocking(move || d.reload())
        .await
        .map_err(|e| api_error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    match res {
        Ok(v) => Ok(Json(v)),
        Err(e) => Err(api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{e:#}"),
        )),
    }
}
