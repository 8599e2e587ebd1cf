//! Every timer of the core driven with extreme durations and clocks: `Infinity` from JS arrives
//! as `u64::MAX` and means never, and no deadline may wrap around (these tests run in debug
//! builds, where an overflowing `+` panics; in release it would wrap and fire at once).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use wiresync::core::backoff::Backoff;
use wiresync::core::connection::{Config, Connection, Output, Status};
use wiresync::core::error::ErrorCode;
use wiresync::core::outbox::{
    EntryState, Message, NewEntry, Outbox, OutboxConfig, OutboxOutput, Outcome,
};
use wiresync::core::protocol::Protocol;
use wiresync::core::query_cache::QueryCache;
use wiresync::core::query_key::Value;

/// Durations a user (or a server) can hand the core: none, tiny, JS's largest timer, huge,
/// and never.
fn duration() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        1u64..100_000,
        Just(i32::MAX as u64),
        Just(u64::MAX / 2),
        Just(u64::MAX - 1),
        Just(u64::MAX),
    ]
}

/// Clock readings, up to ones close to the end of time.
fn clock() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        1u64..10_000_000_000_000,
        Just(u64::MAX - 1_000_000)
    ]
}

/// Steps of a timeline: how far the clock moves.
fn steps() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(prop_oneof![0u64..1_000, duration()], 1..8)
}

/// Drains every output; returns the error codes reported (acks and errors).
fn pump(conn: &mut Connection, now: u64, codes: &mut Vec<String>) {
    while let Some(o) = conn.poll() {
        match o {
            Output::NeedAuth => conn.provide_auth(now, None),
            Output::Ack { result: Err(e), .. } | Output::Subscribed { result: Err(e), .. } => {
                codes.push(e.code.as_str().to_owned())
            }
            Output::Error(e) => codes.push(e.code.as_str().to_owned()),
            _ => {}
        }
    }
}

/// A connection with `cfg` at `start`, its transport just opened.
fn opened(cfg: Config, start: u64) -> (Connection, Vec<String>, u64) {
    let mut conn = Connection::new(cfg, 7);
    let mut codes = vec![];
    conn.connect(start);
    pump(&mut conn, start, &mut codes);
    conn.transport_open(start);
    pump(&mut conn, start, &mut codes);
    (conn, codes, start)
}

