//! Durable consumers: a named cursor on the event log, kept in the store,
//! for what an embedder does after a command (push notifications, webhooks,
//! indexing elsewhere). Batches come in `seq` order after the consumer's
//! stored cursor; [`Consumer::ack`] moves the cursor. Delivery is at least
//! once: after a crash, a new [`Consumer`] of the same name starts again
//! after the last acknowledged event. One [`Consumer`] at a time holds a
//! name — across every process on the store — by a lease it renews while it
//! reads and acknowledges; another one waits, and takes over once the
//! holder's lease runs out (the holder died, or stopped reading). Retention
//! never prunes past a consumer's cursor, until
//! [`Hub::remove_consumer`].

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::Hub;
use crate::error::{Error, Result};
use crate::event::Event;

/// The longest name of a consumer, in bytes.
const NAME_MAX: usize = 100;

/// A durable consumer's handle: see [`Hub::consumer`].
#[derive(Debug)]
pub struct Consumer {
    hub: Hub,
    name: String,
    /// This handle's identity as the lease's owner.
    owner: String,
    lease: Duration,
    /// When the lease was last taken or renewed, while this handle holds it.
    held_since: Option<Instant>,
    /// The `seq` through which events were handed out.
    delivered: u64,
    heads: watch::Receiver<u64>,
}

/// A durable consumer as [`Hub::consumers`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerLag {
    /// Its name.
    pub name: String,
    /// The `seq` through which it acknowledged events.
    pub cursor: u64,
    /// How many events of the log lie after its cursor.
    pub lag: u64,
    /// Whether a handle holds it now (a live lease).
    pub held: bool,
}

impl Hub {
    /// A handle on the durable consumer `name` (1 to 100 bytes of ASCII
    /// letters, digits, `.`, `_` and `-`), with a lease of 30 seconds. A
    /// consumer that does not exist yet is created at the log's head, and
    /// receives the events from then on; the handle holds it unless another
    /// handle does.
    pub async fn consumer(&self, name: &str) -> Result<Consumer> {
        self.consumer_with_lease(name, Duration::from_secs(30)).await
    }

    /// [`Hub::consumer`] with a lease of `lease`: the longest a dead holder
    /// keeps another handle from taking over. Call [`Consumer::next`] or
    /// [`Consumer::ack`] within it, or another handle may take over and the
    /// events after the last acknowledgement are delivered again.
    pub async fn consumer_with_lease(&self, name: &str, lease: Duration) -> Result<Consumer> {
        let valid = (1..=NAME_MAX).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Error::invalid_request(format!(
                "a consumer name is 1 to {NAME_MAX} ASCII letters, digits, '.', '_' or '-'"
            )));
        }
        let mut consumer = Consumer {
            hub: self.clone(),
            name: name.to_owned(),
            owner: uuid::Uuid::now_v7().to_string(),
            lease,
            held_since: None,
            delivered: 0,
            heads: self.inner.notifier.watch(),
        };
        consumer.hold().await?;
        Ok(consumer)
    }

    /// Every durable consumer, by name, with how far behind the log it is:
    /// one that never acknowledges shows here, its lag growing.
    pub async fn consumers(&self) -> Result<Vec<ConsumerLag>> {
        let head = self.store().head().await?;
        let records = self.store().consumers().await?;
        Ok(records
            .into_iter()
            .map(|c| ConsumerLag {
                lag: head.saturating_sub(c.cursor),
                held: c.owner.is_some(),
                cursor: c.cursor,
                name: c.name,
            })
            .collect())
    }

    /// Removes the durable consumer `name` (none is fine): retention no
    /// longer keeps events for it, and a handle that held it loses it.
    pub async fn remove_consumer(&self, name: &str) -> Result<()> {
        Ok(self.store().remove_consumer(name).await?)
    }
}

impl Consumer {
    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next events after those handed out, in `seq` order, at most
    /// `max` (at least one): waits until there are some, and while another
    /// handle holds the consumer. The first batch after taking the consumer
    /// over starts after its acknowledged cursor.
    pub async fn next(&mut self, max: usize) -> Result<Vec<Event>> {
        loop {
            if !self.hold().await? {
                tokio::time::sleep(self.lease / 4).await;
                continue;
            }
            let events = self.hub.store().events(self.delivered, max.max(1)).await?;
            if let Some(last) = events.last() {
                self.delivered = last.seq;
                return Ok(events);
            }
            let low_water = self.hub.store().low_water_mark().await?;
            if low_water > self.delivered {
                // Only a removed consumer lets retention pass its cursor.
                self.held_since = None;
                return Err(Error::ResyncRequired { since: self.delivered });
            }
            // Wake on a commit, or in time to renew the lease.
            let _ = tokio::time::timeout(self.lease / 4, self.heads.changed()).await;
        }
    }

    /// Acknowledges every event through `seq`: the stored cursor moves
    /// there (never back), and a later handle starts after it. `seq` must
    /// not be past what was handed out. Answers `unavailable` when another
    /// handle took the consumer over meanwhile: the events after the stored
    /// cursor go to that handle.
    pub async fn ack(&mut self, seq: u64) -> Result<()> {
        if seq > self.delivered {
            return Err(Error::invalid_request(format!(
                "seq {seq} is past the events handed out (through {})",
                self.delivered
            )));
        }
        let renewed = Instant::now();
        if self.hub.store().ack_consumer(&self.name, &self.owner, seq, self.lease).await? {
            self.held_since = Some(renewed);
            Ok(())
        } else {
            self.held_since = None;
            Err(Error::Unavailable(format!("consumer {} is held by another handle now", self.name)))
        }
    }

    /// Lets the consumer go now, for another handle to take over at once
    /// (after the acknowledged cursor), instead of when the lease runs out.
    pub async fn release(self) -> Result<()> {
        self.hub.store().ack_consumer(&self.name, &self.owner, 0, Duration::ZERO).await?;
        Ok(())
    }

    /// Takes or renews the lease when due: whether this handle holds it.
    /// Taking it (again) after the lease lapsed starts after the stored
    /// cursor: another handle may have held it meanwhile.
    async fn hold(&mut self) -> Result<bool> {
        if self.held_since.is_some_and(|since| since.elapsed() < self.lease / 3) {
            return Ok(true);
        }
        let renewed = Instant::now();
        let lapsed = self.held_since.is_none_or(|since| since.elapsed() >= self.lease);
        let store = self.hub.store();
        let start = store.head().await?;
        match store.claim_consumer(&self.name, &self.owner, self.lease, start).await? {
            Some(cursor) => {
                if lapsed {
                    self.delivered = cursor;
                }
                self.held_since = Some(renewed);
                Ok(true)
            }
            None => {
                self.held_since = None;
                Ok(false)
            }
        }
    }
}
