//! "Remember me": a signed-in user's password in the OS keyring, keyed by who and where
//! ("user@host:port/database": settings pointing elsewhere never receive it). Never in a file. A PC without a keyring service still signs in;
//! it only cannot remember, and says so.

use std::time::Duration;

const SERVICE: &str = "mes-machine-manager";
/// A locked keyring may wait for a prompt nobody answers: the app does not wait with it.
const KEYRING_PATIENCE: Duration = Duration::from_secs(5);

/// The remembered password for `owner`, if any (and if the keyring answers).
pub async fn recall(owner: &str) -> Option<String> {
    let owner = owner.to_owned();
    let found = with_keyring(move || {
        keyring::Entry::new(SERVICE, &owner).and_then(|entry| entry.get_password())
    })
    .await;
    match found {
        Ok(password) => Some(password),
        Err(KeyringTrouble::NoEntry) => None,
        Err(trouble) => {
            tracing::warn!(%trouble, "could not read the remembered password");
            None
        }
    }
}

/// Remembers `password` for `owner`. The error says why not, for the window.
pub async fn remember(owner: &str, password: &str) -> Result<(), String> {
    let (owner, password) = (owner.to_owned(), password.to_owned());
    with_keyring(move || {
        keyring::Entry::new(SERVICE, &owner).and_then(|entry| entry.set_password(&password))
    })
    .await
    .map_err(|trouble| {
        tracing::warn!(%trouble, "could not remember the password");
        format!("signed in, but the password could not be remembered: {trouble}")
    })
}

/// Forgets the password of `owner` (sign-out, or signing in without "remember me").
pub async fn forget(owner: &str) {
    let owner = owner.to_owned();
    match with_keyring(move || {
        keyring::Entry::new(SERVICE, &owner).and_then(|entry| entry.delete_credential())
    })
    .await
    {
        Ok(()) | Err(KeyringTrouble::NoEntry) => {}
        Err(trouble) => tracing::warn!(%trouble, "could not forget the remembered password"),
    }
}

#[derive(Debug)]
enum KeyringTrouble {
    NoEntry,
    Unavailable(String),
    TooSlow,
}

impl std::fmt::Display for KeyringTrouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoEntry => f.write_str("nothing remembered"),
            Self::Unavailable(why) => write!(f, "the OS keyring is not available ({why})"),
            Self::TooSlow => f.write_str("the OS keyring did not answer (is it locked?)"),
        }
    }
}

/// Runs a keyring call on a blocking thread (it talks D-Bus synchronously), for at most
/// [`KEYRING_PATIENCE`].
async fn with_keyring<T: Send + 'static>(
    call: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, KeyringTrouble> {
    let task = tauri::async_runtime::spawn_blocking(call);
    match tokio::time::timeout(KEYRING_PATIENCE, task).await {
        Err(_) => Err(KeyringTrouble::TooSlow),
        Ok(Err(e)) => Err(KeyringTrouble::Unavailable(e.to_string())),
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(keyring::Error::NoEntry))) => Err(KeyringTrouble::NoEntry),
        Ok(Ok(Err(e))) => Err(KeyringTrouble::Unavailable(e.to_string())),
    }
}
