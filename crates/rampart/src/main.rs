//! `rampart`: the command-line edge of Rampart. Everything here is I/O and
//! wiring; the packet path itself lives in the pure crates.

/// `println!` that returns an error instead of panicking when standard
/// output is closed (`rampart ... | head`): the caller propagates it and
/// `main` exits quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod capture_file;
mod cmd;
mod craft_cmd;
mod daemon;
mod output;
mod rules_load;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: log matching allocates small group
/// values on worker threads and frees them on the reading thread, which
/// glibc's arenas handle poorly (a third of `logs test` time went to
/// `free`); packet workers and the daemon's many threads gain as well.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rampart: firewall and intrusion prevention.
#[derive(Parser, Debug)]
#[command(name = "rampart", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Summarise a capture: protocols, flows, top talkers, decoder events,
    /// defragmentation and reassembly counters.
    Inspect(cmd::inspect::InspectArgs),
    /// Write packets, fragment trains and TCP conversations to a pcap, from
    /// a spec file (docs/craft.md) or from flags.
    Craft(craft_cmd::CraftArgs),
    /// Run Snort/Suricata rules over a capture and write EVE alerts
    /// (OUTDIR/eve.json), like `suricata -r FILE -S RULES -l OUTDIR`.
    Detect(cmd::detect::DetectArgs),
    /// Work with rule files.
    #[command(subcommand)]
    Rules(cmd::rules::RulesCommand),
    /// fail2ban-compatible log matching: test a filter on a log file, or
    /// serve the JSON-lines matching protocol.
    #[command(subcommand)]
    Logs(cmd::logs::LogsCommand),
    /// nftables firewall policy: check, render, diff and apply Rampart's
    /// own table (docs/firewall.md).
    #[command(subcommand)]
    Fw(cmd::fw::FwCommand),
    /// Run the daemon: inline (NFQUEUE) or live (AF_PACKET) inspection,
    /// the firewall table, bans and the control API (docs/daemon.md).
    Run(daemon::RunArgs),
    /// Work with the daemon's config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ban, unban and list bans on the running daemon.
    #[command(subcommand)]
    Ban(cmd::ctl::BanCommand),
    /// The running daemon's counters.
    Status(cmd::ctl::SocketArg),
    /// Reload the running daemon's config and rules (as SIGHUP does).
    Reload(cmd::ctl::SocketArg),
}

/// `rampart config ...`
#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Validate a config and its rules without starting anything.
    Check(daemon::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Craft(args) => craft_cmd::run(args).map(|()| ExitCode::SUCCESS),
        Command::Detect(args) => cmd::detect::run(args),
        Command::Rules(cmd) => cmd::rules::run(cmd),
        Command::Logs(cmd) => cmd::logs::run(cmd),
        Command::Fw(cmd) => cmd::fw::run(cmd),
        Command::Run(args) => daemon::run(args),
        Command::Config(ConfigCommand::Check(args)) => daemon::check(&args.config),
        Command::Ban(cmd) => cmd::ctl::ban(cmd),
        Command::Status(s) => cmd::ctl::status(s),
        Command::Reload(s) => cmd::ctl::reload(s),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rampart: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// True when the error is standard output being closed by the reader.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
