//! The OpenAPI document: valid JSON, every route listed once, every $ref
//! resolves, proto3 JSON types and proto comments in the schemas.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::transcoder;

fn document() -> Value {
    // Through bytes, as the gateway serves it.
    let bytes = serde_json::to_vec(&transcoder().openapi()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn is_openapi_3_and_lists_every_route_once() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["info"]["title"].is_string());
    let mut operation_ids = HashSet::new();
    let mut operations = 0;
    for route in transcoder().routes() {
        let op = &doc["paths"][route.openapi_path()][route.http_method().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing",
            route.http_method(),
            route.openapi_path()
        );
        let id = op["operationId"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{}_", route.method().parent_service().name())),
            "{id}"
        );
        assert!(operation_ids.insert(id.to_owned()), "duplicate operationId {id}");
        assert_eq!(op["tags"][0], route.method().parent_service().name());
        operations += 1;
    }
    let listed: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(listed, operations);
    assert_eq!(
        doc["paths"]["/v1/transfers/{transfer_id}:post"]["post"]["operationId"],
        "TransferService_PostPendingTransfer"
    );
    assert_eq!(
        doc["paths"]["/v1/accounts/{account_id}"]["get"]["operationId"],
        "AccountService_GetAccount"
    );
    assert_eq!(
        doc["paths"]["/v1/admin/accounts/{account_id}"]["get"]["operationId"],
        "AccountService_GetAccount_2"
    );
}

#[test]
fn every_ref_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 100);
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("foreign ref {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
    }
}

#[test]
fn every_path_template_parameter_is_declared() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for name in &names {
                assert!(
                    params
                        .iter()
                        .any(|p| p["in"] == "path" && p["name"] == *name && p["required"] == true),
                    "{method} {path}: path parameter {name} not declared"
                );
            }
            let declared = params.iter().filter(|p| p["in"] == "path").count();
            assert_eq!(declared, names.len(), "{method} {path}");
            assert!(op["responses"]["200"].is_object() && op["responses"]["default"].is_object());
        }
    }
}

#[test]
fn schemas_follow_proto3_json() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let money = &schemas["bank.common.v1.Money"];
    assert_eq!(money["properties"]["amountMinor"]["type"], "string");
    assert_eq!(money["properties"]["amountMinor"]["format"], "int64");
    assert!(
        money["description"].as_str().unwrap().len() > 10,
        "message comments become descriptions"
    );
    assert!(
        money["properties"]["amountMinor"]["description"].is_string(),
        "field comments too"
    );
    let status = &schemas["bank.transfer.v1.TransferStatus"];
    assert_eq!(status["type"], "string");
    assert!(
        status["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("TRANSFER_STATUS_POSTED"))
    );
    let balance = &schemas["bank.transfer.v1.Balance"];
    assert_eq!(balance["properties"]["readTime"]["format"], "date-time");
    assert_eq!(balance["properties"]["accountId"]["readOnly"], true);
    let create = &schemas["bank.transfer.v1.CreateTransferRequest"];
    assert!(
        create["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("requestId"))
    );
    assert!(schemas["google.rpc.Status"].is_object());
    assert!(schemas["google.rpc.BadRequest"].is_object());
    assert!(schemas["google.rpc.RetryInfo"].is_object());
    let tags = doc["tags"].as_array().unwrap();
    let account = tags.iter().find(|t| t["name"] == "AccountService").unwrap();
    assert!(account["description"].is_string(), "service comments describe tags");
}

#[test]
fn operations_document_parameters_bodies_and_streams() {
    let doc = document();
    let list = &doc["paths"]["/v1/transfers"]["get"];
    assert!(list["summary"].is_string() && list["description"].is_string());
    let params = list["parameters"].as_array().unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(param("statuses")["schema"]["type"], "array");
    assert_eq!(param("startTime")["schema"]["format"], "date-time");
    assert_eq!(param("pageSize")["schema"]["format"], "int32");
    assert_eq!(param("pageSize")["in"], "query");

    let spending = doc["paths"]["/v1/analytics/spending"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(spending.iter().any(|p| p["name"] == "startMonth.year"));

    let statement = &doc["paths"]["/v1/accounts/{account_id}/statements/{period.year}/{period.month}"]["get"];
    let params = statement["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "period.year" && p["schema"]["format"] == "int32")
    );
    assert!(!params.iter().any(|p| p["in"] == "query" && p["name"] == "period.year"));

    let deposit = &doc["paths"]["/v1/accounts/{account_id}:deposit"]["post"];
    let body = &deposit["requestBody"]["content"]["application/json"]["schema"];
    assert!(body["properties"]["amount"].is_object());
    assert!(
        body["properties"].get("accountId").is_none(),
        "path-bound fields are not in the body"
    );
    assert!(!body["required"].as_array().unwrap().contains(&Value::from("accountId")));
    assert!(
        deposit["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key")
    );

    let update = &doc["paths"]["/v1/admin/financing-options/{financing_option.option_id}"]["patch"];
    let body = &update["requestBody"]["content"]["application/json"]["schema"];
    assert!(body["properties"]["name"].is_object());
    assert!(body["properties"].get("optionId").is_none());
    assert!(
        update["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "updateMask")
    );

    let export = &doc["paths"]["/v1/accounts/{account_id}/statements:export"]["get"];
    assert!(export["responses"]["200"]["content"]["application/x-ndjson"].is_object());

    assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    assert_eq!(doc["security"][0]["bearerAuth"], Value::Array(vec![]));
}

#[test]
fn docs_page_is_self_contained() {
    let html = bank_transcode::docs_html();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("fetch(\"/openapi.json\""));
    assert!(!html.contains("<script src"), "no external scripts");
    assert!(!html.contains("<link"), "no external styles");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network references"
    );
}
