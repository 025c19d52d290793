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

/// Failed logins per user name: five in fifteen minutes, then wait.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: std::sync::Mutex<std::collections::HashMap<String, Vec<std::time::Instant>>>,
}

impl LoginLimiter {
    const MAX: usize = 5;
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

    /// `Some(wait)` when this name must wait before trying again.
    pub fn blocked(&self, name: &str) -> Option<std::time::Duration> {
        let mut map = self.failures.lock().ok()?;
        let now = std::time::Instant::now();
        let list = map.entry(name.to_lowercase()).or_default();
        list.retain(|t| now.duration_since(*t) < Self::WINDOW);
        (list.len() >= Self::MAX).then(|| Self::WINDOW - now.duration_since(list[0]))
    }

    pub fn failed(&self, name: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.entry(name.to_lowercase())
                .or_default()
                .push(std::time::Instant::now());
        }
    }

    pub fn succeeded(&self, name: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&name.to_lowercase());
        }
    }
}

/// Name of the pre-session cookie that carries the login form's CSRF token.
pub const LOGIN_COOKIE: &str = "kabar_login";
/// A login form stays valid this long.
const LOGIN_FORM_MS: u64 = 60 * 60 * 1000;

/// Login CSRF protection before any session exists (double submit of a signed token): the
/// login page sets a short-lived cookie and puts the same token in a hidden field; a login
/// POST must carry both, equal, signed by this process and not expired. Another site can
/// make a browser post the form but can neither read nor set our cookie, so it cannot log a
/// person into an account of its choosing.
#[derive(Debug)]
pub struct LoginCsrf {
    key: [u8; 32],
}

impl Default for LoginCsrf {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        LoginCsrf { key }
    }
}

impl LoginCsrf {
    fn sign(&self, nonce: &str, expires: u64) -> String {
        use hmac::{Hmac, Mac};
        // A 32-byte key always fits HMAC-SHA256.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(nonce.as_bytes());
        mac.update(b".");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A new token for a login form issued at `now`.
    pub fn issue(&self, now: u64) -> String {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let expires = now + LOGIN_FORM_MS;
        let sig = self.sign(&nonce, expires);
        format!("{nonce}.{expires}.{sig}")
    }

    /// Whether the form field and the cookie carry the same valid, unexpired token.
    pub fn check(&self, field: Option<&str>, cookie: Option<&str>, now: u64) -> bool {
        use subtle::ConstantTimeEq;
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
        expires >= now && bool::from(self.sign(nonce, expires).as_bytes().ct_eq(sig.as_bytes()))
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

    #[test]
    fn only_a_matching_signed_unexpired_token_passes() {
        let csrf = LoginCsrf::default();
        let token = csrf.issue(1_000);
        assert!(csrf.check(Some(&token), Some(&token), 2_000));
        assert!(!csrf.check(Some(&token), None, 2_000), "no cookie");
        assert!(!csrf.check(None, Some(&token), 2_000), "no field");
        let other = csrf.issue(1_000);
        assert!(!csrf.check(Some(&token), Some(&other), 2_000), "mismatch");
        assert!(
            !csrf.check(Some(&token), Some(&token), 1_000 + LOGIN_FORM_MS + 1),
            "expired"
        );
        let forged = format!("{}.{}.{}", "00", 1_000 + LOGIN_FORM_MS, "ab".repeat(32));
        assert!(
            !csrf.check(Some(&forged), Some(&forged), 2_000),
            "not signed by us"
        );
        let other_process = LoginCsrf::default();
        assert!(!other_process.check(Some(&token), Some(&token), 2_000));
        assert!(!csrf.check(Some("x"), Some("x"), 0));
    }
}
