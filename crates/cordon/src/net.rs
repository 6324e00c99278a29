//! `cordon net`: set algebra on IP lists, FireHOL `iprange`'s job.
//!
//! Each command reads lists with [`crate::lists::read_networks`], builds
//! [`cordon_netset::IpSet`]s and prints the result as the minimal CIDR list
//! (IPv4 first, then IPv6; a single address is printed without `/32` or
//! `/128`, as `iprange` does) or, with `--ranges`, as `first-last` ranges
//! (a single address as `a-a`, as `iprange -j` does). For IPv4 input the
//! output equals `iprange FILE...`, `iprange --common A B` and
//! `iprange A --except B` line for line (tests/net_iprange.rs).
//! `diff` prints the minimal list of the symmetric difference, whereas
//! `iprange A --diff B` leaves a range of A\B and an adjacent range of B\A
//! apart (and exits 1 when the sets differ); the addresses are the same.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use cordon_netset::IpSet;
use ipnet::IpNet;

/// Arguments of `cordon net`.
#[derive(clap::Args, Debug)]
pub(crate) struct NetArgs {
    #[command(subcommand)]
    command: NetCommand,
}

/// The `cordon net` subcommands.
#[derive(clap::Subcommand, Debug)]
enum NetCommand {
    /// Merge lists into the minimal CIDR list (`iprange FILE...`).
    Merge {
        /// Print `first-last` ranges instead of CIDRs.
        #[arg(long)]
        ranges: bool,
        /// Lists to merge (`-` is stdin).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Addresses in both A and B (`iprange --common A B`).
    Common(PairArgs),
    /// Addresses in A but not in B (`iprange A --except B`).
    Except(PairArgs),
    /// Addresses in exactly one of A and B (`iprange A --diff B`).
    Diff(PairArgs),
    /// Count entries read and unique addresses of the merged lists.
    Count {
        /// Print a JSON object instead of `entries,unique_addresses`.
        #[arg(long)]
        json: bool,
        /// Lists to count (`-` is stdin).
        #[arg(required = true)]
        files: Vec<String>,
    },
}

/// Two lists and the output form.
#[derive(clap::Args, Debug)]
struct PairArgs {
    /// Print `first-last` ranges instead of CIDRs.
    #[arg(long)]
    ranges: bool,
    /// First list (`-` is stdin).
    a: String,
    /// Second list (`-` is stdin).
    b: String,
}

/// Runs `cordon net`; an unreadable or unrecognised list exits 2.
pub(crate) fn run(args: &NetArgs) -> anyhow::Result<ExitCode> {
    match run_command(args) {
        Err(e) => match e.downcast_ref::<crate::lists::ListError>() {
            Some(list_error) => {
                eprintln!("cordon: {list_error}");
                Ok(ExitCode::from(crate::EXIT_INPUT))
            }
            None => Err(e),
        },
        ok => ok,
    }
}

fn run_command(args: &NetArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        NetCommand::Merge { ranges, files } => {
            let set = read_union(files)?.0;
            print_set(&set, *ranges)?;
        }
        NetCommand::Common(pair) => {
            let (a, b) = read_pair(pair)?;
            print_set(&a.intersection(&b), pair.ranges)?;
        }
        NetCommand::Except(pair) => {
            let (a, b) = read_pair(pair)?;
            print_set(&a.difference(&b), pair.ranges)?;
        }
        NetCommand::Diff(pair) => {
            let (a, b) = read_pair(pair)?;
            print_set(&a.symmetric_difference(&b), pair.ranges)?;
        }
        NetCommand::Count { json, files } => {
            let (set, entries) = read_union(files)?;
            print_count(&set, entries, *json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and merges `files`; also returns the number of entries read.
fn read_union(files: &[String]) -> anyhow::Result<(IpSet, usize)> {
    let mut nets: Vec<IpNet> = Vec::new();
    for file in files {
        nets.extend(crate::lists::read_networks(file)?);
    }
    let entries = nets.len();
    Ok((nets.into_iter().collect(), entries))
}

fn read_pair(pair: &PairArgs) -> anyhow::Result<(IpSet, IpSet)> {
    let a: IpSet = crate::lists::read_networks(&pair.a)?.into_iter().collect();
    let b: IpSet = crate::lists::read_networks(&pair.b)?.into_iter().collect();
    Ok((a, b))
}

/// Prints CIDRs (single addresses bare) or `first-last` ranges.
fn print_set(set: &IpSet, ranges: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    if ranges {
        for range in set.ranges() {
            writeln!(out, "{range}")?;
        }
    } else {
        let mut result = Ok(());
        set.for_each_cidr(|net| {
            if result.is_err() {
                return;
            }
            result = if net.prefix_len() == net.max_prefix_len() {
                writeln!(out, "{}", net.addr())
            } else {
                writeln!(out, "{net}")
            };
        });
        result?;
    }
    out.flush()?;
    Ok(())
}

/// Prints `entries,unique_addresses` (as `iprange -C`) or JSON.
fn print_count(set: &IpSet, entries: usize, json: bool) -> anyhow::Result<()> {
    let unique_v4 = set.count_v4();
    let unique_v6 = set.count_v6();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        // IPv6 counts can exceed what JSON readers hold exactly: strings.
        let value = serde_json::json!({
            "entries": entries,
            "ranges": set.range_count(),
            "unique_v4": unique_v4,
            "unique_v6": unique_v6.to_string(),
            "unique": (u128::from(unique_v4)).saturating_add(unique_v6).to_string(),
        });
        writeln!(out, "{value}")?;
    } else {
        let unique = u128::from(unique_v4).saturating_add(unique_v6);
        writeln!(out, "{entries},{unique}")?;
    }
    out.flush()?;
    Ok(())
}
