//! kabar: an SMS and WhatsApp helpdesk that answers refugees and asylum seekers in their own
//! language. A message travels: channel (webhook) → store (durable) → processor (flow engine)
//! → outbox → channel (provider).

pub mod background;
pub mod broadcast;
pub mod channel;
pub mod config;
pub mod domain;
pub mod flow;
pub mod helpdesk;
pub mod i18n;
pub mod import;
pub mod metrics;
pub mod outbox;
pub mod phone;
pub mod processor;
pub mod store;
pub mod web;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::channel::Channels;
use crate::config::Config;
use crate::flow::Flows;
use crate::i18n::{LocaleError, Localizer};
use crate::metrics::Metrics;
use crate::outbox::{Backoff, Clock, Dispatcher};
use crate::processor::Processor;
use crate::store::{Store, StoreError};

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
}

/// Loads and validates locales and flows.
pub fn load_content(config: &Config) -> Result<(Localizer, Flows), StartError> {
    let localizer = Localizer::load(&config.content.locales)
        .map_err(StartError::Locales)?
        // The privacy notice states the retention the daily purge applies.
        .with_number("retain_days", i64::from(config.privacy.retain_days));
    let flows = flow::load::load(&config.content.flows, &localizer)?;
    Ok((localizer, flows))
}

/// Retention: a minute after start and then once a day, removes messages and media past
/// `[privacy] retain_days` and anonymises tickets closed before then.
async fn daily_purge(
    store: Arc<Store>,
    privacy: config::PrivacyConfig,
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
        let cutoff = privacy.cutoff(domain::now_ms());
        let purging = store.clone();
        const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
        const HOUR: std::time::Duration = std::time::Duration::from_secs(60 * 60);
        wait = match tokio::task::spawn_blocking(move || purging.purge(cutoff, false)).await {
            Ok(Ok(r)) => {
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
            Ok(Err(e)) => {
                tracing::error!(error = %e, "retention purge failed; retrying in an hour");
                HOUR
            }
            Err(e) => {
                tracing::error!(error = %e, "retention purge stopped; retrying in an hour");
                HOUR
            }
        };
    }
}

/// Everything a running kabar is made of. Built by `main` and by the tests.
pub struct App {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub channels: Channels,
    pub dispatcher: Dispatcher,
    pub processor: Arc<Processor>,
    pub hours: helpdesk::hours::BusinessHours,
    pub events: helpdesk::Events,
    localizer: Arc<Localizer>,
    /// The time tests can move: the WhatsApp window, quiet hours, `send_at`, on-call reminders.
    clock: Clock,
    /// Intake, answering and sending run here, below the webhooks' priority.
    background: background::Background,
    shutdown_tx: watch::Sender<bool>,
}

/// Knobs tests turn; production uses the defaults.
#[derive(Clone)]
pub struct Options {
    pub backoff: Backoff,
    /// The time the WhatsApp 24-hour window is judged by.
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backoff: Backoff::default(),
            clock: outbox::system_clock(),
        }
    }
}

impl App {
    pub fn build(config: Config) -> Result<App, StartError> {
        App::build_with(config, Options::default())
    }

    /// Like [`build`](Self::build) with custom options (tests use short retry delays and a
    /// clock they can move).
    pub fn build_with(config: Config, options: Options) -> Result<App, StartError> {
        let (localizer, flows) = load_content(&config)?;
        let background = background::Background::start().map_err(StartError::Runtime)?;
        let store = Arc::new(Store::open(&config.server.data_dir)?);
        let metrics = Arc::new(Metrics::new());
        let http = reqwest::Client::builder()
            .user_agent(concat!("kabar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(StartError::Http)?;
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
            gateway: config
                .gateway
                .clone()
                .map(|g| channel::gateway::GatewaySender::new(g, http.clone())),
            gateway_health: Default::default(),
        };
        let hours = helpdesk::hours::BusinessHours::parse(
            &config.helpdesk.timezone,
            &config.helpdesk.hours,
        )?;
        let (events, _) = tokio::sync::broadcast::channel(256);
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
        let processor = Processor::new(processor::Parts {
            store: store.clone(),
            flows: Arc::new(flows),
            localizer: localizer.clone(),
            dispatcher: dispatcher.clone(),
            channels: channels.clone(),
            media_dir: config.server.data_dir.join("media"),
            hours: Some(hours.clone()),
            events: events.clone(),
            runtime: background.handle(),
        });
        let (shutdown_tx, _) = watch::channel(false);
        Ok(App {
            config: Arc::new(config),
            store,
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
            login_limiter: Default::default(),
            login_csrf: Default::default(),
            views: Default::default(),
            dispatcher: self.dispatcher.clone(),
            clock: self.clock.clone(),
        }))
    }

    /// Serves until `stop` resolves, then shuts down gracefully: in-flight requests finish,
    /// live streams end, sends in flight record their outcome, the store is flushed.
    pub async fn run(
        self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let resumed = self.processor.resume_pending().unwrap_or_else(|e| {
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
        let intake = self.store.take_intake().map(|rx| {
            background.spawn(self.processor.clone().run_intake(
                rx,
                self.metrics.clone(),
                self.shutdown_tx.subscribe(),
            ))
        });
        let dispatcher =
            background.spawn(self.dispatcher.clone().run(self.shutdown_tx.subscribe()));
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
            self.shutdown_tx.subscribe(),
        ));
        let broadcasts = background.spawn(
            outbox::bulk::Runner {
                store: self.store.clone(),
                channels: self.channels.clone(),
                metrics: self.metrics.clone(),
                dispatcher: self.dispatcher.clone(),
                clock: self.clock.clone(),
            }
            .run(self.shutdown_tx.subscribe()),
        );
        let router = self.router();
        let shutdown_tx = self.shutdown_tx.clone();
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                stop.await;
                tracing::info!("shutting down: finishing requests in flight");
                let _ = shutdown_tx.send(true);
            })
            .await;
        let _ = self.shutdown_tx.send(true);
        let _ = dispatcher.await;
        let _ = on_call.await;
        let _ = retention.await;
        let _ = broadcasts.await;
        if let Some(intake) = intake {
            let _ = intake.await;
        }
        if let Err(e) = self.store.close() {
            tracing::error!(error = %e, "final flush failed");
        }
        tracing::info!("stopped");
        result
    }
}
