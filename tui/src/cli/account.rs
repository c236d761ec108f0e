//! `council register`, `login`, `logout` and `key set`.

use council_shared::{DEFAULT_PROVIDER, validate};
use secrecy::ExposeSecret as _;

use super::secret::{self, Source};
use super::{CliError, EXIT_OK, with_context};
use crate::runtime::Options;

/// `--email E [--password-stdin]`.
#[derive(Debug, clap::Args)]
pub struct CredentialsArgs {
    /// The account's email.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// Read the password from the first line of standard input instead of
    /// prompting for it.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `[--provider P] [--key-stdin]`.
#[derive(Debug, clap::Args)]
pub struct KeySetArgs {
    /// The provider the key is for.
    #[arg(long, value_name = "PROVIDER", default_value = DEFAULT_PROVIDER)]
    pub provider: String,
    /// Read the key from the first line of standard input instead of
    /// prompting for it.
    #[arg(long)]
    pub key_stdin: bool,
}

/// Creates the account and signs in with it.
pub(crate) async fn register(options: &Options, args: CredentialsArgs) -> Result<u8, CliError> {
    sign_in(options, args, true).await
}

/// Signs in.
pub(crate) async fn login(options: &Options, args: CredentialsArgs) -> Result<u8, CliError> {
    sign_in(options, args, false).await
}

async fn sign_in(options: &Options, args: CredentialsArgs, register: bool) -> Result<u8, CliError> {
    let email = validate::email(&args.email).map_err(|e| CliError::new(e.0))?;
    let password = secret::read(
        Source {
            what: "password",
            flag: "--password-stdin",
            from_stdin: args.password_stdin,
        },
        register,
    )
    .await?;
    if register {
        validate::password(password.expose_secret()).map_err(|e| CliError::new(e.0))?;
    }
    with_context(options, false, async |ctx| {
        let result = if register {
            ctx.client.register(&email, password.expose_secret()).await
        } else {
            ctx.client.login(&email, password.expose_secret()).await
        };
        let verb = if register { "register" } else { "sign in" };
        result.map_err(|e| CliError::new(format!("could not {verb}: {e}")))?;
        // The tokens were saved by the session callback; the email
        // prefills the next sign-in, as in the terminal UI.
        ctx.store.update(|c| c.email = Some(email.clone()))?;
        if register {
            eprintln!("Registered and signed in as {email}.");
        } else {
            eprintln!("Signed in as {email}.");
        }
        Ok(EXIT_OK)
    })
    .await
}

/// Revokes the refresh token and forgets the tokens; succeeds when not
/// signed in, and when the server cannot be told (the tokens are gone here
/// all the same, which is what the user asked for).
pub(crate) async fn logout(options: &Options) -> Result<u8, CliError> {
    let store = super::Store::load(options.config_path.clone())?;
    let config = store.get();
    if config.refresh_token.is_none() {
        if config.access_token.is_some() {
            store.update(council_client::state::ConfigFile::clear_session)?;
        }
        eprintln!("Not signed in.");
        return Ok(EXIT_OK);
    }
    drop(store);
    with_context(options, false, async |ctx| {
        match ctx.client.logout().await {
            Ok(()) => eprintln!("Signed out."),
            Err(e) => eprintln!("Signed out here; the server could not be told: {e}"),
        }
        Ok(EXIT_OK)
    })
    .await
}

/// Saves a provider key.
pub(crate) async fn key_set(options: &Options, args: KeySetArgs) -> Result<u8, CliError> {
    let provider = validate::provider(&args.provider).map_err(|e| CliError::new(e.0))?;
    // Refuse before prompting: a key typed for nothing is annoying.
    super::ensure_signed_in(options)?;
    let key = secret::read(
        Source {
            what: "API key",
            flag: "--key-stdin",
            from_stdin: args.key_stdin,
        },
        false,
    )
    .await?;
    let key = validate::api_key(key.expose_secret())
        .map(secrecy::SecretString::from)
        .map_err(|e| CliError::new(e.0))?;
    with_context(options, true, async |ctx| {
        let saved = ctx
            .client
            .save_provider_key(key.expose_secret(), Some(&provider))
            .await
            .map_err(|e| ctx.error(e))?;
        eprintln!("Saved the {} key {}.", saved.provider, saved.key_hint);
        Ok(EXIT_OK)
    })
    .await
}
