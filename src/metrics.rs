//! Prometheus metrics: messages by channel and status, outbox depth, webhook latency.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    pub channel: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub code: u16,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    pub messages_in: Family<MessageLabels, Counter>,
    pub messages_out: Family<MessageLabels, Counter>,
    pub outbox_depth: Gauge,
    pub inbox_depth: Gauge,
    /// 1 when the gateway phone answered its last send, 0 when it did not.
    pub gateway_up: Gauge,
    /// Free and total bytes on the data folder's disk; 1 in `disk_low` below `min_free_mb`.
    pub disk_free_bytes: Gauge,
    pub disk_total_bytes: Gauge,
    pub disk_low: Gauge,
    /// Acknowledged messages not yet moved from the intake journal into the store.
    pub intake_backlog: Gauge,
    pub webhook_seconds: HistogramFamily,
    /// Content-Security-Policy violations browsers reported (a page broke under the CSP, or
    /// something tried to inject a script).
    pub csp_violations: Counter,
    /// Broadcast recipients by what happened to their message.
    pub broadcast_messages: Family<StatusLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kabar");
        let messages_in = Family::<MessageLabels, Counter>::default();
        let messages_out = Family::<MessageLabels, Counter>::default();
        let outbox_depth = Gauge::default();
        let inbox_depth = Gauge::default();
        let gateway_up = Gauge::default();
        let webhook_seconds: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let csp_violations = Counter::default();
        registry.register(
            "csp_violations",
            "Content-Security-Policy violations reported by browsers",
            csp_violations.clone(),
        );
        let disk_free_bytes = Gauge::default();
        let disk_total_bytes = Gauge::default();
        let disk_low = Gauge::default();
        let intake_backlog = Gauge::default();
        registry.register(
            "disk_free_bytes",
            "Bytes still free on the data folder's disk",
            disk_free_bytes.clone(),
        );
        registry.register(
            "disk_total_bytes",
            "Size of the data folder's disk",
            disk_total_bytes.clone(),
        );
        registry.register(
            "disk_low",
            "1 when free space on the data folder's disk is below server.min_free_mb",
            disk_low.clone(),
        );
        registry.register(
            "intake_backlog",
            "Acknowledged messages still in the intake journal, not yet in the store",
            intake_backlog.clone(),
        );
        registry.register(
            "messages_in",
            "Inbound messages by channel and outcome (stored, duplicate)",
            messages_in.clone(),
        );
        registry.register(
            "messages_out",
            "Outbound send attempts by channel and result (accepted, retry, failed, opted-out)",
            messages_out.clone(),
        );
        registry.register(
            "outbox_depth",
            "Messages waiting in the outbox for their provider",
            outbox_depth.clone(),
        );
        registry.register(
            "inbox_depth",
            "Inbound messages stored but not yet answered",
            inbox_depth.clone(),
        );
        registry.register(
            "gateway_up",
            "1 when the Android gateway phone answered its last send, 0 when it did not",
            gateway_up.clone(),
        );
        registry.register(
            "webhook_duration_seconds",
            "Time from webhook request to acknowledgement",
            webhook_seconds.clone(),
        );
        let broadcast_messages = Family::<StatusLabels, Counter>::default();
        registry.register(
            "broadcast_messages",
            "Broadcast messages by status (queued, sent, delivered, failed, cancelled)",
            broadcast_messages.clone(),
        );
        Metrics {
            broadcast_messages,
            registry,
            messages_in,
            messages_out,
            outbox_depth,
            inbox_depth,
            gateway_up,
            disk_free_bytes,
            disk_total_bytes,
            disk_low,
            intake_backlog,
            webhook_seconds,
            csp_violations,
        }
    }

    pub fn inbound(&self, channel: &str, status: &str) {
        self.messages_in
            .get_or_create(&MessageLabels {
                channel: channel.into(),
                status: status.into(),
            })
            .inc();
    }

    pub fn outbound(&self, channel: &str, status: &str) {
        self.messages_out
            .get_or_create(&MessageLabels {
                channel: channel.into(),
                status: status.into(),
            })
            .inc();
    }

    pub fn broadcast(&self, status: &str, n: u64) {
        if n > 0 {
            self.broadcast_messages
                .get_or_create(&StatusLabels {
                    status: status.into(),
                })
                .inc_by(n);
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
