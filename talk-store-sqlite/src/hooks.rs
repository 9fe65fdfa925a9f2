//! The writer's side of fault injection, in one place. With the feature
//! `fault-injection`, [`Faults`] is the store's fail-point state
//! ([`crate::faults`]) and [`fail_point!`] asks it whether to fail; without
//! it, [`Faults`] is empty, its hooks do what the writer does anyway, and
//! [`fail_point!`] is `Ok(())`: no test code runs in a production build.

#[cfg(feature = "fault-injection")]
pub(crate) use crate::faults::FaultState as Faults;

/// Without the feature `fault-injection`: no fail points.
#[cfg(not(feature = "fault-injection"))]
#[derive(Debug, Default)]
pub(crate) struct Faults;

#[cfg(not(feature = "fault-injection"))]
impl Faults {
    /// Whether a test holds the writer: never.
    pub(crate) fn is_held(&self) -> bool {
        false
    }

    /// What the writer thread does with the first command of a batch in
    /// hand, before it forms the batch: nothing.
    pub(crate) fn before_batch(&self, _conn: &rusqlite::Connection) {}

    /// Commits the batch's transaction.
    pub(crate) fn commit(&self, conn: &rusqlite::Connection) -> Result<(), crate::error::Error> {
        Ok(crate::writer::exec(conn, crate::sql::COMMIT)?)
    }
}

/// `fail_point!(faults, conn, index, Point)`: `Err` with the failure a test
/// armed at `FailPoint::Point` for the change set at `index` of its batch
/// (after doing what the failure does to the connection `conn`), else
/// `Ok(())`. Without the feature `fault-injection`, always `Ok(())`.
macro_rules! fail_point {
    ($faults:expr, $conn:expr, $index:expr, $point:ident $(($arg:expr))?) => {{
        #[cfg(feature = "fault-injection")]
        let fired = $faults.fire($conn, $crate::faults::FailPoint::$point $(($arg))?, $index);
        #[cfg(not(feature = "fault-injection"))]
        let fired: Result<(), $crate::error::Error> = {
            let _ = (&$faults, $conn, $index $(, $arg)?);
            Ok(())
        };
        fired
    }};
}

pub(crate) use fail_point;
