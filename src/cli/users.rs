//! Users and API tokens from the command line.

use super::*;

pub(super) async fn add_user(
    config: &Config,
    name: String,
    role: Role,
    languages: Vec<Lang>,
) -> CliResult {
    admin::check_user_name(&name)?;
    admin::check_languages(role, &languages)
        .map_err(|_| "an interpreter needs --languages (e.g. --languages fa-AF,fa)")?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']);
    admin::check_password(password)?;
    let store = open_store(
        config,
        "add the user on the page /admin/users (as an admin), or with \
         POST /api/users {\"name\", \"role\", \"languages\": [..], \"password\"}",
    )
    .await?;
    let user = User {
        name: name.clone(),
        role,
        languages,
        password_hash: auth::hash_password(password).map_err(|e| e.to_string())?,
        created_at: now_ms(),
        disabled: false,
    };
    store.create_user(&user, CLI_AUDIT_NAME).await?;
    store.close().await?;
    println!("user {name} added");
    Ok(())
}

pub(super) async fn create_token(config: &Config, name: &str) -> CliResult {
    let store = open_store(
        config,
        &format!(
            "create the token on the page /admin/tokens, or with \
             POST /api/tokens {{\"user\": \"{name}\"}} (admins, or the user for themselves)"
        ),
    )
    .await?;
    if store.user(name).await?.is_none() {
        return Err(format!("no user named {name:?}; add one with `kabar user add`").into());
    }
    let token = auth::new_token();
    let record = store
        .create_token(&auth::token_hash(&token), name, CLI_AUDIT_NAME)
        .await?;
    store.close().await?;
    eprintln!(
        "token {} for {name} (shown once; keep it secret; revoke it with DELETE /api/tokens/{}):",
        record.id, record.id
    );
    println!("{token}");
    Ok(())
}
