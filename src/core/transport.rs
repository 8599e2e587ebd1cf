//! Engine.IO's transports: WebSocket, and HTTP long-polling with its upgrade to WebSocket.
//!
//! Sans-IO like the rest of the core: [`Polling`] holds the state of a polling session (the
//! request in flight each way, the packets waiting to be posted, the upgrade probe), and the
//! [`Connection`](super::connection::Connection) that owns it turns that into outputs
//! (`Fetch`, `OpenProbe`, ...). The payload framing and its binary packets live here too.
//!
//! A polling session, as engine.io-client runs it against a Socket.IO 4 server:
//! 1. `GET ?EIO=4&transport=polling` answers the OPEN packet (`0{"sid":...}`);
//! 2. from then on one `GET ...&sid=` is always in flight (the server holds it until it has
//!    packets, its ping included) and at most one `POST ...&sid=` carries the client's packets,
//!    several joined by [`SEPARATOR`];
//! 3. when the server offers `websocket` and the client's `transports` list it after
//!    `polling`, a WebSocket with the same `sid` is probed (`2probe` → `3probe`), polling is
//!    paused (the GET and POST in flight finish; the server ends the GET with a NOOP), `5`
//!    (UPGRADE) is sent on the WebSocket, and the session goes on over it. A probe that fails
//!    leaves the session on polling.

use super::error::{Error, ErrorCode};

/// What separates the packets of a polling payload (Engine.IO v4).
pub const SEPARATOR: char = '\u{1e}';

/// An Engine.IO transport (`transports` in socket.io-client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One WebSocket.
    WebSocket,
    /// HTTP long-polling over `fetch`.
    Polling,
}

impl Transport {
    /// `"websocket"` or `"polling"`, as socket.io-client names them.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
        }
    }

    /// The transport named `name`, if one is.
    pub fn parse(name: &str) -> Option<Transport> {
        [Transport::WebSocket, Transport::Polling]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// `INVALID_ARGUMENT` unless `list` is a usable `transports` option: not empty, no transport
/// twice. The first is opened first; a WebSocket listed after polling is the upgrade; a
/// transport after the first that could not open is tried next, in the same attempt.
pub fn check_transports(list: &[Transport]) -> Result<(), Error> {
    let twice = list.iter().enumerate().any(|(i, t)| list[..i].contains(t));
    if list.is_empty() || twice {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "`transports` must list \"websocket\" and/or \"polling\", each at most once",
        ));
    }
    Ok(())
}

/// Where an upgrade probe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// None under way (none offered, none wanted, or done).
    Idle,
    /// The WebSocket is opening.
    Opening,
    /// `2probe` sent; waiting for `3probe`.
    Sent,
    /// `3probe` came: polling is paused, waiting for the requests in flight to finish.
    Pausing,
    /// It failed: this session stays on polling.
    Failed,
}

/// The state of one polling session. Request ids come from the connection, unique across
/// sessions, so a late answer to an old session's request is never taken for a new one's.
#[derive(Debug)]
pub struct Polling {
    /// The session id, once the OPEN packet came.
    pub sid: Option<String>,
    /// The GET in flight.
    pub get: Option<u64>,
    /// The POST in flight.
    pub post: Option<u64>,
    /// Packets waiting for the next POST, in order.
    pub queue: Vec<Queued>,
    /// The upgrade probe.
    pub probe: Probe,
    /// Largest POST body the server takes (its `maxPayload`), bytes.
    pub max_payload: u64,
}

/// A packet waiting to be posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// A text packet.
    Text(String),
    /// The binary parts of the packet before, still with the driver (its token): nothing after
    /// them goes until the driver hands their bytes over (`Connection::attachment_bytes`).
    Parts(u64),
    /// A binary packet's bytes (sent as base64).
    Bytes(Vec<u8>),
}

impl Queued {
    /// Its size in a polling payload.
    fn len(&self) -> u64 {
        match self {
            Queued::Text(t) => t.len() as u64,
            Queued::Parts(_) => 0,
            Queued::Bytes(b) => 1 + (b.len() as u64).div_ceil(3) * 4,
        }
    }
}

impl Polling {
    /// A session whose handshake GET is `get`.
    pub fn new(get: u64) -> Polling {
        Polling {
            sid: None,
            get: Some(get),
            post: None,
            queue: Vec::new(),
            probe: Probe::Idle,
            max_payload: 1_000_000,
        }
    }

    /// Whether requests may start: not while an upgrade waits for the ones in flight.
    pub fn running(&self) -> bool {
        self.probe != Probe::Pausing
    }

    /// Whether a paused session has nothing in flight, so the upgrade can finish.
    pub fn drained(&self) -> bool {
        self.probe == Probe::Pausing && self.get.is_none() && self.post.is_none()
    }

