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
use kabar::i18n::{Lang, Localizer};
use kabar::outbox::Backoff;
use kabar::store::Store;
use tokio::net::TcpListener;

pub const ACCOUNT_SID: &str = "ACtest00000000000000000000000000";
pub const AUTH_TOKEN: &str = "test-auth-token";
pub const OUR_NUMBER: &str = "+6281100000000";

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn localizer() -> Localizer {
    Localizer::load(&manifest_dir().join("locales")).expect("locales load")
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
}

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

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub store: Arc<Store>,
    pub twilio: FakeTwilio,
    pub http: reqwest::Client,
    pub app_router: axum::Router,
    _data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    sids: AtomicU64,
}

/// Config for a test app listening at `addr`, talking to the fake Twilio at `twilio`.
pub fn test_config(addr: SocketAddr, data: &std::path::Path, twilio: SocketAddr) -> Config {
    let vars = [
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
        ("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID.into()),
        ("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN.into()),
        ("KABAR_TWILIO__FROM", OUR_NUMBER.into()),
        ("KABAR_TWILIO__API_BASE", format!("http://{twilio}")),
        ("KABAR_TWILIO__TPS", "50".into()),
    ];
    Config::load(None, vars.into_iter().map(|(k, v)| (k.to_string(), v))).expect("test config")
}

pub async fn spawn_app() -> TestApp {
    let twilio = FakeTwilio::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    spawn_app_with(twilio, data).await
}

pub async fn spawn_app_with(twilio: FakeTwilio, data: tempfile::TempDir) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = test_config(addr, data.path(), twilio.addr);
    let app = kabar::App::build_with(
        config,
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        },
    )
    .expect("app builds");
    let store = app.store.clone();
    let app_router = app.router();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run(listener, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        twilio,
        http: reqwest::Client::new(),
        app_router,
        _data: data,
        stop: Some(stop),
        handle: Some(handle),
        sids: AtomicU64::new(1),
    }
}

impl TestApp {
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
        };
        self.store.add_user(&user).unwrap();
        let token = kabar::web::auth::new_token();
        self.store
            .add_token(&kabar::web::auth::token_hash(&token), name)
            .unwrap();
        token
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
