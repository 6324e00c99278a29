//! Provider notifications: one RFC 5322 message per abuse contact about its
//! referred targets, written to an outbox directory.
//!
//! Each message has a plain-text part, then per target an X-ARF 0.2 report
//! (`report-N.txt`, one YAML document) and a XARF v4 report (`xarf-N.json`,
//! one JSON document; see [`crate::xarf`]), and `evidence.csv`. Only sightings that
//! [`may_pass_on`] lets go to a provider are described. A contact is never notified about
//! the same target twice within `interval` seconds. With a relay
//! configured, each message is also sent by SMTP before it is recorded, so
//! a failed delivery leaves its targets `referred`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use cordon_model::{format_timestamp, Timestamp};
use cordon_store::ops::{ContactRef, Evidence, Operation, OpsStore, Target, TargetState};

use crate::csvcell::cell;
use crate::mime::{compose, header_value, valid_address, HeaderValue, Mailbox, Part};
use crate::smtp::Relay;
use crate::tlp::{may_pass_on, Recipient};
use crate::workflow::{targets_in, transition, Actor};
use crate::xarf::{category_of, xarf02, xarf4, Reporter};
use crate::OpsError;

/// Who sends the reports, and how often a contact may hear about a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Where messages are written.
    pub outbox: PathBuf,
    /// The sender's display name.
    pub from_name: String,
    /// The sender's address (also X-ARF `Reported-From`).
    pub from_address: String,
    /// Seconds within which a contact is not notified again about a target.
    pub interval: i64,
    /// Also send each message through this relay (`smtp://HOST[:PORT]`).
    pub smtp: Option<String>,
}

/// One written message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The contact.
    pub contact: ContactRef,
    /// The file in the outbox.
    pub path: PathBuf,
    /// Its Message-ID (without angle brackets).
    pub message_id: String,
    /// The targets it reports.
    pub targets: Vec<i64>,
    /// The whole message.
    pub text: String,
}

/// What `notify` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifySummary {
    /// Messages written.
    pub messages: Vec<Message>,
    /// Targets moved to notified.
    pub notified: usize,
    /// Referred targets without a (valid) provider contact.
    pub no_contact: usize,
    /// Targets skipped: their contact was told within the interval.
    pub recently_notified: usize,
    /// Targets with nothing shareable to report.
    pub nothing_shareable: usize,
}

/// Writes the messages for the operation's referred targets, records them
/// and moves the reported targets to `notified`.
pub fn notify(
    store: &dyn OpsStore,
    operation: &Operation,
    config: &NotifyConfig,
    actor: &Actor,
) -> Result<NotifySummary, OpsError> {
    let referred = targets_in(store, operation.id, TargetState::Referred)?;
    let mut summary = NotifySummary::default();
    let mut groups: BTreeMap<String, (ContactRef, Vec<&Target>)> = BTreeMap::new();
    for target in &referred {
        match &target.spec.provider {
            Some(contact) if valid_address(&contact.email) => {
                let key = contact.email.to_ascii_lowercase();
                groups.entry(key).or_insert_with(|| (contact.clone(), Vec::new())).1.push(target);
            }
            _ => summary.no_contact += 1,
        }
    }
    std::fs::create_dir_all(&config.outbox).map_err(|e| OpsError::io(&config.outbox, e))?;
    let relay = config.smtp.as_deref().map(|url| Relay::new(url, &config.from_address)).transpose()?;
    let mut moved = Vec::new();
    for (address, (contact, targets)) in groups {
        let mut due = Vec::new();
        for target in targets {
            let recent = store.last_notified(&address, target.id)?.is_some_and(|t| actor.time - t < config.interval);
            if recent {
                summary.recently_notified += 1;
            } else {
                due.push(target);
            }
        }
        let ids: Vec<i64> = due.iter().map(|t| t.id).collect();
        let evidence = store.evidence(&ids)?;
        let mut by_target: BTreeMap<i64, Vec<&Evidence>> = BTreeMap::new();
        for e in evidence.iter().filter(|e| may_pass_on(Recipient::Provider, e)) {
            by_target.entry(e.target_id).or_default().push(e);
        }
        let mut shared: Vec<(&Target, Vec<&Evidence>)> = Vec::new();
        for target in due {
            let items = by_target.remove(&target.id).unwrap_or_default();
            if items.is_empty() {
                summary.nothing_shareable += 1;
            } else {
                shared.push((target, items));
            }
        }
        if shared.is_empty() {
            continue;
        }
        let message = write_message(operation, config, &contact, &shared, actor.time)?;
        if let Some(relay) = &relay {
            relay.send(&contact.email, &message.text)?;
        }
        store.record_notification(operation.id, &address, &message.message_id, &message.targets, actor.time)?;
        moved.extend(shared.iter().map(|(t, _)| (*t).clone()));
        summary.messages.push(message);
    }
    summary.notified = transition(store, &moved, TargetState::Notified, None, actor)?.applied.len();
    Ok(summary)
}

