//! Parses rules files and prints one line per rejected rule plus a summary.
//!
//! `cargo run --release -p rampart-rules --example check_rules -- FILE...`
//! Exit status 1 when any rule was rejected. Handy for comparing with
//! `suricata -T` and for timing (`--time`).

use std::process::ExitCode;
use std::time::Instant;

use rampart_rules::{parse_rules, Variables};

fn main() -> ExitCode {
    let mut time = false;
    let mut failed = false;
    let vars = Variables::default();
    for arg in std::env::args().skip(1) {
        if arg == "--time" {
            time = true;
            continue;
        }
        let src = match std::fs::read(&arg) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                eprintln!("{arg}: {e}");
                failed = true;
                continue;
            }
        };
        let start = Instant::now();
        let set = parse_rules(&src, &arg, &vars);
        let elapsed = start.elapsed();
        for e in &set.errors {
            println!("{e}");
        }
        println!(
            "{arg}: {} loaded, {} rejected, {} disabled{}",
            set.rules.len(),
            set.errors.len(),
            set.disabled,
            if time {
                format!(", parsed in {elapsed:?}")
            } else {
                String::new()
            }
        );
        failed |= !set.errors.is_empty();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
