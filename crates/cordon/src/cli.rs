//! The command line: global options and one subcommand per job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cordon_model::{Category, Kind, Tlp};

/// cordon: ingest partners' threat intelligence, enrich it, coordinate
/// takedowns and protect networks.
#[derive(Parser, Debug)]
#[command(name = "cordon", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// The store: an embedded SQLite file, or a PostgreSQL database named
    /// by a URL (postgres://user@host:port/db).
    #[arg(long, global = true, env = "CORDON_DB", default_value = "cordon.db", value_name = "PATH|URL")]
    pub(crate) db: PathBuf,

    /// A streaming replica of the PostgreSQL store that read-only queries
    /// go to: listing indicators and sources, showing one, lookups and
    /// exports. Writes and everything else go to --db.
    #[arg(long, global = true, env = "CORDON_DB_READ", value_name = "URL")]
    pub(crate) db_read: Option<PathBuf>,

    /// The compiled geo/ASN snapshot (default: cordon-geo.snap beside the
    /// store). Build it with `cordon geo import` from the data that
    /// scripts/fetch-geodata.sh (in cordon's source tree) fetches.
    #[arg(long, global = true, env = "CORDON_GEO", value_name = "PATH")]
    pub(crate) geo: Option<PathBuf>,

    /// Answer as organisation ORG would see it: only the sightings the
    /// visibility rule (TLP 2.0, the submitting organisation, its consents)
    /// lets it see. Default: the hub's administrator, who sees everything
    /// submitted to the hub.
    #[arg(long = "as", global = true, env = "CORDON_AS", value_name = "ORG")]
    pub(crate) as_org: Option<String>,

    /// The MISP warninglists directory (default: warninglists beside the
    /// store), as scripts/fetch-warninglists.sh (in cordon's source tree)
    /// writes it into data/warninglists. Without it only the built-in rules
    /// flag indicators.
    #[arg(long, global = true, env = "CORDON_WARNINGLISTS", value_name = "DIR")]
    pub(crate) warninglists: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// The geo snapshot file: `--geo`, `$CORDON_GEO`, or `cordon-geo.snap`
    /// in the store's directory.
    pub(crate) fn geo_snapshot(&self) -> PathBuf {
        self.config().geo
    }

    /// Where the store and its data are.
    pub(crate) fn config(&self) -> cordon_app::Config {
        let mut config = cordon_app::Config::new(self.db.clone());
        config.db_read.clone_from(&self.db_read);
        if let Some(geo) = &self.geo {
            config.geo = geo.clone();
        }
        if let Some(dir) = &self.warninglists {
            config.warninglists = dir.clone();
        }
        // Feeds may reach loopback and private addresses only in tests,
        // which run their servers on 127.0.0.1.
        if std::env::var_os(TESTING_ANY_DESTINATION).is_some_and(|v| v == "1") {
            config.collect.destinations = cordon_model::Destinations::AnyForTesting;
        }
        config
    }

    /// Opens the store and resolves `--as`.
    pub(crate) fn open(&self) -> Result<(cordon_app::App, cordon_model::Viewer), cordon_app::AppError> {
        let app = cordon_app::App::open(&self.config())?;
        let viewer = app.viewer(self.as_org.as_deref())?;
        Ok((app, viewer))
    }
}

/// The environment variable (set to `1`) that lets feeds reach loopback
/// and private addresses: for the test suite's servers on 127.0.0.1 only.
pub(crate) const TESTING_ANY_DESTINATION: &str = "CORDON_TESTING_ANY_DESTINATION";

/// Where `lookup` and `scan` keep their snapshot of the store (`--help`).
const SNAPSHOT_CACHE: &str = "The snapshot of the store is kept beside an SQLite file and, for \
PostgreSQL, in a private cache directory: CORDON_CACHE_DIR, else $XDG_CACHE_HOME/cordon, else \
~/.cache/cordon (mode 700; one that others may enter or another user owns is not used).";

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Read feed files into the store (format detected unless --format).
    Ingest(IngestArgs),
    /// List indicators.
    Indicators(IndicatorsArgs),
    /// Show one indicator with every sighting and linked observable.
    Show(ShowArgs),
    /// List sources with what came from each.
    Sources(JsonArg),
    /// List imports.
    Imports(JsonArg),
    /// Create the store or bring its schema up to date (every command does
    /// on opening; replicas starting together take turns), then exit.
    Migrate,
    /// Set operations on IP lists (merge, common, except, diff, count).
    Net(crate::net::NetArgs),
    /// Is this address listed, and why?
    #[command(after_long_help = SNAPSHOT_CACHE)]
    Lookup(crate::hunt::LookupArgs),
    /// Find log lines that mention a listed address (grepcidr's job).
    #[command(after_long_help = SNAPSHOT_CACHE)]
    Scan(crate::hunt::ScanArgs),
    /// Fetch and compile the offline ASN/country databases; look addresses up.
    Geo(crate::geo::GeoArgs),
    /// Re-run enrichment (ASN, country, hosting type, flags) over the whole store.
    Enrich(JsonArg),
    /// Manage the allowlist: what must never be taken down.
    Allow(crate::protect::AllowArgs),
    /// Import or list abuse contacts and national agencies.
    Contacts(crate::protect::ContactsArgs),
    /// Where a takedown of VALUE goes: network, ASN, country, flags, provider and agency.
    Route(crate::protect::RouteArgs),
    /// Write blocklists for firewalls, DNS and IDS (plain, cidr, csv, jsonl, nft, ipset,
    /// iptables, ip6tables, suricata, rpz, hosts, stix, misp, mmdb).
    Export(crate::export::ExportArgs),
    /// Organisations of the hub's community (partners, agencies, providers, defenders).
    #[command(subcommand)]
    Org(crate::orgs::OrgCommand),
    /// Which organisation a source belongs to, and where its AMBER sightings may go.
    #[command(subcommand)]
    Source(crate::orgs::SourceCommand),
    /// Build a Synergia-scale demo operation from the committed IPsum slice
    /// (in a fresh directory; --db is not used).
    Demo(crate::demo::DemoArgs),
    /// Serve the hub over HTTP: the REST API under /api/v1, /healthz, /metrics.
    Serve(crate::serve::ServeArgs),
    /// Users of the server.
    #[command(subcommand)]
    User(crate::access::UserCommand),
    /// API tokens of the server's users.
    #[command(subcommand)]
    Token(crate::access::TokenCommand),
    /// The audit log of the server: list it, verify its hash chain.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    #[command(flatten)]
    Ops(crate::operation::OpsCommand),
    /// The MISP warninglists that flag what must not be taken down: list
    /// them, check values.
    #[command(subcommand)]
    Warninglists(crate::warninglists::WarninglistsCommand),
    /// TAXII 2.1 collections the server offers: views of the indicators.
    #[command(subcommand)]
    Collection(crate::collection::CollectionCommand),
    /// Feeds the hub pulls (HTTP(S) files, TAXII 2.1 collections, MISP
    /// feeds): add, list, remove, run now; `cordon serve` runs them when due.
    #[command(subcommand)]
    Feed(crate::feed::FeedCommand),
}

