//! Sending written messages through an SMTP server (`lettre`), plain SMTP
//! without authentication or TLS: meant for a local relay that does both.

use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::{SmtpTransport, Transport};

use crate::OpsError;

/// A relay to send through, from `smtp://HOST[:PORT]` (port 25 by default).
pub struct Relay {
    transport: SmtpTransport,
    from: Address,
}

impl Relay {
    /// Connects lazily to the relay at `url`, sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Relay, OpsError> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| OpsError::Invalid(format!("'{url}' is not an smtp://HOST[:PORT] URL")))?;
        let authority = rest.trim_end_matches('/');
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => {
                (host, port.parse().map_err(|_| OpsError::Invalid(format!("'{port}' is not a port in '{url}'")))?)
            }
            None => (authority, 25),
        };
        if host.is_empty() {
            return Err(OpsError::Invalid(format!("'{url}' names no host")));
        }
        let transport = SmtpTransport::builder_dangerous(host.trim_matches(['[', ']']))
            .port(port)
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from.parse().map_err(|e| OpsError::Invalid(format!("sender '{from}': {e}")))?;
        Ok(Relay { transport, from })
    }

    /// Sends one complete RFC 5322 message to `to`.
    pub fn send(&self, to: &str, message: &str) -> Result<(), OpsError> {
        let recipient: Address = to.parse().map_err(|e| OpsError::Invalid(format!("recipient '{to}': {e}")))?;
        let envelope = Envelope::new(Some(self.from.clone()), vec![recipient])
            .map_err(|e| OpsError::Invalid(format!("envelope: {e}")))?;
        self.transport
            .send_raw(&envelope, message.as_bytes())
            .map_err(|e| OpsError::Invalid(format!("SMTP delivery to {to} failed: {e}")))?;
        Ok(())
    }
}
