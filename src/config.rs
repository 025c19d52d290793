//! Configuration: TOML file, `KABAR_<SECTION>__<KEY>` environment overrides, and an embedded
//! default that needs no file. Unknown keys and invalid values stop start-up with a clear reason.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::phone::PhoneNumber;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The embedded default: everything local, the simulator on, no provider.
pub const DEFAULT_TOML: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"
data_dir = "./data"

[simulator]
enabled = true

[helpdesk]
timezone = "Asia/Jakarta"
hours = "Mon-Fri 08:00-16:00"
"#;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    #[serde(default)]
    pub content: ContentConfig,
    pub twilio: Option<TwilioConfig>,
    /// Meta WhatsApp Cloud API; absent = channel off.
    pub whatsapp: Option<WhatsappConfig>,
    /// An Android phone running capcom6/android-sms-gateway; absent = channel off.
    pub gateway: Option<GatewayConfig>,
    #[serde(default)]
    pub simulator: SimulatorConfig,
    #[serde(default)]
    pub helpdesk: HelpdeskConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub broadcasts: BroadcastsConfig,
    /// Scheduled local backups; absent = none (backups on demand still work).
    pub backup: Option<BackupConfig>,
    /// Where records live: the embedded sled store in `server.data_dir` (the default) or a
    /// PostgreSQL database shared by several replicas.
    #[serde(default)]
    pub store: StoreConfig,
}

/// Which storage backend, and for PostgreSQL where it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default)]
    pub kind: StoreKind,
    /// `postgres://user:password@host:5432/database`; never printed.
    pub url: Option<DatabaseUrl>,
}

/// A PostgreSQL connection string. It holds a password: it never prints (`Debug` and
/// `Display` show only where it points), so it cannot reach a log line or an error.
#[derive(Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Result<DatabaseUrl, String> {
        let url = url.into();
        let parsed = url::Url::parse(&url)
            .map_err(|_| "store.url is not a URL (postgres://user:password@host/database)")?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err("store.url must start with postgres:// or postgresql://".into());
        }
        Ok(DatabaseUrl(url))
    }

    /// The URL itself, for connecting (never for printing).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Host, port and database name: enough to say which database, nothing secret.
    fn location(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(u) => format!(
                "{}:{}{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432),
                u.path()
            ),
            Err(_) => "?".into(),
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        DatabaseUrl::new(s)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl(postgres://…@{})", self.location())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres://…@{}", self.location())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// Embedded, in the data folder: one laptop, no database to run.
    #[default]
    Sled,
    /// A PostgreSQL server: one database, any number of kabar replicas.
    Postgres,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BroadcastsConfig {
    /// A broadcast to more recipients than this needs a second staff/admin user's approval
    /// (0 = always).
    #[serde(default = "default_approval_over")]
    pub approval_over: u64,
    /// `"21:00-07:00"` in the helpdesk time zone: no broadcast message goes out then.
    #[serde(default)]
    pub quiet_hours: Option<String>,
}

impl Default for BroadcastsConfig {
    fn default() -> Self {
        BroadcastsConfig {
            approval_over: default_approval_over(),
            quiet_hours: None,
        }
    }
}

/// Data protection: how long messages and media are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Messages and media older than this are removed, and tickets closed longer ago are
    /// anonymised, by a daily purge. The privacy notice people receive states this number.
    #[serde(default = "default_retain_days")]
    pub retain_days: u32,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            retain_days: default_retain_days(),
        }
    }
}

impl PrivacyConfig {
    /// Everything created before this moment is past retention at `now`.
    pub fn cutoff(&self, now: crate::domain::Millis) -> crate::domain::Millis {
        now.saturating_sub(u64::from(self.retain_days) * 24 * 60 * 60 * 1000)
    }
}

fn default_retain_days() -> u32 {
    365
}

fn default_approval_over() -> u64 {
    500
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Where the encrypted backups go (best on another disk, e.g. a USB stick).
    pub dir: PathBuf,
    #[serde(default = "default_backup_every_hours")]
    pub every_hours: u32,
    /// How many backups to keep; older ones are deleted.
    #[serde(default = "default_backup_keep")]
    pub keep: u32,
    /// The passphrase they are encrypted with (at least 10 characters; better given as
    /// KABAR_BACKUP__PASSPHRASE than written in the file).
    pub passphrase: String,
}

