//! Whole connection timelines on a virtual clock: connect, drop, backoff, reconnect, rooms,
//! recovery, heartbeats, acks, offline. No sockets, no sleeping; each runs in microseconds.
#![cfg(not(target_arch = "wasm32"))]

use wiresync::core::backoff::Backoff;
use wiresync::core::connection::{Attachments, Config, Connection, Output, State, Status};
use wiresync::core::error::{Error, ErrorCode};
use wiresync::core::protocol::{InFrame, Incoming, Protocol};
use wiresync::core::transport::Transport;

const OPEN: &str =
    r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// The client under test plus a record of everything it asked the platform to do.
struct Sim {
    now: u64,
    conn: Connection,
    auth: Option<String>,
    sent: Vec<String>,
    opened: Vec<String>,
    closes: usize,
    transport_up: bool,
    states: Vec<State>,
    events: Vec<Incoming>,
    errors: Vec<Error>,
    acks: Vec<(u64, Result<String, Error>)>,
    /// The attachments each ack in `acks` announced.
    ack_parts: Vec<u32>,
    /// Attachment tokens dropped with their packet.
    dropped: Vec<u64>,
    subscribed: Vec<(u64, Result<String, Error>)>,
    /// Polling requests asked for: id, URL, POST body.
    fetches: Vec<(u64, String, Option<String>)>,
    /// What was asked of the upgrade probe: `open <url>`, `send <text>`, `close`, `upgrade`.
    probe: Vec<String>,
    /// Binary packets that came over polling, and bytes sent as binary frames.
    received: Vec<Vec<u8>>,
    binary_sent: Vec<Vec<u8>>,
    /// What the `url` function answers, in turn (`Output::NeedUrl`).
    next_urls: Vec<String>,
    /// The bytes handed over for attachments that go over polling (`None`: a Blob).
    part_bytes: Option<Vec<Vec<u8>>>,
}

