//! Who may type where.

use crate::error::Error;
use crate::id::TalkId;

/// Typing (or stopping) in `talk`: the typist must be an active participant
/// of a talk that is not closed.
pub(crate) fn may_type(talk: TalkId, active: bool, closed: bool) -> Result<(), Error> {
    if !active {
        return Err(Error::NotParticipant);
    }
    if closed {
        return Err(Error::TalkClosed(talk));
    }
    Ok(())
}
