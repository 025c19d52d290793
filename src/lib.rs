//! kabar: an SMS and WhatsApp helpdesk that answers refugees and asylum seekers in their own
//! language. A message travels: channel (webhook) → store (durable intake) → conversation (flow
//! engine) → store (outbox) → dispatch → channel (provider). `tests/layering.rs` keeps the
//! layers pointing one way; README's "How a message travels" names each folder.

pub mod background;
pub mod broadcast;
pub mod channel;
pub mod config;
pub mod content;
pub mod conversation;
pub mod disk;
pub mod dispatch;
pub mod domain;
pub mod flow;
pub mod helpdesk;
pub mod i18n;
pub mod import;
pub mod metrics;
pub mod ops;
pub mod store;
pub mod web;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::channel::Channels;
use crate::config::Config;
use crate::conversation::Processor;
use crate::dispatch::{Backoff, Dispatcher};
use crate::domain::clock::SharedClock;
use crate::flow::Flows;
use crate::i18n::{LocaleError, Localizer};
use crate::metrics::Metrics;
use crate::store::{SledStore, Store, StoreError};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("locales are invalid:\n{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Locales(Vec<LocaleError>),
    #[error(transparent)]
    Flows(#[from] flow::load::FlowErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error("cannot start the background runtime: {0}")]
    Runtime(std::io::Error),
    #[error("config helpdesk: {0}")]
    Hours(#[from] helpdesk::hours::HoursError),
    #[error("config broadcasts: {0}")]
    Broadcasts(String),
    #[error("store.kind = \"postgres\" is opened with App::open (it connects to the database)")]
    NeedsConnect,
}

/// A store opened from the config, and the embedded backend behind it when that is sled.
pub struct OpenedStore {
    pub store: Store,
    pub sled: Option<SledStore>,
}

fn open_sled(config: &Config) -> Result<OpenedStore, StoreError> {
    let sled = SledStore::open(&config.server.data_dir)?;
    Ok(OpenedStore {
        store: Arc::new(sled.clone()),
        sled: Some(sled),
    })
}

/// Opens the store `[store]` names: sled in the data folder, or PostgreSQL (connected, its
/// schema applied).
pub async fn open_store(config: &Config) -> Result<OpenedStore, StoreError> {
    match config.store.kind {
        config::StoreKind::Sled => open_sled(config),
        #[cfg(feature = "postgres")]
        config::StoreKind::Postgres => {
            let url = config.store.url.as_ref().ok_or_else(|| {
                StoreError::Database("store.kind = \"postgres\" needs store.url".into())
            })?;
            let pg = store::postgres::PgStore::connect(url, None).await?;
            if let Some(unfinished) = pg.unfinished_import().await? {
                return Err(StoreError::Database(format!(
                    "a move into this database with `kabar migrate-store` has not finished \
                     (from {}): run it again to finish it, then start kabar (to give the move up instead, \
                     drop the database and create it empty)",
                    unfinished.source
                )));
            }
            Ok(OpenedStore {
                store: Arc::new(pg),
                sled: None,
            })
        }
        #[cfg(not(feature = "postgres"))]
        config::StoreKind::Postgres => Err(StoreError::Database(
            "this kabar was built without PostgreSQL support".into(),
        )),
    }
}

/// Why a running server stopped other than on request.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Every acknowledged message is still in the intake journal: the service manager's
    /// restart replays and answers it.
    #[error(
        "the store cannot continue after a failed write ({0}); kabar stopped so that a restart \
         re-opens it. Nothing acknowledged is lost: the restart answers every message in the \
         intake journal"
    )]
    StoreBroken(String),
}

/// How often contacts with messages left unanswered (a failed store write, a full disk) are
/// tried again without waiting for their next message or a restart.
const RESUME_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Loads and validates locales and flows.
pub fn load_content(config: &Config) -> Result<(Localizer, Flows), StartError> {
    let localizer = Localizer::load_from(&config.content.locales_dir())
        .map_err(StartError::Locales)?
        // The privacy notice states the retention the daily purge applies.
        .with_number("retain_days", i64::from(config.privacy.retain_days));
    let flows = flow::load::load_from(&config.content.flows_dir(), &localizer)?;
    Ok((localizer, flows))
}

