//! What kind of operator an autonomous system is: CDN, cloud, hosting, ISP.
//!
//! The built-in table is curated by hand and small on purpose: it names the
//! large operators whose address space shows up in takedown work, each with
//! where its ASN was checked. An ASN not in the table is [`Hosting::Unknown`]
//! (never guessed to be an ISP); a user file extends or overrides the table.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::source::diagnostic;
use crate::{Diagnostic, DiagnosticKind, Location};

/// The kind of operator behind an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hosting {
    /// A content delivery network: the address fronts many unrelated
    /// customers, so blocking it has collateral damage.
    Cdn,
    /// A public cloud (compute rented by the hour).
    Cloud,
    /// A hosting provider (dedicated servers, VPS, shared web hosting).
    Hosting,
    /// An access provider (home and business lines, mobile).
    Isp,
    /// Not in the table.
    Unknown,
}

impl Hosting {
    /// The name used in files and output: `cdn`, `cloud`, `hosting`, `isp`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hosting::Cdn => "cdn",
            Hosting::Cloud => "cloud",
            Hosting::Hosting => "hosting",
            Hosting::Isp => "isp",
            Hosting::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Hosting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hosting type that is not one of `cdn, cloud, hosting, isp, unknown`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hosting type '{0}' (expected cdn, cloud, hosting, isp or unknown)")]
pub struct UnknownHosting(pub String);

impl FromStr for Hosting {
    type Err = UnknownHosting;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Hosting::Cdn, Hosting::Cloud, Hosting::Hosting, Hosting::Isp, Hosting::Unknown]
            .into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownHosting(s.to_string()))
    }
}

/// Sources cited in [`BUILTIN`].
const PDB: &str = "the operator's PeeringDB record";
const DOCS: &str = "the operator's own ASN documentation";

/// The built-in table: (ASN, type, operator, source of the ASN).
///
/// "PeeringDB" means the network's PeeringDB record lists the ASN under that
/// operator; "own documentation" means the operator publishes it (Cloudflare,
/// Fastly, AWS, Google, Microsoft IP-range and peering pages). CDNs that also
/// sell compute (Akamai/Linode, Cloudflare Workers) are classed by the ASN's
/// main use.
pub const BUILTIN: &[(u32, Hosting, &str, &str)] = &[
    (13335, Hosting::Cdn, "Cloudflare", DOCS),
    (209242, Hosting::Cdn, "Cloudflare (Spectrum/WARP)", PDB),
    (20940, Hosting::Cdn, "Akamai International", PDB),
    (16625, Hosting::Cdn, "Akamai Technologies", PDB),
    (16702, Hosting::Cdn, "Akamai Technologies", PDB),
    (21342, Hosting::Cdn, "Akamai International", PDB),
    (32787, Hosting::Cdn, "Akamai (Prolexic)", PDB),
    (54113, Hosting::Cdn, "Fastly", DOCS),
    (15133, Hosting::Cdn, "Edgecast (Edgio)", PDB),
    (22822, Hosting::Cdn, "Limelight (Edgio)", PDB),
    (60068, Hosting::Cdn, "CDN77 (DataCamp)", PDB),
    (30675, Hosting::Cdn, "StackPath/Highwinds", PDB),
    (19551, Hosting::Cdn, "Imperva Incapsula", PDB),
    (200325, Hosting::Cdn, "Bunny.net (BunnyWay)", PDB),
    (16509, Hosting::Cloud, "Amazon Web Services", DOCS),
    (14618, Hosting::Cloud, "Amazon Web Services (us-east-1)", DOCS),
    (8987, Hosting::Cloud, "Amazon Web Services (EU)", PDB),
    (15169, Hosting::Cloud, "Google", DOCS),
    (396982, Hosting::Cloud, "Google Cloud", DOCS),
    (19527, Hosting::Cloud, "Google", PDB),
    (8075, Hosting::Cloud, "Microsoft (Azure)", DOCS),
    (8068, Hosting::Cloud, "Microsoft", PDB),
    (31898, Hosting::Cloud, "Oracle Cloud", PDB),
    (45102, Hosting::Cloud, "Alibaba Cloud", PDB),
    (37963, Hosting::Cloud, "Alibaba Cloud (Hangzhou)", PDB),
    (132203, Hosting::Cloud, "Tencent Cloud", PDB),
    (45090, Hosting::Cloud, "Tencent Cloud (Shenzhen)", PDB),
    (36351, Hosting::Cloud, "IBM Cloud (SoftLayer)", PDB),
    (136907, Hosting::Cloud, "Huawei Cloud", PDB),
    (16276, Hosting::Hosting, "OVHcloud", PDB),
    (24940, Hosting::Hosting, "Hetzner Online", PDB),
    (213230, Hosting::Hosting, "Hetzner Cloud", PDB),
    (14061, Hosting::Hosting, "DigitalOcean", PDB),
    (63949, Hosting::Hosting, "Linode (Akamai Connected Cloud)", PDB),
    (20473, Hosting::Hosting, "Vultr (The Constant Company)", PDB),
    (51167, Hosting::Hosting, "Contabo", PDB),
    (60781, Hosting::Hosting, "Leaseweb Netherlands", PDB),
    (16265, Hosting::Hosting, "Leaseweb Global", PDB),
    (28753, Hosting::Hosting, "Leaseweb Germany", PDB),
    (12876, Hosting::Hosting, "Scaleway (Online SAS)", PDB),
    (8560, Hosting::Hosting, "IONOS", PDB),
    (197540, Hosting::Hosting, "netcup", PDB),
    (47583, Hosting::Hosting, "Hostinger", PDB),
    (46606, Hosting::Hosting, "Unified Layer (Bluehost/HostGator)", PDB),
    (26496, Hosting::Hosting, "GoDaddy", PDB),
    (9009, Hosting::Hosting, "M247", PDB),
    (3320, Hosting::Isp, "Deutsche Telekom", PDB),
    (3215, Hosting::Isp, "Orange France", PDB),
    (7922, Hosting::Isp, "Comcast", PDB),
    (701, Hosting::Isp, "Verizon", PDB),
    (2856, Hosting::Isp, "BT", PDB),
];

