//! Limits on sizes and counts, with the defaults of the API contract.

/// Limits the [`Hub`](crate::Hub) enforces. `Limits::default()` holds the
/// documented defaults; an embedder may change any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest talk name, in characters (a group talk's name needs at least one).
    pub talk_name_max: usize,
    /// Longest talk detail, in characters.
    pub talk_detail_max: usize,
    /// Longest message text, in characters.
    pub message_text_max: usize,
    /// Most medias on one message.
    pub medias_per_message_max: usize,
    /// Longest media URL, in characters.
    pub media_url_max: usize,
    /// Longest media name, in characters.
    pub media_name_max: usize,
    /// Longest media MIME type, in characters.
    pub media_type_max: usize,
    /// Most active participants in one talk, the creator included.
    pub participants_per_talk_max: usize,
    /// Most distinct emoji on one message.
    pub distinct_emoji_per_message_max: usize,
    /// Most agents one message mentions (after merging duplicates).
    pub mentions_per_message_max: usize,
    /// Most active participants of a talk whose read receipts (`talk_read`)
    /// go to every subscriber; in a larger talk they go to the reader's own
    /// subscriptions only.
    pub read_receipts_participants_max: usize,
    /// Most agent ids listed inline per reaction of a message (`count` stays exact).
    pub reactors_listed_per_emoji: usize,
    /// Longest `q` of a search or of the public talk directory, in characters.
    pub query_max: usize,
    /// Default page size of every list.
    pub page_size_default: u32,
    /// Largest page size of every list.
    pub page_size_max: u32,
    /// Longest search query text (`q`), in characters.
    pub search_query_max: usize,
    /// Most agents one presence watch (a `presence_subscribe`) follows.
    pub presence_watch_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            talk_name_max: 200,
            talk_detail_max: 2000,
            message_text_max: 4000,
            medias_per_message_max: 10,
            media_url_max: 2048,
            media_name_max: 255,
            media_type_max: 255,
            participants_per_talk_max: 1000,
            distinct_emoji_per_message_max: 50,
            mentions_per_message_max: 50,
            read_receipts_participants_max: 100,
            reactors_listed_per_emoji: 100,
            query_max: 200,
            page_size_default: 50,
            page_size_max: 100,
            search_query_max: 200,
            presence_watch_max: 200,
        }
    }
}
