//! Every provider through the shared harness (`harness.rs`, data in `testdata/`), and the
//! end-to-end conversations on WhatsApp and the gateway phone (`end_to_end.rs`).

#[path = "../common/mod.rs"]
mod common;
mod end_to_end;
mod harness;

use harness::{Kind, run_incoming, run_outgoing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_incoming() {
    run_incoming(Kind::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_outgoing() {
    run_outgoing(Kind::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_incoming() {
    run_incoming(Kind::Whatsapp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_outgoing() {
    run_outgoing(Kind::Whatsapp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_incoming() {
    run_incoming(Kind::Gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_outgoing() {
    run_outgoing(Kind::Gateway).await;
}
