//! Wire codecs. Each is I/O-free: text frames in, packets out, and the reverse.

use crate::core::json::JsonError;
use std::fmt;

pub mod json_wire;
pub mod socketio;

/// Which wire protocol a connection speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// Socket.IO v5 over Engine.IO v4 (the default), over WebSocket or HTTP long-polling.
    SocketIo {
        /// Engine.IO path, default `/socket.io/`.
        path: String,
        /// Namespace, default `/`.
        namespace: String,
    },
    /// The plain JSON envelope protocol (see [`json_wire`]).
    Json,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::SocketIo {
            path: "/socket.io/".into(),
            namespace: "/".into(),
        }
    }
}

impl Protocol {
    /// The WebSocket URL to open for a user-given server URL.
    pub fn url(&self, base: &str) -> String {
        match self {
            Protocol::SocketIo { path, .. } => socketio::url(base, path),
            Protocol::Json => ws_scheme(base),
        }
    }
}

/// `http(s)://` becomes `ws(s)://`; other URLs are kept.
pub fn ws_scheme(url: &str) -> String {
    swap_scheme(url, ["http", "ws"])
}

/// `ws(s)://` becomes `http(s)://` (HTTP long-polling); other URLs are kept.
pub fn http_scheme(url: &str) -> String {
    swap_scheme(url, ["ws", "http"])
}

/// `from://` (or `froms://`) becomes `to://` (`tos://`).
fn swap_scheme(url: &str, [from, to]: [&str; 2]) -> String {
    match url.strip_prefix(from).and_then(|r| r.split_once("://")) {
        Some((secure @ ("" | "s"), rest)) => [to, secure, "://", rest].concat(),
        _ => url.to_owned(),
    }
}

/// `INVALID_ARGUMENT` unless `url` is a server URL: `http`, `https`, `ws` or `wss`, then a
/// host, and no whitespace.
pub fn check_url(url: &str) -> Result<(), crate::core::error::Error> {
    let host = ["http://", "https://", "ws://", "wss://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme));
    let ok = host.is_some_and(|h| {
        let host = h.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.starts_with(':') && !url.contains(char::is_whitespace)
    });
    if ok {
        return Ok(());
    }
    Err(crate::core::error::Error::new(
        crate::core::error::ErrorCode::InvalidArgument,
        [
            "not a server URL (http, https, ws or wss, then a host): ",
            &crate::core::json::quote(url),
        ]
        .concat(),
    ))
}

/// An application event received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The event name.
    pub name: String,
    /// Its arguments as a raw JSON array (offset and name removed).
    pub args: String,
    /// Set when the server asked for an acknowledgement with this id.
    pub ack: Option<u64>,
    /// The byte length of the first argument, which starts at `args[1]` (0: no argument).
    /// The decoder knows it, so validation reads the payload without scanning `args` again.
    pub first_len: usize,
    /// Whether the first argument matched the event's schema, when the decoder checked it as
    /// it split the frame (see `Config::schemas`); `None` when it did not.
    pub payload_ok: Option<bool>,
    /// Where the arguments sit in the text frame just handled, when they sit there as one
    /// JSON array: the glue can then `JSON.parse` them straight from the JS string it already
    /// holds instead of copying `args` back out of wasm memory.
    pub in_frame: Option<InFrame>,
    /// How many binary attachments its placeholders (`{"_placeholder":true,"num":i}`) stand
    /// for, which the driver kept as they arrived; 0 for a text-only event. Its payload is not
    /// checked against a schema (the placeholders are not the data).
    pub attachments: u32,
}

impl Incoming {
    /// The first argument (the payload) as raw JSON, if there is one.
    pub fn first_arg(&self) -> Option<&str> {
        (self.first_len > 0)
            .then(|| self.args.get(1..1 + self.first_len))
            .flatten()
    }
}

/// The position of an event's arguments in its frame (Socket.IO events), in UTF-16 units (how
/// JS indexes strings): `frame.slice(start_utf16, frame.length - tail_utf16)` is the arguments
/// as they sit in the frame's array, commas included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFrame {
    /// Where the first argument starts.
    pub start_utf16: usize,
    /// How many units follow the last argument (the recovery offset, the `]`).
    pub tail_utf16: usize,
    /// There is exactly one argument: the slice is that one JSON value.
    pub single: bool,
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty frame.
    Empty,
    /// An Engine.IO type other than 0-6.
    UnknownEngineType(char),
    /// A Socket.IO type other than 0-6.
    UnknownPacketType(char),
    /// A binary packet without a valid attachment count.
    BadAttachments,
    /// An ack id that is not a 64-bit integer.
    BadAckId,
    /// The OPEN handshake lacks or mistypes this field.
    BadHandshake(&'static str),
    /// The payload is not valid JSON.
    Json(JsonError),
    /// The payload is valid JSON of the wrong shape.
    InvalidPayload(&'static str),
}

impl DecodeError {
    /// The message (built without `core::fmt`).
    pub fn text(&self) -> String {
        let packet_type = |protocol: &str, c: char| {
            let mut s = ["unknown ", protocol, " packet type '"].concat();
            s.push(c);
            s.push('\'');
            s
        };
        match self {
            DecodeError::Empty => "empty frame".into(),
            DecodeError::UnknownEngineType(c) => packet_type("Engine.IO", *c),
            DecodeError::UnknownPacketType(c) => packet_type("Socket.IO", *c),
            DecodeError::BadAttachments => "binary packet without a valid attachment count".into(),
            DecodeError::BadAckId => "ack id out of range".into(),
            DecodeError::BadHandshake(field) => {
                ["handshake field `", field, "` missing or invalid"].concat()
            }
            DecodeError::Json(e) => e.text(),
            DecodeError::InvalidPayload(why) => ["invalid payload: ", why].concat(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for DecodeError {}