fn default_backup_every_hours() -> u32 {
    24
}
fn default_backup_keep() -> u32 {
    7
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL providers call; signatures are computed over it.
    #[serde(default = "default_public_url")]
    pub public_url: url::Url,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Below this much free space on the data folder's disk, `/healthz` says "degraded" and
    /// staff see a warning, well before writes start failing.
    #[serde(default = "default_min_free_mb")]
    pub min_free_mb: u64,
}

/// Flows and locales: built into the binary unless a folder is named here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentConfig {
    pub flows: Option<PathBuf>,
    pub locales: Option<PathBuf>,
}

impl ContentConfig {
    pub fn flows_dir(&self) -> crate::content::ContentDir {
        crate::content::ContentDir::flows(self.flows.as_deref())
    }
    pub fn locales_dir(&self) -> crate::content::ContentDir {
        crate::content::ContentDir::locales(self.locales.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: String,
    /// The sender number (E.164); or use `messaging_service_sid`.
    pub from: Option<PhoneNumber>,
    pub messaging_service_sid: Option<String>,
    /// The WhatsApp sender, if different from `from` (sent as `whatsapp:<number>`).
    pub whatsapp_from: Option<PhoneNumber>,
    #[serde(default = "default_twilio_api")]
    pub api_base: url::Url,
    /// Messages per second Twilio accepts from this account.
    #[serde(default = "default_twilio_tps")]
    pub tps: u32,
    /// Largest MMS or WhatsApp voice note/picture fetched for interpreters.
    #[serde(default = "default_media_max_bytes")]
    pub media_max_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappConfig {
    pub phone_number_id: String,
    pub access_token: String,
    /// Checks `X-Hub-Signature-256` on webhooks.
    pub app_secret: String,
    /// Answers Meta's subscription check (`hub.verify_token`).
    pub verify_token: String,
    #[serde(default = "default_graph_api")]
    pub api_base: url::Url,
    #[serde(default = "default_whatsapp_tps")]
    pub tps: u32,
    /// Largest voice note, image or document fetched for interpreters.
    #[serde(default = "default_media_max_bytes")]
    pub media_max_bytes: u64,
    /// Approved message templates per locale tag, used outside the 24-hour window. The template
    /// must have one body parameter, which carries the message text.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, TemplateConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub name: String,
    /// Meta's language code for the template (e.g. "fa", "ar", "en_US").
    pub language: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The phone's local server, e.g. http://192.168.1.20:8080.
    pub url: url::Url,
    pub username: String,
    pub password: String,
    /// Checks `X-Signature` on webhooks.
    pub signing_key: String,
    /// SMS per second the phone sends (carriers throttle phones; keep it low).
    #[serde(default = "default_gateway_tps")]
    pub tps: u32,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskConfig {
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_hours")]
    pub hours: String,
    /// Phones alerted (no personal data in the text) when an urgent ticket opens, until
    /// someone claims it.
    #[serde(default, deserialize_with = "phone_list")]
    pub on_call: Vec<crate::domain::phone::PhoneNumber>,
    /// Minutes between repeated alerts for an urgent ticket nobody claimed.
    #[serde(default = "default_on_call_repeat")]
    pub on_call_repeat_minutes: u32,
}

impl Default for HelpdeskConfig {
    fn default() -> Self {
        HelpdeskConfig {
            timezone: default_timezone(),
            hours: default_hours(),
            on_call: Vec::new(),
            on_call_repeat_minutes: default_on_call_repeat(),
        }
    }
}

fn default_on_call_repeat() -> u32 {
    10
}

/// A list of phones, as a TOML array or (for `KABAR_HELPDESK__ON_CALL`) comma-separated.
fn phone_list<'de, D>(deserializer: D) -> Result<Vec<crate::domain::phone::PhoneNumber>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Phones {
        List(Vec<String>),
        Text(String),
    }
    let raw = match Phones::deserialize(deserializer)? {
        Phones::List(list) => list,
        Phones::Text(text) => text.split(',').map(str::to_string).collect(),
    };
    raw.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            crate::domain::phone::PhoneNumber::parse(p)
                .map_err(|e| serde::de::Error::custom(format!("on_call: {p}: {e}")))
        })
        .collect()
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_public_url() -> url::Url {
    url::Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable!())
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}
fn default_min_free_mb() -> u64 {
    200
}
fn default_twilio_api() -> url::Url {
    url::Url::parse("https://api.twilio.com").unwrap_or_else(|_| unreachable!())
}
fn default_twilio_tps() -> u32 {
    10
}
fn default_graph_api() -> url::Url {
    url::Url::parse("https://graph.facebook.com/v21.0").unwrap_or_else(|_| unreachable!())
}
fn default_whatsapp_tps() -> u32 {
    80
}
fn default_media_max_bytes() -> u64 {
    16 * 1024 * 1024
}
fn default_gateway_tps() -> u32 {
    1
}
fn default_timezone() -> String {
    "Asia/Jakarta".into()
}
fn default_hours() -> String {
    "Mon-Fri 08:00-16:00".into()
}

