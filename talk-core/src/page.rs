//! Pages of lists: a page size, an opaque token that continues the same list,
//! keyset on `seq`.

use crate::error::Error;
use crate::limits::Limits;

/// What a caller asks of a list: how many items, and where to continue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page; `None` for the default. Must be 1 to the limit.
    pub size: Option<u32>,
    /// The `next_page_token` of the previous page of the same list.
    pub token: Option<String>,
}

impl PageRequest {
    /// The first page with the default size.
    pub fn first() -> Self {
        Self::default()
    }

    /// The first page of `size` items.
    pub fn of_size(size: u32) -> Self {
        Self { size: Some(size), token: None }
    }

    /// The page after `page`, of the same size.
    pub fn after<T>(&self, page: &Page<T>) -> Self {
        Self { size: self.size, token: Some(page.next_page_token.clone()) }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Continues the list; `""` when there is nothing more.
    pub next_page_token: String,
}

impl<T> Page<T> {
    /// Whether the list goes on.
    pub fn has_more(&self) -> bool {
        !self.next_page_token.is_empty()
    }
}

/// A list's identity, so that a token from one list is refused by another:
/// its kind (one letter), its scope (a talk or message id, with filters),
/// and the `seq` where it continues.
pub(crate) struct ListKey<'a> {
    pub(crate) kind: &'a str,
    pub(crate) scope: String,
}

/// A validated page request: the size and the cursor.
pub(crate) struct Keyset {
    pub(crate) size: usize,
    pub(crate) cursor: Option<u64>,
}

impl ListKey<'_> {
    /// Validates a page request for this list.
    pub(crate) fn keyset(&self, request: &PageRequest, limits: &Limits) -> Result<Keyset, Error> {
        let size = crate::syntax::page_size(request.size, limits)?;
        let cursor = match request.token.as_deref() {
            None | Some("") => None,
            Some(token) => Some(
                self.decode(token).ok_or_else(|| Error::invalid_request("page_token does not continue this list"))?,
            ),
        };
        Ok(Keyset { size: size as usize, cursor })
    }

    /// The page of `items`, fetched with one more than the page size to know
    /// whether the list goes on.
    pub(crate) fn page<T>(&self, mut items: Vec<T>, keyset: &Keyset, seq_of: impl Fn(&T) -> u64) -> Page<T> {
        let more = items.len() > keyset.size;
        items.truncate(keyset.size);
        let next_page_token = match items.last() {
            Some(last) if more => self.encode(seq_of(last)),
            _ => String::new(),
        };
        Page { items, next_page_token }
    }

    fn plain(&self, seq: u64) -> String {
        format!("{}|{}|{}", self.kind, self.scope, seq)
    }

    fn encode(&self, seq: u64) -> String {
        self.plain(seq).bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn decode(&self, token: &str) -> Option<u64> {
        if !token.len().is_multiple_of(2) || !token.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> =
            (0..token.len()).step_by(2).map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok()).collect();
        let text = String::from_utf8(bytes?).ok()?;
        let (prefix, seq) = text.rsplit_once('|')?;
        (prefix == format!("{}|{}", self.kind, self.scope)).then(|| seq.parse().ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, scope: &str) -> ListKey<'static> {
        ListKey { kind: Box::leak(kind.to_owned().into_boxed_str()), scope: scope.to_owned() }
    }

    #[test]
    fn token_continues_its_own_list_only() {
        let limits = Limits::default();
        let talks = key("t", "agent-1|active");
        let token = talks.encode(42);
        let request = PageRequest { size: None, token: Some(token.clone()) };
        assert_eq!(talks.keyset(&request, &limits).ok().and_then(|k| k.cursor), Some(42));
        let other = key("t", "agent-1|closed");
        assert!(other.keyset(&request, &limits).is_err());
        let forged = PageRequest { size: None, token: Some("zz".into()) };
        assert!(talks.keyset(&forged, &limits).is_err());
    }

    #[test]
    fn page_size_must_be_between_one_and_the_limit() {
        let limits = Limits::default();
        let list = key("m", "x");
        for bad in [0, 101, u32::MAX] {
            assert!(list.keyset(&PageRequest::of_size(bad), &limits).is_err());
        }
        assert_eq!(list.keyset(&PageRequest::first(), &limits).map(|k| k.size).ok(), Some(50));
        assert_eq!(list.keyset(&PageRequest::of_size(100), &limits).map(|k| k.size).ok(), Some(100));
    }

    #[test]
    fn a_full_last_page_has_no_token() {
        let list = key("m", "x");
        let keyset = Keyset { size: 2, cursor: None };
        let page = list.page(vec![1_u64, 2], &keyset, |s| *s);
        assert_eq!(page.next_page_token, "");
        let page = list.page(vec![1_u64, 2, 3], &keyset, |s| *s);
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.has_more());
    }
}
