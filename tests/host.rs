//! The client off the browser: what rust-analyzer, `cargo check` and the server half of an SSR
//! app (Leptos, Dioxus) build. It compiles, never connects, and nothing panics: what would send
//! or read data answers `CLOSED` at once, what waits on storage never completes (see
//! `wiresync::Client`).
#![cfg(not(target_arch = "wasm32"))]

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use wiresync::core::query_key::Value;
use wiresync::events::{ChatRoom, ChatSendMessage, NotificationRead, OrderStatusUpdate};
use wiresync::{key, Client, ErrorCode, Options, Status};

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(Noop));
    pin!(f).poll(&mut Context::from_waker(&waker))
}

fn closed<T: std::fmt::Debug>(p: Poll<Result<T, wiresync::Error>>) -> bool {
    matches!(p, Poll::Ready(Err(e)) if e.code == ErrorCode::Closed)
}

fn client() -> Client {
    Client::connect(Options::new("http://127.0.0.1:3000"))
}

#[test]
fn connect_stays_closed_and_runs_no_listener() {
    let client = client();
    assert_eq!(client.state().status, Status::Idle);
    let heard = Rc::new(Cell::new(0));
    let h = heard.clone();
    let _states = client.on_state(move |_| h.set(h.get() + 1));
    let h = heard.clone();
    let _updates = client.on::<OrderStatusUpdate>(move |_| h.set(h.get() + 1));
    client.reconnect();
    assert_eq!(client.state().status, Status::Idle);
    assert_eq!(heard.get(), 0);
    client.close();
    assert_eq!(client.state().status, Status::Closed);
    assert!(format!("{client:?}").contains("Closed"), "{client:?}");
    assert_eq!(heard.get(), 1, "close() is told (not a connection)");
}

#[test]
fn sends_answer_closed_at_once() {
    let client = client();
    let message = ChatSendMessage {
        chat_id: "c1".into(),
        message: "hi".into(),
        timestamp: "2026-12-03T12:00:00Z".into(),
    };
    let e = client.emit(&message).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert!(closed(poll_once(client.emit_with_ack::<_, ()>(&message))));
    let e = client
        .subscribe(&ChatRoom {
            chat_id: "c1".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    let read = NotificationRead {
        notification_id: "n1".into(),
    };
    assert!(closed(poll_once(client.outbox().enqueue(&read))));
}

#[test]
fn the_cache_keeps_rules_and_observers_and_stores_nothing() {
    let client = client();
    let cache = client.cache();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let observer = cache.observe(
        key!["order", "o1"],
        1_000,
        || async { Ok::<u32, String>(1) },
        move |data: Option<u32>, _| {
            assert_eq!(data, None);
            c.set(c.get() + 1);
        },
    );
    let rule = cache.invalidate_on::<OrderStatusUpdate>(|u| vec![key!["order", &u.order_id]]);
    let patch = cache.patch_on::<OrderStatusUpdate, u32>(|_| key!["n"], |n, _| n.map(|n| n + 1));
    let watch = cache.watch(key!["order"], |_| {});
    assert!(cache.set(&key!["order", "o1"], &2u32).is_err());
    assert_eq!(cache.get::<u32>(&key!["order", "o1"]), None);
    drop((observer, rule, patch, watch));
    assert!(
        calls.get() >= 1,
        "the observer hears the query's first state"
    );
    let outbox = client.outbox();
    let _listener = outbox.on(|_| {});
    // Waits on storage, which never opens off the browser.
    assert!(poll_once(outbox.clear()).is_pending());
    assert_eq!(outbox.status().1, wiresync::driver::Persistence::Loading);
}

#[test]
fn keys_hash_as_tanstack_does() {
    let id = String::from("o1");
    assert_eq!(
        key!["order", &id, 2, true].hash(),
        r#"["order","o1",2,true]"#
    );
    // 2.0 and 2 are the same key, as in JSON.
    assert_eq!(key![2.0].hash(), key![2].hash());
    assert_eq!(key![f64::NAN], Value::Arr(vec![Value::Null]));
    assert_eq!(key![].hash(), "[]");
}

#[test]
fn guards_say_what_they_hold() {
    let client = client();
    let sub = client.on_error(|_| {});
    assert_eq!(
        format!("{sub:?}"),
        r#"Subscription { of: "error", kept: false }"#
    );
    sub.forget();
    let cache_guard = client.cache().watch(key!["a"], |_| {});
    assert!(format!("{cache_guard:?}").contains("cache watch"));
}
