//! Setting up users on a Council server (the real one, not this crate's
//! fake upstream) for benchmarks and demos, through `council-client`: the
//! same typed client the terminal client uses, so a set-up step fails with
//! the server's own `detail` rather than a status to decode by hand.

use council_client::{Client, ClientError};

/// The password of every user made here.
pub const PASSWORD: &str = "bench password";

/// Registers `email` (password [`PASSWORD`]) on `server`'s server and
/// returns a client signed in as that user. It shares `server`'s connection
/// pool, so many users cost no more connections than one.
pub async fn register(server: &Client, email: &str) -> Result<Client, ClientError> {
    let user = server.new_session();
    user.register(email, PASSWORD).await?;
    Ok(user)
}

/// [`register`], then saves `key` as the user's OpenRouter key (which the
/// fake upstream accepts unless told otherwise), so the user can ask.
pub async fn register_with_key(
    server: &Client,
    email: &str,
    key: &str,
) -> Result<Client, ClientError> {
    let user = register(server, email).await?;
    user.save_api_key(key).await?;
    Ok(user)
}