/// RFC 5322 date: `Tue, 03 Sep 2024 00:00:00 +0000`.
fn rfc5322_date(ts: Timestamp) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    t.format(format).unwrap_or_else(|_| format_timestamp(ts))
}

fn write_message(
    operation: &Operation,
    config: &NotifyConfig,
    contact: &ContactRef,
    shared: &[(&Target, Vec<&Evidence>)],
    time: Timestamp,
) -> Result<Message, OpsError> {
    let invalid = |e: crate::mime::InvalidAddress| OpsError::Invalid(e.to_string());
    // Validated first: the Message-ID takes its domain.
    let from = Mailbox::new(&config.from_name, &config.from_address).map_err(invalid)?;
    let to = Mailbox::new(&contact.name, &contact.email).map_err(invalid)?;
    let id = uuid::Uuid::new_v4();
    let domain = from.address().split_once('@').map_or("cordon.invalid", |(_, d)| d);
    let message_id = format!("{id}@{domain}");
    let date = rfc5322_date(time);
    let mut text = format!(
        "Dear {},\n\nDuring operation {}, partners of this coordination hub reported the following {} \
         server(s) on your network as malicious. Please investigate and take them down.\n\n",
        header_value(&contact.name),
        header_value(&operation.name),
        shared.len()
    );
    let reporter = Reporter { name: &config.from_name, address: &config.from_address, domain };
    let mut reports = Vec::new();
    let mut csv = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| OpsError::Invalid(format!("cannot write CSV: {e}"));
    let header = ["target", "value", "kind", "category", "malware", "tlp", "port", "first_seen", "last_seen"];
    csv.write_record(header).map_err(csv_error)?;
    for (index, (target, evidence)) in shared.iter().enumerate() {
        let category = category_of(evidence);
        let _ = writeln!(text, "  {}  {}  ({} indicators)", target.spec.key, category.as_str(), evidence.len());
        let mut rows = csv::Writer::from_writer(Vec::new());
        rows.write_record(header).map_err(csv_error)?;
        for e in evidence {
            let row = [
                target.id.to_string(),
                e.value.clone(),
                e.kind.as_str().to_string(),
                e.category.as_str().to_string(),
                e.malware.clone().unwrap_or_default(),
                e.tlp.as_str().to_string(),
                e.port.map(|p| p.to_string()).unwrap_or_default(),
                format_timestamp(e.first_seen),
                format_timestamp(e.last_seen),
            ];
            let row: Vec<String> = row.iter().map(|field| cell(field).into_owned()).collect();
            csv.write_record(&row).map_err(csv_error)?;
            rows.write_record(&row).map_err(csv_error)?;
        }
        let rows = rows.into_inner().map_err(|e| OpsError::Invalid(format!("cannot write CSV: {e}")))?;
        let report_id = uuid::Uuid::new_v4().to_string();
        let n = index + 1;
        reports.push(Part {
            content_type: "text/plain; charset=utf-8".into(),
            filename: Some(format!("report-{n}.txt")),
            body: xarf02(&reporter, target, evidence, &date, &format!("{report_id}@{domain}")).into_bytes(),
        });
        let document = xarf4(&reporter, operation, target, evidence, &rows, &report_id);
        reports.push(Part {
            content_type: "application/json".into(),
            filename: Some(format!("xarf-{n}.json")),
            body: serde_json::to_vec_pretty(&document).unwrap_or_default(),
        });
    }
    text.push_str(
        "\nEach target has an X-ARF 0.2 report (report-N.txt) and a XARF v4 report (xarf-N.json); \
         evidence.csv carries the details.\n",
    );
    let csv_bytes = csv.into_inner().map_err(|e| OpsError::Invalid(format!("cannot write CSV: {e}")))?;
    let mut parts =
        vec![Part { content_type: "text/plain; charset=utf-8".into(), filename: None, body: text.into_bytes() }];
    parts.extend(reports);
    parts.push(Part {
        content_type: "text/csv; charset=utf-8".into(),
        filename: Some("evidence.csv".into()),
        body: csv_bytes,
    });
    let subject = format!("[{}] {} malicious server(s) on your network", operation.name, shared.len());
    let headers = [
        ("From", HeaderValue::Mailboxes(vec![from])),
        ("To", HeaderValue::Mailboxes(vec![to])),
        ("Subject", HeaderValue::Text(subject)),
        ("Date", HeaderValue::Text(date)),
        ("Message-ID", HeaderValue::Text(format!("<{message_id}>"))),
        ("X-ARF", HeaderValue::Text("YES".to_string())),
        ("Auto-Submitted", HeaderValue::Text("auto-generated".to_string())),
    ];
    let whole = compose(&headers, &format!("cordon-{id}"), &parts);
    let path = config.outbox.join(format!("{id}.eml"));
    std::fs::write(&path, &whole).map_err(|e| OpsError::io(&path, e))?;
    Ok(Message {
        contact: contact.clone(),
        path,
        message_id,
        targets: shared.iter().map(|(t, _)| t.id).collect(),
        text: whole,
    })
}