/// Retention: a minute after start and then once a day, removes messages and media past
/// `[privacy] retain_days` and anonymises tickets closed before then.
async fn daily_purge(
    store: Store,
    privacy: config::PrivacyConfig,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut wait = std::time::Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let cutoff = privacy.cutoff(clock.now());
        const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
        const HOUR: std::time::Duration = std::time::Duration::from_secs(60 * 60);
        wait = match store.purge(cutoff, false).await {
            Ok(r) => {
                if r.messages > 0 || r.tickets_anonymised > 0 {
                    tracing::info!(
                        messages = r.messages,
                        media_files = r.media_files,
                        tickets = r.tickets_anonymised,
                        retain_days = privacy.retain_days,
                        "retention purge"
                    );
                }
                DAY
            }
            Err(e) => {
                tracing::error!(error = %e, "retention purge failed; retrying in an hour");
                HOUR
            }
        };
    }
}

/// Everything a running kabar is made of. Built by `main` and by the tests.
pub struct App {
    pub config: Arc<Config>,
    /// Storage, through its port.
    pub store: Store,
    /// The embedded backend behind `store`, when that is the backend (tests and benchmarks
    /// read its data folder); `None` on PostgreSQL.
    pub sled: Option<SledStore>,
    pub metrics: Arc<Metrics>,
    pub channels: Channels,
    pub dispatcher: Dispatcher,
    pub processor: Arc<Processor>,
    pub hours: helpdesk::hours::BusinessHours,
    pub events: helpdesk::Events,
    /// The data folder's disk, judged against `[server] min_free_mb`.
    pub disk: ops::DiskWatch,
    localizer: Arc<Localizer>,
    /// The time tests can move: the WhatsApp window, quiet hours, `send_at`, on-call reminders.
    clock: SharedClock,
    /// Intake, answering and sending run here, below the webhooks' priority.
    background: background::Background,
    shutdown_tx: watch::Sender<bool>,
}

/// Knobs tests turn; production uses the defaults.
#[derive(Clone)]
pub struct Options {
    pub backoff: Backoff,
    /// The time everything is judged by: the WhatsApp window, the reopen window, sessions,
    /// business hours, broadcast schedules and quiet hours, retention.
    pub clock: SharedClock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backoff: Backoff::default(),
            clock: domain::clock::system(),
        }
    }
}

impl App {
    pub fn build(config: Config) -> Result<App, StartError> {
        App::build_with(config, Options::default())
    }

    /// Like [`build`](Self::build) with custom options (tests use short retry delays and a
    /// clock they can move).
    /// The embedded store only: PostgreSQL is connected to with [`open_with`](Self::open_with).
    pub fn build_with(config: Config, options: Options) -> Result<App, StartError> {
        let (localizer, flows) = load_content(&config)?;
        let opened = match config.store.kind {
            config::StoreKind::Sled => open_sled(&config)?,
            config::StoreKind::Postgres => return Err(StartError::NeedsConnect),
        };
        App::assemble(config, options, opened, localizer, flows)
    }

    /// Opens the configured store (connecting to PostgreSQL and applying its schema when that
    /// is the backend) and builds the app.
    pub async fn open(config: Config) -> Result<App, StartError> {
        App::open_with(config, Options::default()).await
    }

    /// Like [`open`](Self::open) with custom options.
    pub async fn open_with(config: Config, options: Options) -> Result<App, StartError> {
        let (localizer, flows) = load_content(&config)?;
        let opened = open_store(&config).await?;
        App::assemble(config, options, opened, localizer, flows)
    }

