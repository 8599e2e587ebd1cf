//! Where an event's arguments sit in its frame (`Incoming::in_frame`, in UTF-16 units, as the
//! JS glue slices them), its `args`, its first argument and the one-pass payload check, against
//! serde_json on 20,000 generated frames: whitespace around every element, 0–3 arguments,
//! recovery offsets stripped or not, non-ASCII and escaped names and namespaces, ack ids.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use wiresync::core::connection::{Config, Connection, Output};
use wiresync::core::protocol::Protocol;

/// xorshift64: a fixed sequence, so a failure names a case that comes back.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn of<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }

    fn ws(&mut self) -> &'static str {
        self.of(&["", "", " ", "\n ", "\t", "\r\n  "])
    }

    fn string(&mut self) -> String {
        let pool = [
            "a",
            "é",
            "😀",
            "漢",
            "\\\"",
            "\\n",
            "\\ud83d\\ude00",
            "x y",
            "\u{2028}",
            "]",
            ",",
            "[",
        ];
        let mut out = String::from("\"");
        for _ in 0..self.below(4) {
            out.push_str(self.of(&pool));
        }
        out.push('"');
        out
    }

    fn value(&mut self, depth: u32) -> String {
        match self.below(if depth > 2 { 4 } else { 6 }) {
            0 => self.string(),
            1 => "1.5e3".into(),
            2 => "null".into(),
            3 => "-0".into(),
            4 => {
                let items: Vec<String> = (0..self.below(3))
                    .map(|_| [self.ws(), &self.value(depth + 1), self.ws()].concat())
                    .collect();
                ["[", &items.join(","), self.ws(), "]"].concat()
            }
            _ => {
                let entries: Vec<String> = (0..self.below(3))
                    .map(|_| {
                        let (a, k, b, c) = (self.ws(), self.string(), self.ws(), self.ws());
                        [a, &k, b, ":", c, &self.value(depth + 1)].concat()
                    })
                    .collect();
                ["{", &entries.join(","), self.ws(), "}"].concat()
            }
        }
    }
}

#[test]
fn argument_positions_args_and_the_payload_check_agree_with_serde_json() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for case in 0..20_000 {
        let recovery = r.below(2) == 0;
        let nsp = r.of(&["/", "/é😀", "/a"]).to_owned();
        let mut c = Connection::new(
            Config {
                protocol: Protocol::SocketIo {
                    path: "/socket.io/".into(),
                    namespace: nsp.clone(),
                },
                schemas: wiresync::core::schema::Schemas::with_preset(Some(
                    wiresync::events::listen_schema,
                )),
                ..Config::new("ws://h")
            },
            1,
        );
        c.connect(0);
        c.transport_open(0);
        c.handle_frame(
            0,
            r#"0{"sid":"e","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        );
        c.provide_auth(0, None);
        let prefix = if nsp == "/" {
            String::new()
        } else {
            format!("{nsp},")
        };
        let sid = if recovery {
            r#"{"sid":"s","pid":"p"}"#
        } else {
            r#"{"sid":"s"}"#
        };
        c.handle_frame(0, &format!("40{prefix}{sid}"));
        while c.poll().is_some() {}

        let name = r.of(&[
            r#""é😀""#,
            r#""order:status_update""#,
            r#""\u00e9v""#,
            r#""chat:typing""#,
        ]);
        let mut elements = vec![name.to_owned()];
        for _ in 0..r.below(4) {
            if r.below(3) == 0 && name.contains("order") {
                elements.push(
                    r#"{"orderId":"o","status":"delivered","message":"m","timestamp":"t"}"#.into(),
                );
            } else {
                elements.push(r.value(0));
            }
        }
        let body: Vec<String> = elements
            .iter()
            .map(|e| [r.ws(), e, r.ws()].concat())
            .collect();
        let (a, b) = (r.ws(), r.ws());
        let id = r.of(&["7", ""]);
        let frame = format!("42{prefix}{id}{a}[{}]{b}", body.join(","));
        c.handle_frame(1, &frame);
        let mut got = None;
        while let Some(out) = c.poll() {
            if let Output::Event(ev) = out {
                got = Some(ev);
            }
        }
        let ev = got.unwrap_or_else(|| panic!("case {case}: no event for {frame:?}"));

        let mut expected: Vec<Value> = elements[1..]
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        if recovery && expected.last().is_some_and(Value::is_string) {
            expected.pop(); // the recovery offset
        }
        let at = ev.in_frame.expect("socket.io events carry their position");
        let units: Vec<u16> = frame.encode_utf16().collect();
        let text = String::from_utf16(&units[at.start_utf16..units.len() - at.tail_utf16]).unwrap();
        // What glue.js's eventArgs parses.
        let sliced: Vec<Value> = if at.single {
            vec![serde_json::from_str(&text).unwrap()]
        } else {
            serde_json::from_str(&format!("[{text}]")).unwrap()
        };
        assert_eq!(
            sliced, expected,
            "case {case}: {frame:?} sliced as {text:?}"
        );
        let args: Vec<Value> = serde_json::from_str(&ev.args).unwrap();
        assert_eq!(args, expected, "case {case}: args of {frame:?}");
        let first = ev.first_arg();
        assert_eq!(
            first.map(|f| serde_json::from_str::<Value>(f).unwrap()),
            expected.first().cloned()
        );
        if let Some(ok) = ev.payload_ok {
            let full = wiresync::events::validate_incoming(&ev.name, first.unwrap_or("null"));
            assert_eq!(ok, full.is_ok(), "case {case}: {frame:?}");
            checked += 1;
        }
    }
    assert!(
        checked > 2_000,
        "only {checked} frames carried a catalog event"
    );
}