/// Moves the clock by `by` (saturating), firing timers on the way as a driver does.
fn advance(conn: &mut Connection, now: &mut u64, by: u64, codes: &mut Vec<String>) {
    let end = now.saturating_add(by);
    let mut fired = 0;
    while let Some(t) = conn.poll_timeout().filter(|t| *t <= end) {
        assert!(
            t >= *now || fired == 0,
            "a deadline ({t}) before now ({now}) after a timeout"
        );
        *now = (*now).max(t);
        conn.handle_timeout(*now);
        pump(conn, *now, codes);
        fired += 1;
        if fired == 100 {
            // A 1 ms heartbeat over years: the driver's timer would fire late, once.
            conn.handle_timeout(end);
            pump(conn, end, codes);
            break;
        }
    }
    *now = end;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Socket.IO: connect, handshake (the server's own ping figures are extreme too), an ack
    /// and a room waiting, the clock moving, a drop, backoff.
    #[test]
    fn the_connection_never_wraps_a_deadline(
        start in clock(),
        ack in duration(),
        connect_timeout in duration(),
        server_ping in duration(),
        server_timeout in duration(),
        initial in duration(),
        max_delay in duration(),
        steps in steps(),
    ) {
        let cfg = Config {
            ack_timeout_ms: ack,
            connect_timeout_ms: connect_timeout,
            backoff: Backoff { initial_delay_ms: initial, max_delay_ms: max_delay, ..Backoff::default() },
            ..Config::new("http://127.0.0.1:3000")
        };
        let (mut conn, mut codes, mut now) = opened(cfg, start);
        conn.handle_frame(now, &format!(
            r#"0{{"sid":"e1","upgrades":[],"pingInterval":{server_ping},"pingTimeout":{server_timeout},"maxPayload":1000000}}"#
        ));
        pump(&mut conn, now, &mut codes);
        conn.handle_frame(now, r#"40{"sid":"s1"}"#);
        pump(&mut conn, now, &mut codes);
        prop_assert_eq!(conn.state().status, Status::Open);
        conn.emit_with_ack(now, "ping", "[1]", None).unwrap();
        conn.subscribe(now, "room", None, true).unwrap();
        pump(&mut conn, now, &mut codes);
        let sent_at = now;
        for by in steps {
            advance(&mut conn, &mut now, by, &mut codes);
            // Never: an ack with an endless timeout does not time out, however far time goes
            // (until the end of time, when every deadline has come).
            if ack == u64::MAX && now < u64::MAX {
                prop_assert!(!codes.iter().any(|c| c == ErrorCode::AckTimeout.as_str()), "{codes:?}");
            }
            // Finite: it times out once its time has come, not before.
            if codes.iter().any(|c| c == ErrorCode::AckTimeout.as_str()) {
                prop_assert!(now - sent_at >= ack.min(u64::MAX - sent_at));
            }
        }
        conn.transport_closed(now, 1006, "");
        pump(&mut conn, now, &mut codes);
        advance(&mut conn, &mut now, max_delay, &mut codes);
    }

    /// The JSON protocol: the client's own ping interval and timeout are extreme.
    #[test]
    fn json_heartbeats_never_wrap(start in clock(), every in duration(), grace in duration(), steps in steps()) {
        let cfg = Config {
            protocol: Protocol::Json,
            ping_interval_ms: every,
            ping_timeout_ms: grace,
            ..Config::new("http://127.0.0.1:3000")
        };
        let (mut conn, mut codes, mut now) = opened(cfg, start);
        conn.handle_frame(now, r#"{"type":"connected","sid":"j1"}"#);
        pump(&mut conn, now, &mut codes);
        prop_assert_eq!(conn.state().status, Status::Open);
        let opened = now;
        for by in steps {
            advance(&mut conn, &mut now, by, &mut codes);
            // With an endless interval or grace, the peer is never declared dead (before the
            // end of time, when every deadline has come).
            if (every == u64::MAX || grace == u64::MAX) && now < u64::MAX {
                prop_assert!(conn.state().status == Status::Open, "{:?} after {}", conn.state(), now - opened);
            }
        }
    }

    /// The query cache: gc times at the extremes (stale times passed through too).
    #[test]
    fn the_cache_never_collects_early(start in clock(), gc in duration(), default_gc in duration(), stale in duration(), steps in steps()) {
        let mut c = QueryCache::new();
        c.set_default_gc_time(default_gc);
        let observed = Value::parse(r#"["observed"]"#).unwrap();
        let set = Value::parse(r#"["set"]"#).unwrap();
        let mut now = start;
        let id = c.observe(now, &observed, stale, gc);
        c.set_data(now, &set, "1".into());
        c.unobserve(now, id);
        let since = now;
        for by in steps {
            now = now.saturating_add(by);
            while let Some(t) = c.poll_timeout().filter(|t| *t <= now) {
                c.handle_timeout(t.max(since));
                while c.poll().is_some() {}
                if c.poll_timeout() == Some(t) { break; }
            }
            c.handle_timeout(now);
            while c.poll().is_some() {}
            // A query is kept at least its gc time (`u64::MAX`: forever).
            let elapsed = now - since;
            if now == u64::MAX {
                break; // the end of time: every deadline has come
            }
            if elapsed < gc {
                prop_assert!(c.get(&observed).is_some(), "collected after {elapsed} ms of gc {gc}");
            }
            if elapsed < default_gc {
                prop_assert!(c.get(&set).is_some(), "collected after {elapsed} ms of gc {default_gc}");
            }
        }
    }

    /// The outbox: ttl, per-entry ttl and retry delays at the extremes.
    #[test]
    fn the_outbox_never_expires_early(start in clock(), ttl in duration(), entry_ttl in proptest::option::of(duration()), retry in duration(), steps in steps()) {
        let cfg = OutboxConfig {
            ttl_ms: ttl,
            retry: Backoff { initial_delay_ms: retry, max_delay_ms: retry, ..Backoff::default() },
            ..OutboxConfig::default()
        };
        let mut ob = Outbox::new(cfg, 3);
        let mut now = start;
        ob.set_ready(now, true);
        ob.enqueue(now, NewEntry {
            id: "a".into(),
            message: Message::Event { name: "e".into(), payload: "{}".into() },
            lane: None,
            dedupe_key: None,
            ttl_ms: entry_ttl,
        }).unwrap();
        let since = now;
        let life = entry_ttl.unwrap_or(ttl);
        let mut expired = false;
        let mut retried_out = false;
        for by in steps {
            now = now.saturating_add(by);
            ob.handle_timeout(now);
            while let Some(o) = ob.poll() {
                match o {
                    OutboxOutput::Failed(e) => {
                        expired |= e.state == EntryState::Failed("expired (TTL)".into());
                        retried_out |= !expired;
                    }
                    // Every attempt fails and is retried after `retry`.
                    OutboxOutput::Send(e) => ob.settle(now, &e.id, e.sends, Outcome::Retry("x".into())),
                    _ => {}
                }
            }
            // An entry lives its ttl (`u64::MAX`: forever), and expires once it has passed
            // (at the end of time, every deadline has come).
            if now < u64::MAX && !retried_out {
                prop_assert_eq!(expired, now - since >= life, "at {} of {}", now - since, life);
            }
        }
    }
}