impl Config {
    /// Whether any real provider is configured. Then the simulator needs a signed-in user: the
    /// server is reachable by others, not just a laptop trying the flows.
    pub fn any_provider(&self) -> bool {
        self.twilio.is_some() || self.whatsapp.is_some() || self.gateway.is_some()
    }

    /// Loads `file` (or the embedded default) and applies `KABAR_*` overrides from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (origin, text) = match file {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            ),
            None => ("(embedded default)".to_string(), DEFAULT_TOML.to_string()),
        };
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            origin: origin.clone(),
            message: describe_toml_error(&text, &e),
        })?;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("KABAR_") else {
                continue;
            };
            let Some((section, key)) = rest.split_once("__") else {
                continue; // KABAR_CONFIG and friends
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(section_table) = entry.as_table_mut() else {
                return Err(ConfigError::Invalid {
                    origin: name,
                    message: format!("{section} is not a section"),
                });
            };
            section_table.insert(key, env_value(&value));
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: format!("{origin} with KABAR_* overrides"),
                    message: e.message().to_string(),
                })?;
        config.validate(&origin)?;
        Ok(config)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if !matches!(self.server.public_url.scheme(), "http" | "https") {
            return Err(invalid(
                "server.public_url must be an http:// or https:// URL".into(),
            ));
        }
        match (self.store.kind, self.store.url.is_some()) {
            (StoreKind::Postgres, false) => {
                return Err(invalid(
                    "store.kind = \"postgres\" needs store.url = \"postgres://user:password@host/database\"".into(),
                ));
            }
            (StoreKind::Sled, true) => {
                return Err(invalid(
                    "store.url is set but store.kind is \"sled\": set store.kind = \"postgres\" to use the database, or remove store.url".into(),
                ));
            }
            _ => {}
        }
        #[cfg(not(feature = "postgres"))]
        if self.store.kind == StoreKind::Postgres {
            return Err(invalid(
                "store.kind = \"postgres\": this kabar was built without PostgreSQL support (build with the `postgres` feature)".into(),
            ));
        }
        if let Some(b) = &self.backup {
            if b.every_hours == 0 || b.keep == 0 {
                return Err(invalid(
                    "backup.every_hours and backup.keep must be at least 1".into(),
                ));
            }
            if b.passphrase.chars().count() < 10 {
                return Err(invalid(
                    "backup.passphrase needs at least 10 characters".into(),
                ));
            }
            if b.dir.as_os_str().is_empty() {
                return Err(invalid("backup.dir must be set".into()));
            }
        }
        if let Some(t) = &self.twilio {
            if t.from.is_none() && t.messaging_service_sid.is_none() {
                return Err(invalid(
                    "twilio needs `from` (a phone number) or `messaging_service_sid`".into(),
                ));
            }
            if t.tps == 0 {
                return Err(invalid("twilio.tps must be at least 1".into()));
            }
            if t.account_sid.is_empty() || t.auth_token.is_empty() {
                return Err(invalid(
                    "twilio.account_sid and twilio.auth_token must be set".into(),
                ));
            }
        }
        if let Some(w) = &self.whatsapp {
            if w.app_secret.is_empty() || w.verify_token.is_empty() || w.access_token.is_empty() {
                return Err(invalid(
                    "whatsapp.access_token, app_secret and verify_token must be set".into(),
                ));
            }
            if w.tps == 0 {
                return Err(invalid("whatsapp.tps must be at least 1".into()));
            }
            for tag in w.templates.keys() {
                if crate::i18n::Lang::parse(tag).is_none() {
                    return Err(invalid(format!(
                        "whatsapp.templates.{tag}: not a locale (use en, fa-AF, fa, so, ar, ti)"
                    )));
                }
            }
        }
        if self.privacy.retain_days == 0 {
            return Err(invalid(
                "privacy.retain_days must be at least 1 (days messages are kept)".into(),
            ));
        }
        if let Some(q) = &self.broadcasts.quiet_hours {
            crate::domain::quiet_hours::QuietHours::parse(q, chrono_tz::UTC)
                .map_err(|e| invalid(format!("broadcasts.{e}")))?;
        }
        if let Some(g) = &self.gateway {
            if g.signing_key.is_empty() {
                return Err(invalid(
                    "gateway.signing_key must be set: webhooks are checked with it".into(),
                ));
            }
            if g.tps == 0 {
                return Err(invalid("gateway.tps must be at least 1".into()));
            }
        }
        Ok(())
    }
}

