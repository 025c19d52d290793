//! Shared test helpers: the app on port 0 with a fake Twilio API on loopback that speaks
//! Twilio's wire format (form POST in, 201 JSON out, error JSON with codes).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kabar::config::Config;
use kabar::dispatch::Backoff;
use kabar::domain::clock::{Clock, ManualClock};
use kabar::i18n::{Lang, Localizer};
use kabar::store::sled::Store;
use tokio::net::TcpListener;

pub const ACCOUNT_SID: &str = "ACtest00000000000000000000000000";
pub const AUTH_TOKEN: &str = "test-auth-token";
pub const OUR_NUMBER: &str = "+6281100000000";

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The locales as the app loads them (with the default `[privacy] retain_days`).
pub fn localizer() -> Localizer {
    Localizer::load(&manifest_dir().join("locales"))
        .expect("locales load")
        .with_number(
            "retain_days",
            i64::from(kabar::config::PrivacyConfig::default().retain_days),
        )
}

/// One request the fake Twilio received.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub to: String,
    pub from: Option<String>,
    pub body: String,
    pub status_callback: Option<String>,
    pub authorized: bool,
    /// The sid we answered with, if we accepted it.
    pub sid: Option<String>,
}

#[derive(Default)]
struct FakeState {
    received: Mutex<Vec<SentMessage>>,
    /// Scripted answers (status, JSON body) used before falling back to 201.
    script: Mutex<VecDeque<(u16, String)>>,
    counter: AtomicU64,
    /// Media downloads: (media sid, whether the request carried the account's credentials).
    media_fetched: Mutex<Vec<(String, bool)>>,
}

/// What the fake Twilio serves as a picture someone sent by MMS.
pub const TWILIO_PICTURE: &[u8] = b"\xFF\xD8\xFF\xE0 a small jpeg";

#[derive(Clone)]
pub struct FakeTwilio {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let state = Arc::new(FakeState::default());
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(fake_messages),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}",
                axum::routing::get(fake_media),
            )
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTwilio { addr, state }
    }

    /// The next answers, in order, before the default 201.
    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut s = self.state.script.lock().unwrap();
        for (status, body) in answers {
            s.push_back((*status, body.to_string()));
        }
    }

    pub fn received(&self) -> Vec<SentMessage> {
        self.state.received.lock().unwrap().clone()
    }

    /// Media downloads so far: (media sid, authorized with the account's credentials).
    pub fn media_fetched(&self) -> Vec<(String, bool)> {
        self.state.media_fetched.lock().unwrap().clone()
    }

    /// The URL Twilio puts in `MediaUrl0` for a media file of this account.
    pub fn media_url(&self, media: &str) -> String {
        format!(
            "http://{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{:030x}/Media/{media}",
            self.addr, 1
        )
    }

    /// Messages accepted (201) for `to`, in order.
    pub fn delivered_to(&self, to: &str) -> Vec<SentMessage> {
        self.received()
            .into_iter()
            .filter(|m| m.to == to && m.sid.is_some())
            .collect()
    }

    /// Waits until `n` messages to `to` were accepted; returns them all.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<SentMessage> {
        for _ in 0..200 {
            let got = self.delivered_to(to);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let got = self.delivered_to(to);
        panic!(
            "expected {n} messages to {to}, got {}: {:#?}",
            got.len(),
            got.iter().map(|m| &m.body).collect::<Vec<_>>()
        );
    }
}

/// Twilio media behind HTTP Basic auth ("enforce HTTP auth on media URLs"): 401 without the
/// account's credentials. `MEbig…` is larger than kabar's 16 MiB limit.
async fn fake_media(
    State(state): State<Arc<FakeState>>,
    Path((sid, _message, media)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use base64::Engine as _;
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let authorized = sid == ACCOUNT_SID
        && headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&expected_auth);
    state
        .media_fetched
        .lock()
        .unwrap()
        .push((media.clone(), authorized));
    if !authorized {
        return (StatusCode::UNAUTHORIZED, "Authenticate").into_response();
    }
    if media.starts_with("MEbig") {
        return (
            [("content-type", "image/jpeg")],
            vec![0u8; 16 * 1024 * 1024 + 1],
        )
            .into_response();
    }
    ([("content-type", "image/jpeg")], TWILIO_PICTURE.to_vec()).into_response()
}

