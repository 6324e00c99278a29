//! The server's audit writer: handlers queue entries and go on; one thread
//! appends what has queued up, a batch per transaction, so auditing every
//! call costs a channel send, not a store write. After the first entry of a
//! batch the writer waits [`LINGER`] for others before it writes, so a busy
//! server commits a transaction (and wakes the writer) about a hundred times
//! a second, not once or twice a request. Dropping the queue (the server
//! stopping) writes what is left before it returns.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cordon_app::App;
use cordon_store::audit::AuditEntry;

/// The most entries one transaction appends.
const BATCH: usize = 4_096;

/// How long the writer gathers entries after the first of a batch: an
/// entry reaches the store at most this much later than it would alone.
const LINGER: Duration = Duration::from_millis(10);

/// The queue of entries to append.
pub(crate) struct AuditQueue {
    sender: Mutex<Option<mpsc::Sender<AuditEntry>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl AuditQueue {
    /// A queue writing to `app`'s store.
    pub(crate) fn start(app: Arc<App>) -> AuditQueue {
        let (sender, receiver) = mpsc::channel::<AuditEntry>();
        let writer = std::thread::spawn(move || {
            while let Some(batch) = gather(&receiver, LINGER) {
                if let Err(e) = app.record(&batch) {
                    eprintln!("cordon: could not write {} audit entries: {e}", batch.len());
                }
            }
        });
        AuditQueue { sender: Mutex::new(Some(sender)), writer: Mutex::new(Some(writer)) }
    }

    /// Queues one entry.
    pub(crate) fn push(&self, entry: AuditEntry) {
        if let Some(sender) = self.sender.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            // The writer ends only when the queue is dropped.
            let _ = sender.send(entry);
        }
    }
}

/// The next batch: waits for one entry, then `linger` (asleep, so senders
/// meanwhile wake nobody), then takes what has queued, at most [`BATCH`].
/// `None` once the queue is closed and empty.
fn gather(receiver: &mpsc::Receiver<AuditEntry>, linger: Duration) -> Option<Vec<AuditEntry>> {
    let first = receiver.recv().ok()?;
    std::thread::sleep(linger);
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match receiver.try_recv() {
            Ok(entry) => batch.push(entry),
            Err(_) => break,
        }
    }
    Some(batch)
}

impl Drop for AuditQueue {
    fn drop(&mut self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // A writer that panicked has said so on stderr.
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> AuditEntry {
        AuditEntry {
            time: 0,
            user: "u".into(),
            org: "o".into(),
            action: "GET /healthz".into(),
            object: n.to_string(),
            result: "200".into(),
        }
    }

    /// What queued while the writer lingered is one batch (bounded), in
    /// order, and a closed queue still hands over what it holds.
    #[test]
    fn queued_entries_are_written_in_few_ordered_batches() {
        let (sender, receiver) = mpsc::channel();
        for n in 0..BATCH + 10 {
            sender.send(entry(n)).unwrap();
        }
        drop(sender);
        let first = gather(&receiver, Duration::ZERO).unwrap();
        let second = gather(&receiver, Duration::ZERO).unwrap();
        assert_eq!((first.len(), second.len()), (BATCH, 10));
        let objects: Vec<String> = first.iter().chain(&second).map(|e| e.object.clone()).collect();
        assert_eq!(objects, (0..BATCH + 10).map(|n| n.to_string()).collect::<Vec<_>>());
        assert!(gather(&receiver, Duration::ZERO).is_none());
    }
}
