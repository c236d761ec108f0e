//! The few HTTP calls that benchmarks and demos make to a council server.

use serde_json::Value;

/// Any failure of a call, with the server's answer when there was one.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// POSTs `body` as JSON (with `token` as the bearer, if any) and returns the
/// JSON answer; a non-2xx status is an error carrying status and body.
pub async fn post_json(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Result<Value, Error> {
    let mut request = client.post(url).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("{status}: {body}").into());
    }
    Ok(body)
}

/// Registers `email` (password `bench password`) and returns its access
/// token.
pub async fn register(client: &reqwest::Client, base: &str, email: &str) -> Result<String, Error> {
    let tokens = post_json(
        client,
        format!("{base}/api/auth/register"),
        None,
        serde_json::json!({"email": email, "password": "bench password"}),
    )
    .await?;
    Ok(tokens["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_owned())
}
