//! Users and API tokens, changed while the server runs. Each change and its audit row are one
//! transaction: the trail never misses a change and never shows one that did not happen.

use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;

use super::{Store, StoreError, TxResult, decode, encode, keys, tx_get, tx_put};
use crate::domain::*;
use crate::i18n::Lang;

/// An API token as admins see it: never the token itself (only its hash is stored).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiToken {
    /// The first 16 hex digits of the token's hash: enough to name it, useless to guess it.
    pub id: String,
    pub user: String,
    /// Absent for tokens created before ids existed.
    pub created_at: Option<Millis>,
    pub created_by: Option<String>,
}

/// What `k/{hash}` holds.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    user: String,
    created_at: Millis,
    created_by: String,
}

/// Tokens written before [`TokenRecord`] hold just the user name; both keep working.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredToken {
    Record(TokenRecord),
    Legacy(String),
}

impl StoredToken {
    fn into_view(self, hash: &str) -> ApiToken {
        let id = token_id(hash);
        match self {
            StoredToken::Record(r) => ApiToken {
                id,
                user: r.user,
                created_at: Some(r.created_at),
                created_by: Some(r.created_by),
            },
            StoredToken::Legacy(user) => ApiToken {
                id,
                user,
                created_at: None,
                created_by: None,
            },
        }
    }
}

fn token_id(hash: &str) -> String {
    hash.get(..16).unwrap_or(hash).to_string()
}

/// A change to a user; `None` leaves that field alone.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub languages: Option<Vec<Lang>>,
    pub disabled: Option<bool>,
    /// An argon2 PHC string (the password itself never reaches the store).
    pub password_hash: Option<String>,
    /// With a new password: the hash of the session or API token the change came from, which
    /// stays valid (someone changing their own password stays signed in). Every other
    /// session and token of that user ends: a new password is how an admin locks out
    /// whoever learnt the old one.
    pub keep_credential: Option<String>,
}

impl UserChange {
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.languages.is_none()
            && self.disabled.is_none()
            && self.password_hash.is_none()
    }
}

fn put_audit(
    tx: &TransactionalTree,
    id: u64,
    by: &str,
    action: &str,
    detail: &str,
) -> TxResult<()> {
    let now = now_ms();
    let entry = AuditEntry {
        at: now,
        user: by.to_string(),
        action: action.to_string(),
        ticket: None,
        detail: detail.to_string(),
    };
    tx_put(tx, &keys::audit(now, id), &entry)
}

fn languages_text(languages: &[Lang]) -> String {
    if languages.is_empty() {
        return "none".into();
    }
    languages
        .iter()
        .map(|l| l.tag())
        .collect::<Vec<_>>()
        .join(",")
}

fn role_text(role: Role) -> String {
    format!("{role:?}").to_lowercase()
}

fn conflict<T>(message: String) -> TxResult<T> {
    Err(sled::transaction::ConflictableTransactionError::Abort(
        StoreError::Conflict(message),
    ))
}

/// The audit text of a new user (both backends write the same).
pub(crate) fn created_detail(user: &User) -> String {
    format!(
        "{} as {}, languages {}",
        user.name,
        role_text(user.role),
        languages_text(&user.languages)
    )
}

/// Applies the role, languages and disabled parts of `change` to `user`; the audit detail,
/// its name first and then what actually changed (both backends write the same).
pub(crate) fn apply_user_change(user: &mut User, change: &UserChange) -> Vec<String> {
    let mut detail = vec![user.name.clone()];
    if let Some(role) = change.role.filter(|r| *r != user.role) {
        detail.push(format!(
            "role {} -> {}",
            role_text(user.role),
            role_text(role)
        ));
        user.role = role;
    }
    if let Some(languages) = change.languages.as_ref().filter(|l| **l != user.languages) {
        detail.push(format!(
            "languages {} -> {}",
            languages_text(&user.languages),
            languages_text(languages)
        ));
        user.languages = languages.clone();
    }
    if let Some(disabled) = change.disabled.filter(|d| *d != user.disabled) {
        detail.push(if disabled { "disabled" } else { "enabled" }.into());
        user.disabled = disabled;
    }
    detail
}

