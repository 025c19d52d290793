//! API authentication: bearer tokens (`kabar token create`), stored only as SHA-256 hashes.

use axum::http::HeaderMap;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::User;
use crate::store::Store;
use crate::store::StoreError;

/// A new random token: 32 bytes, URL-safe base64, with a recognisable prefix.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "kbr_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What the store keeps of a token. Tokens are random, so a plain hash is enough (no argon2).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The user behind the request's `Authorization: Bearer …` header, if valid.
pub async fn bearer_user(store: &Store, headers: &HeaderMap) -> Result<Option<User>, StoreError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    // Looking up by hash means no secret is ever compared byte by byte.
    store.token_user(&token_hash(token)).await
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() < 200)
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("kbr_") && a.len() > 40);
        assert_eq!(token_hash(&a).len(), 64);
    }
}

/// Name of the browser session cookie.
pub const SESSION_COOKIE: &str = "kabar_session";
/// Sessions last a working day.
pub const SESSION_MS: u64 = 12 * 60 * 60 * 1000;

/// Who is asking, and how: a browser session must prove each change with its CSRF token; an
/// API bearer token is not sent by browsers on their own, so it needs none.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The session's CSRF token (browser sessions only).
    pub csrf: Option<String>,
    /// The hash of the session token or API token this request came with (what a new
    /// password of one's own leaves signed in).
    pub credential_hash: String,
}

impl Principal {
    /// Checks the CSRF token sent with a change (form field or `X-CSRF-Token`).
    pub fn csrf_ok(&self, sent: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match (&self.csrf, sent) {
            (None, _) => true,
            (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
            (Some(_), None) => false,
        }
    }
}

/// The session token from the `Cookie` header.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The user behind a session cookie or a bearer token.
/// `now` judges the session's expiry (the app's clock).
pub async fn principal(
    store: &Store,
    headers: &HeaderMap,
    now: crate::domain::Millis,
) -> Result<Option<Principal>, StoreError> {
    if let Some(token) = bearer_token(headers)
        && let Some(user) = store.token_user(&token_hash(token)).await?
    {
        return Ok(Some(Principal {
            user,
            csrf: None,
            credential_hash: token_hash(token),
        }));
    }
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let credential_hash = token_hash(&token);
    let Some(session) = store.web_session(&credential_hash, now).await? else {
        return Ok(None);
    };
    // Read afresh on every request: a disabled user's sessions stop at once.
    Ok(store
        .user(&session.user)
        .await?
        .filter(|user| !user.disabled)
        .map(|user| Principal {
            user,
            csrf: Some(session.csrf),
            credential_hash,
        }))
}

/// The `Set-Cookie` value for a new session (Secure when served over https).
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Failed logins per user name: five in fifteen minutes, then wait. Counted in the store, so
/// replicas behind a load balancer share the count (trying each replica in turn gains nothing).
pub struct LoginLimiter {
    store: crate::store::Store,
}

impl LoginLimiter {
    const MAX: usize = 5;
    const WINDOW_MS: u64 = 15 * 60 * 1000;

    pub fn new(store: crate::store::Store) -> LoginLimiter {
        LoginLimiter { store }
    }

    /// `Some(wait)` when this name must wait before trying again.
    pub async fn blocked(
        &self,
        name: &str,
        now: u64,
    ) -> Result<Option<std::time::Duration>, crate::store::StoreError> {
        let failures = self
            .store
            .login_failures(&name.to_lowercase(), now.saturating_sub(Self::WINDOW_MS))
            .await?;
        Ok((failures.len() >= Self::MAX).then(|| {
            let oldest = failures[failures.len() - Self::MAX];
            std::time::Duration::from_millis((oldest + Self::WINDOW_MS).saturating_sub(now))
        }))
    }

    pub async fn failed(&self, name: &str, now: u64) -> Result<(), crate::store::StoreError> {
        self.store
            .record_login_failure(&name.to_lowercase(), now)
            .await
    }

