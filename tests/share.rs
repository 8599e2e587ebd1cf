//! `shareAcrossTabs` rules on a virtual clock: the tab messages, the leader's hub over a real
//! [`Connection`], a handover to the next leader with the session, each tab's deadlines and
//! its watch on a quiet leader. No browser; each runs in microseconds.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use wiresync::core::connection::{Config, Connection, Output, State, Status};
use wiresync::core::error::{Error, ErrorCode};
use wiresync::core::share::{
    group_name, Group, Held, Hub, Member, Msg, Room, Session, Step, PROBE_AFTER_MS, PROBE_GRACE_MS,
};

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// A connection and what it asked for: frames sent, rooms joined, events.
struct Leader {
    now: u64,
    conn: Connection,
    sent: Vec<String>,
    subscribed: Vec<(u64, Result<String, Error>)>,
    events: Vec<(String, String, Option<u64>)>,
}

impl Leader {
    fn new() -> Leader {
        Leader {
            now: 1_000,
            conn: Connection::new(Config::new("http://127.0.0.1:3000"), 7),
            sent: vec![],
            subscribed: vec![],
            events: vec![],
        }
    }

    fn pump(&mut self) {
        while let Some(o) = self.conn.poll() {
            match o {
                Output::Send(f) => self.sent.push(f),
                Output::NeedAuth => self.conn.provide_auth(self.now, None),
                Output::Subscribed { id, result } => self.subscribed.push((id, result)),
                Output::Event(e) => self.events.push((e.name.clone(), e.args.clone(), e.ack)),
                _ => {}
            }
        }
    }

    /// Connects; the server answers the CONNECT with `reply`.
    fn open(&mut self, reply: &str) {
        self.conn.connect(self.now);
        self.pump();
        self.conn.transport_open(self.now);
        self.pump();
        self.frame(OPEN);
        self.frame(reply);
    }

    fn frame(&mut self, f: &str) {
        self.conn.handle_frame(self.now, f);
        self.pump();
    }

    fn take_sent(&mut self) -> Vec<String> {
        std::mem::take(&mut self.sent)
    }
}