async fn fake_messages(
    State(state): State<Arc<FakeState>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    use base64::Engine as _;
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let authorized = sid == ACCOUNT_SID
        && headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&expected_auth);
    let scripted = state.script.lock().unwrap().pop_front();
    let (status, answer) = match (authorized, scripted) {
        (false, _) => (
            401,
            r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#.to_string(),
        ),
        (true, Some(s)) => s,
        (true, None) => {
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            (201, format!(r#"{{"sid":"SM{n:032x}","status":"queued"}}"#))
        }
    };
    let sid = (status == 201)
        .then(|| serde_json::from_str::<serde_json::Value>(&answer).ok())
        .flatten()
        .and_then(|v| v["sid"].as_str().map(String::from));
    state.received.lock().unwrap().push(SentMessage {
        to: get("To").unwrap_or_default(),
        from: get("From"),
        body: get("Body").unwrap_or_default(),
        status_callback: get("StatusCallback"),
        authorized,
        sid,
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        answer,
    )
}

/// A fake Graph API: records sends, answers with wamids, serves media.
#[derive(Clone)]
pub struct FakeGraph {
    pub addr: SocketAddr,
    state: Arc<GraphState>,
}

#[derive(Default)]
struct GraphState {
    sent: Mutex<Vec<serde_json::Value>>,
    script: Mutex<VecDeque<(u16, String)>>,
    counter: AtomicU64,
    media_fetched: Mutex<Vec<String>>,
    base: Mutex<String>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let state = Arc::new(GraphState::default());
        let app = Router::new()
            .route("/v21.0/{phone_id}/messages", post(graph_send))
            .route("/v21.0/{media_id}", axum::routing::get(graph_media_info))
            .route("/files/{media_id}", axum::routing::get(graph_media_file))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind graph");
        let addr = listener.local_addr().expect("addr");
        *state.base.lock().unwrap() = format!("http://{addr}");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGraph { addr, state }
    }

    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut s = self.state.script.lock().unwrap();
        for (status, body) in answers {
            s.push_back((*status, body.to_string()));
        }
    }

    /// Request bodies accepted (200) for `to` (E.164 without '+'; or `wa:` and a user id, sent
    /// in `recipient`), in order.
    pub fn sent_to(&self, to: &str) -> Vec<serde_json::Value> {
        let (field, address) = match to.strip_prefix("wa:") {
            Some(user_id) => ("recipient", user_id),
            None => ("to", to.trim_start_matches('+')),
        };
        self.state
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b[field] == address && b["_accepted"] == true)
            .cloned()
            .collect()
    }

    pub fn all_requests(&self) -> Vec<serde_json::Value> {
        self.state.sent.lock().unwrap().clone()
    }

    pub fn media_fetched(&self) -> Vec<String> {
        self.state.media_fetched.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let got = self.sent_to(to);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "expected {n} WhatsApp messages to {to}, got {:#?}",
            self.sent_to(to)
        );
    }
}

async fn graph_send(
    State(state): State<Arc<GraphState>>,
    headers: HeaderMap,
    axum::Json(mut body): axum::Json<serde_json::Value>,
) -> (StatusCode, String) {
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {GRAPH_TOKEN}"));
    let (status, answer) = match (authorized, state.script.lock().unwrap().pop_front()) {
        (false, _) => (
            401,
            r#"{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}"#.to_string(),
        ),
        (true, Some(s)) => s,
        (true, None) => {
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            (
                200,
                format!(
                    r#"{{"messaging_product":"whatsapp","contacts":[{{"input":"{}","wa_id":"{}"}}],"messages":[{{"id":"wamid.TEST{n:06}"}}]}}"#,
                    body["to"].as_str().unwrap_or(""),
                    body["to"].as_str().unwrap_or("")
                ),
            )
        }
    };
    body["_accepted"] = serde_json::Value::Bool(status == 200);
    state.sent.lock().unwrap().push(body);
    (StatusCode::from_u16(status).unwrap(), answer)
}

