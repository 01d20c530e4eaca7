//! A server connection with a hard end: `max_connection_age` asks a client
//! to go away (graceful GOAWAY) but lets calls in flight finish, and a
//! server stream can run for as long as its client keeps it. Past the age
//! plus a grace, this wrapper fails the connection's reads and writes, so
//! the server closes it and the streams on it end (their clients see
//! UNAVAILABLE and reconnect, handshaking with current certificates and
//! CRLs).

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

/// `inner`, closed at its end, if it has one.
#[derive(Debug)]
pub struct Aged<T> {
    inner: T,
    end: Option<Pin<Box<Sleep>>>,
}

impl<T> Aged<T> {
    /// Wraps `inner`; its reads and writes fail from `end` on.
    pub fn new(inner: T, end: Option<Instant>) -> Self {
        Self {
            inner,
            end: end.map(|end| Box::pin(tokio::time::sleep_until(end))),
        }
    }

    /// Whether the end has come; registers `cx` to be woken at it.
    fn ended(&mut self, cx: &mut Context<'_>) -> bool {
        self.end.as_mut().is_some_and(|end| end.as_mut().poll(cx).is_ready())
    }
}

fn past_age() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection past its maximum age and grace")
}

impl<T: AsyncRead + Unpin> AsyncRead for Aged<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        // The server always has a read pending, so this wakes it at the end.
        if self.ended(cx) {
            return Poll::Ready(Err(past_age()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Aged<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.ended(cx) {
            return Poll::Ready(Err(past_age()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.ended(cx) {
            return Poll::Ready(Err(past_age()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: Connected> Connected for Aged<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn reads_and_writes_fail_from_the_end_on_also_while_waiting() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut aged = Aged::new(near, Some(Instant::now() + Duration::from_millis(200)));
        aged.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        far.read_exact(&mut buf).await.unwrap();
        // A read waiting for data is woken and failed at the end.
        let started = Instant::now();
        let error = aged.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );
        assert!(aged.write_all(b"late").await.is_err());
    }
}
