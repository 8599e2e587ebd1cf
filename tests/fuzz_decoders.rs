//! Property tests on the frame decoders: arbitrary and mutated frames never panic, and what the
//! encoders write decodes back to the same thing. Bounded case counts keep this to seconds.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use wiresync::core::connection::{Config, Connection};
use wiresync::core::json;
use wiresync::core::outbox::{self, Entry, EntryState, Message};
use wiresync::core::protocol::{json_wire as jsonp, socketio, Protocol};

const SEEDS: &[&str] = &[
    r#"0{"sid":"a","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    r#"40{"sid":"s","pid":"p"}"#,
    r#"42["order:status_update",{"orderId":"o1","n":[1,2.5e3,null,true]},"off"]"#,
    r#"421["ack-me",{"a":"\u00e9\n"}]"#,
    r#"43/admin,7[{"ok":true}]"#,
    r#"44{"message":"no","data":{"code":"X"}}"#,
    r#"451-["f",{"_placeholder":true,"num":0}]"#,
    r#"{"event":"e","data":{"x":[1]},"id":3}"#,
    r#"{"ack":3,"data":null}"#,
    r#"42["order:status_update",{"orderId":"o","status":"delivered","message":"m","timestamp":"t","seq":1},"off"]"#,
    r#"42["order:location_update",{"orderId":"o","location":{"latitude":1.5,"longitude":-2},"timestamp":"t"}]"#,
];

fn mutated() -> impl Strategy<Value = String> {
    (
        0..SEEDS.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0u8..3), 0..6),
    )
        .prop_map(|(i, edits)| {
            let mut chars: Vec<char> = SEEDS[i].chars().collect();
            for (at, c, op) in edits {
                if chars.is_empty() {
                    break;
                }
                let k = at.index(chars.len());
                match op {
                    0 => chars[k] = c,
                    1 => {
                        chars.remove(k);
                    }
                    _ => chars.insert(k, c),
                }
            }
            chars.into_iter().collect()
        })
}

/// Payloads a stored record may hold: objects, other JSON, text, truncations and mutations.
fn stored_payload() -> impl Strategy<Value = String> {
    const PAYLOADS: &[&str] = &[
        r#"{"chatId":"c1","text":"hi é 🎉","n":[1,2.5,null]}"#,
        "{}",
        r#" { "a" : { "b" : [ ] } } "#,
        "[1,2]",
        r#""text""#,
        "",
        "é",
        r#"{"a":"#,
    ];
    prop_oneof![
        (0..PAYLOADS.len(), 0usize..40).prop_map(|(i, cut)| {
            let p = PAYLOADS[i];
            let cut = (0..=cut.min(p.len()))
                .rev()
                .find(|c| p.is_char_boundary(*c))
                .unwrap_or(0);
            if cut % 3 == 0 {
                p[..cut].to_owned()
            } else {
                p.to_owned()
            }
        }),
        mutated(),
        "\\PC{0,16}",
    ]
}

