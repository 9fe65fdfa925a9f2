//! The log's retention: readers' holds, durable consumers, and the prune
//! that never passes either.

use std::time::{Duration, Instant};

use talk_core::store::ConsumerRecord;

use super::State;

/// A durable consumer: its cursor, and its owner's lease.
#[derive(Debug)]
#[cfg_attr(feature = "fault-injection", derive(Clone))]
pub(super) struct Consumer {
    cursor: u64,
    owner: String,
    until: Instant,
}

impl State {
    /// Sets `holder`'s hold at `position`, for `lease` from now.
    pub(crate) fn hold_events(&mut self, holder: &str, position: u64, lease: Option<Duration>) {
        let until = lease.map(|lease| Instant::now() + lease);
        self.holds.insert(holder.to_owned(), (position, until));
    }

    /// Ends `holder`'s hold.
    pub(crate) fn release_events(&mut self, holder: &str) {
        self.holds.remove(holder);
    }

    /// Takes or renews `owner`'s lease on the consumer `name` (made at
    /// `start` if new): its cursor, or `None` while another lease lives.
    pub(crate) fn claim_consumer(&mut self, name: &str, owner: &str, lease: Duration, start: u64) -> Option<u64> {
        let now = Instant::now();
        let consumer = self.consumers.entry(name.to_owned()).or_insert_with(|| Consumer {
            cursor: start,
            owner: owner.to_owned(),
            until: now,
        });
        if consumer.owner != owner && consumer.until > now {
            return None;
        }
        consumer.owner = owner.to_owned();
        consumer.until = now + lease;
        Some(consumer.cursor)
    }

    /// Moves the consumer `name`'s cursor forward and renews the lease, if
    /// `owner` owns it.
    pub(crate) fn ack_consumer(&mut self, name: &str, owner: &str, cursor: u64, lease: Duration) -> bool {
        match self.consumers.get_mut(name) {
            Some(consumer) if consumer.owner == owner => {
                consumer.cursor = consumer.cursor.max(cursor);
                consumer.until = Instant::now() + lease;
                true
            }
            _ => false,
        }
    }

    /// Every consumer, by name.
    pub(crate) fn consumers(&self) -> Vec<ConsumerRecord> {
        let now = Instant::now();
        let record = |(name, c): (&String, &Consumer)| ConsumerRecord {
            name: name.clone(),
            cursor: c.cursor,
            owner: (c.until > now).then(|| c.owner.clone()),
        };
        self.consumers.iter().map(record).collect()
    }

    /// Removes the consumer `name`.
    pub(crate) fn remove_consumer(&mut self, name: &str) {
        self.consumers.remove(name);
    }

    /// Removes the events with `seq ≤ through` (at most the head) and moves
    /// the low-water mark there, never past a live hold nor a consumer's
    /// cursor; a `through` at or below the mark changes nothing.
    pub(crate) fn prune_events(&mut self, through: u64) {
        let now = Instant::now();
        let held = self.holds.values().filter(|(_, until)| until.is_none_or(|until| until > now)).map(|(at, _)| *at);
        let held = held.chain(self.consumers.values().map(|c| c.cursor));
        let through = held.fold(through.min(self.head()), u64::min);
        if through <= self.low_water_mark {
            return;
        }
        let count = usize::try_from(through - self.low_water_mark).unwrap_or(usize::MAX).min(self.log.len());
        self.log.drain(..count);
        self.low_water_mark = through;
        for seqs in self.talk_events.values_mut().chain(self.message_events.values_mut()) {
            let pruned = seqs.partition_point(|&seq| seq <= through);
            seqs.drain(..pruned);
        }
        self.talk_events.retain(|_, seqs| !seqs.is_empty());
        self.message_events.retain(|_, seqs| !seqs.is_empty());
    }
}
