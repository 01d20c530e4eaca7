//! Response bodies: one that holds a concurrency permit until it is
//! finished, so streaming responses count against the gateway's limit for
//! their life, and one that ends a server stream at its route's deadline.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;
use tonic::body::Body;

/// `Body` plus the permit it releases when dropped.
#[derive(Debug)]
pub struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl PermitBody {
    /// Wraps `inner`.
    pub fn new(inner: Body, permit: OwnedSemaphorePermit) -> Self {
        Self { inner, _permit: permit }
    }
}

impl HttpBody for PermitBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that ends with a DEADLINE_EXCEEDED status (trailers)
/// when its deadline passes first: tonic servers bound only the time to a
/// stream's first answer by `grpc-timeout`, so the gateway bounds the rest
/// of a server stream whose route has a deadline.
///
/// The cut falls between two gRPC messages, never inside one: a message
/// can span several DATA frames, and trailers after half a message are a
/// framing error to the client, not a status. When the deadline passes
/// mid-message, the rest of that message is still passed on (and nothing
/// after it), for at most [`crate::deadline::GRACE`]; a backend that stalls
/// longer than that inside a message gets the stream reset.
#[derive(Debug)]
pub struct DeadlineBody {
    inner: Body,
    /// The deadline; once it has passed, the deadline plus the grace.
    timer: Pin<Box<tokio::time::Sleep>>,
    framing: Framing,
    expired: bool,
    ended: bool,
}

impl DeadlineBody {
    /// Wraps `inner`, cut at `until`.
    pub fn new(inner: Body, until: tokio::time::Instant) -> Self {
        Self {
            inner,
            timer: Box::pin(tokio::time::sleep_until(until)),
            framing: Framing::default(),
            expired: false,
            ended: false,
        }
    }

    /// The deadline passed: what remains is the grace for finishing the
    /// message under way.
    fn expire(&mut self) {
        self.expired = true;
        let grace_end = self.timer.deadline() + crate::deadline::GRACE;
        self.timer.as_mut().reset(grace_end);
    }

    fn deadline_trailers(&mut self) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
        self.ended = true;
        let mut trailers = http::HeaderMap::new();
        let status = crate::deadline::exceeded();
        if status.add_header(&mut trailers).is_err() {
            return Poll::Ready(Some(Err(status)));
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }
}