#[derive(Args, Debug)]
pub(crate) struct IngestArgs {
    /// Feed files (or MISP feed directories); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// The partner or feed the records come from.
    #[arg(long, value_name = "NAME")]
    pub(crate) source: String,
    /// The format (default: detected). One of: plain, ipsum, spamhaus-drop,
    /// spamhaus-drop-json, spamhaus-asndrop, feodo-csv, feodo-json, urlhaus-csv,
    /// urlhaus-json, threatfox-json, threatfox-csv, openphish, phishtank-json,
    /// intelmq, csv, stix, misp, misp-feed.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) format: Option<cordon_formats::Format>,
    /// TLP of records that carry none (default: amber).
    #[arg(long, value_name = "TLP")]
    pub(crate) tlp: Option<Tlp>,
    /// Category of records the feed does not categorise (default: other).
    #[arg(long, value_name = "CATEGORY")]
    pub(crate) category: Option<Category>,
    /// Fail a file at its first rejected record, storing nothing from it.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Put these imports in an operation's scope (it must exist).
    #[arg(long, value_name = "NAME")]
    pub(crate) operation: Option<String>,
    /// CSV column mapping, e.g. `--column ip=2 --column category=5` (1-based).
    #[arg(long = "column", value_name = "FIELD=N", value_parser = parse_column)]
    pub(crate) columns: Vec<(String, usize)>,
    /// CSV delimiter (default: guessed). `\t` for tab.
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub(crate) delimiter: Option<u8>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Which indicators a read selects (shared by `indicators` and `export`).
#[derive(Args, Debug)]
pub(crate) struct IndicatorSelection {
    /// Only this kind (ipv4, ipv6, cidr, domain, url).
    #[arg(long)]
    pub(crate) kind: Option<Kind>,
    /// Only indicators with a sighting of this category.
    #[arg(long)]
    pub(crate) category: Option<Category>,
    /// Only indicators with a sighting from this source.
    #[arg(long)]
    pub(crate) source: Option<String>,
}

impl IndicatorSelection {
    /// The store filter of this selection, as `viewer` sees it up to `max_tlp`.
    pub(crate) fn filter(&self, viewer: cordon_model::Viewer, max_tlp: Tlp) -> cordon_store::IndicatorFilter {
        cordon_store::IndicatorFilter {
            kind: self.kind,
            category: self.category,
            source: self.source.clone(),
            max_tlp,
            ..cordon_store::IndicatorFilter::new(viewer)
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct IndicatorsArgs {
    #[command(flatten)]
    pub(crate) selection: IndicatorSelection,
    /// Show only sightings up to this TLP (default: red, everything the hub holds).
    #[arg(long, default_value = "red")]
    pub(crate) tlp_max: Tlp,
    /// Only indicators enriched to this country (ISO code).
    #[arg(long, value_name = "CC")]
    pub(crate) country: Option<String>,
    /// Only indicators enriched to this AS number.
    #[arg(long, value_name = "N")]
    pub(crate) asn: Option<u32>,
    /// Only indicators with a "do not take down" flag.
    #[arg(long, conflicts_with = "unflagged")]
    pub(crate) flagged: bool,
    /// Only indicators without flags.
    #[arg(long)]
    pub(crate) unflagged: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ShowArgs {
    /// The value, in any form that normalizes to the indicator (defanged too).
    pub(crate) value: String,
    /// Show only sightings up to this TLP.
    #[arg(long, default_value = "red")]
    pub(crate) tlp_max: Tlp,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

fn parse_column(s: &str) -> Result<(String, usize), String> {
    let (field, n) = s.split_once('=').ok_or_else(|| format!("'{s}' is not FIELD=N"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("'{n}' is not a column number"))?;
    if n == 0 {
        return Err("columns are numbered from 1".into());
    }
    Ok((field.trim().to_ascii_lowercase(), n))
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("'{s}' is not a single ASCII character")),
    }
}
