//! The HTTP endpoints, one file per resource. Each handler extracts in the
//! API's order of checks (the caller, then path ids, then the body), calls
//! the Hub once, and converts the answer to wire types.

pub(crate) mod events;
pub(crate) mod messages;
pub(crate) mod meta;
pub(crate) mod participants;
pub(crate) mod presence;
pub(crate) mod reactions;
pub(crate) mod reads;
pub(crate) mod search;
pub(crate) mod talks;