/// Environment values are text; small plain numbers and booleans are read as such so that
/// `KABAR_TWILIO__TPS=5` works, while phone numbers (`+62…`, `0812…`) stay text.
fn env_value(value: &str) -> toml::Value {
    let plain_number = !value.is_empty()
        && value.len() <= 9
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if plain_number {
        if let Ok(i) = value.parse::<i64>() {
            return toml::Value::Integer(i);
        }
    }
    match value {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(value.to_string()),
    }
}

fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!(
            "line {}: {}",
            crate::i18n::line_of(text, span.start),
            e.message()
        ),
        None => e.message().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn embedded_default_runs_locally_with_the_simulator() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.server.data_dir, PathBuf::from("./data"));
        assert!(c.simulator.enabled);
        assert!(c.twilio.is_none());
    }

    #[test]
    fn retention_defaults_to_a_year_and_is_overridable() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.privacy.retain_days, 365);
        let c = Config::load(None, env(&[("KABAR_PRIVACY__RETAIN_DAYS", "30")])).unwrap();
        assert_eq!(c.privacy.retain_days, 30);
        assert_eq!(c.privacy.cutoff(31 * 86_400_000), 86_400_000);
        let e = Config::load(None, env(&[("KABAR_PRIVACY__RETAIN_DAYS", "0")])).unwrap_err();
        assert!(e.to_string().contains("retain_days"), "{e}");
    }

    #[test]
    fn env_overrides_set_and_add_keys() {
        let c = Config::load(
            None,
            env(&[
                ("KABAR_SERVER__LISTEN", "127.0.0.1:9999"),
                ("KABAR_TWILIO__ACCOUNT_SID", "AC1"),
                ("KABAR_TWILIO__AUTH_TOKEN", "secret"),
                ("KABAR_TWILIO__FROM", "+6281100000000"),
                ("KABAR_TWILIO__TPS", "5"),
                ("KABAR_CONFIG", "ignored.toml"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9999);
        let t = c.twilio.unwrap();
        assert_eq!(t.tps, 5);
        assert_eq!(t.auth_token, "secret");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_reason() {
        let e = Config::load(None, env(&[("KABAR_SERVER__LISTN", "x")])).unwrap_err();
        assert!(e.to_string().contains("listn"), "{e}");
        let e = Config::load(None, env(&[("KABAR_SERVER__LISTEN", "nowhere")])).unwrap_err();
        assert!(
            e.to_string().contains("listen") || e.to_string().contains("address"),
            "{e}"
        );
        let e = Config::load(
            None,
            env(&[
                ("KABAR_TWILIO__ACCOUNT_SID", "AC1"),
                ("KABAR_TWILIO__AUTH_TOKEN", "t"),
            ]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("messaging_service_sid"), "{e}");
        let e = Config::load(None, env(&[("KABAR_BROADCASTS__QUIET_HOURS", "late")])).unwrap_err();
        assert!(e.to_string().contains("quiet_hours"), "{e}");
        let c = Config::load(
            None,
            env(&[
                ("KABAR_BROADCASTS__QUIET_HOURS", "21:00-07:00"),
                ("KABAR_BROADCASTS__APPROVAL_OVER", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(c.broadcasts.approval_over, 0);
    }
}
