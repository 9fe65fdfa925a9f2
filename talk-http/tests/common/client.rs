//! A WebSocket client of the test server.

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::{PATIENCE, next_text, token};

pub struct Client {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub async fn connect(address: SocketAddr, agent: &str) -> Client {
    let url = format!("ws://{address}/v1.0/ws?token={}", token(agent));
    let (socket, response) = connect_async(url).await.expect("the upgrade");
    assert_eq!(response.status().as_u16(), 101);
    Client { socket }
}

impl Client {
    pub async fn send(&mut self, frame: Value) {
        self.socket.send(Message::text(frame.to_string())).await.expect("sent");
    }

    /// The next text frame, as JSON.
    pub async fn next(&mut self) -> Value {
        next_text(&mut self.socket).await
    }

    /// Subscribes; answers the replayed events and the `subscribed` seq.
    pub async fn subscribe(&mut self, talk: &str, since: Option<u64>) -> (Vec<Value>, u64) {
        let mut frame = json!({"type": "subscribe", "talk_id": talk});
        if let Some(since) = since {
            frame["since"] = json!(since);
        }
        self.send(frame).await;
        let mut replayed = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["type"] == "subscribed" {
                assert_eq!(frame["talk_id"], talk);
                return (replayed, frame["seq"].as_u64().expect("a seq"));
            }
            assert!(frame["seq"].is_u64(), "an event, not {frame}");
            replayed.push(frame);
        }
    }

    /// The next `count` frames.
    pub async fn take(&mut self, count: usize) -> Vec<Value> {
        let mut frames = Vec::with_capacity(count);
        for _ in 0..count {
            frames.push(self.next().await);
        }
        frames
    }

    /// Reads until the server closes; answers the close code, if any.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(PATIENCE, self.socket.next()).await.expect("the end in time") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }
}