impl Store {
    /// Adds a user (refused if the name is taken) and audits it as done by `by`.
    pub fn create_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        let audit_id = self.db.generate_id()?;
        let detail = created_detail(user);
        self.tree.transaction(|tx| {
            let key = keys::user(&user.name);
            if tx.get(key.as_bytes())?.is_some() {
                return conflict(format!("a user named {:?} already exists", user.name));
            }
            tx_put(tx, &key, user)?;
            put_audit(tx, audit_id, by, "user-add", &detail)
        })?;
        Ok(())
    }

    /// Changes a user; `None` when there is no such user. Refused when it would leave no
    /// active admin (nobody could then manage users without stopping the server).
    pub fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<User>, StoreError> {
        let loses_admin =
            change.role.is_some_and(|r| r != Role::Admin) || change.disabled == Some(true);
        if loses_admin {
            let other_admins = self
                .users()?
                .iter()
                .filter(|u| u.name != name && u.role == Role::Admin && !u.disabled)
                .count();
            let is_admin = self
                .user(name)?
                .is_some_and(|u| u.role == Role::Admin && !u.disabled);
            if is_admin && other_admins == 0 {
                return Err(StoreError::Conflict(format!(
                    "{name} is the only active admin; make someone else admin first"
                )));
            }
        }
        let ended = match change.password_hash {
            Some(_) => self.credentials_of(name, change.keep_credential.as_deref())?,
            None => Credentials::default(),
        };
        let audit_id = self.db.generate_id()?;
        let updated = self.tree.transaction(|tx| {
            let key = keys::user(name);
            let Some(mut user) = tx_get::<User>(tx, &key)? else {
                return Ok(None);
            };
            let mut detail = apply_user_change(&mut user, change);
            if let Some(hash) = &change.password_hash {
                detail.push(format!(
                    "new password ({} other sessions and {} tokens ended)",
                    ended.sessions.len(),
                    ended.tokens.len()
                ));
                user.password_hash = hash.clone();
                for session in &ended.sessions {
                    tx.remove(keys::web_session(session).as_bytes())?;
                }
                for token in &ended.tokens {
                    tx.remove(keys::token(token).as_bytes())?;
                }
            }
            tx_put(tx, &key, &user)?;
            put_audit(tx, audit_id, by, "user-change", &detail.join(", "))?;
            Ok(Some(user))
        })?;
        Ok(updated)
    }

    /// Stores a token by its hash for `user`, without an audit row (first start, tests).
    pub fn add_token(&self, token_hash: &str, user: &str) -> Result<ApiToken, StoreError> {
        let record = TokenRecord {
            user: user.to_string(),
            created_at: now_ms(),
            created_by: user.to_string(),
        };
        self.tree
            .insert(keys::token(token_hash).as_bytes(), encode(&record)?)?;
        Ok(StoredToken::Record(record).into_view(token_hash))
    }

    /// Stores a token by its hash for `user` and audits it as created by `by`.
    pub fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        by: &str,
    ) -> Result<ApiToken, StoreError> {
        let audit_id = self.db.generate_id()?;
        let record = TokenRecord {
            user: user.to_string(),
            created_at: now_ms(),
            created_by: by.to_string(),
        };
        let id = token_id(token_hash);
        self.tree.transaction(|tx| {
            tx_put(tx, &keys::token(token_hash), &record)?;
            put_audit(
                tx,
                audit_id,
                by,
                "token-create",
                &format!("{id} for {user}"),
            )
        })?;
        Ok(StoredToken::Record(record).into_view(token_hash))
    }

    /// The user a token hash belongs to, unless that user is disabled.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let Some(stored) = self.get::<StoredToken>(&keys::token(token_hash))? else {
            return Ok(None);
        };
        let user = match stored {
            StoredToken::Record(r) => r.user,
            StoredToken::Legacy(name) => name,
        };
        Ok(self.user(&user)?.filter(|u| !u.disabled))
    }

    /// Every token with the hash it is filed under, in key order.
    pub(super) fn tokens_by_hash(&self) -> Result<Vec<(String, ApiToken)>, StoreError> {
        let prefix = keys::token("");
        let mut tokens = Vec::new();
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            let stored: StoredToken = decode(&k, &v)?;
            let hash = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            let token = stored.into_view(&hash);
            tokens.push((hash, token));
        }
        Ok(tokens)
    }

    /// Every token (oldest first; legacy tokens without a date first).
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut tokens: Vec<ApiToken> = self
            .tokens_by_hash()?
            .into_iter()
            .map(|(_, token)| token)
            .collect();
        tokens.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(tokens)
    }

    /// Revokes the token with this id; `None` when there is none. It stops working at once.
    pub fn revoke_token(&self, id: &str, by: &str) -> Result<Option<ApiToken>, StoreError> {
        let prefix = keys::token("");
        let mut found = None;
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            let hash = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if token_id(&hash) == id {
                let stored: StoredToken = decode(&k, &v)?;
                found = Some((hash.clone(), stored.into_view(&hash)));
                break;
            }
        }
        let Some((hash, view)) = found else {
            return Ok(None);
        };
        let audit_id = self.db.generate_id()?;
        let detail = format!("{id} of {}", view.user);
        self.tree.transaction(|tx| {
            tx.remove(keys::token(&hash).as_bytes())?;
            put_audit(tx, audit_id, by, "token-revoke", &detail)
        })?;
        Ok(Some(view))
    }
}