async fn graph_media_info(
    State(state): State<Arc<GraphState>>,
    Path(media_id): Path<String>,
) -> axum::Json<serde_json::Value> {
    let base = state.base.lock().unwrap().clone();
    axum::Json(serde_json::json!({
        "messaging_product": "whatsapp",
        "url": format!("{base}/files/{media_id}"),
        "mime_type": "audio/ogg",
        "sha256": "x",
        "file_size": 11,
        "id": media_id,
    }))
}

async fn graph_media_file(
    State(state): State<Arc<GraphState>>,
    Path(media_id): Path<String>,
) -> Vec<u8> {
    state.media_fetched.lock().unwrap().push(media_id);
    b"OggS-voice!".to_vec()
}

/// A fake Android gateway phone: records sends, answers 202.
#[derive(Clone)]
pub struct FakeGateway {
    pub addr: SocketAddr,
    state: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl FakeGateway {
    pub async fn start() -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        FakeGateway::serve(listener)
    }

    /// Serves on `listener` (tests start the phone late to simulate it being offline).
    pub fn serve(listener: TcpListener) -> FakeGateway {
        let state = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/message", post(gateway_send))
            .with_state(state.clone());
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGateway { addr, state }
    }

    /// A phone at `addr` that is switched off: nothing listens until `go_online`.
    pub fn offline_at(addr: SocketAddr) -> FakeGateway {
        FakeGateway {
            addr,
            state: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Switches the phone on at its address.
    pub async fn go_online(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind gateway");
        let app = Router::new()
            .route("/message", post(gateway_send))
            .with_state(self.state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }

    pub fn sent_to(&self, to: &str) -> Vec<serde_json::Value> {
        self.state
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["phoneNumbers"][0] == to)
            .cloned()
            .collect()
    }

    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let got = self.sent_to(to);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "expected {n} gateway SMS to {to}, got {:#?}",
            self.sent_to(to)
        );
    }
}

async fn gateway_send(
    State(state): State<Arc<Mutex<Vec<serde_json::Value>>>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> (StatusCode, axum::Json<serde_json::Value>) {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sms:gateway-password")
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"message": "Unauthorized"})),
        );
    }
    let id = body["id"].clone();
    let recipients = body["phoneNumbers"].clone();
    state.lock().unwrap().push(body);
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"id": id, "state": "Pending", "recipients": recipients})),
    )
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub store: Arc<Store>,
    pub twilio: FakeTwilio,
    pub graph: FakeGraph,
    pub gateway: FakeGateway,
    /// The app's clock: tests jump hours or a day ahead (the WhatsApp and reopen windows,
    /// session expiry, business hours, broadcast schedules).
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub app_router: axum::Router,
    pub dispatcher: kabar::dispatch::Dispatcher,
    _data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), kabar::RunError>>>,
    sids: AtomicU64,
}

/// Which providers a test app has.
#[derive(Clone, Copy)]
pub struct Setup {
    pub twilio: bool,
    pub whatsapp: bool,
    pub gateway: bool,
    /// `[helpdesk] hours`; tests are staffed around the clock unless they say otherwise.
    pub hours: &'static str,
    /// `[helpdesk] on_call`, comma-separated as in `KABAR_HELPDESK__ON_CALL`.
    pub on_call: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            twilio: true,
            whatsapp: true,
            gateway: false,
            hours: "always",
            on_call: "",
        }
    }
}

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const GRAPH_TOKEN: &str = "test-graph-token";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const SIGNING_KEY: &str = "test-signing-key";

/// Config for a test app listening at `addr`, talking to the fake Twilio at `twilio`.
pub fn test_config(addr: SocketAddr, data: &std::path::Path, twilio: SocketAddr) -> Config {
    config_with(addr, data, twilio, None, None, Setup::default())
}

