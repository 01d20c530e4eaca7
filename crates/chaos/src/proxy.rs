//! A TCP proxy in front of one service that can be made slow: every chunk
//! it forwards, in either direction, waits for the current delay first.
//! The mesh's peers reach the service through it, so a delay reaches every
//! caller; mTLS passes through untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Size of one forwarded chunk.
const CHUNK_BYTES: usize = 16 * 1024;
/// Limit of the connection to the backend.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A running proxy.
#[derive(Debug, Clone)]
pub struct DelayProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    delay_ms: Arc<AtomicU64>,
}

impl DelayProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `backend`
    /// until the runtime ends.
    pub async fn start(backend: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let delay = delay.clone();
                tokio::spawn(async move {
                    let Ok(Ok(server)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await
                    else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::select! {
                        () = pump(client_read, server_write, delay.clone()) => {}
                        () = pump(server_read, client_write, delay) => {}
                    }
                });
            }
        });
        Ok(Self { addr, delay_ms })
    }

    /// Sets the delay of every chunk from now on (0: none).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Arc<AtomicU64>,
) {
    let mut buffer = vec![0_u8; CHUNK_BYTES];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let ms = delay.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