/// Hashes of a user's browser sessions and API tokens.
#[derive(Default)]
struct Credentials {
    sessions: Vec<String>,
    tokens: Vec<String>,
}

impl Store {
    /// The sessions and tokens of `user`, except the one hashed `keep`. A session or token
    /// created between this scan and the transaction that ends these survives; it was made
    /// with the old password's knowledge only if someone logged in during that instant.
    fn credentials_of(&self, user: &str, keep: Option<&str>) -> Result<Credentials, StoreError> {
        let mut found = Credentials::default();
        let sessions = keys::web_session("");
        for kv in self.tree.scan_prefix(sessions.as_bytes()) {
            let (k, v) = kv?;
            let session: super::helpdesk::WebSession = decode(&k, &v)?;
            let hash = String::from_utf8_lossy(&k[sessions.len()..]).into_owned();
            if session.user == user && keep != Some(hash.as_str()) {
                found.sessions.push(hash);
            }
        }
        let tokens = keys::token("");
        for kv in self.tree.scan_prefix(tokens.as_bytes()) {
            let (k, v) = kv?;
            let owner = match decode::<StoredToken>(&k, &v)? {
                StoredToken::Record(r) => r.user,
                StoredToken::Legacy(name) => name,
            };
            let hash = String::from_utf8_lossy(&k[tokens.len()..]).into_owned();
            if owner == user && keep != Some(hash.as_str()) {
                found.tokens.push(hash);
            }
        }
        Ok(found)
    }
}

impl Store {
    /// Every contact staff imported or who wrote, by phone number (for the staff page).
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.scan(&keys::contact_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> User {
        User {
            name: name.into(),
            role,
            languages: vec![Lang::Somali],
            password_hash: String::new(),
            created_at: 0,
            disabled: false,
        }
    }

    /// Tokens stored before ids existed (the value was just the user name) keep working, get
    /// an id, and can be revoked.
    #[test]
    fn tokens_from_before_ids_keep_working_and_can_be_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.add_user(&user("hodan", Role::Interpreter)).unwrap();
        let hash = "ab".repeat(32);
        store
            .tree
            .insert(keys::token(&hash).as_bytes(), encode(&"hodan").unwrap())
            .unwrap();
        assert_eq!(store.token_user(&hash).unwrap().unwrap().name, "hodan");
        let listed = store.tokens().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "abababababababab");
        assert_eq!(listed[0].created_at, None);
        let revoked = store.revoke_token("abababababababab", "amina").unwrap();
        assert_eq!(revoked.unwrap().user, "hodan");
        assert!(store.token_user(&hash).unwrap().is_none());
        let audit = store.audit_log(10).unwrap();
        assert_eq!(audit[0].action, "token-revoke");
        store.close().unwrap();
    }

    #[test]
    fn the_last_active_admin_cannot_be_demoted_or_disabled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.add_user(&user("amina", Role::Admin)).unwrap();
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        assert!(matches!(
            store.update_user("amina", &disable, "amina"),
            Err(StoreError::Conflict(_))
        ));
        store.add_user(&user("omar", Role::Admin)).unwrap();
        let changed = store
            .update_user("amina", &disable, "omar")
            .unwrap()
            .unwrap();
        assert!(changed.disabled);
        // Now omar is the only active admin.
        let demote = UserChange {
            role: Some(Role::Staff),
            ..UserChange::default()
        };
        assert!(store.update_user("omar", &demote, "omar").is_err());
        store.close().unwrap();
    }
}
