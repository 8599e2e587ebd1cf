//! The plain JSON envelope protocol, for servers that do not speak Socket.IO.
//!
//! Every frame is one JSON object:
//!
//! | frame | direction | meaning |
//! |---|---|---|
//! | `{"type":"connect","auth":{...}}` | client → server | first frame; `auth` omitted when none |
//! | `{"type":"connected","sid":"..."}` | server → client | accepted (`sid` optional) |
//! | `{"type":"connect_error","message":"...","data":{"code":"..."}}` | server → client | refused |
//! | `{"event":"name","data":<any>,"id":7}` | both | an event; `id` asks for an ack |
//! | `{"ack":7,"data":<any>}` | both | the ack of event 7 |
//! | `{"type":"ping"}` / `{"type":"pong"}` | both | heartbeat: answer a ping with a pong |
//! | `{"type":"disconnect"}` | server → client | the server ends the session (no reconnect) |

use super::{DecodeError, Incoming};
use crate::core::json::{self, Kind};

/// A decoded JSON-protocol frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The server accepted the connect.
    Connected {
        /// Session id, if the server sent one.
        sid: Option<String>,
    },
    /// The server refused the connect; the raw frame object (with `message`, `data`).
    ConnectError(String),
    /// An application event.
    Event(Incoming),
    /// An ack with its raw data wrapped as a one-element JSON array.
    Ack {
        /// The ack id.
        id: u64,
        /// `[data]`
        args: String,
    },
    /// Heartbeat request.
    Ping,
    /// Heartbeat answer.
    Pong,
    /// The server ends the session.
    Disconnect,
}

/// Decodes one frame.
pub fn decode(frame: &str) -> Result<Frame, DecodeError> {
    let fields = json::Fields::of(frame).map_err(DecodeError::Json)?;
    let field = |k: &str| fields.get(k);
    let data = || ["[", field("data").unwrap_or("null"), "]"].concat();
    let id = |k: &str| -> Result<Option<u64>, DecodeError> {
        match field(k) {
            None => Ok(None),
            Some(v) => json::as_u64(v).map(Some).ok_or(DecodeError::BadAckId),
        }
    };
    if let Some(name) = field("event") {
        if Kind::of(name) != Kind::String {
            return Err(DecodeError::InvalidPayload("`event` must be a string"));
        }
        let name = json::unquote(name).map_err(DecodeError::Json)?;
        let args = data();
        return Ok(Frame::Event(Incoming {
            name,
            first_len: args.len() - 2, // args is `[data]`
            args,
            ack: id("id")?,
            payload_ok: None,
            in_frame: None,
            attachments: 0,
        }));
    }
    if let Some(ack) = id("ack")? {
        return Ok(Frame::Ack {
            id: ack,
            args: data(),
        });
    }
    let ty =
        field("type")
            .and_then(|t| json::unquote(t).ok())
            .ok_or(DecodeError::InvalidPayload(
                "a frame needs `event`, `ack` or `type`",
            ))?;
    Ok(match ty.as_str() {
        "connected" => Frame::Connected {
            sid: field("sid").and_then(|s| json::unquote(s).ok()),
        },
        "connect_error" => Frame::ConnectError(frame.to_owned()),
        "ping" => Frame::Ping,
        "pong" => Frame::Pong,
        "disconnect" => Frame::Disconnect,
        _ => return Err(DecodeError::InvalidPayload("unknown `type`")),
    })
}

