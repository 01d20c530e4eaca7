//! Calling a backend method by path with already-encoded protobuf bytes:
//! the REST side transcodes JSON to bytes with the descriptor pool, so the
//! gRPC call itself needs no generated types.

use bytes::{Buf as _, BufMut as _, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Status, Streaming};

/// A codec passing message bytes through untouched.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

/// Encoder of [`RawCodec`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RawEncoder;

/// Decoder of [`RawCodec`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

fn path(full_method: &str) -> Result<http::uri::PathAndQuery, Status> {
    http::uri::PathAndQuery::try_from(full_method).map_err(|_| Status::internal("bad method path"))
}

/// A unary call of `full_method` (`/pkg.Service/Method`).
pub async fn unary(
    channel: bank_mtls::MeshChannel,
    full_method: &str,
    request: tonic::Request<Bytes>,
) -> Result<tonic::Response<Bytes>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("backend unavailable: {e}")))?;
    grpc.unary(request, path(full_method)?, RawCodec).await
}

/// A server-streaming call of `full_method`.
pub async fn server_streaming(
    channel: bank_mtls::MeshChannel,
    full_method: &str,
    request: tonic::Request<Bytes>,
) -> Result<tonic::Response<Streaming<Bytes>>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("backend unavailable: {e}")))?;
    grpc.server_streaming(request, path(full_method)?, RawCodec).await
}
