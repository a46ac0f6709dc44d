//! Opening capture files for the offline commands, with a progress bar when
//! a person is watching.

use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rampart_packet::pcap::CaptureReader;

/// An open capture and the progress bar that follows it.
pub struct CaptureFile<'a> {
    /// The streaming reader.
    pub reader: CaptureReader<'a>,
    /// Shown only when stderr is a terminal (hidden otherwise).
    pub progress: ProgressBar,
}

impl CaptureFile<'_> {
    /// Opens `path` ("-" reads standard input).
    pub fn open(path: &Path, show_progress: bool) -> Result<Self> {
        let (reader, len) = if path.as_os_str() == "-" {
            let r = CaptureReader::new(BufReader::with_capacity(1 << 20, std::io::stdin()))
                .with_context(|| "<stdin>".to_string())?;
            (r, None)
        } else {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let len = f.metadata().ok().map(|m| m.len());
            // No BufReader: the capture reader keeps its own large buffer and
            // refills it with big reads, so another buffer would only add a
            // copy of every byte.
            let r = CaptureReader::new(f).with_context(|| path.display().to_string())?;
            (r, len)
        };
        let progress = if show_progress
            && std::io::stderr().is_terminal()
            && std::io::stdout().is_terminal()
        {
            let pb = ProgressBar::new(len.unwrap_or(0));
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            pb
        } else {
            ProgressBar::hidden()
        };
        Ok(CaptureFile { reader, progress })
    }
}