fn order(id: &str) -> Room {
    Room::new("order", Some(&format!(r#"{{"orderId":"{id}"}}"#)), true)
}

fn join(tab: &str, sub: u64, room: Room) -> Msg {
    Msg::Join {
        tab: tab.into(),
        sub,
        room,
    }
}

fn state(g: &[Msg]) -> Group {
    g.iter()
        .rev()
        .find_map(|m| match m {
            Msg::State(g) => Some(g.clone()),
            _ => None,
        })
        .expect("a State message")
}

#[test]
fn every_message_reads_back_as_written() {
    let group = Group {
        leader: "a".into(),
        state: State {
            status: Status::Reconnecting,
            attempt: 2,
            error: Some(Error::new(ErrorCode::TransportError, "closed \"1006\"").with_event("x")),
            recovered: true,
            resync: false,
            shared: None,
            url: "http://b:1".into(),
            transport: Some(wiresync::core::transport::Transport::Polling),
        },
        tabs: vec!["a".into(), "b\u{e9}".into()],
        session: Some(Session {
            sid: "s".into(),
            pid: "p".into(),
            offset: Some("1-0".into()),
        }),
        rooms: vec![Held {
            room: order("1"),
            holders: vec![("a".into(), 1), ("b".into(), 9)],
        }],
    };
    let all = [
        Msg::Hello {
            tab: "t".into(),
            rooms: vec![(1, order("1")), (2, Room::new("feed", None, false))],
        },
        join("t", 3, order("2")),
        Msg::Leave {
            tab: "t".into(),
            sub: 3,
        },
        Msg::Emit {
            tab: "t".into(),
            req: 4,
            name: "chat:send".into(),
            args: r#"[{"text":"hi"},2]"#.into(),
            timeout: Some(u64::MAX),
        },
        Msg::Emit {
            tab: "t".into(),
            req: 0,
            name: "e".into(),
            args: "[]".into(),
            timeout: None,
        },
        Msg::Answer {
            id: 12,
            args: r#"[{"ok":true}]"#.into(),
        },
        Msg::Reconnect { auth: None },
        Msg::Reconnect { auth: Some(None) },
        Msg::Reconnect {
            auth: Some(Some(r#"{"token":"t"}"#.into())),
        },
        Msg::Bye { tab: "t".into() },
        Msg::Ping,
        Msg::State(group),
        Msg::Event {
            from: "a".into(),
            to: vec![],
            name: "n".into(),
            args: "[1]".into(),
            ack: Some(3),
            offset: None,
        },
        Msg::Done {
            tab: "t".into(),
            req: 4,
            result: Ok("[]".into()),
        },
        Msg::Done {
            tab: "t".into(),
            req: 5,
            result: Err(Error::new(ErrorCode::Server("NOPE".into()), "no")),
        },
    ];
    for m in all {
        assert_eq!(Msg::decode(&m.encode()), Ok(m.clone()), "{}", m.encode());
    }
}

#[test]
fn what_cannot_be_read_is_a_decode_error() {
    for text in [
        "",
        "{}",
        "[]",
        "[1]",
        r#"["event"]"#,
        r#"["join","t","x"]"#,
        r#"["warp",1]"#,
    ] {
        let e = Msg::decode(text).unwrap_err();
        assert_eq!(e.code, ErrorCode::DecodeError, "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn decoding_anything_never_panics(text in ".{0,200}") {
        let _ = Msg::decode(&text);
    }

    #[test]
    fn decoding_a_damaged_message_never_panics(cut in 0usize..400, at in 0usize..400, c in any::<char>()) {
        let text = Msg::Event { from: "l".into(), to: vec!["a".into()], name: "n".into(), args: r#"[{"a":[1,"x"]}]"#.into(), ack: Some(1), offset: Some("o".into()) }.encode();
        let mut chars: Vec<char> = text.chars().collect();
        chars.truncate(cut.max(1));
        if at < chars.len() { chars[at] = c; }
        let _ = Msg::decode(&chars.into_iter().collect::<String>());
    }
}

#[test]
fn groups_differ_by_protocol_url_namespace_and_identity() {
    let a = group_name("http://x", "/", "alice");
    assert!(a.starts_with("wiresync-share:1|"), "{a}");
    assert_ne!(a, group_name("http://x", "/", "bob"));
    assert_ne!(a, group_name("http://x", "/admin", "alice"));
    assert_ne!(a, group_name("http://y", "/", "alice"));
}

#[test]
fn a_room_is_joined_once_for_every_tab_and_left_with_the_last() {
    let mut l = Leader::new();
    l.open(r#"40{"sid":"s1","pid":"p1"}"#);
    l.take_sent();
    let mut hub = Hub::new("a", None, &mut l.conn, l.now);
    hub.handle(&mut l.conn, l.now, join("a", 1, order("1")));
    hub.handle(&mut l.conn, l.now, join("b", 1, order("1")));
    l.pump();
    assert_eq!(l.take_sent(), [r#"421["subscribe:order",{"orderId":"1"}]"#]);
    assert!(
        hub.poll().iter().all(|m| !matches!(m, Msg::Done { .. })),
        "nobody is told before the server acks"
    );
    l.frame(r#"431[{"ok":true}]"#);
    let (id, result) = l.subscribed.pop().unwrap();
    assert!(hub.subscribed(id, &result));
    let done: Vec<_> = hub
        .poll()
        .into_iter()
        .filter_map(|m| match m {
            Msg::Done { tab, req, result } => Some((tab, req, result)),
            _ => None,
        })
        .collect();
    assert_eq!(
        done,
        [
            ("a".into(), 1, Ok(r#"[{"ok":true}]"#.into())),
            ("b".into(), 1, Ok(r#"[{"ok":true}]"#.into()))
        ]
    );
    // A third tab joining later is told at once.
    hub.handle(&mut l.conn, l.now, join("c", 5, order("1")));
    assert!(matches!(&hub.poll()[0], Msg::Done { tab, req: 5, result: Ok(_) } if tab == "c"));
    hub.handle(
        &mut l.conn,
        l.now,
        Msg::Leave {
            tab: "b".into(),
            sub: 1,
        },
    );
    hub.gone(&mut l.conn, l.now, "c");
    l.pump();
    assert!(l.take_sent().is_empty(), "still held by a");
    hub.handle(
        &mut l.conn,
        l.now,
        Msg::Leave {
            tab: "a".into(),
            sub: 1,
        },
    );
    l.pump();
    assert_eq!(
        l.take_sent(),
        [r#"42["unsubscribe:order",{"orderId":"1"}]"#]
    );
    assert!(state(&hub.poll()).rooms.is_empty());
}

#[test]
fn events_go_to_the_tabs_whose_rooms_claim_them_or_to_all() {
    let mut l = Leader::new();
    l.open(r#"40{"sid":"s1","pid":"p1"}"#);
    let mut hub = Hub::new("a", None, &mut l.conn, l.now);
    hub.handle(&mut l.conn, l.now, join("a", 1, order("1")));
    hub.handle(&mut l.conn, l.now, join("b", 1, order("2")));
    hub.handle(
        &mut l.conn,
        l.now,
        join("c", 1, Room::new("feed", None, false)),
    );
    let to = |hub: &mut Hub, l: &Leader, first: &str| match hub.event(
        &l.conn,
        "order:status_update",
        &format!("[{first}]"),
        Some(first),
        None,
    ) {
        Msg::Event { to, .. } => to,
        _ => unreachable!(),
    };
    assert_eq!(to(&mut hub, &l, r#"{"orderId":"1","status":"x"}"#), ["a"]);
    assert_eq!(to(&mut hub, &l, r#"{"status":"x","orderId":"2"}"#), ["b"]);
    assert!(
        to(&mut hub, &l, r#"{"orderId":"3"}"#).is_empty(),
        "no room claims it: every tab"
    );
    assert!(to(&mut hub, &l, r#"[1]"#).is_empty());
    assert!(to(&mut hub, &l, r#""x""#).is_empty());
    // Only events named after the room's channel: `chat:…` is not room `order`'s.
    let chat = hub.event(
        &l.conn,
        "chat:message",
        r#"[{"orderId":"1"}]"#,
        Some(r#"{"orderId":"1"}"#),
        None,
    );
    assert!(matches!(chat, Msg::Event { to, .. } if to.is_empty()));
    // Params are compared in canonical form: one room, joined once.
    l.pump();
    l.take_sent();
    hub.handle(
        &mut l.conn,
        l.now,
        join("d", 1, Room::new("pair", Some(r#"{"a":1,"b":2}"#), true)),
    );
    hub.handle(
        &mut l.conn,
        l.now,
        join("e", 1, Room::new("pair", Some(r#"{"b":2,"a":1}"#), true)),
    );
    l.pump();
    assert_eq!(l.take_sent().len(), 1);
}

#[test]
fn the_first_answer_to_a_server_ack_request_wins() {
    let mut l = Leader::new();
    l.open(r#"40{"sid":"s1","pid":"p1"}"#);
    let mut hub = Hub::new("a", None, &mut l.conn, l.now);
    l.frame(r#"427["server:question",{"q":"eta?"}]"#);
    let (name, args, ack) = l.events.pop().unwrap();
    hub.event(&l.conn, &name, &args, None, ack);
    l.take_sent();
    for answer in ["[1]", "[2]"] {
        hub.handle(
            &mut l.conn,
            l.now,
            Msg::Answer {
                id: 7,
                args: answer.into(),
            },
        );
    }
    l.pump();
    assert_eq!(l.take_sent(), ["437[1]"]);
}

#[test]
fn a_followers_ack_goes_back_to_it_and_an_emit_error_at_once() {
    let mut l = Leader::new();
    l.open(r#"40{"sid":"s1","pid":"p1"}"#);
    l.take_sent();
    let mut hub = Hub::new("a", None, &mut l.conn, l.now);
    let mut b = Member::new("b", l.now);
    let (req, msg) = b.emit(l.now, "echo", r#"[{"n":1}]"#, Some(None), 10_000);
    hub.handle(&mut l.conn, l.now, msg);
    l.pump();
    assert_eq!(l.take_sent(), [r#"421["echo",{"n":1}]"#]);
    l.conn.handle_frame(l.now, r#"431[{"n":1}]"#);
    while let Some(o) = l.conn.poll() {
        if let Output::Ack { id, result, .. } = o {
            assert!(hub.acked(id, &result));
        }
    }
    let done = hub.poll().pop().unwrap();
    assert_eq!(
        b.receive(l.now, &done, false),
        Step::Complete(req, Ok(r#"[{"n":1}]"#.into()))
    );
    let (req, msg) = b.emit(l.now, "connect", "[]", Some(None), 10_000);
    hub.handle(&mut l.conn, l.now, msg);
    let done = hub.poll().pop().unwrap();
    assert!(matches!(b.receive(l.now, &done, false), Step::Complete(r, Err(_)) if r == req));
    let other = Msg::Done {
        tab: "c".into(),
        req,
        result: Ok("[]".into()),
    };
    assert_eq!(b.receive(l.now, &other, false), Step::None, "another tab's");
}

#[test]
fn the_next_leader_recovers_the_session_and_joins_nothing_again() {
    // Tab a leads; b and c follow, holding rooms 1 (b, and a) and 2 (a only).
    let mut a = Leader::new();
    a.open(r#"40{"sid":"s1","pid":"p1"}"#);
    let mut hub = Hub::new("a", None, &mut a.conn, a.now);
    for tab in ["b", "c"] {
        hub.handle(
            &mut a.conn,
            a.now,
            Msg::Hello {
                tab: tab.into(),
                rooms: vec![],
            },
        );
    }
    hub.handle(&mut a.conn, a.now, join("a", 1, order("1")));
    hub.handle(&mut a.conn, a.now, join("b", 1, order("1")));
    hub.handle(&mut a.conn, a.now, join("a", 2, order("2")));
    a.frame(r#"42["order:status_update",{"orderId":"1"},"off-7"]"#);
    let (name, args, ack) = a.events.pop().unwrap();
    let event = hub.event(&a.conn, &name, &args, None, ack);
    // b heard the group and the event; then a closes.
    let mut b = Member::new("b", a.now);
    assert_eq!(b.join(order("1")).0, 1, "b's own id for room 1");
    let told = Msg::State(state(&hub.poll()));
    assert_eq!(b.receive(a.now, &told, false), Step::NewLeader);
    assert_eq!(b.receive(a.now, &event, false), Step::Deliver);
    let group = b.group().unwrap();
    assert_eq!(
        group.session,
        Some(Session {
            sid: "s1".into(),
            pid: "p1".into(),
            offset: Some("off-7".into())
        })
    );

    let mut next = Leader::new();
    next.conn.resume(group.session.clone());
    let mut hub = Hub::new("b", Some(&group), &mut next.conn, next.now);
    hub.handle(&mut next.conn, next.now, b.hello());
    assert_eq!(hub.tabs(), ["b", "c"], "a is gone");
    next.conn.connect(next.now);
    next.pump();
    next.conn.transport_open(next.now);
    next.pump();
    next.frame(OPEN);
    assert_eq!(next.take_sent(), [r#"40{"pid":"p1","offset":"off-7"}"#]);
    next.frame(r#"40{"sid":"s1","pid":"p1"}"#);
    assert!(next.conn.state().recovered);
    assert_eq!(
        next.take_sent(),
        [r#"42["unsubscribe:order",{"orderId":"2"}]"#],
        "a's own room is left; b's is not joined again"
    );
    assert_eq!(state(&hub.poll()).rooms.len(), 1);
}

#[test]
fn an_unrecovered_handover_joins_every_room_once() {
    let group = Group {
        leader: "a".into(),
        state: Leader::new().conn.state(),
        tabs: vec!["a".into(), "b".into()],
        session: Some(Session {
            sid: "s1".into(),
            pid: "p1".into(),
            offset: None,
        }),
        rooms: vec![Held {
            room: order("1"),
            holders: vec![("a".into(), 1), ("b".into(), 4)],
        }],
    };
    let mut next = Leader::new();
    next.conn.resume(group.session.clone());
    let mut hub = Hub::new("b", Some(&group), &mut next.conn, next.now);
    hub.handle(
        &mut next.conn,
        next.now,
        Msg::Hello {
            tab: "b".into(),
            rooms: vec![(4, order("1"))],
        },
    );
    next.open(r#"40{"sid":"s2","pid":"p2"}"#);
    let s = next.conn.state();
    assert!(!s.recovered && s.resync, "a resync: queries refetched");
    let joins: Vec<_> = next
        .take_sent()
        .into_iter()
        .filter(|f| f.contains("subscribe:order"))
        .collect();
    assert_eq!(joins, [r#"421["subscribe:order",{"orderId":"1"}]"#]);
}

#[test]
fn a_tab_times_out_its_own_requests_and_takes_over_a_quiet_leader() {
    let mut m = Member::new("b", 0);
    let (req, _) = m.emit(0, "x", "[]", Some(Some(500)), 10_000);
    let (sub, _) = m.join(order("1"));
    m.expect(0, sub, 10_000);
    assert_eq!(m.poll_timeout(false), Some(500));
    assert!(
        matches!(&m.timeout(500, false)[..], [Step::Complete(r, Err(e))] if *r == req && e.code == ErrorCode::AckTimeout)
    );
    // Following: a quiet leader is probed, then taken over; any message from it resets that.
    assert_eq!(m.poll_timeout(true), Some(PROBE_AFTER_MS));
    assert_eq!(m.timeout(PROBE_AFTER_MS, true), [Step::Probe]);
    let t = m.poll_timeout(true).unwrap();
    let grace = t - PROBE_AFTER_MS;
    assert!(
        (PROBE_GRACE_MS..PROBE_GRACE_MS + 1000).contains(&grace),
        "{grace}"
    );
    assert!(m.timeout(t - 1, true).is_empty());
    assert_eq!(m.timeout(t, true), [Step::TakeOver]);
    m.receive(
        t,
        &Msg::Event {
            from: "a".into(),
            to: vec![],
            name: "n".into(),
            args: "[]".into(),
            ack: None,
            offset: None,
        },
        false,
    );
    assert_eq!(m.poll_timeout(true), Some(t + PROBE_AFTER_MS));
    assert!(
        m.timeout(u64::MAX, true).len() == 2,
        "the room join times out too"
    );
}