    fn assemble(
        config: Config,
        options: Options,
        opened: OpenedStore,
        localizer: Localizer,
        flows: Flows,
    ) -> Result<App, StartError> {
        let background = background::Background::start().map_err(StartError::Runtime)?;
        let OpenedStore { store, sled } = opened;
        let metrics = Arc::new(Metrics::new());
        let http = reqwest::Client::builder()
            .user_agent(concat!("kabar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(StartError::Http)?;
        let gateway_health = Arc::new(channel::Reachability::default());
        let channels = Channels {
            twilio: config.twilio.clone().map(|t| {
                channel::twilio::TwilioSender::new(t, &config.server.public_url, http.clone())
            }),
            simulator: config
                .simulator
                .enabled
                .then(channel::simulator::Simulator::new),
            whatsapp: config
                .whatsapp
                .clone()
                .map(|w| channel::whatsapp::WhatsappSender::new(w, http.clone())),
            gateway: config.gateway.clone().map(|g| {
                channel::gateway::GatewaySender::new(g, http.clone())
                    .with_health(gateway_health.clone())
            }),
            gateway_health,
        };
        let hours = helpdesk::hours::BusinessHours::parse(
            &config.helpdesk.timezone,
            &config.helpdesk.hours,
        )?;
        let events = helpdesk::Events::new(store.clone());
        let clock = options.clock.clone();
        let dispatcher = Dispatcher::new(
            store.clone(),
            channels.clone(),
            metrics.clone(),
            options.backoff,
            options.clock.clone(),
        );
        let quiet = config
            .broadcasts
            .quiet_hours
            .as_deref()
            .map(|q| broadcast::QuietHours::parse(q, hours.timezone()))
            .transpose()
            .map_err(StartError::Broadcasts)?;
        dispatcher.set_quiet_hours(quiet);
        let localizer = Arc::new(localizer);
        let processor = Processor::new(conversation::Parts {
            store: store.clone(),
            flows: Arc::new(flows),
            localizer: localizer.clone(),
            dispatcher: dispatcher.clone(),
            channels: channels.clone(),
            hours: Some(hours.clone()),
            events: events.clone(),
            clock: clock.clone(),
            runtime: background.handle(),
        });
        let (shutdown_tx, _) = watch::channel(false);
        // On PostgreSQL nothing else makes the folder, and the disk watch reads its disk.
        if let Err(e) = std::fs::create_dir_all(&config.server.data_dir) {
            tracing::warn!(error = %e, dir = %config.server.data_dir.display(), "cannot create the data folder");
        }
        let disk = ops::DiskWatch::new(&config.server.data_dir, config.server.min_free_mb);
        Ok(App {
            disk,
            config: Arc::new(config),
            store,
            sled,
            metrics,
            channels,
            dispatcher,
            processor,
            hours,
            events,
            localizer,
            clock,
            background,
            shutdown_tx,
        })
    }

    pub fn router(&self) -> axum::Router {
        web::router(web::AppState::new(web::Shared {
            config: self.config.clone(),
            store: self.store.clone(),
            processor: self.processor.clone(),
            channels: self.channels.clone(),
            metrics: self.metrics.clone(),
            shutdown: self.shutdown_tx.subscribe(),
            localizer: self.localizer.clone(),
            hours: self.hours.clone(),
            events: self.events.clone(),
            login_limiter: Arc::new(web::auth::LoginLimiter::new(self.store.clone())),
            login_csrf: Arc::new(web::auth::LoginCsrf::new(self.store.clone())),
            views: Default::default(),
            dispatcher: self.dispatcher.clone(),
            clock: self.clock.clone(),
            disk: self.disk.clone(),
        }))
    }

    /// Serves until `stop` resolves, then shuts down gracefully: in-flight requests finish,
    /// live streams end, sends in flight record their outcome, the intake stores what webhooks
    /// acknowledged and the journal is trimmed, the store is flushed. Ends early with
    /// [`RunError::StoreBroken`] when the store cannot continue (after the same shutdown).
    /// With other replicas on the same database: what they announce reaches the pages here
    /// (queue and ticket events, simulator replies their dispatcher delivered), and the
    /// simulator replies delivered here reach theirs. Nothing to do on sled.
    async fn relay_between_replicas(&self) {
        let Some(mut heard) = self.store.announcements().await else {
            return;
        };
        let events = self.events.clone();
        let simulator = self.channels.simulator.clone();
        let dispatcher = self.dispatcher.clone();
        let gateway_health = self.channels.gateway_health.clone();
        let mut shutdown = self.shutdown_tx.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    announced = heard.recv() => match announced {
                        Some((store::Topic::Ticket, payload)) => events.heard_from_replica(&payload),
                        Some((store::Topic::Simulator, payload)) => {
                            let reply = serde_json::from_str::<channel::simulator::SimulatedReply>(&payload);
                            if let (Some(simulator), Ok(reply)) = (&simulator, reply) {
                                simulator.show_relayed(reply);
                            }
                        }
                        // Sent at once if this replica sends; a look that finds nothing
                        // due otherwise.
                        Some((store::Topic::Outbox, _)) => dispatcher.wake(),
                        Some((store::Topic::Gateway, payload)) => {
                            if let Ok(observed) = serde_json::from_str(&payload) {
                                gateway_health.heard(observed);
                            }
                        }
                        None => return,
                    },
                }
            }
        });
        if self.channels.gateway.is_some() {
            self.announce_gateway_health();
        }
        let Some(simulator) = &self.channels.simulator else {
            return;
        };
        let mut delivered = simulator.subscribe();
        let store = self.store.clone();
        let mut shutdown = self.shutdown_tx.subscribe();
        tokio::spawn(async move {
            loop {
                let reply = tokio::select! {
                    _ = shutdown.changed() => return,
                    reply = delivered.recv() => reply,
                };
                match reply {
                    Ok(reply) if !reply.relayed => {
                        let Ok(payload) = serde_json::to_string(&reply) else {
                            continue;
                        };
                        if let Err(e) = store.announce(store::Topic::Simulator, &payload).await {
                            tracing::warn!(error = %e, "cannot pass a simulator reply to the other replicas");
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// Tells the other replicas what this one saw of the gateway phone: at each send's
    /// outcome, and again every half minute while this replica is the one that sees it, so a
    /// replica started later learns it too.
    fn announce_gateway_health(&self) {
        const AGAIN: std::time::Duration = std::time::Duration::from_secs(30);
        let health = self.channels.gateway_health.clone();
        let store = self.store.clone();
        let mut recorded = health.subscribe();
        let mut shutdown = self.shutdown_tx.subscribe();
        tokio::spawn(async move {
            let mut again = tokio::time::interval(AGAIN);
            let mut last = None;
            loop {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    changed = recorded.changed() => if changed.is_err() { return },
                    _ = again.tick() => last = None,
                }
                let Some(observed) = health.observed().filter(|o| o.here) else {
                    continue;
                };
                // Each send records an outcome: announce changes, not every send.
                let shown = (observed.reachable, observed.since);
                if last == Some(shown) {
                    continue;
                }
                let Ok(payload) = serde_json::to_string(&observed) else {
                    continue;
                };
                match store.announce(store::Topic::Gateway, &payload).await {
                    Ok(()) => last = Some(shown),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot tell the other replicas about the gateway phone")
                    }
                }
            }
        });
    }

    pub async fn run(
        self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), RunError> {
        let resumed = self.processor.resume_pending().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read pending messages");
            0
        });
        if resumed > 0 {
            tracing::info!(
                contacts = resumed,
                "answering messages stored before the restart"
            );
        }
        let background = self.background.handle();
        // The intake stops only once no webhook can append any more, so its last pass
        // leaves the journal empty.
        let (intake_stop_tx, intake_stop_rx) = watch::channel(false);
        let (broken_tx, broken_rx) = tokio::sync::oneshot::channel::<String>();
        let intake = {
            let store = self.store.clone();
            let sink: Arc<dyn store::IntakeSink> = Arc::new(self.processor.clone());
            let (metrics, disk) = (self.metrics.clone(), self.disk.clone());
            Some(background.spawn(async move {
                if let store::IntakeEnd::StoreBroken(reason) =
                    store.run_intake(sink, metrics, intake_stop_rx, disk).await
                {
                    let _ = broken_tx.send(reason);
                }
            }))
        };
        let dispatcher =
            background.spawn(self.dispatcher.clone().run(self.shutdown_tx.subscribe()));
        self.relay_between_replicas().await;
        let on_call = background.spawn(
            helpdesk::oncall::OnCall {
                store: self.store.clone(),
                dispatcher: self.dispatcher.clone(),
                channels: self.channels.clone(),
                numbers: self.config.helpdesk.on_call.clone(),
                repeat: std::time::Duration::from_secs(
                    u64::from(self.config.helpdesk.on_call_repeat_minutes.max(1)) * 60,
                ),
                clock: self.clock.clone(),
            }
            .run(self.events.subscribe(), self.shutdown_tx.subscribe()),
        );
        let retention = background.spawn(daily_purge(
            self.store.clone(),
            self.config.privacy.clone(),
            self.clock.clone(),
            self.shutdown_tx.subscribe(),
        ));
        let broadcasts = background.spawn(
            dispatch::bulk::Runner {
                store: self.store.clone(),
                channels: self.channels.clone(),
                metrics: self.metrics.clone(),
                dispatcher: self.dispatcher.clone(),
                clock: self.clock.clone(),
            }
            .run(self.shutdown_tx.subscribe()),
        );
        let resume = background.spawn(resume_unanswered(
            self.processor.clone(),
            self.disk.clone(),
            self.shutdown_tx.subscribe(),
        ));
        let backups = self.config.backup.clone().map(|config| {
            background.spawn(ops::run_scheduled_backups(
                self.store.clone(),
                config,
                self.shutdown_tx.subscribe(),
            ))
        });
        let router = self.router();
        let shutdown_tx = self.shutdown_tx.clone();
        let (broken_reason_tx, mut broken_reason) = tokio::sync::oneshot::channel::<String>();
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                tokio::select! {
                    _ = stop => tracing::info!("shutting down: finishing requests in flight"),
                    Ok(reason) = broken_rx => {
                        tracing::error!(%reason, "the store cannot continue: stopping for a restart");
                        let _ = broken_reason_tx.send(reason);
                    }
                }
                let _ = shutdown_tx.send(true);
            })
            .await;
        let _ = self.shutdown_tx.send(true);
        let _ = intake_stop_tx.send(true);
        let _ = dispatcher.await;
        let _ = on_call.await;
        let _ = retention.await;
        let _ = broadcasts.await;
        let _ = resume.await;
        if let Some(backups) = backups {
            // A backup being written is cut short (its .partial file is not a backup).
            backups.abort();
            let _ = backups.await;
        }
        if let Some(intake) = intake {
            let _ = intake.await;
        }
        if let Err(e) = self.store.close().await {
            tracing::error!(error = %e, "final flush failed");
        }
        tracing::info!("stopped");
        result?;
        match broken_reason.try_recv() {
            Ok(reason) => Err(RunError::StoreBroken(reason)),
            Err(_) => Ok(()),
        }
    }
}

/// Tries contacts with unanswered messages again every [`RESUME_EVERY`]: a message whose
/// answer could not be written (a full disk) stays in the inbox, and this answers it once the
/// store works again. Contacts being answered are skipped by `schedule`. Checks the disk too,
/// for the staff pages' warning.
async fn resume_unanswered(
    processor: Arc<Processor>,
    disk: ops::DiskWatch,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RESUME_EVERY) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        // Keeps the staff pages' warning current even when nobody polls /healthz.
        disk.low();
        if let Err(e) = processor.resume_pending().await {
            tracing::warn!(error = %e, "cannot look for unanswered messages");
        }
    }
}
