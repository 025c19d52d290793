//! PostgreSQL: the Accounts port. Users, API tokens (by hash) and browser sessions (by hash)
//! live in the database, so every replica sees a login, a revoked token or a disabled user at
//! once. Each change and its audit row are one transaction.

use sqlx::Row;

use super::*;

/// An audit row written by staff at the current time, inside `tx`.
pub(crate) async fn audit_now(
    tx: &mut Tx,
    by: &str,
    action: &str,
    ticket: Option<u64>,
    detail: &str,
) -> Result<(), StoreError> {
    insert_audit(
        tx,
        &AuditEntry {
            at: now_ms(),
            user: by.to_string(),
            action: action.to_string(),
            ticket,
            detail: detail.to_string(),
        },
    )
    .await
}

fn token_id(hash: &str) -> String {
    hash.get(..16).unwrap_or(hash).to_string()
}

fn token_from_row(row: &sqlx::postgres::PgRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("token_id")?,
        user: row.try_get("user_name")?,
        created_at: Some(row.try_get::<i64, _>("created_at")? as Millis),
        created_by: Some(row.try_get("created_by")?),
    })
}

/// Writes (or replaces) a browser session's row, by the hash of its cookie's token.
pub(crate) async fn write_web_session(
    conn: &mut sqlx::PgConnection,
    token_hash: &str,
    session: &WebSession,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO web_sessions (hash, user_name, csrf, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (hash) DO UPDATE SET user_name = EXCLUDED.user_name, \
         csrf = EXCLUDED.csrf, expires_at = EXCLUDED.expires_at",
    )
    .bind(token_hash)
    .bind(&session.user)
    .bind(&session.csrf)
    .bind(session.expires_at as i64)
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_user(tx: &mut Tx, user: &User) -> Result<(), StoreError> {
    let inserted =
        sqlx::query("INSERT INTO users (name, data) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(&user.name)
            .bind(to_json(user)?)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a user named {:?} already exists",
            user.name
        )));
    }
    Ok(())
}

async fn insert_token(
    tx: &mut Tx,
    token_hash: &str,
    user: &str,
    by: &str,
) -> Result<ApiToken, StoreError> {
    let token = ApiToken {
        id: token_id(token_hash),
        user: user.to_string(),
        created_at: Some(now_ms()),
        created_by: Some(by.to_string()),
    };
    write_token(tx, token_hash, &token).await?;
    Ok(token)
}

