//! Making connections: one connector (configuration and TLS) for the pool,
//! the writer and the notifier's listener, each connection driven by its
//! own task that hands notifications to whoever asked for them.

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, Config, Notification, Socket};

/// Where the notifications of a connection go.
pub(crate) type NotificationSink = Box<dyn FnMut(Notification) + Send>;

/// Makes connections with one configuration and TLS connector.
pub(crate) trait Connector: Send + Sync + 'static {
    /// Connects with `application_name`, spawns the task that drives the
    /// connection (and hands its notifications to `sink`), and answers the
    /// client with that task. The task ends when the connection does.
    fn connect(
        &self,
        application_name: &str,
        sink: Option<NotificationSink>,
    ) -> BoxFuture<'static, Result<(Client, JoinHandle<()>), tokio_postgres::Error>>;
}

/// A [`Connector`] over a TLS connector `T` (`NoTls` for plain connections).
pub(crate) struct TlsConnector<T> {
    pub(crate) config: Config,
    pub(crate) tls: T,
}

impl<T> Connector for TlsConnector<T>
where
    T: MakeTlsConnect<Socket> + Clone + Sync + Send + 'static,
    T::Stream: Sync + Send,
    T::TlsConnect: Sync + Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    fn connect(
        &self,
        application_name: &str,
        sink: Option<NotificationSink>,
    ) -> BoxFuture<'static, Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        let mut config = self.config.clone();
        config.application_name(application_name);
        let tls = self.tls.clone();
        Box::pin(async move {
            let (client, connection) = config.connect(tls).await?;
            let driver = tokio::spawn(drive(connection, sink));
            Ok((client, driver))
        })
    }
}

/// Drives a connection until it ends, handing its notifications to `sink`.
async fn drive<S, T>(mut connection: tokio_postgres::Connection<S, T>, mut sink: Option<NotificationSink>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(notification)) => {
                if let Some(sink) = sink.as_mut() {
                    sink(notification);
                }
            }
            Ok(_) => {}
            // The connection failed: the client sees it closed.
            Err(_) => return,
        }
    }
}

/// Lets the pool make its connections with a [`Connector`].
pub(crate) struct PoolConnect {
    pub(crate) connector: std::sync::Arc<dyn Connector>,
    pub(crate) application_name: String,
}

impl deadpool_postgres::Connect for PoolConnect {
    fn connect(&self, _: &Config) -> BoxFuture<'_, Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        self.connector.connect(&self.application_name, None)
    }
}

/// Whether `name` is a schema name this crate accepts: an identifier of
/// `A-Z a-z 0-9 _`, not starting with a digit, 1 to 63 bytes, not in the
/// reserved `pg_` prefix. Such a name needs no escaping anywhere; it is
/// still always double-quoted, so its case is kept.
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.to_ascii_lowercase().starts_with("pg_")
}

/// A schema name quoted as an SQL identifier (the name is valid, see
/// [`valid_schema_name`], so it holds no quote).
pub(crate) fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["talk", "Talk_2", "_x", &"a".repeat(63)] {
            assert!(valid_schema_name(good), "{good}");
        }
        for bad in ["", "1talk", "talk-x", "ta lk", "t\"x", "pg_talk", "PG_x", &"a".repeat(64), "é"] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
