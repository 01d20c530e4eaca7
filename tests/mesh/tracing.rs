//! One trace per external request: a REST transfer through the gateway is
//! one connected trace across the gateway, the transfer service, its call
//! to the account service and the ledger's database transaction.

use bank_mesh_tests::TestMesh;
use bank_mesh_tests::money::rid;
use http::{Method, StatusCode};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use serde_json::json;

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_transfer_is_one_connected_trace() {
    let exporter = InMemorySpanExporter::default();
    let telemetry = bank_telemetry::init_with_exporter(exporter.clone());
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 1_000, "USD").await;
    telemetry.flush();
    exporter.reset();

    // A caller's own trace context is continued.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{caller_trace}-00f067aa0ba902b7-01");
    let bearer = format!("Bearer {alice}");
    let body = serde_json::to_vec(&json!({
        "requestId": rid(),
        "fromAccountId": a.account_id,
        "toAccountId": b.account_id,
        "amount": {"amountMinor": "250", "currency": "USD"}
    }))
    .unwrap();
    let reply = mesh
        .rest_raw(
            Method::POST,
            "/v1/transfers",
            body,
            &[("authorization", &bearer), ("traceparent", &traceparent)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    telemetry.flush();
    let spans = exporter.get_finished_spans().unwrap();

    let gateway = named(&spans, "POST /v1/transfers");
    assert_eq!(
        gateway.len(),
        1,
        "one gateway span: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let gateway = gateway[0];
    let trace = gateway.span_context.trace_id();
    assert_eq!(
        trace,
        TraceId::from_hex(caller_trace).unwrap(),
        "the caller's trace is continued"
    );
    assert_eq!(gateway.parent_span_id, SpanId::from_hex("00f067aa0ba902b7").unwrap());

    let transfer = named(&spans, "/bank.transfer.v1.TransferService/CreateTransfer");
    assert_eq!(transfer.len(), 1);
    let transfer = transfer[0];
    assert_eq!(transfer.span_context.trace_id(), trace);
    assert_eq!(
        transfer.parent_span_id,
        gateway.span_context.span_id(),
        "transfer is a child of the gateway"
    );
    assert_eq!(
        attribute(transfer, "rpc.service").as_deref(),
        Some("bank.transfer.v1.TransferService")
    );
    assert_eq!(attribute(transfer, "rpc.method").as_deref(), Some("CreateTransfer"));
    assert_eq!(attribute(transfer, "rpc.grpc.status_code").as_deref(), Some("0"));
    assert!(attribute(transfer, "request_id").is_some_and(|id| !id.is_empty()));

    let account = named(&spans, "/bank.account.v1.AccountInternalService/CheckTransferAccess");
    assert_eq!(account.len(), 1, "transfer asked account once");
    assert_eq!(account[0].span_context.trace_id(), trace);
    // The account span descends from the transfer span.
    let by_id: std::collections::HashMap<SpanId, &SpanData> =
        spans.iter().map(|s| (s.span_context.span_id(), s)).collect();
    let mut cursor = account[0].parent_span_id;
    let mut chain = Vec::new();
    while let Some(span) = by_id.get(&cursor) {
        chain.push(span.name.to_string());
        cursor = span.parent_span_id;
    }
    assert!(
        chain.contains(&transfer.name.to_string()),
        "account span under transfer: {chain:?}"
    );

    let db = named(&spans, "ledger post");
    assert!(
        db.iter().any(|s| s.span_context.trace_id() == trace),
        "the ledger transaction is in the trace"
    );
    mesh.stop().await;
}