impl HttpBody for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        // Checked on every frame, not only when the backend is idle: a
        // backend that always has the next message ready never lets the
        // timer below be polled.
        if !self.expired && tokio::time::Instant::now() >= self.timer.deadline() {
            self.expire();
        }
        if self.expired && self.framing.at_boundary() {
            return self.deadline_trailers();
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let frame = match frame.into_data() {
                    Ok(mut data) => {
                        let expired = self.expired;
                        let taken = self.framing.feed(&data, expired);
                        // Past the deadline nothing after the current message goes out.
                        data.truncate(taken);
                        Frame::data(data)
                    }
                    Err(frame) => {
                        self.ended = frame.is_trailers();
                        frame
                    }
                };
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => {
                self.ended = true;
                Poll::Ready(other)
            }
            Poll::Pending => {
                if !self.expired {
                    if self.timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    if self.framing.at_boundary() {
                        return self.deadline_trailers();
                    }
                    self.expire();
                }
                match self.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.ended = true;
                        tracing::debug!("server stream stalled inside a message past its deadline");
                        Poll::Ready(Some(Err(crate::deadline::exceeded())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a stream of gRPC messages (a 5-byte prefix: flag and big-endian
/// length, then the payload) stands between DATA frames.
#[derive(Debug, Default)]
struct Framing {
    prefix: [u8; 5],
    /// Bytes of the current message's prefix seen so far (0..5).
    prefix_seen: usize,
    /// Payload bytes of the current message still to come.
    payload_left: u64,
}

impl Framing {
    /// Whether the bytes so far end exactly after a whole message.
    fn at_boundary(&self) -> bool {
        self.prefix_seen == 0 && self.payload_left == 0
    }

    /// Takes in `data` and returns how many of its bytes were taken: all of
    /// them, or with `stop_at_boundary` only those up to the end of the
    /// message under way (none when there is none).
    fn feed(&mut self, data: &[u8], stop_at_boundary: bool) -> usize {
        let mut taken = 0;
        while taken < data.len() {
            if stop_at_boundary && self.at_boundary() {
                break;
            }
            let rest = &data[taken..];
            if self.payload_left > 0 {
                let n = usize::try_from(self.payload_left).map_or(rest.len(), |left| left.min(rest.len()));
                self.payload_left -= n as u64;
                taken += n;
                continue;
            }
            let n = (5 - self.prefix_seen).min(rest.len());
            self.prefix[self.prefix_seen..self.prefix_seen + n].copy_from_slice(&rest[..n]);
            self.prefix_seen += n;
            taken += n;
            if self.prefix_seen == 5 {
                self.prefix_seen = 0;
                let [_, a, b, c, d] = self.prefix;
                self.payload_left = u64::from(u32::from_be_bytes([a, b, c, d]));
            }
        }
        taken
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::BodyExt as _;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    use super::*;

    fn message(payload: &[u8]) -> Vec<u8> {
        let mut framed = vec![0];
        framed.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        framed.extend_from_slice(payload);
        framed
    }

    /// A body fed by the returned sender, cut at `after` from now.
    fn cut_body(after: Duration) -> (mpsc::Sender<Result<Frame<Bytes>, tonic::Status>>, DeadlineBody) {
        let (tx, rx) = mpsc::channel(8);
        let inner = http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        (tx, DeadlineBody::new(Body::new(inner), Instant::now() + after))
    }

    /// The data the body yields and how it ends: `Ok(grpc-status)` from
    /// trailers, `Err` when it failed.
    async fn drain(mut body: DeadlineBody) -> (Vec<u8>, Result<Option<String>, tonic::Status>) {
        let mut data = Vec::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(chunk) => data.extend_from_slice(&chunk),
                    Err(frame) => {
                        let trailers = frame.into_trailers().unwrap();
                        let status = trailers.get("grpc-status").map(|v| v.to_str().unwrap().to_owned());
                        assert!(body.frame().await.is_none(), "nothing follows the trailers");
                        return (data, Ok(status));
                    }
                },
                Err(status) => return (data, Err(status)),
            }
        }
        (data, Ok(None))
    }

    #[test]
    fn framing_finds_message_boundaries_across_chunks() {
        let mut stream = message(b"hello");
        stream.extend(message(b""));
        stream.extend(message(&[7; 300]));
        for split in 0..stream.len() {
            let mut framing = Framing::default();
            let (a, b) = stream.split_at(split);
            assert_eq!(framing.feed(a, false), a.len());
            assert_eq!(framing.feed(b, false), b.len());
            assert!(framing.at_boundary(), "split at {split}");
        }
        // Stopping at a boundary takes exactly the message under way.
        let mut framing = Framing::default();
        assert_eq!(framing.feed(&stream[..3], false), 3);
        let hello = message(b"hello").len();
        assert_eq!(framing.feed(&stream[3..], true), hello - 3);
        assert!(framing.at_boundary());
        assert_eq!(framing.feed(&stream[hello..], true), 0);
    }

    #[tokio::test]
    async fn a_deadline_inside_a_message_cuts_after_that_message() {
        let (tx, body) = cut_body(Duration::from_millis(50));
        let first = message(&[1; 100]);
        let second = message(&[2; 10]);
        let sender = tokio::spawn(async move {
            tx.send(Ok(Frame::data(Bytes::copy_from_slice(&first[..40]))))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(120)).await;
            // The rest of the first message shares a frame with a second one.
            let mut rest = first[40..].to_vec();
            rest.extend_from_slice(&second);
            tx.send(Ok(Frame::data(rest.into()))).await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(tx);
        });
        let (data, end) = drain(body).await;
        sender.abort();
        assert_eq!(data, message(&[1; 100]), "the whole first message and nothing more");
        assert_eq!(end.unwrap().as_deref(), Some("4"), "then DEADLINE_EXCEEDED");
    }

    #[tokio::test]
    async fn a_deadline_between_messages_ends_the_stream_at_once() {
        let (tx, body) = cut_body(Duration::from_millis(50));
        tx.send(Ok(Frame::data(message(b"whole").into()))).await.unwrap();
        let started = Instant::now();
        let (data, end) = drain(body).await;
        assert_eq!(data, message(b"whole"));
        assert_eq!(end.unwrap().as_deref(), Some("4"));
        assert!(
            started.elapsed() < crate::deadline::GRACE,
            "no grace wait at a boundary"
        );
        drop(tx);
    }

    #[tokio::test]
    async fn a_backend_that_never_pauses_is_cut_too() {
        // Every frame is ready at once: the body never waits on its backend.
        let frames = futures::stream::iter(
            std::iter::repeat_with(|| Ok::<_, tonic::Status>(Frame::data(Bytes::from(message(b"tick")))))
                .take(2_000_000),
        );
        let body = DeadlineBody::new(
            Body::new(http_body_util::StreamBody::new(frames)),
            Instant::now() + Duration::from_millis(20),
        );
        let (data, end) = drain(body).await;
        assert_eq!(
            end.unwrap().as_deref(),
            Some("4"),
            "cut with DEADLINE_EXCEEDED, not run to the end"
        );
        assert!(data.len() < 2_000_000 * message(b"tick").len());
        assert_eq!(data.len() % message(b"tick").len(), 0, "whole messages only");
    }

    #[tokio::test]
    async fn a_backend_stalled_inside_a_message_gets_the_stream_failed_after_the_grace() {
        let (tx, body) = cut_body(Duration::from_millis(50));
        let partial = message(&[3; 64]);
        tx.send(Ok(Frame::data(Bytes::copy_from_slice(&partial[..20]))))
            .await
            .unwrap();
        let started = Instant::now();
        let (data, end) = drain(body).await;
        assert_eq!(data, partial[..20]);
        assert_eq!(end.unwrap_err().code(), tonic::Code::DeadlineExceeded);
        assert!(started.elapsed() >= crate::deadline::GRACE, "{:?}", started.elapsed());
        drop(tx);
    }
}
