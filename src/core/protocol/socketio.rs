//! Socket.IO v5 packets inside Engine.IO v4 frames, WebSocket-only (see shared PROTOCOL.md).
//! Decoding borrows from the frame; payloads stay raw JSON text.

use super::{DecodeError, InFrame, Incoming};
use crate::core::json::{self, Kind};
use crate::core::schema::{self, Schemas, Type};

/// Engine.IO packet types, the first character of every text frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket<'a> {
    /// `0{...}`: the session handshake.
    Open(Handshake),
    /// `1`
    Close,
    /// `2`: the server's heartbeat; answer with `3`.
    Ping,
    /// `3`
    Pong,
    /// `4...`: a Socket.IO packet follows.
    Message(&'a str),
    /// `5`
    Upgrade,
    /// `6`
    Noop,
}

/// The Engine.IO OPEN payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Engine.IO session id.
    pub sid: String,
    /// The server pings every this many ms.
    pub ping_interval: u64,
    /// Grace after a missed ping, in ms.
    pub ping_timeout: u64,
    /// Largest frame the server accepts, in bytes.
    pub max_payload: u64,
    /// Whether the server offers the upgrade of this session to WebSocket (`upgrades`).
    pub upgrade: bool,
}

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    /// 0
    Connect,
    /// 1
    Disconnect,
    /// 2
    Event,
    /// 3
    Ack,
    /// 4
    ConnectError,
    /// 5
    BinaryEvent,
    /// 6
    BinaryAck,
}

/// A decoded Socket.IO packet.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    /// Its type.
    pub kind: PacketType,
    /// Binary attachments announced (binary types only).
    pub attachments: u32,
    /// Namespace, `/` when omitted.
    pub nsp: &'a str,
    /// Ack id, if the packet carries one.
    pub id: Option<u64>,
    /// Raw JSON payload, validated for its type.
    pub data: Option<&'a str>,
    /// For (binary) events: the payload array split, in the pass that validated it.
    pub event: Option<EventParts<'a>>,
}

/// An EVENT's array `[name, ...args]`, split in the one pass that checks it is JSON (and, given
/// a schema, that its first argument matches it).
#[derive(Debug, Clone)]
pub struct EventParts<'a> {
    /// The event name, unescaped.
    pub(crate) name: String,
    /// The arguments as they sit in the array, commas included: from the first one's start to
    /// the last one's end (empty: none). Byte `args_at` of the data on.
    pub(crate) args: &'a str,
    /// Where `args` starts in the packet data, in bytes.
    pub(crate) args_at: usize,
    /// The first argument, raw.
    pub(crate) first: Option<&'a str>,
    /// The last argument, raw, and the length of `args` without it (and its comma).
    pub(crate) last: Option<(&'a str, usize)>,
    /// How many arguments.
    pub(crate) count: usize,
    /// The schema the payload is checked against, and whether the first argument matched it.
    pub(crate) checked: Option<(&'static Type, bool)>,
}

/// Decodes one Engine.IO text frame.
pub fn decode_engine(frame: &str) -> Result<EnginePacket<'_>, DecodeError> {
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(DecodeError::Empty)?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EnginePacket::Open(handshake(rest)?),
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping,
        '3' => EnginePacket::Pong,
        '4' => EnginePacket::Message(rest),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        other => return Err(DecodeError::UnknownEngineType(other)),
    })
}

fn handshake(raw: &str) -> Result<Handshake, DecodeError> {
    let fields = json::Fields::of(raw).map_err(DecodeError::Json)?;
    let field = |k: &str| fields.get(k);
    let num = |k: &'static str, default: u64| match field(k) {
        None => Ok(default),
        Some(v) => json::as_u64(v).ok_or(DecodeError::BadHandshake(k)),
    };
    let sid = fields
        .string("sid")
        .ok_or(DecodeError::BadHandshake("sid"))?;
    Ok(Handshake {
        sid,
        ping_interval: num("pingInterval", 25_000)?,
        ping_timeout: num("pingTimeout", 20_000)?,
        max_payload: num("maxPayload", 1_000_000)?,
        upgrade: field("upgrades").is_some_and(|u| u.contains("\"websocket\"")),
    })
}

