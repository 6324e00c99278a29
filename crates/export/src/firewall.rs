//! Firewall formats: `nft`, `ipset`, `iptables` and `ip6tables`.
//!
//! Each writes the aggregated networks (see [`crate::networks`]) so that
//! the kernel holds the fewest elements, and each can be reloaded over its
//! previous version without a window in which nothing is blocked:
//!
//! * `nft`: the table `inet cordon` is declared, deleted and defined again
//!   in one `nft -f` transaction. Its chains hook input, forward and output
//!   at priority -10 and drop traffic from and to the sets `blocked_v4`,
//!   `blocked_v6`.
//! * `ipset`: sets `cordon-v4` and `cordon-v6` (`hash:net`) are filled as
//!   temporary `…-new` sets and swapped in, as FireHOL's update-ipsets
//!   does, so rules that match the sets never see them empty. Load with
//!   `ipset restore`. Every export creates its sets with the same
//!   parameters ([`IPSET_MAXELEM`], no `hashsize`: the kernel grows the
//!   hash and ignores its size when it compares sets), because `create
//!   -exist` refuses a live set made with other parameters: a daily reload
//!   keeps working as the list grows. (Sets made by cordon before this
//!   rule, with a `maxelem` sized to the list, must be destroyed once.)
//! * `iptables` / `ip6tables`: one file per family, because
//!   `iptables-restore` and `ip6tables-restore` read different files. Each
//!   declares the chain `cordon` in the filter table (which, with
//!   `--noflush`, empties only that chain) and adds a source and a
//!   destination DROP rule per network. Hooking the chain (`-I INPUT -j
//!   cordon`, FORWARD, OUTPUT) is done once by the administrator.

use std::io::Write;

use ipnet::IpNet;

use crate::networks::{aggregate, Compact, Networks};
use crate::text::comment_header;
use crate::{Entry, Error, Format, Options};

/// An `nft -f` script.
pub(crate) fn nft(entries: &[&Entry], options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let networks = aggregate(entries.iter().copied());
    writeln!(out, "#!/usr/sbin/nft -f")?;
    comment_header(out, "#", options, &counts(&networks, "nft -f FILE (replaces the table inet cordon atomically)"))?;
    writeln!(out, "table inet cordon")?;
    writeln!(out, "delete table inet cordon")?;
    writeln!(out, "table inet cordon {{")?;
    nft_set(out, "blocked_v4", "ipv4_addr", networks.v4.iter().copied().map(IpNet::V4))?;
    nft_set(out, "blocked_v6", "ipv6_addr", networks.v6.iter().copied().map(IpNet::V6))?;
    let chains: [(&str, &[&str]); 3] =
        [("input", &["saddr"]), ("forward", &["saddr", "daddr"]), ("output", &["daddr"])];
    for (hook, directions) in chains {
        writeln!(out, "\tchain {hook} {{")?;
        writeln!(out, "\t\ttype filter hook {hook} priority -10; policy accept;")?;
        for direction in directions {
            writeln!(out, "\t\tip {direction} @blocked_v4 drop")?;
            writeln!(out, "\t\tip6 {direction} @blocked_v6 drop")?;
        }
        writeln!(out, "\t}}")?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

/// One interval set of an nft table. An empty set has no `elements` line,
/// which nft would reject.
fn nft_set(out: &mut dyn Write, name: &str, kind: &str, nets: impl Iterator<Item = IpNet>) -> Result<(), Error> {
    writeln!(out, "\tset {name} {{")?;
    writeln!(out, "\t\ttype {kind}")?;
    writeln!(out, "\t\tflags interval")?;
    let mut nets = nets.peekable();
    if nets.peek().is_some() {
        writeln!(out, "\t\telements = {{")?;
        while let Some(net) = nets.next() {
            let comma = if nets.peek().is_some() { "," } else { "" };
            writeln!(out, "\t\t\t{}{comma}", Compact(net))?;
        }
        writeln!(out, "\t\t}}")?;
    }
    writeln!(out, "\t}}")?;
    Ok(())
}

/// The `maxelem` of every set an `ipset` export creates: the same in every
/// export (see the module docs), and room for the largest lists (2^24
/// networks; the kernel allocates per element, not per `maxelem`).
pub const IPSET_MAXELEM: usize = 1 << 24;

/// An `ipset restore` file. It carries no comments: `ipset restore` reads
/// commands only.
pub(crate) fn ipset(entries: &[&Entry], _options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let networks = aggregate(entries.iter().copied());
    let families = [
        ("cordon-v4", "inet", networks.v4.iter().copied().map(IpNet::V4).collect::<Vec<_>>()),
        ("cordon-v6", "inet6", networks.v6.iter().copied().map(IpNet::V6).collect()),
    ];
    for (name, family, nets) in families {
        if nets.len() > IPSET_MAXELEM {
            return Err(Error::TooLarge { format: Format::Ipset, reason: "more networks in one family than maxelem" });
        }
        let create = format!("hash:net family {family} maxelem {IPSET_MAXELEM}");
        writeln!(out, "create {name} {create} -exist")?;
        writeln!(out, "create {name}-new {create} -exist")?;
        writeln!(out, "flush {name}-new")?;
        for net in nets {
            writeln!(out, "add {name}-new {} -exist", Compact(net))?;
        }
        writeln!(out, "swap {name}-new {name}")?;
        writeln!(out, "destroy {name}-new")?;
    }
    Ok(())
}

/// An `iptables-restore` or `ip6tables-restore` file (the entries are of
/// one family already, see [`Format::carries`]).
pub(crate) fn iptables(
    entries: &[&Entry],
    format: Format,
    options: &Options,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let networks = aggregate(entries.iter().copied());
    let how =
        format!("{format}-restore --noflush FILE; hook once with `{format} -I INPUT -j cordon` (FORWARD, OUTPUT)");
    comment_header(out, "#", options, &counts(&networks, &how))?;
    writeln!(out, "*filter")?;
    writeln!(out, ":cordon - [0:0]")?;
    for net in networks.iter() {
        writeln!(out, "-A cordon -s {net} -j DROP")?;
        writeln!(out, "-A cordon -d {net} -j DROP")?;
    }
    writeln!(out, "COMMIT")?;
    Ok(())
}

/// The second header line of a firewall script: what it holds and how to
/// load it.
fn counts(networks: &Networks, load: &str) -> String {
    format!("{} IPv4 and {} IPv6 networks. Load with: {load}", networks.v4.len(), networks.v6.len())
}