    pub async fn succeeded(&self, name: &str) -> Result<(), crate::store::StoreError> {
        self.store.clear_login_failures(&name.to_lowercase()).await
    }
}

/// Name of the pre-session cookie that carries the login form's CSRF token.
pub const LOGIN_COOKIE: &str = "kabar_login";
/// A login form stays valid this long.
const LOGIN_FORM_MS: u64 = 60 * 60 * 1000;

/// Login CSRF protection before any session exists (double submit of a signed token): the
/// login page sets a short-lived cookie and puts the same token in a hidden field; a login
/// POST must carry both, equal, signed by kabar and not expired. Another site can
/// make a browser post the form but can neither read nor set our cookie, so it cannot log a
/// person into an account of its choosing. The key comes from the store
/// ([`crate::store::Coordination::shared_key`]), so a form one replica issued is accepted by
/// any other behind the load balancer.
pub struct LoginCsrf {
    store: Option<crate::store::Store>,
    key: tokio::sync::OnceCell<[u8; 32]>,
}

/// What the signing key is asked for under.
const LOGIN_CSRF_KEY: &str = "login-csrf";

impl LoginCsrf {
    /// Signs with the key the store shares between replicas.
    pub fn new(store: crate::store::Store) -> LoginCsrf {
        LoginCsrf {
            store: Some(store),
            key: tokio::sync::OnceCell::new(),
        }
    }

    /// Signs with a key of its own (tests: "another process").
    pub fn with_key(key: [u8; 32]) -> LoginCsrf {
        LoginCsrf {
            store: None,
            key: tokio::sync::OnceCell::new_with(Some(key)),
        }
    }

    async fn key(&self) -> Result<&[u8; 32], crate::store::StoreError> {
        self.key
            .get_or_try_init(|| async {
                match &self.store {
                    Some(store) => store.shared_key(LOGIN_CSRF_KEY).await,
                    None => Err(crate::store::StoreError::Closed),
                }
            })
            .await
    }
}

impl LoginCsrf {
    fn sign(key: &[u8; 32], nonce: &str, expires: u64) -> String {
        use hmac::{Hmac, Mac};
        // A 32-byte key always fits HMAC-SHA256.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(nonce.as_bytes());
        mac.update(b".");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A new token for a login form issued at `now`.
    pub async fn issue(&self, now: u64) -> Result<String, crate::store::StoreError> {
        let key = self.key().await?;
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let expires = now + LOGIN_FORM_MS;
        let sig = Self::sign(key, &nonce, expires);
        Ok(format!("{nonce}.{expires}.{sig}"))
    }

    /// Whether the form field and the cookie carry the same valid, unexpired token.
    pub async fn check(&self, field: Option<&str>, cookie: Option<&str>, now: u64) -> bool {
        use subtle::ConstantTimeEq;
        let Ok(key) = self.key().await else {
            return false;
        };
        let (Some(field), Some(cookie)) = (field, cookie) else {
            return false;
        };
        if !bool::from(field.as_bytes().ct_eq(cookie.as_bytes())) {
            return false;
        }
        let mut parts = field.splitn(3, '.');
        let (Some(nonce), Some(expires), Some(sig)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(expires) = expires.parse::<u64>() else {
            return false;
        };
        expires >= now
            && bool::from(
                Self::sign(key, nonce, expires)
                    .as_bytes()
                    .ct_eq(sig.as_bytes()),
            )
    }
}

/// A cookie's value from the `Cookie` header.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
        .filter(|t| !t.is_empty() && t.len() < 200)
}

/// The `Set-Cookie` value carrying a login form's token (only sent back to /login).
pub fn login_cookie(token: &str, secure: bool) -> String {
    format!(
        "{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={}{}",
        LOGIN_FORM_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod login_csrf_tests {
    use super::*;

    #[tokio::test]
    async fn only_a_matching_signed_unexpired_token_passes() {
        let csrf = LoginCsrf::with_key([7; 32]);
        let token = csrf.issue(1_000).await.unwrap();
        let t = Some(token.as_str());
        assert!(csrf.check(t, t, 2_000).await);
        assert!(!csrf.check(t, None, 2_000).await, "no cookie");
        assert!(!csrf.check(None, t, 2_000).await, "no field");
        let other = csrf.issue(1_000).await.unwrap();
        assert!(!csrf.check(t, Some(&other), 2_000).await, "mismatch");
        assert!(
            !csrf.check(t, t, 1_000 + LOGIN_FORM_MS + 1).await,
            "expired"
        );
        let forged = format!("{}.{}.{}", "00", 1_000 + LOGIN_FORM_MS, "ab".repeat(32));
        assert!(
            !csrf.check(Some(&forged), Some(&forged), 2_000).await,
            "not signed by us"
        );
        let other_process = LoginCsrf::with_key([8; 32]);
        assert!(!other_process.check(t, t, 2_000).await);
        assert!(!csrf.check(Some("x"), Some("x"), 0).await);
    }
}
