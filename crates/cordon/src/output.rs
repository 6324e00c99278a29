//! Writing results: JSON wire shapes and a locked, buffered stdout.

use std::io::{BufWriter, StdoutLock, Write};

use cordon_model::format_timestamp;
use cordon_store::IndicatorSummary;
use serde_json::{json, Value};

/// A buffered handle on standard output.
pub(crate) fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// The JSON shape of an indicator in `cordon indicators --json` and `show`.
pub(crate) fn indicator_json(i: &IndicatorSummary) -> Value {
    let e = i.enrichment.as_ref();
    json!({
        "value": i.value,
        "kind": i.kind.as_str(),
        "categories": i.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "sources": i.sources,
        "tlp": i.tlp.as_str(),
        "first_seen": format_timestamp(i.first_seen),
        "last_seen": format_timestamp(i.last_seen),
        "confidence": i.confidence,
        "asn": e.and_then(|e| e.asn),
        "as_org": e.and_then(|e| e.as_org.as_deref()),
        "country": e.and_then(|e| e.country.as_deref()),
        "network": e.and_then(|e| e.network.as_deref()),
        "hosting": e.map(|e| e.hosting.as_str()),
        "flags": e.map(|e| flags_json(&e.flags)).unwrap_or_default(),
    })
}

/// Flags as `[{"flag","reason"}]`.
pub(crate) fn flags_json(flags: &[(String, String)]) -> Vec<Value> {
    flags.iter().map(|(flag, reason)| json!({"flag": flag, "reason": reason})).collect()
}

/// Writes one JSON value on its own line.
pub(crate) fn json_line(out: &mut impl Write, value: &Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}