/// Decodes a Socket.IO packet (the text after Engine.IO's `4`), following socket.io-parser's
/// grammar `<type>[<attachments>-][<nsp>,][<id>][<JSON>]` and its payload rules.
pub fn decode_packet(s: &str) -> Result<Packet<'_>, DecodeError> {
    decode_packet_with(s, None)
}

/// [`decode_packet`], checking an EVENT's first argument against `schemas.get(name)` in the
/// same pass (the result is [`Incoming::payload_ok`] once [`event_from_parts`] made the event).
pub fn decode_packet_with<'a>(
    s: &'a str,
    schemas: Option<&Schemas>,
) -> Result<Packet<'a>, DecodeError> {
    let b = s.as_bytes();
    let kind = match b.first() {
        None => return Err(DecodeError::Empty),
        Some(b'0') => PacketType::Connect,
        Some(b'1') => PacketType::Disconnect,
        Some(b'2') => PacketType::Event,
        Some(b'3') => PacketType::Ack,
        Some(b'4') => PacketType::ConnectError,
        Some(b'5') => PacketType::BinaryEvent,
        Some(b'6') => PacketType::BinaryAck,
        Some(_) => {
            return Err(DecodeError::UnknownPacketType(
                s.chars().next().unwrap_or('?'),
            ))
        }
    };
    let mut i = 1;
    let mut attachments = 0;
    if matches!(kind, PacketType::BinaryEvent | PacketType::BinaryAck) {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if b.get(i) != Some(&b'-') || i == start {
            return Err(DecodeError::BadAttachments);
        }
        attachments = s[start..i]
            .parse()
            .map_err(|_| DecodeError::BadAttachments)?;
        i += 1;
    }
    let mut nsp = "/";
    if b.get(i) == Some(&b'/') {
        let end = s[i..].find(',').map_or(b.len(), |c| i + c);
        nsp = &s[i..end];
        i = (end + 1).min(b.len());
    }
    let id_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let id = if i > id_start {
        Some(
            s[id_start..i]
                .parse::<u64>()
                .map_err(|_| DecodeError::BadAckId)?,
        )
    } else {
        None
    };
    let data = if i < b.len() { Some(&s[i..]) } else { None };
    let is_event = matches!(kind, PacketType::Event | PacketType::BinaryEvent);
    let mut event = None;
    let data_kind = match data {
        // Events are validated once, by `event_parts` below.
        Some(d) if is_event => Some(Kind::of(d)),
        Some(d) => Some(json::validate(d).map_err(DecodeError::Json)?),
        None => None,
    };
    let ok = match kind {
        PacketType::Connect => matches!(data_kind, None | Some(Kind::Object)),
        PacketType::Disconnect => data_kind.is_none(),
        PacketType::ConnectError => matches!(data_kind, Some(Kind::Object | Kind::String)),
        PacketType::Event | PacketType::BinaryEvent => match data {
            Some(d) if data_kind == Some(Kind::Array) => {
                // Binary events carry placeholders, not the payload: nothing to check there.
                let schemas = schemas.filter(|_| kind == PacketType::Event);
                event = event_parts(d, schemas)?;
                event.is_some()
            }
            _ => false,
        },
        PacketType::Ack | PacketType::BinaryAck => data_kind == Some(Kind::Array) && id.is_some(),
    };
    if !ok {
        return Err(DecodeError::InvalidPayload(match kind {
            PacketType::Event | PacketType::BinaryEvent => {
                "an event must be a non-empty array starting with the event name"
            }
            PacketType::Ack | PacketType::BinaryAck => "an ack must have an id and an array",
            PacketType::Connect => "a CONNECT payload must be an object",
            PacketType::Disconnect => "a DISCONNECT carries no payload",
            PacketType::ConnectError => "a CONNECT_ERROR payload must be an object or a string",
        }));
    }
    Ok(Packet {
        kind,
        attachments,
        nsp,
        id,
        data,
        event,
    })
}