/// ASN → hosting type: the built-in table plus user rows.
#[derive(Clone, Debug)]
pub struct HostingTable {
    entries: HashMap<u32, (Hosting, String)>,
}

impl HostingTable {
    /// The built-in table only.
    pub fn builtin() -> HostingTable {
        let entries = BUILTIN.iter().map(|(asn, hosting, name, _)| (*asn, (*hosting, (*name).to_string()))).collect();
        HostingTable { entries }
    }

    /// The built-in table extended by a user CSV `asn,hosting,name` (a
    /// header line `asn,...` is skipped; `AS` prefixes are allowed). User
    /// rows override built-in ones. Bad rows are skipped and returned as
    /// diagnostics against `file`.
    pub fn with_user_csv(file: &str, text: &str) -> (HostingTable, Vec<Diagnostic>) {
        let mut table = HostingTable::builtin();
        let mut diagnostics = Vec::new();
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        for (index, row) in reader.records().enumerate() {
            let line = row.as_ref().ok().and_then(|r| r.position()).map_or(index as u64 + 1, |p| p.line());
            let parsed = row.map_err(|e| e.to_string()).and_then(|row| {
                let get = |i| row.get(i).map(str::trim).unwrap_or("");
                if line == 1 && get(0).eq_ignore_ascii_case("asn") {
                    return Ok(None);
                }
                let asn_text = get(0).trim_start_matches("AS").trim_start_matches("as");
                let asn = asn_text.parse::<u32>().map_err(|_| format!("ASN '{}' is not a number", get(0)))?;
                let hosting = get(1).parse::<Hosting>().map_err(|e| e.to_string())?;
                Ok(Some((asn, hosting, get(2).to_string())))
            });
            match parsed {
                Ok(Some((asn, hosting, name))) => {
                    table.entries.insert(asn, (hosting, name));
                }
                Ok(None) => {}
                Err(message) => {
                    diagnostics.push(diagnostic(file, Location::Line(line), DiagnosticKind::Malformed, message))
                }
            }
        }
        (table, diagnostics)
    }

    /// The hosting type of `asn`; [`Hosting::Unknown`] when it is not in the table.
    pub fn classify(&self, asn: u32) -> Hosting {
        self.entries.get(&asn).map_or(Hosting::Unknown, |(hosting, _)| *hosting)
    }

    /// The operator's name as the table gives it.
    pub fn operator(&self, asn: u32) -> Option<&str> {
        self.entries.get(&asn).map(|(_, name)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_classifies_and_has_no_duplicates() {
        let table = HostingTable::builtin();
        assert_eq!(table.classify(13335), Hosting::Cdn);
        assert_eq!(table.classify(16509), Hosting::Cloud);
        assert_eq!(table.classify(16276), Hosting::Hosting);
        assert_eq!(table.classify(64512), Hosting::Unknown);
        assert_eq!(table.entries.len(), BUILTIN.len());
    }

    #[test]
    fn user_rows_extend_and_override() {
        let text = "asn,hosting,name\nAS64500,isp,Example ISP\n16276,cloud,OVH\nx,cdn,\n1,weird,\n";
        let (table, diagnostics) = HostingTable::with_user_csv("h.csv", text);
        assert_eq!(table.classify(64500), Hosting::Isp);
        assert_eq!(table.classify(16276), Hosting::Cloud);
        let lines: Vec<_> = diagnostics.iter().map(|d| d.location.clone()).collect();
        assert_eq!(lines, [Location::Line(4), Location::Line(5)]);
    }
}