impl Sim {
    fn new(cfg: Config) -> Sim {
        Sim {
            now: 1_000,
            conn: Connection::new(cfg, 42),
            auth: Some(r#"{"token":"t"}"#.into()),
            sent: vec![],
            opened: vec![],
            closes: 0,
            transport_up: false,
            states: vec![],
            events: vec![],
            errors: vec![],
            acks: vec![],
            ack_parts: vec![],
            dropped: vec![],
            subscribed: vec![],
            fetches: vec![],
            probe: vec![],
            received: vec![],
            binary_sent: vec![],
            next_urls: vec![],
            part_bytes: Some(vec![vec![255, 0]]),
        }
    }

    fn socketio() -> Sim {
        Sim::new(Config {
            backoff: Backoff {
                jitter: 0.0,
                ..Backoff::default()
            },
            ..Config::new("http://127.0.0.1:3000")
        })
    }

    /// A Socket.IO client connected and accepted (sid `s1`), what it sent so far cleared.
    fn open_socketio() -> Sim {
        let mut s = Sim::socketio();
        s.conn.connect(s.now);
        s.pump();
        s.accept(r#"40{"sid":"s1"}"#);
        s.take_sent();
        s
    }

    fn pump(&mut self) {
        while let Some(o) = self.conn.poll() {
            match o {
                Output::OpenTransport(url) => {
                    self.opened.push(url);
                    self.transport_up = true;
                }
                Output::CloseTransport => {
                    self.closes += 1;
                    self.transport_up = false;
                }
                Output::Send(f) => self.sent.push(f),
                Output::NeedAuth => {
                    let auth = self.auth.clone();
                    self.conn.provide_auth(self.now, auth.as_deref());
                }
                Output::State(s) => self.states.push(s),
                Output::Event(e) => self.events.push(e),
                Output::Ack {
                    id,
                    result,
                    attachments,
                } => {
                    self.acks.push((id, result));
                    self.ack_parts.push(attachments);
                }
                Output::SendAttachments(token) => self.sent.push(format!("<attachments {token}>")),
                Output::DropAttachments(token) => self.dropped.push(token),
                Output::Subscribed { id, result } => self.subscribed.push((id, result)),
                Output::Error(e) => self.errors.push(e),
                Output::NeedUrl => {
                    let url = self.next_urls.remove(0);
                    // "!why": the function threw `why`.
                    let url = match url.strip_prefix('!') {
                        Some(why) => Err(why),
                        None => Ok(url.as_str()),
                    };
                    self.conn.provide_url(self.now, url);
                }
                Output::Fetch { id, url, body } => self.fetches.push((id, url, body)),
                Output::Attachment(bytes) => self.received.push(bytes),
                Output::OpenProbe(url) => self.probe.push(format!("open {url}")),
                Output::SendProbe(text) => self.probe.push(format!("send {text}")),
                Output::CloseProbe => self.probe.push("close".into()),
                Output::UpgradeProbe => self.probe.push("upgrade".into()),
                Output::SendBinary(bytes) => self.binary_sent.push(bytes),
                Output::AttachmentBytes(token) => {
                    let used = self.conn.attachment_bytes(token, self.part_bytes.clone());
                    self.sent.push(format!("<bytes {token} {used}>"));
                }
            }
        }
    }

    fn frame(&mut self, f: &str) {
        self.conn.handle_frame(self.now, f);
        self.pump();
    }

    /// Transport opens, handshake, auth, and the server accepts with this CONNECT reply.
    fn accept(&mut self, reply: &str) {
        assert!(self.transport_up, "no transport was opened");
        self.conn.transport_open(self.now);
        self.pump();
        self.frame(OPEN);
        self.frame(reply);
    }

    /// Moves the clock, firing timers on the way exactly as a driver would.
    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.conn.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.conn.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    fn drop_transport(&mut self) {
        self.transport_up = false;
        self.conn.transport_closed(self.now, 1006, "");
        self.pump();
    }

    fn status(&self) -> Status {
        self.conn.state().status
    }

    fn take_sent(&mut self) -> Vec<String> {
        std::mem::take(&mut self.sent)
    }

    fn codes(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| e.code.as_str().to_owned())
            .collect()
    }
}

#[test]
fn binary_events_and_acks_both_ways_with_their_attachments_in_order() {
    let mut s = Sim::open_socketio();
    // In: delivered once its attachments came, with their count; what came after waits.
    s.frame(r#"452-["file",{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]"#);
    assert!(s.events.is_empty(), "not before its attachments");
    assert!(s.conn.handle_binary(s.now, 10));
    s.pump();
    assert!(s.events.is_empty());
    assert!(s.conn.handle_binary(s.now, 20));
    s.pump();
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].name, "file");
    assert_eq!(s.events[0].attachments, 2);
    assert_eq!(
        s.events[0].payload_ok, None,
        "placeholders are not checked against a schema"
    );
    // Out: a binary event with an ack; its attachments go right after its frame.
    let bin = Attachments {
        count: 1,
        token: 7,
        largest: 3,
    };
    let id = s
        .conn
        .emit_attached(
            s.now,
            "upload",
            r#"[{"img":{"_placeholder":true,"num":0}}]"#,
            bin,
            Some(None),
        )
        .unwrap()
        .unwrap();
    s.pump();
    assert_eq!(
        s.take_sent(),
        [
            format!(r#"451-{id}["upload",{{"img":{{"_placeholder":true,"num":0}}}}]"#),
            "<attachments 7>".to_owned()
        ]
    );
    // Its binary ack.
    s.frame(&format!(r#"461-{id}[{{"_placeholder":true,"num":0}}]"#));
    assert!(s.acks.is_empty());
    assert!(s.conn.handle_binary(s.now, 5));
    s.pump();
    assert_eq!(s.acks.len(), 1);
    assert_eq!(s.ack_parts, [1]);
    assert_eq!(
        s.acks[0].1.as_deref(),
        Ok(r#"[{"_placeholder":true,"num":0}]"#)
    );
    // A binary answer to the server's ack request.
    s.conn
        .ack_attached(
            s.now,
            3,
            r#"[{"_placeholder":true,"num":0}]"#,
            Some(Attachments {
                count: 1,
                token: 8,
                largest: 3,
            }),
        )
        .unwrap();
    s.pump();
    assert_eq!(
        s.take_sent(),
        [r#"461-3[{"_placeholder":true,"num":0}]"#, "<attachments 8>"]
    );
    // Buffered while not open, then dropped with the close: its attachments are forgotten.
    s.drop_transport();
    s.conn
        .emit_attached(
            s.now,
            "later",
            "[{}]",
            Attachments {
                count: 1,
                token: 9,
                largest: 3,
            },
            None,
        )
        .unwrap();
    s.conn.close(s.now);
    s.pump();
    assert_eq!(s.dropped, [9]);
    assert!(!s.take_sent().iter().any(|f| f.contains("later")));
}

#[test]
fn a_binary_part_over_the_frame_limit_is_refused_not_sent() {
    let mut s = Sim::open_socketio();
    // The handshake's maxPayload is 1,000,000 bytes.
    let big = Attachments {
        count: 1,
        token: 4,
        largest: 1_000_001,
    };
    let e = s
        .conn
        .emit_attached(
            s.now,
            "upload",
            r#"[{"_placeholder":true,"num":0}]"#,
            big,
            Some(None),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FrameTooLarge);
    assert_eq!(e.message, "1000001 bytes is over the 1000000-byte limit");
    let e = s
        .conn
        .ack_attached(s.now, 2, r#"[{"_placeholder":true,"num":0}]"#, Some(big))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FrameTooLarge);
    s.pump();
    assert!(s.take_sent().is_empty(), "nothing sent");
    assert_eq!(s.dropped, [4], "the refused ack's parts are forgotten");
}

#[test]
fn binary_needs_the_socketio_protocol() {
    let mut s = Sim::new(Config {
        protocol: Protocol::Json,
        ..Config::new("http://127.0.0.1:3000")
    });
    let e = s
        .conn
        .emit_attached(
            s.now,
            "x",
            "[{}]",
            Attachments {
                count: 1,
                token: 1,
                largest: 3,
            },
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(!s.conn.handle_binary(s.now, 1));
    s.pump();
    assert_eq!(s.codes(), ["UNSUPPORTED_BINARY"]);
}

#[test]
fn connect_sends_auth_then_events_flow() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    assert_eq!(
        s.opened,
        ["ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"]
    );
    assert_eq!(s.status(), Status::Connecting);
    s.accept(r#"40{"sid":"s1"}"#);
    assert_eq!(s.take_sent(), [r#"40{"token":"t"}"#]);
    assert_eq!(s.status(), Status::Open);
    s.frame(r#"42["order:status_update",{"orderId":"o1","status":"preparing"}]"#);
    assert_eq!(s.events[0].name, "order:status_update");
    assert_eq!(
        s.events[0].args,
        r#"[{"orderId":"o1","status":"preparing"}]"#
    );
    s.frame("2");
    assert_eq!(s.take_sent(), ["3"], "ping answered with pong");
}

#[test]
fn drop_backoff_reconnect_and_rooms_rejoined_exactly_once_when_not_recovered() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    let room = s
        .conn
        .subscribe(s.now, "order", Some(r#"{"orderId":"123"}"#), true)
        .unwrap();
    s.pump();
    assert_eq!(
        s.take_sent().last().unwrap(),
        r#"421["subscribe:order",{"orderId":"123"}]"#
    );
    s.frame(r#"431[{"ok":true}]"#);
    assert_eq!(s.subscribed, [(room, Ok(r#"[{"ok":true}]"#.to_owned()))]);

    // Three failed attempts: delays 1 s, 2 s, 4 s (no jitter), attempts counted in the state.
    s.drop_transport();
    assert_eq!(
        (s.status(), s.conn.state().attempt),
        (Status::Reconnecting, 1)
    );
    let mut opens_at = vec![];
    for _ in 0..3 {
        let before = s.opened.len();
        let start = s.now;
        while s.opened.len() == before {
            s.advance(100);
        }
        opens_at.push(s.now - start);
        if opens_at.len() < 3 {
            s.drop_transport(); // the attempt fails before the socket opens
        }
    }
    assert_eq!(opens_at, [1000, 2000, 4000]);
    assert_eq!(s.conn.state().attempt, 3);

    s.take_sent();
    s.accept(r#"40{"sid":"s2"}"#);
    let sent = s.take_sent();
    assert_eq!(
        sent.iter()
            .filter(|f| f.contains("subscribe:order"))
            .count(),
        1,
        "{sent:?}"
    );
    assert_eq!(
        s.conn.state(),
        State {
            status: Status::Open,
            attempt: 0,
            error: None,
            recovered: false,
            resync: true,
            shared: None,
            url: "http://127.0.0.1:3000".into(),
            transport: Some(Transport::WebSocket),
        }
    );
}

#[test]
fn recovery_skips_rejoin_and_strips_offsets_then_a_lost_session_rejoins() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1","pid":"p1"}"#);
    assert!(!s.conn.state().resync, "a first connect missed nothing");
    s.conn
        .subscribe(s.now, "chat", Some(r#"{"chatId":"c"}"#), false)
        .unwrap();
    s.pump();
    s.frame(r#"42["chat:message",{"text":"a"},"off-1"]"#);
    assert_eq!(s.events[0].args, r#"[{"text":"a"}]"#, "offset stripped");
    assert_eq!(
        s.events[0].in_frame,
        // `42["chat:message",` is 18 units; `,"off-1"]` is 9.
        Some(InFrame {
            start_utf16: 18,
            tail_utf16: 9,
            single: true
        })
    );
    s.take_sent();

    s.drop_transport();
    s.advance(1000);
    // Missed events arrive before the CONNECT reply and are accepted.
    s.conn.transport_open(s.now);
    s.pump();
    s.frame(OPEN);
    assert_eq!(
        s.take_sent(),
        [r#"40{"pid":"p1","offset":"off-1","token":"t"}"#]
    );
    s.frame(r#"42["chat:message",{"text":"missed"},"off-2"]"#);
    s.frame(r#"40{"sid":"s1","pid":"p1"}"#);
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[1].args, r#"[{"text":"missed"}]"#);
    assert!(s.conn.state().recovered);
    assert!(!s.conn.state().resync, "recovered: nothing to refetch");
    assert!(
        s.take_sent().is_empty(),
        "nothing re-joined after a recovered reconnect"
    );

    s.drop_transport();
    assert!(!s.conn.state().resync, "not while reconnecting");
    s.advance(1000);
    s.accept(r#"40{"sid":"s9","pid":"p9"}"#);
    assert_eq!(
        s.take_sent()[1..],
        [r#"42["subscribe:chat",{"chatId":"c"}]"#.to_owned()]
    );
    assert!(!s.conn.state().recovered);
    assert!(s.conn.state().resync, "a lost session: refetch");
}

#[test]
fn reconnect_leaves_the_open_session_and_starts_a_new_one() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1","pid":"p1"}"#);
    s.conn
        .subscribe(s.now, "chat", Some(r#"{"chatId":"c"}"#), false)
        .unwrap();
    s.pump();
    s.frame(r#"42["chat:message",{"text":"a"},"off-1"]"#);
    s.take_sent();
    s.conn.reconnect(s.now);
    s.pump();
    assert_eq!(
        s.take_sent(),
        ["41"],
        "the server is told: no session kept for recovery"
    );
    assert_eq!(s.closes, 1);
    s.accept(r#"40{"sid":"s2","pid":"p2"}"#);
    let sent = s.take_sent();
    assert_eq!(
        sent[0], r#"40{"token":"t"}"#,
        "no pid or offset offered: {sent:?}"
    );
    assert_eq!(
        sent[1..],
        [r#"42["subscribe:chat",{"chatId":"c"}]"#.to_owned()]
    );
    let st = s.conn.state();
    assert!(!st.recovered && st.resync, "{st:?}");
}

#[test]
fn a_silent_server_is_detected_by_elapsed_time() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    for _ in 0..4 {
        s.advance(25_000);
        s.frame("2");
    }
    assert_eq!(s.status(), Status::Open, "pings keep it alive");
    s.advance(44_999);
    assert_eq!(s.status(), Status::Open);
    s.advance(1);
    assert_eq!(s.codes(), ["HEARTBEAT_TIMEOUT"]);
    assert_eq!((s.status(), s.closes), (Status::Reconnecting, 1));

    // A throttled tab: no timer fired, but the page becomes visible long after the deadline.
    let mut t = Sim::socketio();
    t.conn.connect(t.now);
    t.pump();
    t.accept(r#"40{"sid":"s1"}"#);
    t.now += 120_000;
    t.conn.page_visible(t.now);
    t.pump();
    assert_eq!(t.codes(), ["HEARTBEAT_TIMEOUT"]);
}

#[test]
fn offline_means_no_attempts_and_online_means_one_at_once() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    s.drop_transport();
    s.conn.set_online(s.now, false);
    s.pump();
    assert_eq!(s.status(), Status::Offline);
    let opened = s.opened.len();
    s.advance(600_000);
    assert_eq!(s.opened.len(), opened, "no attempt while offline");
    s.conn.set_online(s.now, true);
    s.pump();
    assert_eq!(
        s.opened.len(),
        opened + 1,
        "attempt at once when back online"
    );

    // Visible again: a waiting retry runs at once instead of after its delay.
    let mut v = Sim::socketio();
    v.conn.connect(v.now);
    v.pump();
    v.drop_transport();
    let opened = v.opened.len();
    v.conn.page_visible(v.now);
    v.pump();
    assert_eq!(v.opened.len(), opened + 1);
}

#[test]
fn close_never_reconnects_and_fails_pending_acks() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    let id = s.conn.emit_with_ack(s.now, "echo", "[1]", None).unwrap();
    s.conn.close(s.now);
    s.pump();
    assert_eq!(s.sent.last().unwrap(), "41");
    assert_eq!(s.status(), Status::Closed);
    assert_eq!(s.acks[0].0, id);
    assert_eq!(s.acks[0].1.as_ref().unwrap_err().code, ErrorCode::Closed);
    let opened = s.opened.len();
    s.conn.transport_closed(s.now, 1000, "");
    s.conn.set_online(s.now, true);
    s.conn.page_visible(s.now);
    s.advance(3_600_000);
    s.pump();
    assert_eq!(s.opened.len(), opened);
    s.conn.reconnect(s.now);
    s.pump();
    assert_eq!(
        s.opened.len(),
        opened + 1,
        "reconnect() works after close()"
    );
}

#[test]
fn emits_buffer_while_down_and_flush_in_order_after_rooms() {
    let mut s = Sim::socketio();
    s.conn
        .subscribe(s.now, "order", Some(r#"{"orderId":"1"}"#), false)
        .unwrap();
    s.conn.emit(s.now, "a", "[1]").unwrap();
    s.conn.emit(s.now, "b", r#"[{"x":2},3]"#).unwrap();
    s.conn.connect(s.now);
    s.pump();
    assert!(s.sent.is_empty());
    s.accept(r#"40{"sid":"s1"}"#);
    assert_eq!(
        s.take_sent(),
        [
            r#"40{"token":"t"}"#,
            r#"42["subscribe:order",{"orderId":"1"}]"#,
            r#"42["a",1]"#,
            r#"42["b",{"x":2},3]"#
        ]
    );
}

#[test]
fn acks_resolve_time_out_and_unknown_ones_are_reported() {
    let mut s = Sim::open_socketio();
    let a = s
        .conn
        .emit_with_ack(s.now, "order:ack-me", r#"[{"orderId":"o"}]"#, None)
        .unwrap();
    let b = s
        .conn
        .emit_with_ack(s.now, "slow:no-ack", "[]", Some(500))
        .unwrap();
    s.pump();
    assert_eq!(
        s.take_sent(),
        [
            format!(r#"42{a}["order:ack-me",{{"orderId":"o"}}]"#),
            format!(r#"42{b}["slow:no-ack"]"#)
        ]
    );
    s.frame(&format!(r#"43{a}[{{"ok":true}}]"#));
    s.advance(499);
    assert_eq!(s.acks, [(a, Ok(r#"[{"ok":true}]"#.to_owned()))]);
    s.advance(1);
    assert_eq!(s.acks[1].0, b);
    assert_eq!(
        s.acks[1].1.as_ref().unwrap_err().code,
        ErrorCode::AckTimeout
    );
    s.frame(r#"4399[1]"#);
    assert_eq!(s.codes(), ["UNKNOWN_ACK"]);
    assert_eq!(s.status(), Status::Open);

    // The server asks us for an ack; we answer on the same connection.
    s.frame(r#"427["server:question",{"q":"eta?"}]"#);
    assert_eq!(s.events[0].ack, Some(7));
    s.conn.ack(s.now, 7, r#"[{"eta":"10:30"}]"#).unwrap();
    s.pump();
    assert_eq!(s.take_sent(), [r#"437[{"eta":"10:30"}]"#]);
}

#[test]
fn refused_connect_is_a_typed_error_and_a_retry() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"44{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}"#);
    assert_eq!(s.codes(), ["AUTH_REJECTED"]);
    assert_eq!(s.errors[0].message, "invalid token");
    assert_eq!((s.status(), s.closes), (Status::Reconnecting, 1));
    s.advance(1000);
    s.accept(r#"44{"message":"banned","data":{"code":"USER_BANNED"}}"#);
    assert_eq!(s.codes(), ["AUTH_REJECTED", "USER_BANNED"]);
}

#[test]
fn max_attempts_gives_up_and_closes() {
    let mut s = Sim::new(Config {
        backoff: Backoff {
            max_attempts: Some(2),
            jitter: 0.0,
            ..Backoff::default()
        },
        ..Config::new("ws://h")
    });
    s.conn.connect(s.now);
    s.pump();
    for _ in 0..3 {
        s.drop_transport();
        s.advance(10_000);
    }
    assert_eq!(s.status(), Status::Closed);
    assert_eq!(s.codes().last().unwrap(), "RECONNECT_FAILED");
    assert_eq!(s.opened.len(), 3, "the first try and two retries");
    assert_eq!(
        s.conn.state().attempt,
        2,
        "the state counts the retries made"
    );
}

#[test]
fn bad_input_is_reported_and_the_connection_stays_up() {
    let mut s = Sim::new(Config {
        max_frame_bytes: 100,
        ..Config::new("ws://h")
    });
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    let cases = [
        ("", "DECODE_ERROR"),
        ("9", "DECODE_ERROR"),
        ("4x", "DECODE_ERROR"),
        ("42[\"ev\",{bad json}]", "DECODE_ERROR"),
        ("42{\"not\":\"array\"}", "DECODE_ERROR"),
        ("42[]", "DECODE_ERROR"),
        ("43[1]", "DECODE_ERROR"),
        ("4377[1]", "UNKNOWN_ACK"),
        (
            &format!("42[\"big\",\"{}\"]", "x".repeat(200)),
            "FRAME_TOO_LARGE",
        ),
    ];
    for (frame, code) in cases {
        s.errors.clear();
        s.frame(frame);
        assert_eq!(s.codes(), [code], "{frame:?}");
        assert_eq!(s.status(), Status::Open, "{frame:?}");
    }
    s.errors.clear();
    // An attachment no packet announced, and a binary packet cut short by the next packet.
    assert!(!s.conn.handle_binary(s.now, 3), "not kept");
    s.frame(r#"452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert!(s.conn.handle_binary(s.now, 3), "kept");
    s.frame(r#"42["next",1]"#);
    assert_eq!(s.codes(), ["DECODE_ERROR", "DECODE_ERROR"]);
    assert_eq!(s.errors[1].event.as_deref(), Some("file"));
    assert!(s.errors[1]
        .message
        .contains("announced 2 attachments and 1 came"));
    assert_eq!(s.events.len(), 1, "the next packet is handled");
    assert_eq!(s.events[0].name, "next");
    s.events.clear();
    assert_eq!(s.status(), Status::Open);
    let err = s.conn.emit(s.now, "disconnect", "[]").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = s
        .conn
        .emit(s.now, "big", &format!("[\"{}\"]", "x".repeat(200)))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FrameTooLarge);
}

#[test]
fn events_before_connect_are_refused_unless_recovering() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.conn.transport_open(s.now);
    s.pump();
    s.frame(OPEN);
    s.frame(r#"42["early",1]"#);
    assert_eq!(s.codes(), ["EVENT_BEFORE_CONNECT"]);
    assert!(s.events.is_empty());
}

#[test]
fn a_server_disconnect_closes_without_reconnecting() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1"}"#);
    s.frame("41");
    assert_eq!(s.status(), Status::Closed);
    assert_eq!(s.codes(), ["SERVER_DISCONNECT"]);
    let n = s.opened.len();
    s.advance(600_000);
    assert_eq!(s.opened.len(), n);
}

#[test]
fn namespaces_prefix_every_packet() {
    let mut s = Sim::new(Config {
        protocol: Protocol::SocketIo {
            path: "/socket.io/".into(),
            namespace: "/admin".into(),
        },
        ..Config::new("ws://h")
    });
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40/admin,{"sid":"s1"}"#);
    assert_eq!(s.status(), Status::Open);
    s.conn.emit(s.now, "ev", "[1]").unwrap();
    s.pump();
    s.frame(r#"42["other-namespace-ignored"]"#);
    s.frame(r#"42/admin,["mine",2]"#);
    assert_eq!(
        s.take_sent(),
        [r#"40/admin,{"token":"t"}"#, r#"42/admin,["ev",1]"#]
    );
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].name, "mine");
}

#[test]
fn json_protocol_timeline() {
    let mut s = Sim::new(Config {
        protocol: Protocol::Json,
        ..Config::new("http://127.0.0.1:4000/rt")
    });
    s.conn.connect(s.now);
    s.pump();
    assert_eq!(s.opened, ["ws://127.0.0.1:4000/rt"]);
    s.conn.transport_open(s.now);
    s.pump();
    assert_eq!(
        s.take_sent(),
        [r#"{"type":"connect","auth":{"token":"t"}}"#]
    );
    s.frame(r#"{"type":"connected","sid":"j1"}"#);
    assert_eq!(s.status(), Status::Open);
    let id = s
        .conn
        .emit_with_ack(s.now, "echo", r#"[{"a":1}]"#, None)
        .unwrap();
    s.pump();
    assert_eq!(
        s.take_sent(),
        [format!(r#"{{"event":"echo","data":{{"a":1}},"id":{id}}}"#)]
    );
    s.frame(&format!(r#"{{"ack":{id},"data":{{"a":1}}}}"#));
    assert_eq!(s.acks[0].1.as_deref(), Ok(r#"[{"a":1}]"#));
    s.frame(r#"{"type":"ping"}"#);
    assert_eq!(s.take_sent(), [r#"{"type":"pong"}"#]);
    // The client pings on its own and gives up on a silent server.
    s.advance(25_000);
    assert_eq!(s.take_sent(), [r#"{"type":"ping"}"#]);
    s.advance(20_000);
    assert_eq!(s.codes(), ["HEARTBEAT_TIMEOUT"]);
}

#[test]
fn argument_positions_are_in_utf16_units_of_the_whole_frame() {
    let mut s = Sim::new(Config {
        protocol: Protocol::SocketIo {
            path: "/socket.io/".into(),
            namespace: "/é😀".into(),
        },
        ..Config::new("ws://h")
    });
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40/é😀,{"sid":"s1"}"#);
    let frame = r#"42/é😀,7["ev",{"k":"ü"},"😀"]"#;
    s.frame(frame);
    let at = s.events[0]
        .in_frame
        .expect("socket.io events carry their position");
    // "42" (2) + "/é😀," (1 + 1 + 2 + 1 UTF-16 units) + "7" (1) + `["ev",` (6) = 14
    assert_eq!(
        at,
        InFrame {
            start_utf16: 14,
            tail_utf16: 1,
            single: false
        }
    );
    let utf16: Vec<u16> = frame.encode_utf16().collect();
    assert_eq!(
        String::from_utf16(&utf16[at.start_utf16..utf16.len() - at.tail_utf16]).unwrap(),
        r#"{"k":"ü"},"😀""#
    );
}

// ---- HTTP long-polling, the upgrade, transport fallback, URL failover ------------------------

const POLL_OPEN: &str = r#"0{"sid":"p1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

impl Sim {
    fn with_transports(transports: Vec<Transport>) -> Sim {
        Sim::socketio_with(|c| c.transports = transports)
    }

    /// [`Sim::socketio`] with its config changed by `edit`.
    fn socketio_with(edit: impl FnOnce(&mut Config)) -> Sim {
        let mut cfg = Sim::socketio().conn.config().clone();
        edit(&mut cfg);
        Sim::new(cfg)
    }

    /// Answers polling request `id` (the last asked for when `None`) with 200 and `body`.
    fn answer(&mut self, id: Option<u64>, body: &str) {
        let id = id.unwrap_or_else(|| self.fetches.last().expect("a request").0);
        self.conn.fetch_done(self.now, id, 200, body);
        self.pump();
    }

    /// The GET in flight: the last request without a body.
    fn get(&self) -> (u64, String) {
        let (id, url, _) = self.fetches.iter().rev().find(|f| f.2.is_none()).unwrap();
        (*id, url.clone())
    }

    /// POSTs asked for since the last call, as their bodies, each answered `ok`.
    fn posts(&mut self) -> Vec<String> {
        let mut out = vec![];
        loop {
            let Some(at) = self.fetches.iter().position(|f| f.2.is_some()) else {
                return out;
            };
            let (id, _, body) = self.fetches.remove(at);
            out.push(body.unwrap());
            self.conn.fetch_done(self.now, id, 200, "ok");
            self.pump();
        }
    }

    /// Moves the clock to the next timer and fires it.
    fn step(&mut self) {
        let t = self.conn.poll_timeout().expect("a timer");
        self.advance(t.saturating_sub(self.now));
    }

    /// A polling client connected and accepted (sid `s1`).
    fn open_polling(transports: Vec<Transport>) -> Sim {
        let mut s = Sim::with_transports(transports);
        s.conn.connect(s.now);
        s.pump();
        s.answer(None, POLL_OPEN);
        assert_eq!(s.posts(), [r#"40{"token":"t"}"#]);
        s.answer(Some(s.get().0), r#"40{"sid":"s1"}"#);
        assert!(s.conn.is_open());
        s
    }
}

#[test]
fn polling_connects_posts_in_batches_and_answers_pings() {
    let mut s = Sim::with_transports(vec![Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    assert_eq!(
        s.fetches[0].1,
        "http://127.0.0.1:3000/socket.io/?EIO=4&transport=polling"
    );
    assert_eq!(s.conn.state().transport, Some(Transport::Polling));
    s.answer(None, POLL_OPEN);
    // The handshake is answered by a GET with the sid, and CONNECT goes in a POST.
    assert_eq!(
        s.get().1,
        "http://127.0.0.1:3000/socket.io/?EIO=4&transport=polling&sid=p1"
    );
    assert_eq!(s.posts(), [r#"40{"token":"t"}"#]);
    s.answer(
        Some(s.get().0),
        "40{\"sid\":\"s1\"}\u{1e}42[\"order:status_update\",{\"orderId\":\"o1\"}]\u{1e}2",
    );
    assert!(s.conn.is_open());
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].name, "order:status_update");
    // The ping is answered in a POST; emits made together go in one.
    s.conn.emit(s.now, "a", "[1]").unwrap();
    s.conn.emit(s.now, "b", "[2]").unwrap();
    s.pump();
    // (The pong went at once; the two emits waited for its POST.)
    assert_eq!(s.posts(), ["3", "42[\"a\",1]\u{1e}42[\"b\",2]"]);
    // One POST at a time: what is sent while one is in flight waits for it.
    s.conn.emit(s.now, "c", "[3]").unwrap();
    s.pump();
    let (first, ..) = s.fetches.iter().find(|f| f.2.is_some()).cloned().unwrap();
    s.conn.emit(s.now, "d", "[4]").unwrap();
    s.pump();
    assert_eq!(s.fetches.iter().filter(|f| f.2.is_some()).count(), 1);
    s.fetches.retain(|f| f.0 != first);
    s.conn.fetch_done(s.now, first, 200, "ok");
    s.pump();
    assert_eq!(s.posts(), ["42[\"d\",4]"]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn polling_ends_with_a_close_packet_and_a_failed_request_reconnects() {
    let mut s = Sim::open_polling(vec![Transport::Polling]);
    let closes = s.closes;
    s.conn.close(s.now);
    s.pump();
    assert_eq!(s.closes, closes + 1);
    // The last POST goes after the close, with nobody waiting for its answer (id 0).
    assert_eq!(s.fetches.last().unwrap().0, 0);
    assert_eq!(s.posts(), ["41\u{1e}1"]);

    let mut s = Sim::open_polling(vec![Transport::Polling]);
    let (get, _) = s.get();
    s.conn.fetch_done(s.now, get, 400, "");
    s.pump();
    assert_eq!(s.conn.state().status, Status::Reconnecting);
    assert_eq!(s.codes(), ["TRANSPORT_ERROR"]);
    // A late answer to the old session's request is ignored.
    s.conn.fetch_done(s.now, get, 200, "42[\"x\"]");
    s.pump();
    assert!(s.events.is_empty());
}

#[test]
fn polling_upgrades_to_websocket_after_the_probe() {
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    assert_eq!(
        s.probe,
        ["open ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket&sid=p1"]
    );
    s.conn.probe_open(s.now);
    s.pump();
    assert_eq!(s.probe[1], "send 2probe");
    s.conn.probe_frame(s.now, "3probe");
    s.pump();
    // Paused: no new request; an emit waits; the GET in flight ends with the server's NOOP.
    s.conn.emit(s.now, "during", "[]").unwrap();
    s.pump();
    assert!(s.posts().is_empty());
    let gets = s.fetches.len();
    s.answer(Some(s.get().0), "6");
    assert_eq!(s.fetches.len(), gets, "no GET after the pause");
    assert_eq!(s.probe[2..], ["send 5", "upgrade"]);
    assert_eq!(s.take_sent(), ["42[\"during\"]"]);
    assert_eq!(s.conn.state().transport, Some(Transport::WebSocket));
    assert!(!s.conn.polling());
    // From now on frames come and go over the WebSocket.
    s.frame("42[\"after\"]");
    s.conn.emit(s.now, "ws", "[]").unwrap();
    s.pump();
    assert_eq!(s.take_sent(), ["42[\"ws\"]"]);
    assert_eq!(s.events.last().unwrap().name, "after");
}

#[test]
fn a_failed_probe_stays_on_polling() {
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    s.conn.probe_closed(s.now);
    s.pump();
    assert_eq!(s.probe.last().unwrap(), "close");
    assert_eq!(s.conn.state().transport, Some(Transport::Polling));
    // A probe that answers something else fails too; one that never opens times out.
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    s.conn.probe_open(s.now);
    s.conn.probe_frame(s.now, "3nope");
    s.pump();
    assert_eq!(s.probe.last().unwrap(), "close");
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    s.advance(20_001);
    assert_eq!(s.probe.last().unwrap(), "close");
    // Paused when it failed: polling resumes with a new GET.
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    s.conn.probe_open(s.now);
    s.conn.probe_frame(s.now, "3probe");
    s.pump();
    s.answer(Some(s.get().0), "6\u{1e}6");
    s.pump();
    assert_eq!(s.probe.last().unwrap(), "upgrade");
    let mut s = Sim::open_polling(vec![Transport::Polling, Transport::WebSocket]);
    s.conn.probe_open(s.now);
    s.conn.probe_frame(s.now, "3probe");
    s.conn.probe_closed(s.now);
    s.pump();
    let gets = s.fetches.iter().filter(|f| f.2.is_none()).count();
    s.answer(Some(s.get().0), "6");
    assert_eq!(s.fetches.iter().filter(|f| f.2.is_none()).count(), gets + 1);
    assert!(s.conn.polling());
    // Without websocket listed after polling, no probe at all.
    let s = Sim::open_polling(vec![Transport::Polling]);
    assert!(s.probe.is_empty());
}

#[test]
fn a_websocket_that_cannot_open_gives_way_to_polling_in_the_same_attempt() {
    let mut s = Sim::with_transports(vec![Transport::WebSocket, Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    assert_eq!(s.opened.len(), 1);
    s.conn.transport_closed(s.now, 1006, "refused");
    s.pump();
    assert!(s.errors.is_empty(), "no failed attempt yet");
    assert_eq!(s.fetches.len(), 1);
    assert_eq!(s.conn.state().status, Status::Connecting);
    s.answer(None, POLL_OPEN);
    // The WebSocket already failed in this attempt: no probe.
    assert!(s.probe.is_empty());
    // Both failing is one failed attempt; the next starts with the WebSocket again.
    let mut s = Sim::with_transports(vec![Transport::WebSocket, Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    s.conn.transport_closed(s.now, 1006, "refused");
    s.pump();
    s.conn
        .fetch_done(s.now, s.fetches[0].0, 0, "Failed to fetch");
    s.pump();
    assert_eq!(s.conn.state().status, Status::Reconnecting);
    assert_eq!(s.conn.state().attempt, 1);
    s.step();
    assert_eq!(s.opened.len(), 2);
}

#[test]
fn failover_takes_the_next_url_and_offers_the_session_there() {
    let mut s = Sim::socketio_with(|c| c.failover = vec!["http://b:2".into()]);
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1","pid":"p"}"#);
    s.frame(r#"42["e",1,"off-1"]"#);
    assert_eq!(s.conn.state().url, "http://127.0.0.1:3000");
    // Node A dies: the next attempt goes to B and offers pid and offset.
    s.conn.transport_closed(s.now, 1006, "");
    s.pump();
    s.advance(60_000);
    assert_eq!(
        s.opened.last().unwrap(),
        "ws://b:2/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(s.conn.state().url, "http://b:2");
    s.take_sent();
    s.conn.transport_open(s.now);
    s.frame(OPEN);
    assert_eq!(
        s.take_sent(),
        [r#"40{"pid":"p","offset":"off-1","token":"t"}"#]
    );
    s.frame(r#"40{"sid":"s1","pid":"p"}"#);
    assert!(s.conn.state().recovered);
    // B refuses next time: back to A (in turn).
    s.conn.transport_closed(s.now, 1006, "");
    s.pump();
    s.advance(60_000);
    assert!(s.opened.last().unwrap().starts_with("ws://127.0.0.1:3000/"));
    // A user's reconnect() stays where it is.
    let before = s.opened.len();
    s.conn.reconnect(s.now);
    s.pump();
    assert_eq!(s.opened.len(), before + 1);
    assert!(s.opened.last().unwrap().starts_with("ws://127.0.0.1:3000/"));
}

#[test]
fn a_url_function_is_asked_after_each_failure_and_a_bad_answer_fails_the_attempt() {
    let mut s = Sim::socketio_with(|c| c.ask_url = true);
    s.next_urls = vec![
        "not a url".into(),
        "!directory down".into(),
        "https://c.example".into(),
    ];
    s.conn.connect(s.now);
    s.pump();
    s.conn.transport_closed(s.now, 1006, "");
    s.pump();
    s.step();
    assert_eq!(s.codes(), ["TRANSPORT_ERROR", "INVALID_ARGUMENT"]);
    assert_eq!(s.conn.state().status, Status::Reconnecting);
    s.step();
    assert!(
        s.errors[2].message.contains("directory down"),
        "{:?}",
        s.errors[2]
    );
    s.step();
    assert_eq!(
        s.opened.last().unwrap(),
        "wss://c.example/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(s.conn.state().url, "https://c.example");
}

#[test]
fn binary_packets_go_as_base64_over_polling() {
    let mut s = Sim::open_polling(vec![Transport::Polling]);
    let from = s.received.len();
    s.answer(
        Some(s.get().0),
        "451-[\"file\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID",
    );
    assert_eq!(s.received[from..], [vec![1, 2, 3]]);
    assert_eq!(s.events[0].attachments, 1);
    let bin = |token| Attachments {
        count: 1,
        token,
        largest: 2,
    };
    let placeholder = r#"[{"_placeholder":true,"num":0}]"#;
    s.conn
        .emit_attached(s.now, "up", placeholder, bin(7), None)
        .unwrap();
    s.pump();
    assert_eq!(s.take_sent(), ["<bytes 7 true>"]);
    // The frame and its part go in one POST, in order.
    assert_eq!(
        s.posts(),
        ["451-[\"up\",{\"_placeholder\":true,\"num\":0}]\u{1e}b/wA="]
    );
    // A Blob (no bytes at once): the packet is not sent, and that is said.
    s.part_bytes = None;
    s.conn.emit(s.now, "before", "[]").unwrap();
    s.conn
        .emit_attached(s.now, "blob", placeholder, bin(8), None)
        .unwrap();
    s.conn.emit(s.now, "after", "[]").unwrap();
    s.pump();
    assert_eq!(s.posts(), ["42[\"before\"]\u{1e}42[\"after\"]"]);
    assert_eq!(s.codes(), ["INVALID_ARGUMENT"]);
    // With an ack asked for, the ack fails at once instead (not at its timeout).
    let id = s
        .conn
        .emit_attached(s.now, "blob", placeholder, bin(9), Some(None))
        .unwrap()
        .unwrap();
    s.pump();
    assert_eq!(s.acks.last().unwrap().0, id);
    let failed = s.acks.last().unwrap().1.as_ref().unwrap_err();
    assert_eq!(failed.code, ErrorCode::InvalidArgument);
    assert_eq!(s.codes(), ["INVALID_ARGUMENT"], "told through the ack only");
    assert!(s.posts().is_empty());
    s.answer(Some(s.get().0), "bnope!");
    assert_eq!(s.codes(), ["INVALID_ARGUMENT", "DECODE_ERROR"]);
}

#[test]
fn over_polling_a_binary_packet_is_delivered_after_its_parts_are_kept() {
    // The order the driver sees: each part, then the packet it completes.
    let mut s = Sim::with_transports(vec![Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    s.answer(None, POLL_OPEN);
    s.posts();
    let (get, _) = s.get();
    let mut order = vec![];
    s.conn.fetch_done(
        s.now,
        get,
        200,
        "40{\"sid\":\"s1\"}\u{1e}451-[\"f\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQ==\u{1e}42[\"t\"]",
    );
    while let Some(o) = s.conn.poll() {
        match o {
            Output::Attachment(b) => order.push(format!("part {b:?}")),
            Output::Event(e) => order.push(format!("event {}", e.name)),
            _ => {}
        }
    }
    assert_eq!(order, ["part [1]", "event f", "event t"]);
}

#[test]
fn a_binary_emit_buffered_before_connect_keeps_its_parts_next_to_it_over_polling_and_at_the_upgrade(
) {
    let placeholder = r#"[{"_placeholder":true,"num":0}]"#;
    let bin = Attachments {
        count: 1,
        token: 5,
        largest: 2,
    };
    let mut s = Sim::with_transports(vec![Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    s.conn
        .emit_attached(s.now, "pic", placeholder, bin, None)
        .unwrap();
    s.conn.emit(s.now, "text", "[]").unwrap();
    s.answer(None, POLL_OPEN);
    s.posts();
    s.answer(Some(s.get().0), "40{\"sid\":\"s1\"}");
    assert_eq!(
        s.posts(),
        ["451-[\"pic\",{\"_placeholder\":true,\"num\":0}]\u{1e}b/wA=\u{1e}42[\"text\"]"]
    );
    // At the upgrade: the CONNECT answer ends the pause, and a part the driver has not handed
    // over yet goes over the WebSocket right after its packet.
    let mut s = Sim::with_transports(vec![Transport::Polling, Transport::WebSocket]);
    s.part_bytes = None; // never asked for: the session is a WebSocket by then
    s.conn.connect(s.now);
    s.pump();
    s.conn
        .emit_attached(s.now, "pic", placeholder, bin, None)
        .unwrap();
    s.answer(None, POLL_OPEN);
    s.posts();
    s.conn.probe_open(s.now);
    s.conn.probe_frame(s.now, "3probe");
    s.pump();
    s.answer(Some(s.get().0), "40{\"sid\":\"s1\"}\u{1e}6");
    let sent = s.take_sent();
    assert_eq!(
        sent,
        [
            "<bytes 5 false>",
            "451-[\"pic\",{\"_placeholder\":true,\"num\":0}]",
            "<attachments 5>"
        ]
    );
    assert!(s.codes().is_empty());
}

#[test]
fn a_hanging_or_odd_transport_gives_way_to_the_next() {
    // A WebSocket the proxy holds open: at the connect timeout, polling is tried.
    let mut s = Sim::with_transports(vec![Transport::WebSocket, Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    s.advance(20_000);
    assert_eq!(s.fetches.len(), 1, "polling tried");
    assert!(s.codes().is_empty());
    s.answer(None, POLL_OPEN);
    assert!(s.conn.polling());
    // A handshake answered with something else (a portal's page) is a failed transport.
    let mut s = Sim::with_transports(vec![Transport::Polling, Transport::WebSocket]);
    s.conn.connect(s.now);
    s.pump();
    s.answer(None, "<html>sign in</html>");
    assert_eq!(s.opened.len(), 1, "the WebSocket was tried next");
    // A CLOSE packet during the handshake: the next transport opens and stays open.
    let mut s = Sim::with_transports(vec![Transport::WebSocket, Transport::Polling]);
    s.conn.connect(s.now);
    s.pump();
    s.conn.transport_open(s.now);
    s.frame("1");
    let closes = s.closes;
    assert_eq!(s.fetches.len(), 1);
    s.answer(None, POLL_OPEN);
    assert_eq!(s.closes, closes);
    assert!(s.conn.polling());
}

#[test]
fn reconnect_while_reconnecting_stays_on_the_url() {
    let mut s = Sim::socketio_with(|c| c.failover = vec!["http://b:2".into()]);
    s.conn.connect(s.now);
    s.pump();
    s.conn.transport_closed(s.now, 1006, "");
    s.pump();
    s.conn.reconnect(s.now);
    s.pump();
    assert!(s.opened.last().unwrap().starts_with("ws://127.0.0.1:3000/"));
    assert_eq!(s.conn.state().url, "http://127.0.0.1:3000");
}

#[test]
fn the_json_protocol_never_polls() {
    let mut s = Sim::socketio_with(|c| {
        c.protocol = Protocol::Json;
        c.transports = vec![Transport::Polling];
    });
    s.conn.connect(s.now);
    s.pump();
    assert_eq!(s.opened.len(), 1);
    assert!(s.fetches.is_empty());
    assert_eq!(s.conn.state().transport, Some(Transport::WebSocket));
}

#[test]
fn server_urls_are_checked() {
    use wiresync::core::protocol::check_url;
    for ok in [
        "http://a",
        "https://a.example/x?y=1",
        "ws://127.0.0.1:3000",
        "wss://h/",
    ] {
        assert!(check_url(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "a.example",
        "ftp://a",
        "http://",
        "http://:3000",
        "http://a b",
        "http:/a",
    ] {
        assert_eq!(
            check_url(bad).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "{bad}"
        );
    }
}

#[test]
fn replayed_events_come_after_the_recovered_state_not_before() {
    let mut s = Sim::socketio();
    s.conn.connect(s.now);
    s.pump();
    s.accept(r#"40{"sid":"s1","pid":"p"}"#);
    s.conn.subscribe(s.now, "order", None, false).unwrap();
    s.frame(r#"42["e",1,"off-1"]"#);
    s.conn.transport_closed(s.now, 1006, "");
    s.pump();
    s.step();
    s.conn.transport_open(s.now);
    s.frame(OPEN);
    s.take_sent();
    // socket.io sends the missed events of a restored session before its CONNECT.
    s.conn.handle_frame(s.now, r#"42["e",2,"off-2"]"#);
    let mut order = vec![];
    while let Some(o) = s.conn.poll() {
        match o {
            Output::State(st) => order.push(format!("{:?} recovered={}", st.status, st.recovered)),
            Output::Event(e) => order.push(format!("event {}", e.args)),
            _ => {}
        }
    }
    assert_eq!(order, ["Open recovered=true", "event [2]"]);
    let states = s.states.len();
    s.frame(r#"40{"sid":"s1","pid":"p"}"#);
    assert_eq!(
        s.states.len(),
        states,
        "the CONNECT after it changes nothing"
    );
    assert!(s.take_sent().is_empty(), "no room joined again");
}

#[test]
fn over_polling_an_events_place_is_given_in_the_whole_body() {
    // The driver parses each event's arguments straight from the body's JS string.
    let mut s = Sim::open_polling(vec![Transport::Polling]);
    let body = "2\u{1e}42[\"a\",{\"é\":\"😀\"}]\u{1e}bAQ==\u{1e}42[\"b\",1,2]";
    s.answer(Some(s.get().0), body);
    let units: Vec<u16> = body.encode_utf16().collect();
    let sliced: Vec<String> = s
        .events
        .iter()
        .map(|e| {
            let f = e.in_frame.expect("in the body");
            String::from_utf16(&units[f.start_utf16..units.len() - f.tail_utf16]).unwrap()
        })
        .collect();
    assert_eq!(sliced, ["{\"é\":\"😀\"}", "1,2"]);
}