/// Splits an event array `[name, ...args]` in one pass, checking the first argument against
/// `schemas.get(name)` as it goes. `None` when the array is empty or does not start with a string.
fn event_parts<'a>(
    d: &'a str,
    schemas: Option<&Schemas>,
) -> Result<Option<EventParts<'a>>, DecodeError> {
    let b = d.as_bytes();
    let at = json::skip_ws(b, json::skip_ws(b, 0) + 1); // past the `[` (Kind::of saw it)
    if json::at(b, at) != b'"' {
        return Ok(None);
    }
    let name_end = json::scan_string(b, at).map_err(DecodeError::Json)?;
    let name = unquote_scanned(&d[at..name_end])?;
    let ty = schemas.and_then(|s| s.get(&name));
    let (mut first, mut last, mut checked, mut count) = (None, None::<(usize, usize)>, None, 0);
    let (mut args_at, mut prev_end) = (name_end, name_end);
    let mut j = json::skip_ws(b, name_end);
    loop {
        match json::at(b, j) {
            b']' => break,
            b',' => j = json::skip_ws(b, j + 1),
            _ => return Err(DecodeError::Json(json::err(j, "expected ',' or ']'"))),
        }
        let end = match ty.filter(|_| count == 0) {
            Some(ty) => {
                let (end, ok) = schema::scan_match(d, j, ty, 1).map_err(DecodeError::Json)?;
                checked = Some(ok);
                end
            }
            None => json::scan_value(b, j, 1).map_err(DecodeError::Json)?,
        };
        if count == 0 {
            args_at = j;
            first = Some(&d[j..end]);
        }
        last = Some((j, prev_end));
        prev_end = end;
        count += 1;
        j = json::skip_ws(b, end);
    }
    if json::skip_ws(b, j + 1) != b.len() {
        return Err(DecodeError::Json(json::err(j + 1, "trailing characters")));
    }
    let args = if count == 0 {
        ""
    } else {
        &d[args_at..prev_end]
    };
    Ok(Some(EventParts {
        name,
        args,
        args_at,
        first,
        last: last.map(|(a, before)| (&d[a..prev_end], before.saturating_sub(args_at))),
        count,
        // No argument: `false` here; event_from_parts checks the absent payload.
        checked: ty.map(|ty| (ty, checked.unwrap_or(false))),
    }))
}

/// A string the scanner has already checked: its text, unescaped only if it has escapes.
fn unquote_scanned(raw: &str) -> Result<String, DecodeError> {
    let inner = &raw[1..raw.len() - 1];
    if inner.contains('\\') {
        json::unquote(raw).map_err(DecodeError::Json)
    } else {
        Ok(inner.to_owned())
    }
}

/// Splits an EVENT payload into an [`Incoming`] event. With `strip_offset` (connection state
/// recovery is on) a trailing string argument is the server's offset and is returned apart.
pub fn split_event(
    data: &str,
    ack: Option<u64>,
    strip_offset: bool,
) -> Result<(Incoming, Option<String>), DecodeError> {
    match Kind::of(data) {
        Kind::Array => event_parts(data, None)?,
        _ => None,
    }
    .ok_or(DecodeError::InvalidPayload(
        "an event must be a non-empty array starting with the event name",
    ))
    .and_then(|parts| event_from_parts(parts, ack, strip_offset, None))
}

/// The [`Incoming`] event of a split array (see [`Packet::event`]), and the recovery offset
/// when `strip_offset` and the last argument is a string. Given `(frame, data_at)`, the text
/// frame the packet came in and the byte where its data starts, it sets `in_frame`.
pub fn event_from_parts(
    parts: EventParts<'_>,
    ack: Option<u64>,
    strip_offset: bool,
    frame: Option<(&str, usize)>,
) -> Result<(Incoming, Option<String>), DecodeError> {
    let EventParts {
        name,
        mut args,
        args_at,
        mut first,
        last,
        mut count,
        checked,
    } = parts;
    let mut offset = None;
    if let Some((raw, before)) =
        last.filter(|(raw, _)| strip_offset && Kind::of(raw) == Kind::String)
    {
        offset = Some(unquote_scanned(raw)?);
        args = &args[..before];
        count -= 1;
        if count == 0 {
            first = None;
        }
    }
    let mut joined = String::with_capacity(args.len() + 2);
    joined.push('[');
    joined.push_str(args);
    joined.push(']');
    Ok((
        Incoming {
            name,
            args: joined,
            ack,
            first_len: first.map_or(0, str::len),
            // An absent payload (no argument, or only the offset) is checked as `null`.
            payload_ok: checked.map(|(ty, ok)| match first {
                Some(_) => ok,
                None => schema::scan_match("null", 0, ty, 0).is_ok_and(|r| r.1),
            }),
            // UTF-16 units, as JS indexes strings; counted over the short ends of the frame only.
            in_frame: frame.map(|(frame, data_at)| InFrame {
                start_utf16: utf16_len(&frame[..data_at + args_at]),
                tail_utf16: utf16_len(&frame[data_at + args_at + args.len()..]),
                single: count == 1,
            }),
            attachments: 0,
        },
        offset,
    ))
}