pub fn config_with(
    addr: SocketAddr,
    data: &std::path::Path,
    twilio: SocketAddr,
    graph: Option<SocketAddr>,
    gateway: Option<SocketAddr>,
    setup: Setup,
) -> Config {
    let mut vars: Vec<(&str, String)> = vec![
        ("KABAR_SERVER__LISTEN", addr.to_string()),
        ("KABAR_SERVER__PUBLIC_URL", format!("http://{addr}")),
        ("KABAR_SERVER__DATA_DIR", data.display().to_string()),
        (
            "KABAR_CONTENT__FLOWS",
            manifest_dir().join("flows").display().to_string(),
        ),
        (
            "KABAR_CONTENT__LOCALES",
            manifest_dir().join("locales").display().to_string(),
        ),
        ("KABAR_HELPDESK__HOURS", setup.hours.to_string()),
        ("KABAR_HELPDESK__ON_CALL", setup.on_call.to_string()),
    ];
    if setup.twilio {
        vars.extend([
            ("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID.to_string()),
            ("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN.into()),
            ("KABAR_TWILIO__FROM", OUR_NUMBER.into()),
            ("KABAR_TWILIO__API_BASE", format!("http://{twilio}")),
            ("KABAR_TWILIO__TPS", "50".into()),
        ]);
    }
    if let (true, Some(graph)) = (setup.whatsapp, graph) {
        vars.extend([
            (
                "KABAR_WHATSAPP__PHONE_NUMBER_ID",
                PHONE_NUMBER_ID.to_string(),
            ),
            ("KABAR_WHATSAPP__ACCESS_TOKEN", GRAPH_TOKEN.into()),
            ("KABAR_WHATSAPP__APP_SECRET", APP_SECRET.into()),
            ("KABAR_WHATSAPP__VERIFY_TOKEN", VERIFY_TOKEN.into()),
            ("KABAR_WHATSAPP__API_BASE", format!("http://{graph}/v21.0")),
        ]);
    }
    if let (true, Some(gateway)) = (setup.gateway, gateway) {
        vars.extend([
            ("KABAR_GATEWAY__URL", format!("http://{gateway}")),
            ("KABAR_GATEWAY__USERNAME", "sms".to_string()),
            ("KABAR_GATEWAY__PASSWORD", "gateway-password".into()),
            ("KABAR_GATEWAY__SIGNING_KEY", SIGNING_KEY.into()),
            ("KABAR_GATEWAY__TPS", "20".into()),
        ]);
    }
    let mut config =
        Config::load(None, vars.into_iter().map(|(k, v)| (k.to_string(), v))).expect("test config");
    if let Some(w) = config.whatsapp.as_mut() {
        // Somali has an approved template; other locales fall back to SMS (or are held).
        w.templates.insert(
            "so".into(),
            kabar::config::TemplateConfig {
                name: "kabar_notice".into(),
                language: "so".into(),
            },
        );
    }
    config
}

pub async fn spawn_app() -> TestApp {
    let twilio = FakeTwilio::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    spawn_app_with(twilio, data).await
}

pub async fn spawn_app_with(twilio: FakeTwilio, data: tempfile::TempDir) -> TestApp {
    let gateway = FakeGateway::start().await;
    spawn_full(
        twilio,
        FakeGraph::start().await,
        gateway,
        data,
        Setup::default(),
    )
    .await
}

/// An app with the providers `setup` asks for, all faked on loopback.
pub async fn spawn_setup(setup: Setup) -> TestApp {
    spawn_full(
        FakeTwilio::start().await,
        FakeGraph::start().await,
        FakeGateway::start().await,
        tempfile::tempdir().expect("tempdir"),
        setup,
    )
    .await
}

pub async fn spawn_full(
    twilio: FakeTwilio,
    graph: FakeGraph,
    gateway: FakeGateway,
    data: tempfile::TempDir,
    setup: Setup,
) -> TestApp {
    spawn_tweaked(twilio, graph, gateway, data, setup, |_| {}).await
}

/// An app with the providers `setup` asks for and its config changed by `tweak` (TPS,
/// `[broadcasts]` keys…).
pub async fn spawn_configured(setup: Setup, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_tweaked(
        FakeTwilio::start().await,
        FakeGraph::start().await,
        FakeGateway::start().await,
        tempfile::tempdir().expect("tempdir"),
        setup,
        tweak,
    )
    .await
}

pub async fn spawn_tweaked(
    twilio: FakeTwilio,
    graph: FakeGraph,
    gateway: FakeGateway,
    data: tempfile::TempDir,
    setup: Setup,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = config_with(
        addr,
        data.path(),
        twilio.addr,
        Some(graph.addr),
        Some(gateway.addr),
        setup,
    );
    tweak(&mut config);
    let clock = Arc::new(ManualClock::new());
    let app = kabar::App::build_with(
        config,
        kabar::Options {
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_millis(500),
            },
            clock: clock.clone(),
        },
    )
    .expect("app builds");
    let store = app.sled.as_ref().expect("the embedded store").core_arc();
    let app_router = app.router();
    let dispatcher = app.dispatcher.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run(listener, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        twilio,
        graph,
        gateway,
        clock,
        http: reqwest::Client::new(),
        app_router,
        dispatcher,
        _data: data,
        stop: Some(stop),
        handle: Some(handle),
        sids: AtomicU64::new(1),
    }
}

impl TestApp {
    /// Waits until every acknowledged message has moved from the intake journal into the
    /// store (the webhook answers as soon as it is journaled).
    pub async fn intake_settled(&self) {
        for _ in 0..400 {
            if self.store.intake_backlog() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "{} accepted messages never reached the store",
            self.store.intake_backlog()
        );
    }

    /// Stops the server gracefully and hands back its data folder (for restart tests).
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
        // Drop the router and store clones so sled releases its lock.
        let TestApp { _data, .. } = self;
        _data
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The data folder the app runs on.
    pub fn data_path(&self) -> &std::path::Path {
        self._data.path()
    }

    pub fn sign(&self, path: &str, params: &[(String, String)]) -> String {
        kabar::channel::twilio::compute_signature(AUTH_TOKEN, &self.url(path), params)
    }

    pub fn next_sid(&self) -> String {
        format!(
            "SM{:032x}",
            self.sids.fetch_add(1, Ordering::SeqCst) + 0xabc000
        )
    }

    /// Posts signed form params to a Twilio webhook path.
    pub async fn post_twilio(&self, path: &str, params: &[(String, String)]) -> reqwest::Response {
        let signature = self.sign(path, params);
        self.http
            .post(self.url(path))
            .header("X-Twilio-Signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(params))
            .send()
            .await
            .expect("request")
    }

    /// A person texts `body` by SMS from `from`.
    pub async fn sms(&self, from: &str, body: &str) -> reqwest::Response {
        let params = inbound_params(&self.next_sid(), from, body);
        let r = self.post_twilio("/webhooks/twilio", &params).await;
        assert_eq!(r.status(), 200, "webhook accepted");
        r
    }

    /// Creates a user with a token and returns the token.
    pub fn token_for(&self, name: &str, role: kabar::domain::Role, languages: Vec<Lang>) -> String {
        let user = kabar::domain::User {
            name: name.into(),
            role,
            languages,
            password_hash: kabar::web::auth::hash_password("test password 123").unwrap(),
            created_at: kabar::domain::now_ms(),
            disabled: false,
        };
        self.store.add_user(&user).unwrap();
        let token = kabar::web::auth::new_token();
        self.store
            .add_token(&kabar::web::auth::token_hash(&token), name)
            .unwrap();
        token
    }

    /// GETs `path` with a bearer token and reads the JSON answer.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls `path` until it answers a non-empty JSON array (bounded), and returns it.
    pub async fn poll_list(&self, path: &str, token: &str) -> serde_json::Value {
        let mut list = serde_json::Value::Null;
        for _ in 0..400 {
            list = self.get_json(path, token).await;
            if list.as_array().is_some_and(|a| !a.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        list
    }

    pub async fn tickets(&self, token: &str) -> serde_json::Value {
        let r = self
            .http
            .get(self.url("/api/tickets"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

impl TestApp {
    /// Posts a WhatsApp webhook body, signed like Meta does.
    pub async fn whatsapp(&self, body: &serde_json::Value) -> reqwest::Response {
        let raw = serde_json::to_vec(body).unwrap();
        self.http
            .post(self.url("/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", whatsapp_signature(&raw))
            .body(raw)
            .send()
            .await
            .unwrap()
    }

    /// A person writes `text` on WhatsApp from `wa_id` (digits, no '+').
    pub async fn whatsapp_text(&self, wa_id: &str, text: &str) {
        let id = format!("wamid.IN{}", self.next_sid());
        let r = self
            .whatsapp(&whatsapp_message(
                wa_id,
                &id,
                serde_json::json!({"type": "text", "text": {"body": text}}),
            ))
            .await;
        assert_eq!(r.status(), 200);
    }

    /// Posts a gateway event, signed like the phone does.
    pub async fn gateway_event(&self, body: &serde_json::Value) -> reqwest::Response {
        let raw = serde_json::to_vec(body).unwrap();
        let ts = chrono::Utc::now().timestamp().to_string();
        self.http
            .post(self.url("/webhooks/gateway"))
            .header("content-type", "application/json")
            .header("x-timestamp", &ts)
            .header("x-signature", gateway_signature(&raw, &ts))
            .body(raw)
            .send()
            .await
            .unwrap()
    }

    /// A person texts `text` to the gateway phone from `sender` (as the phone shows it).
    pub async fn gateway_sms(&self, sender: &str, text: &str) {
        let id = self.next_sid();
        let r = self
            .gateway_event(&serde_json::json!({
                "id": format!("evt-{id}"),
                "webhookId": "kabar",
                "deviceId": "device-1",
                "event": "sms:received",
                "payload": {
                    "messageId": format!("msg-{id}"),
                    "message": text,
                    "sender": sender,
                    "recipient": "+6281100000000",
                    "simNumber": 1,
                    "receivedAt": "2026-11-22T10:00:00.000+07:00"
                }
            }))
            .await;
        assert_eq!(r.status(), 200);
    }

    /// The app's time now.
    pub fn now(&self) -> kabar::domain::Millis {
        self.clock.now()
    }

    /// Moves the app's clock forward.
    pub fn advance_hours(&self, hours: u64) {
        self.clock.advance_hours(hours);
    }
}

/// A browser session: its cookie header and CSRF token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
    pub http: reqwest::Client,
}

impl TestApp {
    /// Logs in through the login form like a browser; panics if it fails.
    pub async fn login(&self, name: &str, password: &str) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (login_cookie, token) = self.login_form(&http).await;
        let r = http
            .post(self.url("/login"))
            .header("cookie", &login_cookie)
            .form(&[("name", name), ("password", password), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login of {name}");
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let page = http
            .get(self.url("/login"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "logged in: /login redirects");
        // Any page with a form carries the CSRF token; the logout form is on every page.
        let html = http
            .get(self.url("/figures"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf token on the page")
            .to_string();
        Browser { cookie, csrf, http }
    }

    /// Opens the login page like a browser: its pre-session cookie and the form's CSRF token.
    pub async fn login_form(&self, http: &reqwest::Client) -> (String, String) {
        let r = http.get(self.url("/login")).send().await.unwrap();
        assert_eq!(r.status(), 200, "the login page");
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert!(cookie.starts_with("kabar_login="), "{cookie}");
        let html = r.text().await.unwrap();
        let token = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf token in the login form")
            .to_string();
        (cookie, token)
    }

    /// Adds a user with a password (as `kabar user add` does) and returns its bearer token.
    pub fn user(&self, name: &str, role: kabar::domain::Role, languages: Vec<Lang>) -> String {
        self.token_for(name, role, languages)
    }
}

pub fn whatsapp_signature(raw: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(raw);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn gateway_signature(raw: &[u8], ts: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SIGNING_KEY.as_bytes()).unwrap();
    mac.update(raw);
    mac.update(ts.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A Cloud API webhook carrying one message from `wa_id` (fields as Meta documents them).
pub fn whatsapp_message(wa_id: &str, id: &str, content: serde_json::Value) -> serde_json::Value {
    let mut message = serde_json::json!({"from": wa_id, "id": id, "timestamp": "1763800000"});
    if let (Some(m), Some(c)) = (message.as_object_mut(), content.as_object()) {
        for (k, v) in c {
            m.insert(k.clone(), v.clone());
        }
    }
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": "Test"}, "wa_id": wa_id}],
                    "messages": [message]
                }
            }]
        }]
    })
}

pub fn inbound_params(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "ID"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", OUR_NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn encode_form(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// Writes `n` (1-9) in the digits a person of `lang` is likely to use.
pub fn local_digit(lang: Lang, n: u32) -> String {
    let base = match lang {
        Lang::Dari | Lang::Farsi => 0x06F0,
        Lang::Arabic => 0x0660,
        // Ethiopic has no zero; ፩ is one.
        Lang::Tigrinya if n > 0 => 0x1369 - 1,
        _ => '0' as u32,
    };
    char::from_u32(base + n).unwrap().to_string()
}
