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
#[derive(Debug)]
pub struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    ended: bool,
}

impl DeadlineBody {
    /// Wraps `inner`, cut at `until`.
    pub fn new(inner: Body, until: tokio::time::Instant) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(until)),
            ended: false,
        }
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
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                self.ended = frame.is_trailers();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => {
                self.ended = true;
                Poll::Ready(other)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.ended = true;
                    let mut trailers = http::HeaderMap::new();
                    let status = crate::deadline::exceeded();
                    if status.add_header(&mut trailers).is_err() {
                        return Poll::Ready(Some(Err(status)));
                    }
                    Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