/// Writes (or replaces) a token's row, by the hash of the token.
pub(crate) async fn write_token(
    conn: &mut sqlx::PgConnection,
    token_hash: &str,
    token: &ApiToken,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_tokens (hash, token_id, user_name, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (hash) DO UPDATE SET token_id = EXCLUDED.token_id, \
         user_name = EXCLUDED.user_name, created_at = EXCLUDED.created_at, \
         created_by = EXCLUDED.created_by",
    )
    .bind(token_hash)
    .bind(token_id(token_hash))
    .bind(&token.user)
    .bind(token.created_at.unwrap_or_default() as i64)
    .bind(token.created_by.as_deref().unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn load_user(
    conn: &mut sqlx::PgConnection,
    name: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT data FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    row.map(|v| from_json(v, format_args!("user {name}")))
        .transpose()
}

#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        let detail = crate::store::sled::created_detail(user);
        let mut tx = self.begin().await?;
        insert_user(&mut tx, user).await?;
        audit_now(&mut tx, by, "user-add", None, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.begin().await?;
        // Every user row locked: two admins demoting each other on two replicas cannot both
        // succeed and leave nobody able to manage accounts.
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM users ORDER BY name FOR UPDATE")
                .fetch_all(&mut *tx)
                .await?;
        let users = rows
            .into_iter()
            .map(|v| from_json::<User>(v, "a user"))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(mut user) = users.iter().find(|u| u.name == name).cloned() else {
            return Ok(None);
        };
        let loses_admin =
            change.role.is_some_and(|r| r != Role::Admin) || change.disabled == Some(true);
        if loses_admin && user.role == Role::Admin && !user.disabled {
            let other_admins = users
                .iter()
                .filter(|u| u.name != name && u.role == Role::Admin && !u.disabled)
                .count();
            if other_admins == 0 {
                return Err(StoreError::Conflict(format!(
                    "{name} is the only active admin; make someone else admin first"
                )));
            }
        }
        let mut detail = crate::store::sled::apply_user_change(&mut user, change);
        if let Some(hash) = &change.password_hash {
            // A new password ends every other session and token of the user, in this
            // transaction (so none created before it survives).
            let keep = change.keep_credential.as_deref().unwrap_or("");
            let sessions =
                sqlx::query("DELETE FROM web_sessions WHERE user_name = $1 AND hash <> $2")
                    .bind(name)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            let tokens = sqlx::query("DELETE FROM api_tokens WHERE user_name = $1 AND hash <> $2")
                .bind(name)
                .bind(keep)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            detail.push(format!(
                "new password ({sessions} other sessions and {tokens} tokens ended)"
            ));
            user.password_hash = hash.clone();
        }
        sqlx::query("UPDATE users SET data = $2 WHERE name = $1")
            .bind(name)
            .bind(to_json(&user)?)
            .execute(&mut *tx)
            .await?;
        audit_now(&mut tx, by, "user-change", None, &detail.join(", ")).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn add_token(&self, token_hash: &str, user: &str) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin().await?;
        let token = insert_token(&mut tx, token_hash, user, user).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        by: &str,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin().await?;
        let token = insert_token(&mut tx, token_hash, user, by).await?;
        audit_now(
            &mut tx,
            by,
            "token-create",
            None,
            &format!("{} for {user}", token.id),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT u.data FROM api_tokens t JOIN users u ON u.name = t.user_name \
             WHERE t.hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let user: Option<User> = row.map(|v| from_json(v, "a token's user")).transpose()?;
        Ok(user.filter(|u| !u.disabled))
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT token_id, user_name, created_at, created_by FROM api_tokens \
             ORDER BY created_at, token_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, id: &str, by: &str) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "DELETE FROM api_tokens WHERE hash = \
             (SELECT hash FROM api_tokens WHERE token_id = $1 ORDER BY hash LIMIT 1) \
             RETURNING token_id, user_name, created_at, created_by",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = token_from_row(&row)?;
        audit_now(
            &mut tx,
            by,
            "token-revoke",
            None,
            &format!("{id} of {}", token.user),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    async fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let session = WebSession {
            user: user.to_string(),
            csrf: csrf.to_string(),
            expires_at,
        };
        let mut conn = self.pool().acquire().await?;
        write_web_session(&mut conn, token_hash, &session).await
    }

    async fn web_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, StoreError> {
        let row =
            sqlx::query("SELECT user_name, csrf, expires_at FROM web_sessions WHERE hash = $1")
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = WebSession {
            user: row.try_get("user_name")?,
            csrf: row.try_get("csrf")?,
            expires_at: row.try_get::<i64, _>("expires_at")? as Millis,
        };
        if session.expires_at > now {
            return Ok(Some(session));
        }
        // Expired: gone (only if nobody renewed it meanwhile).
        sqlx::query("DELETE FROM web_sessions WHERE hash = $1 AND expires_at <= $2")
            .bind(token_hash)
            .bind(now as i64)
            .execute(self.pool())
            .await?;
        Ok(None)
    }

    async fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_user(&mut conn, name).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM users ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(|v| from_json(v, "a user")).collect()
    }

    /// Adds a user without an audit row (the first admin, tests). Two replicas starting on a
    /// fresh database both try to add `admin`: exactly one insert wins, the other gets
    /// [`StoreError::Conflict`].
    async fn add_user(&self, user: &User) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Two replicas on one fresh schema, for the checks that what one replica does the other
/// cannot double (they need `KABAR_TEST_DATABASE_URL`; without it they are skipped).
#[cfg(test)]
pub(crate) mod replicas {
    use super::*;

    pub(crate) async fn two(check: &str) -> Option<(PgStore, PgStore)> {
        let Ok(url) = std::env::var("KABAR_TEST_DATABASE_URL") else {
            eprintln!("skipped: set KABAR_TEST_DATABASE_URL=postgres://… to run it");
            return None;
        };
        let url = DatabaseUrl::new(url).expect("KABAR_TEST_DATABASE_URL");
        let schema = format!("r_{check}");
        PgStore::drop_schema(&url, &schema).await.expect("drop");
        let a = PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect");
        let b = PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect");
        Some((a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two replicas starting on a fresh database both create the first admin: one does, the
    /// other hears the name is taken (and prints no password).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_replicas_create_the_first_admin_once() {
        let Some((a, b)) = replicas::two("first_admin").await else {
            return;
        };
        let admin = User {
            name: "admin".into(),
            role: Role::Admin,
            languages: Lang::ALL.to_vec(),
            password_hash: String::new(),
            created_at: now_ms(),
            disabled: false,
        };
        let mut tasks = Vec::new();
        for store in [a.clone(), b.clone(), a.clone(), b.clone()] {
            let admin = admin.clone();
            tasks.push(tokio::spawn(async move { store.add_user(&admin).await }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => created += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(created, 1);
        assert_eq!(b.users().await.unwrap().len(), 1);
        a.close().await.unwrap();
        b.close().await.unwrap();
    }

    /// Failed logins reach every replica (old ones are forgotten as they are read); the
    /// shared key is one key, whichever replica asks first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn login_failures_and_shared_keys_are_the_same_on_every_replica() {
        use crate::store::Coordination;
        let Some((a, b)) = replicas::two("login_limits").await else {
            return;
        };
        for at in [1_000, 2_000, 3_000] {
            a.record_login_failure("ina", at).await.unwrap();
        }
        b.record_login_failure("ina", 4_000).await.unwrap();
        assert_eq!(
            b.login_failures("ina", 1_500).await.unwrap(),
            [2_000, 3_000, 4_000]
        );
        assert_eq!(
            a.login_failures("ina", 3_000).await.unwrap(),
            [3_000, 4_000]
        );
        assert!(a.login_failures("omar", 0).await.unwrap().is_empty());
        b.clear_login_failures("ina").await.unwrap();
        assert!(a.login_failures("ina", 0).await.unwrap().is_empty());

        let (ka, kb) = tokio::join!(a.shared_key("login-csrf"), b.shared_key("login-csrf"));
        assert_eq!(ka.unwrap(), kb.unwrap());
        assert_ne!(
            a.shared_key("other").await.unwrap(),
            a.shared_key("login-csrf").await.unwrap()
        );
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
}
