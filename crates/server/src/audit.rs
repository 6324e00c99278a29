//! The server's audit writer: handlers queue entries and go on; one thread
//! appends what has queued up, a batch per transaction, so auditing every
//! call costs a channel send, not a store write. Dropping the queue (the
//! server stopping) writes what is left before it returns.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use cordon_app::App;
use cordon_store::audit::AuditEntry;

/// The most entries one transaction appends.
const BATCH: usize = 4_096;

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
            while let Ok(first) = receiver.recv() {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match receiver.try_recv() {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
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

impl Drop for AuditQueue {
    fn drop(&mut self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // A writer that panicked has said so on stderr.
            let _ = writer.join();
        }
    }
}
