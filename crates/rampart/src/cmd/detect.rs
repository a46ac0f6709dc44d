//! `rampart detect -r FILE -S RULES -l OUTDIR`: run rules over a capture and
//! write Suricata-style EVE alerts.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use rampart_detect::TxSide;
use rampart_detect::{Alert, DetectEngine, Signature};
use rampart_engine::app_layer::{AppTxView, SshStage};
use rampart_engine::{AlertContext, FlowData, Pipeline, PipelineSink};
use rampart_packet::Timestamp;
use rampart_rules::Classifications;
use rampart_stream::flow::Flow;
use serde_json::json;

use crate::capture_file::CaptureFile;
use crate::cmd::inspect::PipelineArgs;
use crate::output::eve;
use crate::rules_load;

/// Arguments of `rampart detect` (flag names follow Suricata's).
#[derive(Args, Debug)]
pub struct DetectArgs {
    /// The capture to read (pcap or pcapng; "-" for standard input).
    #[arg(short = 'r', long = "pcap", value_name = "FILE")]
    pub pcap: PathBuf,
    /// Rule file (repeatable).
    #[arg(short = 'S', long = "rules", value_name = "FILE", required = true)]
    pub rules: Vec<PathBuf>,
    /// Output directory for eve.json.
    #[arg(short = 'l', long = "log-dir", value_name = "DIR", default_value = ".")]
    pub outdir: PathBuf,
    /// classification.config for alert categories and default priorities
    /// (default: /etc/suricata/classification.config, or one beside the
    /// first rules file, when present).
    #[arg(long, value_name = "FILE")]
    pub classification: Option<PathBuf>,
    /// threshold.config with `suppress`, `threshold` and `event_filter`
    /// entries (Suricata's `threshold-file`); errors name the line.
    #[arg(long = "threshold-file", value_name = "FILE")]
    pub threshold_file: Option<PathBuf>,
    /// Rule variable override, NAME=VALUE (repeatable), e.g.
    /// HOME_NET=[10.0.0.0/8].
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Accepted for Suricata compatibility (checksums are never enforced
    /// offline).
    #[arg(short = 'k', value_name = "MODE", hide = true)]
    pub checksum_mode: Option<String>,
    /// Accepted for Suricata compatibility.
    #[arg(long = "runmode", value_name = "MODE", hide = true)]
    pub runmode: Option<String>,
    /// Treat TCP connections picked up midstream (no SYN in the capture) as
    /// established streams. Off by default, as in Suricata: their packets
    /// are inspected one by one and `flow:established` does not match.
    #[arg(long)]
    pub midstream: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// EVE record types to write, comma-separated (Suricata's eve-log
    /// `types`): alert, http, dns, tls, ssh, dcerpc, smtp, ftp, ike,
    /// files, krb5, snmp, sip, rfb, quic, nfs, anomaly. Fewer types, less
    /// output work.
    #[arg(
        long = "eve-types",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "alert,http,dns,tls,ssh,dcerpc,smtp,ftp,ike,files,krb5,snmp,sip,rfb,quic,nfs,anomaly"
    )]
    pub eve_types: Vec<EveType>,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// An EVE record type `rampart detect` can write.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EveType {
    /// Alerts (with their flow and transaction objects).
    Alert,
    /// One record per HTTP transaction.
    Http,
    /// One record per DNS query and per answer.
    Dns,
    /// One record per TLS handshake.
    Tls,
    /// One record per SSH connection.
    Ssh,
    /// One record per DCERPC transaction (call or bind).
    Dcerpc,
    /// One record per SMTP transaction.
    Smtp,
    /// One record per FTP transaction (a command and its replies).
    Ftp,
    /// One record per IKE message.
    Ike,
    /// `fileinfo` records: one per SMTP attachment.
    Files,
    /// One record per Kerberos message.
    Krb5,
    /// One record per SNMP message.
    Snmp,
    /// `anomaly` records for application-layer events (FTP and IKE so far), as
    /// Suricata's anomaly log writes them.
    Anomaly,
    /// One record per SIP message.
    Sip,
    /// One record per RFB handshake.
    Rfb,
    /// One record per QUIC packet read (long headers up to the hellos).
    Quic,
    /// One record per NFS transaction (a call and its reply, or a file
    /// transfer), once complete.
    Nfs,
}

