//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the API.
//!
//! The description is generated from the same `#[utoipa::path]` handlers
//! the router is built from (see [`super::api_routes`]), so a route cannot
//! be served without being described. The error answers every endpoint
//! shares (401 when signed out, 400/413/415/422 for a bad body) are added
//! here once instead of on every handler.

use axum::Extension;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use council_shared::ErrorBody;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema,
    Type,
};

/// The description's fixed parts; paths come from the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "The Council API",
        description = "Consult a council of LLMs: every council model answers, each ranks the \
                       anonymised answers, a lead model synthesises the final answer. Errors are \
                       always `{\"detail\": \"...\"}`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "accounts", description = "Registration, sessions and the account"),
        (name = "keys", description = "The user's provider keys, sealed at rest"),
        (name = "models", description = "The server's model catalogue"),
        (name = "conversations", description = "Each user's own conversations"),
        (name = "messages", description = "Asking the council"),
        (name = "operations", description = "Health, readiness and this description"),
    ),
)]
pub(super) struct ApiDoc;

/// The serialised description, built once at start.
#[derive(Debug, Clone)]
pub(super) struct DescriptionJson(Bytes);

impl DescriptionJson {
    pub(super) fn new(description: &OpenApi) -> Self {
        // Serialising a value built from our own types cannot fail; an
        // empty object would still be valid JSON for a client.
        let bytes = serde_json::to_vec(description).unwrap_or_else(|_| b"{}".to_vec());
        Self(Bytes::from(bytes))
    }
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 description of every endpoint",
        content_type = "application/json", body = Object)))]
pub(super) async fn serve(Extension(json): Extension<DescriptionJson>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json.0).into_response()
}

/// Adds the security scheme and the answers every endpoint shares.
pub(super) fn complete(mut description: OpenApi) -> OpenApi {
    let components = description.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The `access_token` of register, login or refresh (15 minutes by default)",
                ))
                .build(),
        ),
    );
    for item in description.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_shared_errors(operation);
            describe_event_streams(operation);
        }
    }
    description
}

/// A handler documents its event stream with the schema of one event's
/// JSON; on the wire each event is an object whose `data` holds that JSON
/// as text. OpenAPI 3.1 describes an event stream's `schema` per event, so
/// the event's JSON goes to `data`'s `contentSchema`.
fn describe_event_streams(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(RefOr::T(content)) = response.content.get_mut("text/event-stream") else {
            continue;
        };
        let Some(RefOr::Ref(event)) = content.schema.take() else {
            continue;
        };
        // utoipa has no `contentSchema` keyword; extensions are written
        // out verbatim, so it goes there.
        let content_schema: Extensions = [(
            "contentSchema",
            serde_json::json!({ "$ref": event.ref_location }),
        )]
        .into_iter()
        .collect();
        let mut data = ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/json")
            .description(Some("One council event as JSON"))
            .build();
        data.extensions = Some(content_schema);
        let per_event = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("data", data)
            .required("data")
            .property("event", ObjectBuilder::new().schema_type(Type::String))
            .property("id", ObjectBuilder::new().schema_type(Type::String))
            .build();
        content.schema = Some(RefOr::T(Schema::Object(per_event)));
    }
}

fn add_shared_errors(operation: &mut Operation) {
    let signed_in = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if signed_in {
        shared.push(("401", "Missing, invalid or expired access token"));
    }
    if has_body {
        shared.extend([
            ("400", "Malformed JSON"),
            ("413", "Request body over 1 MiB"),
            ("415", "The body is not `application/json`"),
            ("422", "A missing field or a wrong type"),
        ]);
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in shared {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(status, description)));
    }
}

fn error_response(status: &str, description: &str) -> utoipa::openapi::Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if status == "401" {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("`Bearer`"))
                .build(),
        );
    }
    response.build()
}
