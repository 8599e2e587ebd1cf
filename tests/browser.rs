//! Browser tests: the real client in headless Chromium against a real `socket.io` 4.8 server
//! and the JSON-protocol server (both from tests/servers, started by scripts/test.sh on
//! 127.0.0.1). Each test uses its own room names so they do not disturb one another.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wiresync::core::backoff::Backoff;
use wiresync::core::protocol::Protocol;
use wiresync::events::OrderStatusUpdate;
use wiresync::{Auth, Client, Error, Options, State, Status};

wasm_bindgen_test_configure!(run_in_browser);

const SIO: &str = match option_env!("WIRESYNC_SIO_URL") {
    Some(u) => u,
    None => "http://127.0.0.1:39201",
};
const JSON_URL: &str = match option_env!("WIRESYNC_JSON_URL") {
    Some(u) => u,
    None => "http://127.0.0.1:39202",
};

async fn get(url: &str) -> Value {
    let window = web_sys::window().unwrap();
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let text = JsFuture::from(resp.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn control(base: &str, path_and_query: &str) -> Value {
    get(&format!("{base}/control/{path_and_query}")).await
}

fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Waits (bounded) until `cond` holds; panics with `what` after `ms`.
async fn until(what: &str, ms: u32, mut cond: impl FnMut() -> bool) {
    let mut waited = 0;
    while !cond() {
        assert!(waited < ms, "timed out after {ms} ms waiting for: {what}");
        TimeoutFuture::new(20).await;
        waited += 20;
    }
}

/// A client with fast reconnects, recording states, errors and raw events.
struct Probe {
    client: Client,
    states: Rc<RefCell<Vec<State>>>,
    errors: Rc<RefCell<Vec<Error>>>,
}

impl Probe {
    fn new(mut opts: Options) -> Probe {
        opts.config.backoff = Backoff {
            initial_delay_ms: 150,
            max_delay_ms: 600,
            ..Backoff::default()
        };
        let client = Client::connect(opts);
        let states = Rc::new(RefCell::new(vec![]));
        let errors = Rc::new(RefCell::new(vec![]));
        let s = states.clone();
        client
            .on_state(move |st| s.borrow_mut().push(st.clone()))
            .forget();
        let e = errors.clone();
        client
            .on_error(move |err| e.borrow_mut().push(err.clone()))
            .forget();
        Probe {
            client,
            states,
            errors,
        }
    }

    fn socketio(token: &str) -> Probe {
        let mut o = Options::new(SIO);
        o.auth = Auth::Json(format!(r#"{{"token":"{token}"}}"#));
        Probe::new(o)
    }

    async fn open(&self) {
        let c = self.client.clone();
        until("connection open", 5000, || c.state().status == Status::Open).await;
    }

    fn codes(&self) -> Vec<String> {
        self.errors
            .borrow()
            .iter()
            .map(|e| e.code.as_str().to_owned())
            .collect()
    }

    fn record(&self, event: &str) -> Rc<RefCell<Vec<Value>>> {
        let seen = Rc::new(RefCell::new(vec![]));
        let s = seen.clone();
        self.client.on_raw(event, move |d| {
            let text = js_sys::JSON::stringify(&d.args.get(0))
                .unwrap()
                .as_string()
                .unwrap();
            s.borrow_mut().push(serde_json::from_str(&text).unwrap());
        });
        seen
    }

    async fn join(&self, channel: &str, params: &str) -> Value {
        let result = Rc::new(RefCell::new(None));
        let r = result.clone();
        self.client
            .subscribe_json(
                channel,
                Some(params),
                true,
                Box::new(move |res| {
                    *r.borrow_mut() =
                        Some(res.map(|v| js_sys::JSON::stringify(&v).unwrap().as_string().unwrap()))
                }),
            )
            .unwrap();
        until("room ack", 5000, || result.borrow().is_some()).await;
        let text = result
            .borrow_mut()
            .take()
            .unwrap()
            .expect("subscribe acked");
        serde_json::from_str(&text).unwrap()
    }
}

fn status_payload(order: &str, status: &str) -> String {
    format!(
        r#"{{"orderId":"{order}","status":"{status}","message":"m","timestamp":"2026-11-23T10:00:00Z"}}"#
    )
}

#[wasm_bindgen_test]
async fn typed_events_arrive_and_invalid_payloads_go_to_the_error_hook() {
    let p = Probe::socketio("good");
    let got = Rc::new(RefCell::new(Vec::<OrderStatusUpdate>::new()));
    let g = got.clone();
    let _sub = p
        .client
        .on::<OrderStatusUpdate>(move |u| g.borrow_mut().push(u));
    p.open().await;
    let ack = p.join("order", r#"{"orderId":"t1"}"#).await;
    assert_eq!(ack[0]["room"], "order:t1");

    let data = enc(&status_payload("t1", "out_for_delivery"));
    control(
        SIO,
        &format!("emit?room=order:t1&event=order:status_update&data={data}"),
    )
    .await;
    until("typed event", 3000, || got.borrow().len() == 1).await;
    assert_eq!(got.borrow()[0].status, "out_for_delivery");

    let bad = enc(r#"{"orderId":42,"status":"x","message":"m","timestamp":"t"}"#);
    control(
        SIO,
        &format!("emit?room=order:t1&event=order:status_update&data={bad}"),
    )
    .await;
    until("payload error", 3000, || {
        p.codes().contains(&"PAYLOAD_INVALID".to_owned())
    })
    .await;
    let e = p
        .errors
        .borrow()
        .iter()
        .find(|e| e.code.as_str() == "PAYLOAD_INVALID")
        .cloned()
        .unwrap();
    assert_eq!(e.event.as_deref(), Some("order:status_update"));
    assert!(e.message.contains("orderId"), "{}", e.message);
    assert_eq!(
        got.borrow().len(),
        1,
        "the invalid payload never reached the typed handler"
    );
    p.client.close();
}

#[wasm_bindgen_test]
async fn auth_refused_then_accepted_with_new_credentials() {
    let p = Probe::socketio("wrong");
    until("AUTH_REJECTED", 5000, || {
        p.codes().contains(&"AUTH_REJECTED".to_owned())
    })
    .await;
    assert_ne!(p.client.state().status, Status::Open);
    p.client.set_auth(Auth::Json(r#"{"token":"alice"}"#.into()));
    p.open().await;
    assert_eq!(p.client.state().error, None);
    p.client.close();
}

#[wasm_bindgen_test]
async fn an_auth_function_runs_on_every_connect() {
    let calls = Rc::new(RefCell::new(0u32));
    let c = calls.clone();
    let mut o = Options::new(SIO);
    o.auth = Auth::Provider(Rc::new(move || {
        *c.borrow_mut() += 1;
        Box::pin(async { Ok(Some(r#"{"token":"bob"}"#.to_owned())) })
    }));
    let p = Probe::new(o);
    p.open().await;
    p.client.reconnect();
    let cl = p.client.clone();
    until("reconnected", 5000, || {
        cl.state().status == Status::Open && *calls.borrow() == 2
    })
    .await;
    p.client.close();
}

#[wasm_bindgen_test]
async fn rooms_are_rejoined_once_after_an_unrecovered_drop() {
    let p = Probe::socketio("good");
    let seen = p.record("order:status_update");
    p.open().await;
    p.join("order", r#"{"orderId":"t2"}"#).await;
    let joins_before = control(SIO, "stats").await["joins"]["order:t2"]
        .as_u64()
        .unwrap();
    control(SIO, "drop?forget=1").await;
    let st = p.states.clone();
    until("reconnected, not recovered", 5000, || {
        st.borrow()
            .iter()
            .rev()
            .take(1)
            .any(|s| s.status == Status::Open && !s.recovered)
            && st.borrow().iter().any(|s| s.status == Status::Reconnecting)
    })
    .await;
    let stats_url = "stats";
    let mut joins = 0;
    for _ in 0..50 {
        joins = control(SIO, stats_url).await["joins"]["order:t2"]
            .as_u64()
            .unwrap();
        if joins > joins_before {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert_eq!(joins, joins_before + 1, "re-joined exactly once");
    control(
        SIO,
        &format!(
            "emit?room=order:t2&event=order:status_update&data={}",
            enc(&status_payload("t2", "a"))
        ),
    )
    .await;
    until("event in the re-joined room", 3000, || {
        seen.borrow().len() == 1
    })
    .await;
    p.client.close();
}

#[wasm_bindgen_test]
async fn recovery_delivers_missed_events_and_keeps_rooms() {
    let p = Probe::socketio("good");
    let seen = p.record("order:status_update");
    p.open().await;
    p.join("order", r#"{"orderId":"t3"}"#).await;
    control(
        SIO,
        &format!(
            "emit?room=order:t3&event=order:status_update&data={}",
            enc(&status_payload("t3", "one"))
        ),
    )
    .await;
    until("first event", 3000, || seen.borrow().len() == 1).await;
    let joins_before = control(SIO, "stats").await["joins"]["order:t3"]
        .as_u64()
        .unwrap();

    control(SIO, "drop").await;
    // Sent while the client is down: the server keeps it for the session.
    control(
        SIO,
        &format!(
            "emit?room=order:t3&event=order:status_update&data={}",
            enc(&status_payload("t3", "missed"))
        ),
    )
    .await;
    let st = p.states.clone();
    until("recovered", 5000, || {
        st.borrow()
            .last()
            .is_some_and(|s| s.status == Status::Open && s.recovered)
    })
    .await;
    until("missed event", 3000, || seen.borrow().len() == 2).await;
    assert_eq!(seen.borrow()[1]["status"], "missed");
    assert_eq!(
        control(SIO, "stats").await["joins"]["order:t3"]
            .as_u64()
            .unwrap(),
        joins_before,
        "no re-join"
    );
    p.client.close();
}

#[wasm_bindgen_test]
async fn emit_with_ack_resolves_and_times_out() {
    let p = Probe::socketio("good");
    p.open().await;
    let results = Rc::new(RefCell::new(vec![]));
    let r = results.clone();
    p.client
        .emit_with_ack_json(
            "echo",
            r#"[{"hello":"world"}]"#,
            None,
            Box::new(move |res| {
                r.borrow_mut().push(
                    res.map(|v| js_sys::JSON::stringify(&v).unwrap().as_string().unwrap())
                        .map_err(|e| e.code.as_str().to_owned()),
                )
            }),
            None,
        )
        .unwrap();
    let r = results.clone();
    p.client
        .emit_with_ack_json(
            "slow:no-ack",
            "[1]",
            Some(300),
            Box::new(move |res| {
                r.borrow_mut().push(
                    res.map(|_| String::new())
                        .map_err(|e| e.code.as_str().to_owned()),
                )
            }),
            None,
        )
        .unwrap();
    until("both acks settled", 3000, || results.borrow().len() == 2).await;
    assert_eq!(results.borrow()[0], Ok(r#"[{"hello":"world"}]"#.to_owned()));
    assert_eq!(results.borrow()[1], Err("ACK_TIMEOUT".to_owned()));
    p.client.close();
}

#[wasm_bindgen_test]
async fn the_client_answers_the_servers_ack_requests() {
    let p = Probe::socketio("good");
    let c = p.client.clone();
    p.client.on_raw("server:question", move |d| {
        if let Some(id) = d.ack {
            c.ack_json(id, r#"[{"eta":"10:30"}]"#, None).unwrap();
        }
    });
    p.open().await;
    let answers = control(SIO, "ask?event=server:question").await;
    let list = answers["answers"].as_array().unwrap();
    assert!(list.iter().any(|a| a["eta"] == "10:30"), "{answers}");
    p.client.close();
}

#[wasm_bindgen_test]
async fn bad_frames_are_reported_and_the_connection_stays_up() {
    let p = Probe::socketio("good");
    let seen = p.record("order:status_update");
    p.open().await;
    p.join("order", r#"{"orderId":"t4"}"#).await;
    control(SIO, &format!("raw?frame={}", enc(r#"42["broken",{nope}]"#))).await;
    control(SIO, &format!("raw?frame={}", enc("4Z"))).await;
    control(SIO, "binary?event=file").await;
    control(SIO, "raw?binary=1").await;
    control(
        SIO,
        &format!(
            "emit?room=order:t4&event=order:status_update&data={}",
            enc(&status_payload("t4", "after"))
        ),
    )
    .await;
    until("event after the bad frames", 3000, || {
        seen.borrow().len() == 1
    })
    .await;
    // The binary event is a valid one (nobody listens); the lone binary frame is not.
    let codes = p.codes();
    assert_eq!(
        codes.iter().filter(|c| *c == "DECODE_ERROR").count(),
        3,
        "{codes:?}"
    );
    assert_eq!(p.client.state().status, Status::Open);
    assert!(
        !p.states
            .borrow()
            .iter()
            .any(|s| s.status == Status::Reconnecting),
        "never dropped"
    );
    p.client.close();
}

#[wasm_bindgen_test]
async fn close_never_reconnects() {
    let p = Probe::socketio("good");
    p.open().await;
    p.client.close();
    assert_eq!(p.client.state().status, Status::Closed);
    TimeoutFuture::new(1200).await;
    assert_eq!(p.client.state().status, Status::Closed);
    assert!(!p
        .states
        .borrow()
        .iter()
        .any(|s| s.status == Status::Reconnecting));
}

#[wasm_bindgen_test]
async fn json_protocol_events_rooms_and_acks() {
    let mut o = Options::new(JSON_URL);
    o.config.protocol = Protocol::Json;
    o.auth = Auth::Json(r#"{"token":"good"}"#.into());
    let p = Probe::new(o);
    let seen = p.record("chat:typing");
    p.open().await;
    let ack = p.join("chat", r#"{"chatId":"j1"}"#).await;
    assert_eq!(ack[0]["room"], "chat:j1");
    let typing = r#"{"chatId":"j1","userId":"u","userName":"Ann","isTyping":true,"timestamp":"t"}"#;
    control(
        JSON_URL,
        &format!("emit?room=chat:j1&event=chat:typing&data={}", enc(typing)),
    )
    .await;
    until("json event", 3000, || seen.borrow().len() == 1).await;
    assert_eq!(seen.borrow()[0]["userName"], "Ann");

    let before = control(JSON_URL, "stats").await["joins"]["chat:j1"]
        .as_u64()
        .unwrap();
    control(JSON_URL, "drop").await;
    let st = p.states.clone();
    until("reconnected", 5000, || {
        st.borrow()
            .iter()
            .filter(|s| s.status == Status::Open)
            .count()
            == 2
    })
    .await;
    let mut joins = before;
    for _ in 0..50 {
        joins = control(JSON_URL, "stats").await["joins"]["chat:j1"]
            .as_u64()
            .unwrap();
        if joins > before {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert_eq!(joins, before + 1, "re-joined exactly once after the drop");
    p.client.close();
}

#[wasm_bindgen_test]
async fn bad_auth_on_the_json_protocol_is_typed() {
    let mut o = Options::new(JSON_URL);
    o.config.protocol = Protocol::Json;
    o.auth = Auth::Json(r#"{"token":"nope"}"#.into());
    let p = Probe::new(o);
    until("AUTH_REJECTED", 5000, || {
        p.codes().contains(&"AUTH_REJECTED".to_owned())
    })
    .await;
    p.client.close();
}

wiresync::payload! {
    /// `echo` (the test server acks with the same arguments).
    EchoPing {
        /// Anything.
        text "text": String,
    }
}
impl wiresync::events::Event for EchoPing {
    const NAME: &'static str = "echo";
}
impl wiresync::events::Emit for EchoPing {}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct CachedOrder {
    status: String,
}

/// The typed Rust API against the real server: a typed ack, a room guard and its join future,
/// the outbox's enqueue future, and the cache's typed rules (`patch_on`, `invalidate_on`) and
/// observer.
#[wasm_bindgen_test]
async fn the_typed_api_acks_rooms_outbox_and_cache_rules() {
    use std::cell::Cell;
    use wiresync::events::{NotificationRead, OrderRoom};
    use wiresync::{key, ErrorCode, OutboxOptions};

    let mut o = Options::new(SIO);
    o.auth = Auth::Json(r#"{"token":"good"}"#.into());
    o.outbox = Some(OutboxOptions {
        name: "typed-api".into(),
        ..OutboxOptions::default()
    });
    let p = Probe::new(o);

    // An ack, typed both ways; an answer that does not fit its type is PAYLOAD_INVALID.
    let ping = EchoPing { text: "hi".into() };
    let echoed: EchoPing = p.client.emit_with_ack(&ping).await.expect("acked");
    assert_eq!(echoed, ping);
    let wrong = p.client.emit_with_ack::<_, u32>(&ping).await.unwrap_err();
    assert_eq!(wrong.code, ErrorCode::PayloadInvalid);
    assert_eq!(wrong.event.as_deref(), Some("echo"));

    // A room: joined once, its future resolves on the server's ack.
    let joins = |v: &Value| v["joins"]["order:typed1"].as_u64().unwrap_or(0);
    let leaves = |v: &Value| v["leaves"]["order:typed1"].as_u64().unwrap_or(0);
    let before = control(SIO, "stats").await;
    let mut room = p
        .client
        .subscribe(&OrderRoom {
            order_id: "typed1".into(),
        })
        .expect("valid params");
    room.ready().await.expect("joined");
    assert_eq!(joins(&control(SIO, "stats").await), joins(&before) + 1);
    let again = room.ready().await.unwrap_err();
    assert_eq!(again.code, ErrorCode::InvalidArgument);

    // The cache: a patch rule, an invalidation rule, an observer whose fetch counts.
    let cache = p.client.cache();
    let order = key!["order", "typed1"];
    cache
        .set(
            &order,
            &CachedOrder {
                status: "placed".into(),
            },
        )
        .unwrap();
    // Typed data is JSON as serde means it: maps as objects, `None` as null.
    let mut prices = std::collections::HashMap::new();
    prices.insert("ord_1".to_owned(), Some(12.5));
    prices.insert("ord_2".to_owned(), None);
    cache.set(&key!["prices"], &prices).unwrap();
    assert_eq!(
        cache.get::<std::collections::HashMap<String, Option<f64>>>(&key!["prices"]),
        Some(prices)
    );
    assert_eq!(
        cache.get_data(&key!["prices"]).map(|t| t.len()),
        Some(r#"{"ord_1":12.5,"ord_2":null}"#.len())
    );
    let _patch = cache.patch_on::<OrderStatusUpdate, CachedOrder>(
        |u| key!["order", &u.order_id],
        |old, u| {
            old.map(|_| CachedOrder {
                status: u.status.clone(),
            })
        },
    );
    let fetches = Rc::new(Cell::new(0));
    let seen = Rc::new(RefCell::new(Vec::<Vec<u32>>::new()));
    let (f, s) = (fetches.clone(), seen.clone());
    let _list = cache.observe(
        key!["orders"],
        60_000,
        move || {
            f.set(f.get() + 1);
            let n = f.get();
            async move { Ok::<_, String>(vec![n]) }
        },
        move |data: Option<Vec<u32>>, _| {
            if let Some(d) = data {
                s.borrow_mut().push(d);
            }
        },
    );
    until("first fetch", 3000, || seen.borrow().len() == 1).await;
    let _refetch = cache.invalidate_on::<OrderStatusUpdate>(|_| vec![key!["orders"]]);
    let data = enc(&status_payload("typed1", "delivered"));
    control(
        SIO,
        &format!("emit?room=order:typed1&event=order:status_update&data={data}"),
    )
    .await;
    let c = cache.clone();
    until("the patch rule applied", 3000, || {
        c.get::<CachedOrder>(&key!["order", "typed1"])
            .is_some_and(|o| o.status == "delivered")
    })
    .await;
    until("the invalidation refetched", 3000, || {
        seen.borrow().last() == Some(&vec![2])
    })
    .await;
    assert_eq!(fetches.get(), 2);

    // The outbox: the future gives the id once stored; the server applies it once.
    let id = p
        .client
        .outbox()
        .enqueue(&NotificationRead {
            notification_id: "typed-n1".into(),
        })
        .await
        .expect("stored");
    let mut applied = false;
    for _ in 0..100 {
        let stats = control(SIO, "outbox/stats").await;
        applied = stats["applied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.0.as_str() && a["event"] == "notification:read");
        if applied {
            break;
        }
        TimeoutFuture::new(50).await;
    }
    assert!(applied, "the server applied entry {id}");

    // Dropping the guard leaves the room.
    drop(room);
    let mut left = 0;
    for _ in 0..60 {
        left = leaves(&control(SIO, "stats").await);
        if left > leaves(&before) {
            break;
        }
        TimeoutFuture::new(50).await;
    }
    assert_eq!(left, leaves(&before) + 1);
    p.client.close();
}
