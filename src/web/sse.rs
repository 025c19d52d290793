//! Server-sent events, one way for every live page (the queue, the simulator, broadcast
//! progress): a stream that ends when the server shuts down (an endless stream would hang the
//! graceful shutdown), a keep-alive comment every 15 s (proxies close quiet connections), and
//! for broadcast channels an explicit event when the page missed some under load, so it
//! reloads instead of silently showing less.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, watch};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

/// Proxies and browsers keep a connection that hears something this often.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn shut_down(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|down| *down).await;
}

/// The stream as an SSE response, ended at shutdown.
fn respond<S>(events: S, shutdown: watch::Receiver<bool>) -> Response
where
    S: Stream<Item = Event> + Send + 'static,
{
    let stream = events
        .take_until(shut_down(shutdown))
        .map(Ok::<Event, Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Events from a broadcast channel: `event` turns each item into an event or skips it (what
/// this listener may not see); `lagged` is sent when items were dropped because the listener
/// fell behind.
pub fn from_broadcast<T, F, Fut>(
    receiver: broadcast::Receiver<T>,
    shutdown: watch::Receiver<bool>,
    mut event: F,
    lagged: fn() -> Event,
) -> Response
where
    T: Clone + Send + 'static,
    F: FnMut(T) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Event>> + Send + 'static,
{
    let events = BroadcastStream::new(receiver).filter_map(move |item| {
        let out = match item {
            Ok(item) => Some(event(item)),
            Err(BroadcastStreamRecvError::Lagged(_)) => None,
        };
        async move {
            match out {
                Some(future) => future.await,
                None => Some(lagged()),
            }
        }
    });
    respond(events, shutdown)
}

/// An event made by `tick` now and then every `every` (figures that change by polling, not by
/// a channel); `None` sends nothing this time (the figures could not be read).
pub fn every<F, Fut>(every: Duration, shutdown: watch::Receiver<bool>, mut tick: F) -> Response
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Event>> + Send + 'static,
{
    let events = IntervalStream::new(tokio::time::interval(every)).filter_map(move |_| tick());
    respond(events, shutdown)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_broadcast_stream_filters_reports_a_lag_and_ends_at_shutdown() {
        let (sender, receiver) = broadcast::channel::<u32>(2);
        let (stop, shutdown) = watch::channel(false);
        // Four items into a channel of two: the first two are lost to lag.
        for n in 1..=4 {
            sender.send(n).unwrap();
        }
        let response = from_broadcast(
            receiver,
            shutdown,
            |n| async move { (n % 2 == 0).then(|| Event::default().event("even").data(n.to_string())) },
            || Event::default().event("reload").data("{}"),
        );
        let reader = tokio::spawn(body_text(response));
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(true).unwrap();
        let text = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .expect("the stream ends at shutdown")
            .unwrap();
        let events: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(events, ["reload", "even"], "{text}");
        assert!(text.contains("data: 4"), "{text}");
        assert!(!text.contains("data: 3"), "odd items are filtered: {text}");
    }

    #[tokio::test]
    async fn a_polled_stream_ticks_at_once_and_ends_at_shutdown() {
        let (stop, shutdown) = watch::channel(false);
        let mut n = 0;
        let response = every(Duration::from_secs(3600), shutdown, move || {
            n += 1;
            let n = n;
            async move { Some(Event::default().event("tick").data(n.to_string())) }
        });
        let reader = tokio::spawn(body_text(response));
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(true).unwrap();
        let text = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .expect("the stream ends at shutdown")
            .unwrap();
        assert!(text.contains("event: tick\ndata: 1"), "{text}");
        assert!(!text.contains("data: 2"), "{text}");
    }
}