struct DetectSink<'a> {
    out: BufWriter<File>,
    /// The record types asked for.
    types: &'a [EveType],
    classes: &'a Classifications,
    alerts: u64,
    /// Packets seen so far: the `pcap_cnt` of alerts.
    packets: u64,
    error: Option<std::io::Error>,
}

impl DetectSink<'_> {
    fn write(&mut self, rec: &serde_json::Value) {
        if self.error.is_some() {
            return;
        }
        let res = serde_json::to_writer(&mut self.out, rec)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        if let Err(e) = res {
            self.error = Some(e);
        }
    }
}

impl PipelineSink for DetectSink<'_> {
    fn on_app_tx(
        &mut self,
        ts: Timestamp,
        flow: &Flow<FlowData>,
        tx: &AppTxView<'_>,
        side: TxSide,
    ) {
        match tx {
            AppTxView::Dns(v) if self.types.contains(&EveType::Dns) => {
                if let Some(m) = v.message() {
                    for rec in eve::dns_records(ts, flow, m, tx.eve_tx_id(), self.packets) {
                        self.write(&rec);
                    }
                }
            }
            // One record per transaction, once its response is in.
            AppTxView::Http(v)
                if side == TxSide::Response && self.types.contains(&EveType::Http) =>
            {
                let rec = eve::http_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per HTTP/2 stream, once its response is in (or
            // the connection ended); none for stream-0 frames.
            AppTxView::Http2(v)
                if side == TxSide::Response
                    && v.tx.stream_id != 0
                    && self.types.contains(&EveType::Http) =>
            {
                let rec = eve::http2_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per connection, once the server's side is in,
            // when Suricata would log it (see `TlsSession::loggable`).
            AppTxView::Tls(v)
                if side == TxSide::Response
                    && !v.client_cert
                    && v.session.loggable()
                    && self.types.contains(&EveType::Tls) =>
            {
                let rec = eve::tls_record(ts, flow, v.session, self.packets);
                self.write(&rec);
            }
            // One record per connection, when Suricata's logger would
            // write it (see `SshStage::Log`).
            // One record per transaction, when it is inspected.
            AppTxView::Smtp(v) if side == TxSide::Request => {
                if self.types.contains(&EveType::Files) {
                    for rec in eve::smtp_fileinfo_records(ts, flow, v.session, v.tx, self.packets) {
                        self.write(&rec);
                    }
                }
                if self.types.contains(&EveType::Smtp) {
                    let rec = eve::smtp_record(ts, flow, v.session, v.tx, self.packets);
                    self.write(&rec);
                }
            }
            AppTxView::Ike(v) => {
                if self.types.contains(&EveType::Anomaly) {
                    for a in &v.tx.anomalies {
                        let rec = eve::applayer_anomaly_record(
                            ts,
                            flow,
                            "ike",
                            Some(v.tx.id),
                            a.event_name(),
                            self.packets,
                        );
                        self.write(&rec);
                    }
                }
                if self.types.contains(&EveType::Ike) {
                    let rec = eve::ike_record(ts, flow, v.state, v.tx, self.packets);
                    self.write(&rec);
                }
            }
            AppTxView::Ftp(v) => {
                // Each event once: the command's with the request side,
                // the replies' with the response side.
                if self.types.contains(&EveType::Anomaly) && !v.late {
                    let events = match side {
                        TxSide::Request => &v.tx.request_anomalies,
                        TxSide::Response => &v.tx.response_anomalies,
                    };
                    for a in events {
                        let rec = eve::applayer_anomaly_record(
                            ts,
                            flow,
                            "ftp",
                            Some(v.tx.id),
                            a.event_name(),
                            self.packets,
                        );
                        self.write(&rec);
                    }
                }
                // One record per transaction, once answered (or over).
                if side == TxSide::Response && self.types.contains(&EveType::Ftp) {
                    let rec = eve::ftp_record(ts, flow, v.tx, self.packets);
                    self.write(&rec);
                }
            }
            AppTxView::Ssh(v) if v.stage == SshStage::Log && self.types.contains(&EveType::Ssh) => {
                if let Some(rec) = eve::ssh_record(ts, flow, v.session, self.packets) {
                    self.write(&rec);
                }
            }
            // One record per transaction, once its response is in.
            AppTxView::Dcerpc(v)
                if side == TxSide::Response && self.types.contains(&EveType::Dcerpc) =>
            {
                let rec = eve::dcerpc_record(ts, flow, v.state, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per message (each its own transaction).
            AppTxView::Krb5(v) if self.types.contains(&EveType::Krb5) => {
                let rec = eve::krb5_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            AppTxView::Snmp(v) if self.types.contains(&EveType::Snmp) => {
                let rec = eve::snmp_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per message.
            AppTxView::Sip(v) if self.types.contains(&EveType::Sip) => {
                let rec = eve::sip_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per connection, once its handshake is over (or
            // the connection ended): with its first inspection, the
            // client's side.
            AppTxView::Rfb(v) if side == TxSide::Request && self.types.contains(&EveType::Rfb) => {
                let rec = eve::rfb_record(ts, flow, v.session, self.packets);
                self.write(&rec);
            }
            AppTxView::Quic(v) if self.types.contains(&EveType::Quic) => {
                let rec = eve::quic_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            // One record per transaction, with its reply (or file end).
            AppTxView::Nfs(v) if side == TxSide::Response && self.types.contains(&EveType::Nfs) => {
                let rec = eve::nfs_record(ts, flow, v.tx, self.packets);
                self.write(&rec);
            }
            _ => {}
        }
    }

    fn on_app_tx_unfinished(&mut self, ts: Timestamp, flow: &Flow<FlowData>, tx: &AppTxView<'_>) {
        if let (AppTxView::Http(v), true) = (tx, self.types.contains(&EveType::Http)) {
            let rec = eve::http_record(ts, flow, v.tx, self.packets);
            self.write(&rec);
        }
        // A call without a response is logged when the flow ends.
        if let (AppTxView::Dcerpc(v), true) = (tx, self.types.contains(&EveType::Dcerpc)) {
            let rec = eve::dcerpc_record(ts, flow, v.state, v.tx, self.packets);
            self.write(&rec);
        }
    }

    fn on_alert(&mut self, ts: Timestamp, a: &Alert, sig: &Signature, ctx: &AlertContext<'_>) {
        if self.error.is_some() || !self.types.contains(&EveType::Alert) {
            return;
        }
        // Offline there is no packet to block: Suricata reports "allowed"
        // for every action in IDS mode.
        let rec = eve::alert_json(ts, a, sig, self.classes, "allowed", self.packets, ctx);
        let res = serde_json::to_writer(&mut self.out, &rec)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        match res {
            Ok(()) => self.alerts += 1,
            Err(e) => self.error = Some(e),
        }
    }
}

/// Runs `rampart detect`.
pub fn run(args: &DetectArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let vars = rules_load::variables(&args.vars)?;
    let mut loaded = rules_load::load(&args.rules, &vars)?;
    let mut build = DetectEngine::build_owned(
        std::mem::take(&mut loaded.rules),
        Some(rules_load::rule_file_loader()),
    );
    if let Some(path) = &args.threshold_file {
        rules_load::apply_threshold_file(&mut build.engine, path, &vars)?;
    }
    let load_s = started.elapsed().as_secs_f64();
    let n_loaded = build.engine.signatures().len();
    let rejected = loaded.errors.len() + build.errors.len();
    eprintln!(
        "rampart: {n_loaded} rules loaded, {rejected} rejected, in {load_s:.2} s{}",
        if rejected > 0 {
            " (run `rampart rules check` for the reasons)"
        } else {
            ""
        }
    );
    for e in loaded.errors.iter().take(3) {
        eprintln!("rampart: rule rejected: {e}");
    }
    for e in build
        .errors
        .iter()
        .take(3usize.saturating_sub(loaded.errors.len()))
    {
        eprintln!(
            "rampart: rule rejected: {}:{}: sid {}: {}",
            e.file, e.line, e.sid, e.message
        );
    }
    let classes = rules_load::classifications(args.classification.as_deref(), &args.rules)?;
    std::fs::create_dir_all(&args.outdir)
        .with_context(|| format!("cannot create {}", args.outdir.display()))?;
    let eve_path = args.outdir.join("eve.json");
    let out = BufWriter::new(
        File::create(&eve_path).with_context(|| format!("cannot create {}", eve_path.display()))?,
    );
    let mut sink = DetectSink {
        out,
        types: &args.eve_types,
        classes: &classes,
        alerts: 0,
        packets: 0,
        error: None,
    };
    let mut config = args.pipeline.config();
    config.detect = Some(Arc::new(build.engine));
    config.midstream = args.midstream;
    let mut pipeline = Pipeline::new(config);
    let mut cap = CaptureFile::open(&args.pcap, !args.no_progress)?;
    let mut read_error = None;
    let mut n: u64 = 0;
    let mut last_ts = Timestamp::ZERO;
    let t_engine = Instant::now();
    loop {
        match cap.reader.next_packet() {
            Ok(Some(p)) => {
                last_ts = p.ts;
                sink.packets += 1;
                pipeline.process(p.ts, p.linktype, p.data, &mut sink);
                n += 1;
                if n.is_multiple_of(4096) {
                    cap.progress.set_position(cap.reader.offset());
                    cap.progress.set_message(format!("{} alerts", sink.alerts));
                }
            }
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
        if let Some(e) = sink.error.take() {
            return Err(anyhow::Error::new(e).context(format!("writing {}", eve_path.display())));
        }
    }
    pipeline.finish(&mut sink);
    cap.progress.finish_and_clear();
    let engine_s = t_engine.elapsed().as_secs_f64();
    let ds = pipeline.detect_stats();
    let st = pipeline.stats();
    let stats = json!({
        "timestamp": last_ts.to_eve_string(),
        "event_type": "stats",
        "stats": {
            "uptime": started.elapsed().as_secs(),
            "decoder": {
                "pkts": st.protocols.total.packets,
                "bytes": st.protocols.total.bytes,
                "ipv4": st.protocols.ipv4.packets,
                "ipv6": st.protocols.ipv6.packets,
                "tcp": st.protocols.tcp.packets,
                "udp": st.protocols.udp.packets,
                "icmpv4": st.protocols.icmpv4.packets,
                "icmpv6": st.protocols.icmpv6.packets,
                "invalid": st.protocols.invalid.packets,
            },
            "flow": {
                "total": pipeline.flows().stats().created,
            },
            "detect": {
                "engines": [{"rules_loaded": n_loaded, "rules_failed": rejected}],
                "alert": sink.alerts,
                "alerts_suppressed": pipeline.alerts_suppressed(),
                "inspections": ds.inspections,
                "candidates": ds.candidates,
                "prefilter_bytes": ds.scanned_bytes,
                "pcre_limit_hits": ds.eval.pcre_limit_hits,
                "recursion_limit_hits": ds.eval.recursion_limit_hits,
            },
        }
    });
    serde_json::to_writer(&mut sink.out, &stats)?;
    sink.out.write_all(b"\n")?;
    sink.out
        .flush()
        .with_context(|| format!("writing {}", eve_path.display()))?;
    let pps = if engine_s > 0.0 {
        n as f64 / engine_s
    } else {
        0.0
    };
    eprintln!(
        "rampart: {n} packets in {engine_s:.2} s ({pps:.0} packets/s), {} alerts written to {}",
        sink.alerts,
        eve_path.display()
    );
    if let Some(e) = read_error {
        eprintln!(
            "rampart: error: {}: {e} (the {n} packets before it were processed)",
            args.pcap.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
