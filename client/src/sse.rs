//! The council's server-sent events (API.md "Council events"): bytes to
//! [`CouncilEvent`]s, with `eventsource-stream` doing the SSE framing.

use std::time::Duration;

use council_shared::CouncilEvent;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use reqwest::Response;

use crate::error::{ClientError, NetworkReporter};

/// The events of one council run, ending after `complete` or `error`.
pub type EventStream = BoxStream<'static, Result<CouncilEvent, ClientError>>;

/// Silence after which an event stream counts as dropped: the server sends
/// a keep-alive comment at least every 15 seconds, so a minute without a
/// byte means the connection is dead even if TCP has not noticed.
pub(crate) const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The council events of a `text/event-stream` answer, until the last one.
pub(crate) fn council_events(resp: Response, network: NetworkReporter) -> EventStream {
    let bytes = idle_limited(resp.bytes_stream(), STREAM_IDLE_TIMEOUT, move |e| {
        network.error(&e)
    });
    decode(bytes)
}

/// `body` until it ends, fails or stays silent for `limit`; the failure or
/// the silence is the last item. Keep-alive comments are bytes too, so they
/// keep a quiet but live stream going.
fn idle_limited<S, B, E>(
    body: S,
    limit: Duration,
    map_err: impl Fn(E) -> ClientError + Send + 'static,
) -> impl Stream<Item = Result<B, ClientError>> + Send + 'static
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: Send + 'static,
    E: Send + 'static,
{
    let body = Box::pin(body);
    futures_util::stream::unfold(Some((body, map_err)), move |state| async move {
        // `None` once the failure or the silence has been yielded.
        let (mut body, map_err) = state?;
        match tokio::time::timeout(limit, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some((body, map_err)))),
            Ok(Some(Err(e))) => Some((Err(map_err(e)), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(ClientError::Network(format!(
                    "no data from the server for {} seconds",
                    limit.as_secs()
                ))),
                None,
            )),
        }
    })
}

/// The council events in `bytes`. Keep-alive comments are skipped; an
/// event that is not a [`CouncilEvent`] is an `Err(Protocol)` item and the
/// stream goes on; the stream ends after `complete` or `error`, after a
/// transport failure, or, as an `Err(Network)` item, when the bytes end
/// before the last event.
fn decode<S, B>(bytes: S) -> EventStream
where
    S: Stream<Item = Result<B, ClientError>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
{
    let events = Box::pin(bytes.eventsource());
    futures_util::stream::unfold(Some(events), |state| async move {
        // `None` once the last event (or a failure) has been yielded.
        let mut events = state?;
        let item = match events.next().await {
            Some(Ok(event)) => match serde_json::from_str::<CouncilEvent>(&event.data) {
                Ok(event) if event.is_terminal() => return Some((Ok(event), None)),
                Ok(event) => Ok(event),
                // serde_json's message can quote the event; the position
                // is enough to find it.
                Err(e) => Err(ClientError::Protocol(format!(
                    "an event is not a council event (line {}, column {})",
                    e.line(),
                    e.column()
                ))),
            },
            Some(Err(EventStreamError::Transport(e))) => {
                return Some((Err(e), None));
            }
            // The parser cannot resync after bad bytes; stop here.
            Some(Err(EventStreamError::Utf8(_) | EventStreamError::Parser(_))) => {
                return Some((
                    Err(ClientError::Protocol(
                        "the event stream is malformed".to_owned(),
                    )),
                    None,
                ));
            }
            None => {
                return Some((
                    Err(ClientError::Network(
                        "the connection closed before the council finished".to_owned(),
                    )),
                    None,
                ));
            }
        };
        Some((item, Some(events)))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events decoded from `chunks`, sent as they are split.
    async fn decoded(chunks: &[&[u8]]) -> Vec<Result<CouncilEvent, ClientError>> {
        let chunks: Vec<Result<Vec<u8>, ClientError>> =
            chunks.iter().map(|c| Ok(c.to_vec())).collect();
        decode(futures_util::stream::iter(chunks)).collect().await
    }

    #[tokio::test]
    async fn events_split_anywhere_are_decoded_and_pings_skipped() {
        let items = decoded(&[
            b": ping\n\nid: 1\nevent: stage1_start\ndata: {\"type\":\"stage1_st",
            b"art\",\"models\":[\"a/b\"]}\n",
            b"\n: ping\n\ndata: {\"type\":\"stage3_delta\",\"delta\":\"Hi\"}\r\n\r\n",
            b"data: {\"type\":\"error\",\"message\":\"Cancelled\"}\n\n",
            b"data: {\"type\":\"stage2_start\"}\n\n",
        ])
        .await;
        assert_eq!(
            items,
            vec![
                Ok(CouncilEvent::Stage1Start {
                    models: vec!["a/b".into()]
                }),
                Ok(CouncilEvent::Stage3Delta { delta: "Hi".into() }),
                Ok(CouncilEvent::Error {
                    message: "Cancelled".into()
                }),
            ],
            "nothing after the terminal event"
        );
    }

    #[tokio::test]
    async fn an_unknown_event_is_an_error_item_and_the_stream_goes_on() {
        let items = decoded(&[
            b"data: {\"type\":\"stage9\",\"secret\":\"sk-or-v1-x\"}\n\n",
            b"data: {\"type\":\"stage2_start\"}\n\n",
        ])
        .await;
        assert_eq!(items.len(), 3);
        match &items[0] {
            Err(ClientError::Protocol(message)) => {
                assert!(!message.contains("sk-or"), "{message}");
            }
            other => panic!("not a protocol error: {other:?}"),
        }
        assert_eq!(items[1], Ok(CouncilEvent::Stage2Start));
        assert!(
            matches!(&items[2], Err(ClientError::Network(m)) if m.contains("before the council finished")),
            "{:?}",
            items[2]
        );
    }

    #[tokio::test]
    async fn bad_bytes_end_the_stream() {
        let items = decoded(&[
            b"data: {\"type\":\"stage2_start\"}\n\n",
            b"data: \xff\xfe\n\n",
        ])
        .await;
        assert_eq!(
            items,
            vec![
                Ok(CouncilEvent::Stage2Start),
                Err(ClientError::Protocol(
                    "the event stream is malformed".into()
                )),
            ]
        );
    }

    #[tokio::test]
    async fn a_silent_stream_ends_with_a_network_error() {
        let first: Result<Vec<u8>, ClientError> =
            Ok(b"data: {\"type\":\"stage2_start\"}\n\n".to_vec());
        let silent = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
        let items: Vec<_> = decode(idle_limited(silent, Duration::from_millis(50), |e| e))
            .collect()
            .await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], Ok(CouncilEvent::Stage2Start));
        assert!(
            matches!(&items[1], Err(ClientError::Network(m)) if m.starts_with("no data from the server")),
            "{:?}",
            items[1]
        );
    }
}