/// How many UTF-16 units `s` takes: one per UTF-8 sequence, two for the four-byte ones.
/// The length of `s` in UTF-16 units (how JS counts).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len(); // the usual frame: checked a word at a time
    }
    s.bytes()
        .map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

fn header(out: &mut String, kind: char, nsp: &str, id: Option<u64>) {
    header_attached(out, kind, 0, nsp, id)
}

/// The packet header; with attachments, `kind` is the binary one and the count follows it.
fn header_attached(out: &mut String, kind: char, attachments: u32, nsp: &str, id: Option<u64>) {
    out.push('4');
    out.push(kind);
    if attachments > 0 {
        out.push_str(&crate::core::text::int(attachments as u64));
        out.push('-');
    }
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(id) = id {
        out.push_str(&crate::core::text::int(id));
    }
}

/// `40[/nsp,]{auth}`: CONNECT with an optional raw JSON object.
pub fn encode_connect(nsp: &str, auth: Option<&str>) -> String {
    let mut out = String::new();
    header(&mut out, '0', nsp, None);
    if let Some(auth) = auth {
        out.push_str(auth);
    }
    out
}

/// `41[/nsp,]`: leave the namespace.
pub fn encode_disconnect(nsp: &str) -> String {
    let mut out = String::new();
    header(&mut out, '1', nsp, None);
    out
}

/// `42[/nsp,][id]["name",...args]`; `args` is a raw JSON array.
pub fn encode_event(nsp: &str, id: Option<u64>, name: &str, args: &str) -> String {
    encode_event_attached(nsp, id, name, args, 0)
}