    /// The body of the next POST, if one is due (packets ready, none in flight, running): as
    /// many packets as fit the server's `maxPayload` (at least one), up to the first binary
    /// parts still with the driver.
    pub fn take_post(&mut self, id: u64) -> Option<String> {
        if self.post.is_some() || !self.running() || self.sid.is_none() {
            return None;
        }
        let (mut n, mut size) = (0, 0);
        for q in &self.queue {
            if matches!(q, Queued::Parts(_)) || (n > 0 && size + 1 + q.len() > self.max_payload) {
                break;
            }
            size += q.len() + u64::from(n > 0);
            n += 1;
        }
        if n == 0 {
            return None;
        }
        self.post = Some(id);
        Some(join_payload(self.queue.drain(..n)))
    }
}

/// Joins packets into one polling payload.
pub fn join_payload(packets: impl IntoIterator<Item = Queued>) -> String {
    let mut out = String::new();
    for (i, p) in packets.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match p {
            Queued::Text(t) => out.push_str(&t),
            Queued::Bytes(b) => out.push_str(&binary_packet(&b)),
            Queued::Parts(_) => {} // never: take_post stops before them
        }
    }
    out
}

/// One packet of a polling payload: text as it would come in a WebSocket text frame, or the
/// bytes of a binary packet (sent as `b` + base64).
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A text packet.
    Text(&'a str),
    /// A binary packet's bytes.
    Binary(Vec<u8>),
}

/// Splits a polling payload into its packets, each with its text as it sits in the payload.
/// A binary packet that is not base64 is an error, named by its position.
pub fn split_payload(body: &str) -> impl Iterator<Item = (&str, Result<Packet<'_>, usize>)> {
    body.split(SEPARATOR).enumerate().map(|(i, p)| {
        let packet = match p.strip_prefix('b') {
            Some(b64) => base64_decode(b64).map(Packet::Binary).ok_or(i),
            None => Ok(Packet::Text(p)),
        };
        (p, packet)
    })
}

/// A binary packet for a polling payload: `b` + base64 of `bytes`.
pub fn binary_packet(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    out.push('b');
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` if it is not.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone sixth of a byte is not base64.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let packet = binary_packet(&bytes);
            assert_eq!(base64_decode(&packet[1..]), Some(bytes), "length {len}");
        }
        assert_eq!(binary_packet(b"hi"), "baGk=");
        assert_eq!(base64_decode("aGk"), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*"), None);
    }

    #[test]
    fn payloads_split_and_join() {
        let body = join_payload([
            Queued::Text("2".into()),
            Queued::Text("42[\"a\"]".into()),
            Queued::Bytes(vec![1, 2]),
        ]);
        assert_eq!(body, "2\u{1e}42[\"a\"]\u{1e}bAQI=");
        let packets: Vec<_> = split_payload(&body).map(|(_, p)| p).collect();
        assert_eq!(
            packets,
            [
                Ok(Packet::Text("2")),
                Ok(Packet::Text("42[\"a\"]")),
                Ok(Packet::Binary(vec![1, 2]))
            ]
        );
        assert_eq!(split_payload("6\u{1e}b!!").nth(1), Some(("b!!", Err(1))));
    }

    #[test]
    fn posts_stop_at_parts_not_handed_over_and_at_max_payload() {
        let mut p = Polling::new(1);
        p.sid = Some("s".into());
        p.max_payload = 10;
        p.queue = vec![
            Queued::Text("4a".into()),
            Queued::Text("4bcdef".into()),
            Queued::Text("4g".into()),
            Queued::Parts(9),
            Queued::Text("4h".into()),
        ];
        assert_eq!(p.take_post(2).as_deref(), Some("4a\u{1e}4bcdef"));
        assert_eq!(p.take_post(3), None, "one POST at a time");
        p.post = None;
        assert_eq!(p.take_post(3).as_deref(), Some("4g"));
        p.post = None;
        assert_eq!(p.take_post(4), None, "waits for the parts");
        p.queue[0] = Queued::Bytes(vec![0; 30]); // 41 bytes as base64: alone, over the limit
        assert_eq!(p.take_post(4).map(|b| b.len()), Some(41));
        p.post = None;
        assert_eq!(p.take_post(5).as_deref(), Some("4h"));
    }

    #[test]
    fn transports_are_checked() {
        use Transport::*;
        assert!(check_transports(&[WebSocket]).is_ok());
        assert!(check_transports(&[Polling, WebSocket]).is_ok());
        assert!(check_transports(&[]).is_err());
        assert!(check_transports(&[Polling, Polling]).is_err());
        assert_eq!(Transport::parse("polling"), Some(Polling));
        assert_eq!(Transport::parse("xhr"), None);
    }
}