fn feed(protocol: Protocol, frames: &[String]) {
    let mut c = Connection::new(
        Config {
            protocol,
            schemas: wiresync::core::schema::Schemas::with_preset(Some(
                wiresync::events::listen_schema,
            )),
            ..Config::new("ws://h")
        },
        1,
    );
    c.connect(0);
    c.transport_open(0);
    for (t, f) in frames.iter().enumerate() {
        c.handle_frame(t as u64, f);
        c.handle_binary(t as u64, 1);
        while let Some(out) = c.poll() {
            match out {
                wiresync::core::connection::Output::NeedAuth => {
                    c.provide_auth(t as u64, Some(r#"{"token":"t"}"#));
                }
                // The payload the decoder points validation at is the arguments' first element.
                wiresync::core::connection::Output::Event(ev) => {
                    let first = json::array_elements(&ev.args)
                        .ok()
                        .and_then(|a| a.first().copied());
                    assert_eq!(ev.first_arg(), first, "{}", ev.args);
                    // The check made while splitting the frame decides as the full check does.
                    if let Some(ok) = ev.payload_ok {
                        let full =
                            wiresync::events::validate_incoming(&ev.name, first.unwrap_or("null"));
                        assert_eq!(ok, full.is_ok(), "{} {} {full:?}", ev.name, ev.args);
                    }
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_mutated_frames(frame in mutated()) {
        let _ = socketio::decode_engine(&frame);
        let _ = socketio::decode_packet(&frame);
        let _ = jsonp::decode(&frame);
        let _ = json::validate(&frame);
        let _ = json::array_elements(&frame);
        let _ = json::object_entries(&frame);
        let _ = json::unquote(&frame);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_text(frame in "\\PC{0,64}") {
        let _ = socketio::decode_engine(&frame);
        let _ = socketio::decode_packet(&frame);
        let _ = jsonp::decode(&frame);
    }

    #[test]
    fn the_state_machine_survives_any_frame_sequence(frames in proptest::collection::vec(mutated(), 1..12)) {
        let mut all = vec![SEEDS[0].to_owned(), SEEDS[1].to_owned()];
        all.extend(frames);
        feed(Protocol::default(), &all);
        feed(Protocol::Json, &all);
    }

    #[test]
    fn socketio_events_round_trip(name in "[^\\u{0}]{1,20}", text in ".{0,30}", n in any::<i32>(), id in proptest::option::of(0u64..1_000_000)) {
        let args = format!("[{},{n}]", json::quote(&text));
        let frame = socketio::encode_event("/", id, &name, &args);
        let p = socketio::decode_packet(&frame[1..]).unwrap();
        prop_assert_eq!(p.id, id);
        let (ev, _) = socketio::split_event(p.data.unwrap(), p.id, false).unwrap();
        prop_assert_eq!(ev.name, name);
        prop_assert_eq!(ev.args, args);
    }

    #[test]
    fn the_utf16_position_slices_out_exactly_the_arguments(name in "\\PC{1,12}", text in "\\PC{0,20}", nsp in proptest::option::of("/\\PC{1,6}")) {
        let nsp = nsp.filter(|n| !n.contains(',')).unwrap_or_else(|| "/".into());
        let mut c = Connection::new(Config { protocol: Protocol::SocketIo { path: "/socket.io/".into(), namespace: nsp.clone() }, ..Config::new("ws://h") }, 1);
        c.connect(0);
        c.transport_open(0);
        c.handle_frame(0, r#"0{"sid":"e","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
        c.provide_auth(0, None);
        let prefix = if nsp == "/" { String::new() } else { format!("{nsp},") };
        c.handle_frame(0, &format!(r#"40{prefix}{{"sid":"s"}}"#));
        let array = format!("[{},{}]", json::quote(&name), json::quote(&text));
        let frame = format!("42{prefix}{array}");
        c.handle_frame(0, &frame);
        let mut found = None;
        while let Some(out) = c.poll() {
            if let wiresync::core::connection::Output::Event(ev) = out {
                found = ev.in_frame;
            }
        }
        let at = found.expect("an event with its position");
        let utf16: Vec<u16> = frame.encode_utf16().collect();
        prop_assert_eq!(String::from_utf16(&utf16[at.start_utf16..utf16.len() - at.tail_utf16]).unwrap(), json::quote(&text));
        prop_assert!(at.single);
    }

    /// Stored outbox entries as storage may return them (written by another version, edited,
    /// truncated): the check never panics, and whatever passes it is sent with its id as the
    /// payload's first field, as JSON the server can parse.
    #[test]
    fn stored_entries_are_checked_and_never_trap(payload in stored_payload(), name in "\\PC{0,8}", id in "[a-z0-9-]{0,8}") {
        let entry = Entry {
            id: id.clone(),
            seq: 1,
            lane: "default".into(),
            message: Message::Event { name: name.clone(), payload: payload.clone() },
            dedupe_key: None,
            created_at: 0,
            expires_at: u64::MAX,
            attempts: 0,
            not_before: 0,
            state: EntryState::Pending,
            last_error: None,
            sends: 0,
        };
        let sent = outbox::inject_id(&payload, "clientMessageId", &id);
        if entry.check().is_ok() {
            let sent = sent.expect("a checked payload takes its id");
            let v: serde_json::Value = serde_json::from_str(&sent).unwrap();
            prop_assert_eq!(v["clientMessageId"].as_str(), Some(id.as_str()));
            prop_assert!(sent.starts_with("{\"clientMessageId\":"), "{}", sent);
            prop_assert!(!name.is_empty() && !id.is_empty());
        } else {
            prop_assert!(id.is_empty() || name.is_empty() || serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&payload).is_err(), "{:?}", payload);
        }
    }

    #[test]
    fn json_strings_round_trip(s in "\\PC{0,40}") {
        prop_assert_eq!(json::unquote(&json::quote(&s)).unwrap(), s);
    }
}

/// The same agreement with serde_json (a dev-dependency) on which documents are valid JSON.
#[test]
fn the_scanner_agrees_with_serde_json_on_mutations() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..3000 {
        let frame = mutated().new_tree(&mut runner).unwrap().current();
        for candidate in [
            frame.as_str(),
            frame.get(1..).unwrap_or(""),
            frame.get(2..).unwrap_or(""),
        ] {
            let ours = json::validate(candidate).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(candidate).is_ok();
            assert_eq!(ours, theirs, "{candidate:?}");
        }
    }
}