/// `{"type":"connect"[,"auth":{...}]}`
pub fn encode_connect(auth: Option<&str>) -> String {
    match auth {
        Some(a) => [r#"{"type":"connect","auth":"#, a, "}"].concat(),
        None => r#"{"type":"connect"}"#.to_owned(),
    }
}

/// `{"event":"name","data":<first arg or null>[,"id":N]}`; `args` is a raw JSON array of which
/// only the first element is sent (the envelope carries one payload).
pub fn encode_event(id: Option<u64>, name: &str, args: &str) -> String {
    let data = json::array_elements(args)
        .ok()
        .and_then(|a| a.first().copied())
        .unwrap_or("null");
    let mut out = String::with_capacity(name.len() + data.len() + 32);
    out.push_str(r#"{"event":"#);
    json::quote_into(name, &mut out);
    out.push_str(r#","data":"#);
    out.push_str(data);
    if let Some(id) = id {
        out.push_str(r#","id":"#);
        out.push_str(&crate::core::text::int(id));
    }
    out.push('}');
    out
}

/// `{"ack":N,"data":<first arg or null>}`
pub fn encode_ack(id: u64, args: &str) -> String {
    let data = json::array_elements(args)
        .ok()
        .and_then(|a| a.first().copied())
        .unwrap_or("null");
    [
        r#"{"ack":"#,
        &crate::core::text::int(id),
        r#","data":"#,
        data,
        "}",
    ]
    .concat()
}

/// `{"type":"ping"}`
pub const PING: &str = r#"{"type":"ping"}"#;
/// `{"type":"pong"}`
pub const PONG: &str = r#"{"type":"pong"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_decode() {
        assert_eq!(
            decode(r#"{"type":"connected","sid":"s1"}"#).unwrap(),
            Frame::Connected {
                sid: Some("s1".into())
            }
        );
        assert_eq!(
            decode(r#"{"event":"order:eta_update","data":{"orderId":"o1"},"id":3}"#).unwrap(),
            Frame::Event(Incoming {
                name: "order:eta_update".into(),
                args: r#"[{"orderId":"o1"}]"#.into(),
                first_len: 16,
                ack: Some(3),
                payload_ok: None,
                in_frame: None,
                attachments: 0
            })
        );
        assert_eq!(
            decode(r#"{"event":"x"}"#).unwrap(),
            Frame::Event(Incoming {
                name: "x".into(),
                args: "[null]".into(),
                first_len: 4,
                ack: None,
                payload_ok: None,
                in_frame: None,
                attachments: 0
            })
        );
        assert_eq!(
            decode(r#"{"ack":3,"data":true}"#).unwrap(),
            Frame::Ack {
                id: 3,
                args: "[true]".into()
            }
        );
        assert_eq!(decode(PING).unwrap(), Frame::Ping);
        assert!(matches!(
            decode(r#"{"type":"connect_error","message":"no"}"#).unwrap(),
            Frame::ConnectError(_)
        ));
    }

    #[test]
    fn malformed_frames_are_errors() {
        for f in [
            "",
            "[]",
            "{}",
            r#"{"event":1}"#,
            r#"{"ack":-1}"#,
            r#"{"type":"nope"}"#,
            r#"{"event":"x","id":"a"}"#,
            "{",
        ] {
            assert!(decode(f).is_err(), "{f}");
        }
    }

    #[test]
    fn encoding_round_trips() {
        let f = encode_event(Some(2), "chat:send_message", r#"[{"text":"hi"}]"#);
        assert_eq!(
            f,
            r#"{"event":"chat:send_message","data":{"text":"hi"},"id":2}"#
        );
        assert_eq!(
            decode(&f).unwrap(),
            Frame::Event(Incoming {
                name: "chat:send_message".into(),
                args: r#"[{"text":"hi"}]"#.into(),
                first_len: 13,
                ack: Some(2),
                payload_ok: None,
                in_frame: None,
                attachments: 0
            })
        );
        assert_eq!(
            encode_event(None, "x", "[]"),
            r#"{"event":"x","data":null}"#
        );
        assert_eq!(encode_ack(4, "[1]"), r#"{"ack":4,"data":1}"#);
        assert_eq!(
            encode_connect(Some(r#"{"token":"t"}"#)),
            r#"{"type":"connect","auth":{"token":"t"}}"#
        );
    }
}