/// [`encode_event`] with binary attachments: a BINARY_EVENT `45<n>-[/nsp,][id][...]` when
/// `attachments` > 0 (its placeholders are in `args`).
pub fn encode_event_attached(
    nsp: &str,
    id: Option<u64>,
    name: &str,
    args: &str,
    attachments: u32,
) -> String {
    let inner = args.trim();
    let inner = &inner[1..inner.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(name.len() + args.len() + 16);
    let kind = if attachments > 0 { '5' } else { '2' };
    header_attached(&mut out, kind, attachments, nsp, id);
    out.push('[');
    json::quote_into(name, &mut out);
    if !inner.trim().is_empty() {
        out.push(',');
        out.push_str(inner);
    }
    out.push(']');
    out
}

/// `43[/nsp,]id[...args]`: answer a server's ack request; `args` is a raw JSON array. With
/// attachments, a BINARY_ACK `46<n>-[/nsp,]id[...]`.
pub fn encode_ack(nsp: &str, id: u64, args: &str, attachments: u32) -> String {
    let mut out = String::with_capacity(args.len() + 8);
    let kind = if attachments > 0 { '6' } else { '3' };
    header_attached(&mut out, kind, attachments, nsp, Some(id));
    out.push_str(args.trim());
    out
}

/// The WebSocket URL for a Socket.IO server: `http(s)` becomes `ws(s)`, the path (default
/// `/socket.io/`) and `EIO=4&transport=websocket` are added, a query in `base` is kept.
pub fn url(base: &str, path: &str) -> String {
    engine_url(base, path, false, None)
}

/// The Engine.IO URL of a transport: WebSocket (`ws(s)`), or HTTP long-polling (`http(s)`),
/// with the session id once there is one (polling requests, the upgrade probe).
pub fn engine_url(base: &str, path: &str, polling: bool, sid: Option<&str>) -> String {
    let base = if polling {
        super::http_scheme(base)
    } else {
        super::ws_scheme(base)
    };
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b.to_owned(), Some(q.to_owned())),
        None => (base, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let origin_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut path = path.to_owned();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    let transport = if polling { "polling" } else { "websocket" };
    let mut out = [&base[..origin_end], &path, "?EIO=4&transport=", transport].concat();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('&');
        out.push_str(&q);
    }
    if let Some(sid) = sid {
        out.push_str("&sid=");
        // Engine.IO ids are URL-safe base64; anything else is escaped.
        for b in sid.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_frames_decode() {
        let open = r#"{"sid":"wZv9","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(
            decode_engine(&format!("0{open}")).unwrap(),
            EnginePacket::Open(Handshake {
                sid: "wZv9".into(),
                ping_interval: 25000,
                ping_timeout: 20000,
                max_payload: 1_000_000,
                upgrade: false,
            })
        );
        let polling = r#"0{"sid":"s","upgrades":["websocket"],"pingInterval":1,"pingTimeout":2}"#;
        assert!(matches!(decode_engine(polling), Ok(EnginePacket::Open(h)) if h.upgrade));
        assert_eq!(decode_engine("2").unwrap(), EnginePacket::Ping);
        assert_eq!(decode_engine("40").unwrap(), EnginePacket::Message("0"));
        assert_eq!(decode_engine("6").unwrap(), EnginePacket::Noop);
    }

    #[test]
    fn packets_from_the_protocol_notes_decode() {
        type Case = (
            &'static str,
            PacketType,
            &'static str,
            Option<u64>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            ("0", PacketType::Connect, "/", None, None),
            (
                r#"0{"sid":"x"}"#,
                PacketType::Connect,
                "/",
                None,
                Some(r#"{"sid":"x"}"#),
            ),
            (
                "0/admin,{\"t\":1}",
                PacketType::Connect,
                "/admin",
                None,
                Some("{\"t\":1}"),
            ),
            (
                r#"2["order:status_update",{"orderId":"o1"}]"#,
                PacketType::Event,
                "/",
                None,
                Some(r#"["order:status_update",{"orderId":"o1"}]"#),
            ),
            (
                r#"21["order:ack-me",{"orderId":"ord_1"}]"#,
                PacketType::Event,
                "/",
                Some(1),
                Some(r#"["order:ack-me",{"orderId":"ord_1"}]"#),
            ),
            (
                r#"31[{"ok":true}]"#,
                PacketType::Ack,
                "/",
                Some(1),
                Some(r#"[{"ok":true}]"#),
            ),
            (
                "2/admin,13[\"ev\"]",
                PacketType::Event,
                "/admin",
                Some(13),
                Some("[\"ev\"]"),
            ),
            ("1", PacketType::Disconnect, "/", None, None),
            ("1/admin,", PacketType::Disconnect, "/admin", None, None),
            (
                r#"4{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}"#,
                PacketType::ConnectError,
                "/",
                None,
                Some(r#"{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}"#),
            ),
        ];
        for (frame, kind, nsp, id, data) in cases {
            let p = decode_packet(frame).unwrap_or_else(|e| panic!("{frame}: {e}"));
            assert_eq!(
                (p.kind, p.nsp, p.id, p.data),
                (*kind, *nsp, *id, *data),
                "{frame}"
            );
        }
        let bin = decode_packet(r#"51-["ev",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!((bin.kind, bin.attachments), (PacketType::BinaryEvent, 1));
    }

    #[test]
    fn malformed_packets_are_errors() {
        let cases = [
            ("", "empty"),
            ("9", "unknown type"),
            ("x", "unknown type"),
            ("2", "event without payload"),
            ("2[]", "empty event array"),
            ("2[1,2]", "event name not a string"),
            ("2{\"a\":1}", "event payload not an array"),
            ("2[\"ev\",", "truncated JSON"),
            ("3[1]", "ack without id"),
            ("0[1]", "connect with array"),
            ("1{}", "disconnect with payload"),
            ("4", "connect error without payload"),
            ("5[\"ev\"]", "binary without attachment count"),
            ("299999999999999999999999[\"ev\"]", "ack id overflow"),
        ];
        for (frame, why) in cases {
            assert!(
                decode_packet(frame).is_err(),
                "{why}: {frame:?} should fail"
            );
        }
        assert!(decode_engine("").is_err());
        assert!(decode_engine("9").is_err());
        assert!(decode_engine("0{}").is_err(), "handshake without sid");
        assert!(decode_engine("0not json").is_err());
    }

    #[test]
    fn events_split_and_offsets_strip() {
        let (ev, off) = split_event(r#"["chat:message",{"text":"hi"},2]"#, None, false).unwrap();
        assert_eq!(
            (ev.name.as_str(), ev.args.as_str(), off),
            ("chat:message", r#"[{"text":"hi"},2]"#, None)
        );
        let (ev, off) = split_event(
            r#"["order:status_update",{"a":1},"Q85qR7t"]"#,
            Some(4),
            true,
        )
        .unwrap();
        assert_eq!(ev.args, r#"[{"a":1}]"#);
        assert_eq!(ev.ack, Some(4));
        assert_eq!(off.as_deref(), Some("Q85qR7t"));
    }

    #[test]
    fn the_first_argument_is_checked_in_the_pass_that_splits_the_event() {
        use crate::core::schema::Field;
        static ID: Type = Type::Object {
            name: "",
            extra: None,
            fields: &[Field {
                name: "id",
                ty: &Type::Num,
                doc: "",
            }],
        };
        let mut schemas = Schemas::default();
        schemas.declare("ev", Some(&ID));
        let schema_of = &schemas;
        let checked = |frame: &str, strip: bool| {
            let p = decode_packet_with(frame, Some(schema_of)).unwrap();
            let (ev, _) = event_from_parts(p.event.unwrap(), None, strip, None).unwrap();
            ev.payload_ok
        };
        assert_eq!(checked(r#"2["ev",{"id":1},"x"]"#, false), Some(true));
        assert_eq!(
            checked(r#"2["ev",{"id":"1"},{"id":1}]"#, false),
            Some(false)
        );
        assert_eq!(
            checked(r#"2["ev",{"id":1,"id":"no"}]"#, false),
            Some(false),
            "the last repeat counts"
        );
        assert_eq!(
            checked(r#"2["ev"]"#, false),
            Some(false),
            "absent: checked as null"
        );
        assert_eq!(
            checked(r#"2["ev","off"]"#, true),
            Some(false),
            "only the offset: absent"
        );
        assert_eq!(checked(r#"2["other",1]"#, false), None, "no schema");
        assert!(decode_packet_with(r#"2["ev",{"id":1]"#, Some(schema_of)).is_err());
        assert!(decode_packet_with(r#"2["ev",{"id":1}] x"#, Some(schema_of)).is_err());
    }

    #[test]
    fn encoding_round_trips_through_decoding() {
        let frame = encode_event(
            "/",
            Some(7),
            "chat:send_message",
            r#"[{"text":"a \"q\""},2]"#,
        );
        assert_eq!(frame, r#"427["chat:send_message",{"text":"a \"q\""},2]"#);
        let p = decode_packet(&frame[1..]).unwrap();
        let (ev, _) = split_event(p.data.unwrap(), p.id, false).unwrap();
        assert_eq!(
            (ev.name.as_str(), ev.args.as_str()),
            ("chat:send_message", r#"[{"text":"a \"q\""},2]"#)
        );
        assert_eq!(
            encode_event("/admin", None, "ev", "[]"),
            "42/admin,[\"ev\"]"
        );
        assert_eq!(
            encode_ack("/", 0, r#"[{"eta":"10:30"}]"#, 0),
            r#"430[{"eta":"10:30"}]"#
        );
        assert_eq!(
            encode_connect("/", Some(r#"{"token":"abc"}"#)),
            r#"40{"token":"abc"}"#
        );
        assert_eq!(encode_connect("/admin", None), "40/admin,");
        assert_eq!(encode_disconnect("/"), "41");
    }

    #[test]
    fn urls_map_http_to_ws_and_add_the_engine_query() {
        let cases = [
            (
                "http://127.0.0.1:3000",
                "/socket.io/",
                "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket",
            ),
            (
                "https://api.example.com/",
                "/socket.io/",
                "wss://api.example.com/socket.io/?EIO=4&transport=websocket",
            ),
            (
                "ws://h:1?room=a",
                "rt",
                "ws://h:1/rt/?EIO=4&transport=websocket&room=a",
            ),
        ];
        for (base, path, want) in cases {
            assert_eq!(url(base, path), want);
        }
        assert_eq!(
            engine_url("ws://h:1/?x=1", "/socket.io", true, Some("a+b=")),
            "http://h:1/socket.io/?EIO=4&transport=polling&x=1&sid=a%2Bb%3D"
        );
        assert_eq!(
            engine_url("https://h", "/socket.io/", false, Some("Ab-_9")),
            "wss://h/socket.io/?EIO=4&transport=websocket&sid=Ab-_9"
        );
    }
}
