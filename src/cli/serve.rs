//! Serving: the server, the first admin, and a stop that always ends.

use super::*;

/// The longest a stop may take once asked for. Past it kabar exits anyway: every webhook it
/// acknowledged is in the intake journal, which the next start replays.
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

pub(super) async fn serve(config: Config) -> CliResult {
    {
        let listen = config.server.listen;
        let app = kabar::App::open(config).await?;
        first_admin(&app.store).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let simulator = app.config.simulator.enabled;
        println!("kabar listening on http://{listen}");
        if simulator {
            println!("phone simulator: http://{listen}/simulator");
        }
        app.run(listener, shutdown_signal()).await?;
        Ok(())
    }
}

/// On a fresh store, creates `admin` with a random password and prints it once.
async fn first_admin(store: &Store) -> CliResult {
    if !store.users().await?.is_empty() {
        return Ok(());
    }
    let password = auth::new_token().replace("kbr_", "");
    let user = User {
        name: "admin".into(),
        role: Role::Admin,
        languages: Lang::ALL.to_vec(),
        password_hash: auth::hash_password(&password).map_err(|e| e.to_string())?,
        created_at: now_ms(),
        disabled: false,
    };
    match store.add_user(&user).await {
        Ok(()) => {}
        // Replicas starting together on one database: another one created it (and printed
        // its password); only one admin is made, and only once is a password shown.
        Err(kabar::store::StoreError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    println!("first login: user admin, password {password}");
    println!(
        "(shown once; add more users at /admin/users, or with `kabar user add` while stopped)"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    // A watchdog outside the runtime, so that nothing the server waits on (a broken store,
    // a provider that does not answer, a stuck client) can keep it from stopping.
    let watchdog = std::thread::Builder::new()
        .name("kabar-stop-watchdog".into())
        .spawn(|| {
            std::thread::sleep(STOP_DEADLINE);
            eprintln!(
                "kabar: the stop took longer than {}s; exiting now (acknowledged messages are in the intake journal and are answered at the next start)",
                STOP_DEADLINE.as_secs()
            );
            std::process::exit(1);
        });
    if watchdog.is_err() {
        eprintln!("kabar: cannot start the stop watchdog");
    }
}
