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
    let read = NotificationRead {
        notification_id: "n1".into(),
    };
    assert!(closed(poll_once(client.outbox().enqueue(&read))));
    // The JSON-text calls too (records are JS objects: nothing is stored off the browser).
    let tx = Rc::new(Cell::new(None));
    let t = tx.clone();
    client.outbox().enqueue_json(
        "note:add",
        r#"{"text":"hi"}"#,
        None,
        None,
        None,
        Box::new(move |r| t.set(Some(r.unwrap_err().code))),
    );
    assert_eq!(tx.take(), Some(ErrorCode::Closed));
    let t = tx.clone();
    client.outbox().enqueue_request(
        "https://api.example.com/notes",
        "POST",
        vec![],
        Some("{}".into()),
        None,
        Box::new(move |r| t.set(Some(r.unwrap_err().code))),
    );
    assert_eq!(tx.take(), Some(ErrorCode::Closed));
}

#[test]
fn a_room_renders_off_the_browser() {
    let client = client();
    let mut room = client
        .subscribe(&ChatRoom {
            chat_id: "c1".into(),
        })
        .expect("an inert membership");
    assert!(closed(poll_once(room.ready())));
    drop(room);
}

#[test]
fn guards_dropped_by_a_registration_being_removed_unregister_too() {
    let client = client();
    let heard = Rc::new(Cell::new(0));
    let h = heard.clone();
    let inner = client.on_state(move |_| h.set(h.get() + 1));
    // The outer listener owns the inner guard: removing it drops that guard, which must
    // unregister its listener while the registry is being changed.
    let outer = client.on_state(move |_| {
        let _ = &inner;
    });
    drop(outer);
    client.close(); // tells the state listeners that are left: none
    assert_eq!(heard.get(), 0);

    // The same in the cache (this panicked with "already borrowed").
    let cache = client.cache();
    let inner_obs = cache.observe(
        key!["b"],
        0,
        || async { Ok::<u32, String>(1) },
        |_: Option<u32>, _| {},
    );
    let inner_watch = cache.watch(key!["b"], |_| {});
    let outer = cache.observe(
        key!["a"],
        0,
        || async { Ok::<u32, String>(1) },
        move |_: Option<u32>, _| {
            let _ = (&inner_obs, &inner_watch);
        },
    );
    drop(outer);
}

#[test]
fn the_cache_keeps_rules_and_observers_and_stores_nothing() {
    let client = client();
    let cache = client.cache();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let fetched = Rc::new(Cell::new(0));
    let f = fetched.clone();
    let observer = cache.observe(
        key!["order", "o1"],
        1_000,
        move || {
            f.set(f.get() + 1); // would call the browser in an app
            async { Ok::<u32, String>(1) }
        },
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
    assert_eq!(
        fetched.get(),
        0,
        "query functions never run off the browser"
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
        r#"Subscription { of: "error", active: true }"#
    );
    sub.forget();
    let cache_guard = client.cache().watch(key!["a"], |_| {});
    assert!(format!("{cache_guard:?}").contains("cache watch"));
    let rule = client
        .cache()
        .invalidate_on::<OrderStatusUpdate>(|_| vec![]);
    assert!(format!("{rule:?}").contains("invalidate_on"), "{rule:?}");
}
