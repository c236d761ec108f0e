//! `/api/openapi.json`: the description covers the contract (API.md) and
//! what is served is exactly what is described.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::support::*;

/// Every endpoint of API.md, as (method, path template).
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/me"),
    ("delete", "/api/auth/me"),
    ("post", "/api/auth/password"),
    ("post", "/api/settings/api-key"),
    ("get", "/api/settings/api-keys"),
    ("delete", "/api/settings/api-key/{provider}"),
    ("get", "/api/models"),
    ("get", "/api/conversations"),
    ("post", "/api/conversations"),
    ("get", "/api/conversations/{id}"),
    ("patch", "/api/conversations/{id}"),
    ("delete", "/api/conversations/{id}"),
    ("post", "/api/conversations/{id}/message"),
    ("post", "/api/conversations/{id}/message/stream"),
    ("post", "/api/conversations/{id}/cancel"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/openapi.json"),
];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

async fn description(app: &TestApp) -> Value {
    let resp = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(resp.status(), 200);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    resp.json().await.expect("the description is JSON")
}

fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| ((*m).to_owned(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_description_covers_exactly_the_contract() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let contract: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(described(&doc), contract);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn every_operation_says_who_may_call_it_and_how_it_fails() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    let public: BTreeSet<&str> = [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/healthz",
        "/readyz",
        "/api/openapi.json",
    ]
    .into();
    for (method, path) in described(&doc) {
        let op = &doc["paths"][&path][&method];
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{method} {path}: no 200");
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(
            secured,
            !public.contains(path.as_str()),
            "{method} {path}: security"
        );
        if secured {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}: errors are {{\"detail\"}}"
                );
            }
        }
        if path.contains("{id}") {
            assert!(responses.contains_key("404"), "{method} {path}: no 404");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "TokenResponse",
        "Conversation",
        "ConversationSummary",
        "AssistantMessage",
        "Message",
        "CouncilEvent",
        "ApiKeyResponse",
        "ModelsResponse",
        "ErrorBody",
        "Call",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let call: BTreeSet<&str> = schemas["Call"]["properties"]
        .as_object()
        .expect("Call's properties")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        call,
        BTreeSet::from([
            "model",
            "stage",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "latency_ms"
        ])
    );
    assert!(schemas["Metadata"]["properties"]["calls"].is_object());
}

/// A described route answers its methods (never the 404 of an unknown
/// path), and every other method on it is a 405: nothing is served that is
/// not described.
#[tokio::test]
async fn what_is_described_is_served_and_nothing_more() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    let token = app.register(&email("openapi")).await.access;
    let described = described(&doc);
    let paths: BTreeSet<&String> = described.iter().map(|(_, p)| p).collect();
    for path in paths {
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{provider}", "openrouter");
        for method in METHODS {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            // The stream answers 404 before it would start streaming: the
            // conversation does not exist.
            let resp = app
                .client
                .request(m, app.url(&concrete))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request reaches the server");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if described.contains(&((*method).to_owned(), path.clone())) {
                assert_ne!(status, 405, "{method} {path} is described but not served");
                assert_ne!(
                    body["detail"], "Not Found",
                    "{method} {path} is described but not routed"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is served but not described");
            }
        }
    }
    for unknown in [
        "/api",
        "/api/auth",
        "/api/settings",
        "/api/settings/api-key/openrouter/extra",
        "/api/conversations/00000000-0000-4000-8000-000000000000/messages",
        "/openapi.json",
        "/api/docs",
    ] {
        let r = app.get(unknown, &token).await;
        assert_eq!(r.status, 404, "{unknown} is served but not described");
        assert_eq!(r.detail(), "Not Found");
    }
}
