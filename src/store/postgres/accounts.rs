//! PostgreSQL: the Accounts port.

use super::*;

#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        todo!("postgres: create_user")
    }

    async fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<User>, StoreError> {
        todo!("postgres: update_user")
    }

    async fn add_token(&self, token_hash: &str, user: &str) -> Result<ApiToken, StoreError> {
        todo!("postgres: add_token")
    }

    async fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        by: &str,
    ) -> Result<ApiToken, StoreError> {
        todo!("postgres: create_token")
    }

    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        todo!("postgres: token_user")
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        todo!("postgres: tokens")
    }

    async fn revoke_token(&self, id: &str, by: &str) -> Result<Option<ApiToken>, StoreError> {
        todo!("postgres: revoke_token")
    }

    async fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        todo!("postgres: create_web_session")
    }

    async fn web_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, StoreError> {
        todo!("postgres: web_session")
    }

    async fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        todo!("postgres: end_web_session")
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        todo!("postgres: user")
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        todo!("postgres: users")
    }

    async fn add_user(&self, user: &User) -> Result<(), StoreError> {
        todo!("postgres: add_user")
    }
}
