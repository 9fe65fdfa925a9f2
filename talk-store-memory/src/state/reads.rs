//! Read state: markers and the numbers the counts are made of, from the
//! store's ordinals, never a scan of a talk's messages.

use super::*;

impl State {
    pub(crate) fn read_marker(&self, id: ParticipantId) -> Option<ReadMarker> {
        let stored = self.markers.get(&id)?;
        let record = self.participants.get(&id)?;
        let read_message_id = self
            .all_messages
            .get(&record.talk_id)
            .and_then(|by_seq| by_seq.range(..=stored.read_seq).next_back())
            .map(|(_, id)| *id);
        Some(ReadMarker {
            participant_id: id,
            talk_id: record.talk_id,
            agent_id: record.agent_id.clone(),
            participant_seq: record.seq,
            read_seq: stored.read_seq,
            read_message_id,
            tm_read: stored.tm_read,
        })
    }

    pub(crate) fn read_markers(&self, talk: TalkId, after: Cursor, limit: usize) -> Vec<ReadMarker> {
        let Some(records) = self.talk_participants.get(&talk) else { return Vec::new() };
        ascending(records, after)
            .filter(|id| self.participants.get(id).is_some_and(Participant::is_active))
            .filter_map(|id| self.read_marker(*id))
            .take(limit)
            .collect()
    }

    pub(crate) fn read_numbers(&self, agent: &AgentId, talks: Option<&[TalkId]>) -> Vec<ReadNumbers> {
        let records: Vec<ParticipantId> = match talks {
            Some(talks) => talks.iter().filter_map(|talk| self.active_record(*talk, agent)).collect(),
            None => self
                .agent_talks
                .get(agent)
                .into_iter()
                .flat_map(|talks| talks.values())
                .filter_map(|talk| self.active_record(*talk, agent))
                .collect(),
        };
        let above = |set: Option<&BTreeSet<u64>>, marker: u64| {
            set.map_or(0, |set| set.range((Bound::Excluded(marker), Bound::Unbounded)).count() as u64)
        };
        records
            .into_iter()
            .filter_map(|id| {
                let record = self.participants.get(&id)?;
                let marker = self.markers.get(&id)?;
                let talk = record.talk_id;
                let total = self.normal.get(&talk).and_then(|by_seq| by_seq.values().next_back()).copied().unwrap_or(0);
                let key = (talk, agent.clone());
                let deleted_after = self.deleted_normal.get(&talk).map_or(0, |deleted| {
                    deleted
                        .range((Bound::Excluded(marker.read_seq), Bound::Unbounded))
                        .filter(|(_, author)| *author != agent)
                        .count() as u64
                });
                Some(ReadNumbers {
                    talk_id: talk,
                    normal_after: total.saturating_sub(marker.read_ord),
                    own_after: above(self.own_normal.get(&key), marker.read_seq),
                    deleted_after,
                    mentions_after: above(self.mentions.get(&key), marker.read_seq),
                })
            })
            .collect()
    }
}
