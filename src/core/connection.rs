//! The connection state machine, sans-IO in the manner of quinn-proto: it opens no socket,
//! reads no clock and arms no timer.
//!
//! Inputs are method calls carrying the current time in milliseconds (`now`): the user's calls
//! ([`Connection::connect`], [`Connection::emit`], [`Connection::subscribe`], ...) and what the
//! platform saw ([`Connection::transport_open`], [`Connection::handle_frame`],
//! [`Connection::transport_closed`], [`Connection::set_online`], [`Connection::handle_timeout`]).
//! Outputs are drained with [`Connection::poll`] after **every** input, and the next timer is
//! read with [`Connection::poll_timeout`]: the driver must call `handle_timeout(now)` once `now`
//! reaches it (earlier is harmless; every input also checks elapsed time, so a throttled
//! background tab notices a dead heartbeat as soon as anything happens).

use std::collections::VecDeque;

use super::backoff::{Backoff, Rng};
use super::error::{Error, ErrorCode};
use super::json::{self, Kind};
use super::protocol::{json_wire as jsonp, socketio, DecodeError, Incoming, Protocol};
use super::schema::Schemas;
use super::text;
use super::transport::{self, Packet, Polling, Probe, Queued, Transport};

/// Event names Socket.IO reserves; emitting them is refused.
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Connection settings. Every field has the default written beside it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server URL as the user gave it (`http(s)` is mapped to `ws(s)`). Required. With
    /// `failover`, the first one tried.
    pub url: String,
    /// More server URLs (failover): after a failed attempt or a lost connection, the next
    /// attempt goes to the next URL, in turn, back to `url` after the last. The session is
    /// offered for recovery wherever it goes. Default empty.
    pub failover: Vec<String>,
    /// Ask the driver for the URL of every attempt after a failure ([`Output::NeedUrl`],
    /// answered with [`Connection::provide_url`]) instead of taking the next of `failover`:
    /// a JavaScript `url` function. Default false.
    pub ask_url: bool,
    /// The transports, in socket.io-client's meaning: the first is opened first, one that
    /// cannot open gives way to the next in the same attempt, and a WebSocket listed after
    /// polling is an upgrade. Socket.IO only (the JSON protocol is WebSocket only). Default
    /// `[WebSocket]`.
    pub transports: Vec<Transport>,
    /// Wire protocol. Default Socket.IO, path `/socket.io/`, namespace `/`.
    pub protocol: Protocol,
    /// Reconnect policy. Default [`Backoff::default`].
    pub backoff: Backoff,
    /// Ack timeout for `emit_with_ack` and room subscriptions, ms. Default 10000.
    pub ack_timeout_ms: u64,
    /// Time allowed from opening the socket to the namespace being connected, ms. Default 20000.
    pub connect_timeout_ms: u64,
    /// Largest frame accepted or sent, bytes. Default 1 MiB.
    pub max_frame_bytes: usize,
    /// JSON protocol only: the client pings this often, ms (0 = never). Default 25000.
    /// (Socket.IO servers announce their own interval and ping the client.)
    pub ping_interval_ms: u64,
    /// JSON protocol only: grace after a ping before the peer is dead, ms. Default 20000.
    pub ping_timeout_ms: u64,
    /// The payload schemas of incoming events, by name. Socket.IO events are checked against
    /// them in the pass that splits their frame, and carry the result in
    /// [`Incoming::payload_ok`]. Default empty: not checked here.
    pub schemas: Schemas,
}

impl Config {
    /// Defaults for a server URL.
    pub fn new(url: impl Into<String>) -> Config {
        Config {
            url: url.into(),
            failover: Vec::new(),
            ask_url: false,
            transports: vec![Transport::WebSocket],
            protocol: Protocol::default(),
            backoff: Backoff::default(),
            ack_timeout_ms: 10_000,
            connect_timeout_ms: 20_000,
            max_frame_bytes: 1 << 20,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            schemas: Schemas::default(),
        }
    }
}

/// The connection status as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, `connect` not called yet.
    Idle,
    /// First attempt under way.
    Connecting,
    /// Connected: events flow.
    Open,
    /// Lost or refused; retrying with backoff (`attempt` counts the retries).
    Reconnecting,
    /// The browser is offline: no attempts until it is back.
    Offline,
    /// Closed by the user, by the server, or after `max_attempts`: no more attempts.
    Closed,
}

impl Status {
    /// The status named by [`as_str`](Self::as_str)'s text, if one is.
    pub fn parse(text: &str) -> Option<Status> {
        use Status::*;
        [Idle, Connecting, Open, Reconnecting, Offline, Closed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// `"idle"`, `"connecting"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Connecting => "connecting",
            Status::Open => "open",
            Status::Reconnecting => "reconnecting",
            Status::Offline => "offline",
            Status::Closed => "closed",
        }
    }
}

/// A snapshot of the connection state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Where the connection is.
    pub status: Status,
    /// Reconnect attempts since the last successful connect.
    pub attempt: u32,
    /// The last error, cleared when a connect succeeds.
    pub error: Option<Error>,
    /// Whether the last connect resumed the previous session (Socket.IO connection state
    /// recovery): missed events were replayed and rooms kept, so nothing was re-joined.
    pub recovered: bool,
    /// The connection opened again after an earlier open without resuming that session: what
    /// the server sent meanwhile was missed, so data built from events is refetched (the cache
    /// invalidates its active queries, `wiresync/tanstack` an app's `QueryClient`). The one
    /// place this rule lives. False on a first open and on a recovered one.
    pub resync: bool,
    /// With `shareAcrossTabs`: whether this tab holds the connection for its group, and how
    /// many tabs share it. `None` for a connection of its own.
    pub shared: Option<Shared>,
    /// The server URL of the current (or last) attempt, as the user gave it.
    pub url: String,
    /// The transport under way, `None` when there is none.
    pub transport: Option<Transport>,
}

/// How a tab shares its group's connection ([`State::shared`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    /// This tab holds the connection (the others follow it).
    pub leader: bool,
    /// Tabs in the group, this one included.
    pub tabs: u32,
}

/// Identifies a room subscription.
pub type SubId = u64;

/// What the driver must do or report. Drain with [`Connection::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a WebSocket to this URL (dropping any previous one).
    OpenTransport(String),
    /// Close the WebSocket.
    CloseTransport,
    /// Send this text frame.
    Send(String),
    /// Run the auth function, then call [`Connection::provide_auth`] (or `auth_failed`).
    NeedAuth,
    /// The state changed.
    State(State),
    /// An application event arrived.
    Event(Incoming),
    /// An `emit_with_ack` finished: the server's ack arguments (raw JSON array), or an error.
    Ack {
        /// The id `emit_with_ack` returned.
        id: u64,
        /// The ack's arguments, or why there is none.
        result: Result<String, Error>,
        /// How many binary attachments the arguments' placeholders stand for (0: none).
        attachments: u32,
    },
    /// A room subscription was acknowledged (or failed to be).
    Subscribed {
        /// The subscription.
        id: SubId,
        /// The server's ack arguments, or why there is none.
        result: Result<String, Error>,
    },
    /// Something went wrong that the application should hear of.
    Error(Error),
    /// Send the attachments of this token now, right after the frame just sent.
    SendAttachments(u64),
    /// The packet these attachments went with will never be sent (the client closed): forget
    /// them.
    DropAttachments(u64),
    /// Call the `url` function (`Config::ask_url`), then [`Connection::provide_url`].
    NeedUrl,
    /// HTTP long-polling: `GET` (`body: None`) or `POST` this URL, then call
    /// [`Connection::fetch_done`] with the status and body (status 0: it failed). Requests
    /// still in flight are abandoned at the next `CloseTransport` (after a short grace, so
    /// that a last POST reaches the server first).
    Fetch {
        /// Names the request in `fetch_done`; 0: a last POST whose answer nobody waits for.
        id: u64,
        /// The URL.
        url: String,
        /// A POST's body.
        body: Option<String>,
    },
    /// A binary packet came over polling that `handle_binary` kept: keep its bytes, as a
    /// WebSocket's binary frame would be kept.
    Attachment(Vec<u8>),
    /// Open a second WebSocket, the upgrade probe, to this URL; report it with `probe_open`,
    /// `probe_frame` and `probe_closed`.
    OpenProbe(String),
    /// Send this text frame on the probe.
    SendProbe(String),
    /// Close the probe: the session stays on polling.
    CloseProbe,
    /// The probe is now the transport: its frames go to `handle_frame` (and its close to
    /// `transport_closed`), as the WebSocket's would.
    UpgradeProbe,
    /// Send these bytes as a binary frame (an attachment queued for polling when the session
    /// moved to WebSocket).
    SendBinary(Vec<u8>),
    /// The attachments of this token go over polling: hand their bytes over with
    /// [`Connection::attachment_bytes`] (keep them if it answers false: they then go as
    /// `SendAttachments`, the session having moved to a WebSocket).
    AttachmentBytes(u64),
}

/// Binary attachments that go with an outgoing packet: how many, and the driver's token for
/// them. The bytes stay with the driver; the core only says when to send them (after their
/// packet's frame, [`Output::SendAttachments`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachments {
    /// How many (the placeholders' `num` run 0..count).
    pub count: u32,
    /// The driver's name for them (not 0).
    pub token: u64,
    /// The byte size of the largest: each is a frame, held to the frame limit.
    pub largest: u64,
}

/// A binary packet whose attachments are still arriving.
#[derive(Debug)]
enum Awaiting {
    /// An event, with the recovery offset it carried.
    Event(Incoming, Option<String>),
    /// An ack: its id and arguments.
    Ack(u64, String),
    /// A packet for another namespace on this socket: its attachments are not ours.
    Elsewhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Waiting,
    Offline,
    Opening,
    Handshake,
    Auth,
    Connecting,
    Open,
    Closed,
}

impl Phase {
    fn transport_active(self) -> bool {
        matches!(
            self,
            Phase::Opening | Phase::Handshake | Phase::Auth | Phase::Connecting | Phase::Open
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AckFor {
    User,
    Room(SubId),
}

/// A pending ack: its id, when it times out, and what it is for. Kept in a `Vec`: there are
/// few at a time, and a map type would cost the wasm more than it saves.
#[derive(Debug)]
struct PendingAck {
    id: u64,
    deadline: u64,
    what: AckFor,
}

/// A room: `subscribe:<channel>` with `params`, joined on every connect that does not
/// recover the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The channel.
    pub channel: String,
    /// Raw JSON params, if any.
    pub params: Option<String>,
    /// Whether the join waits for the server's ack.
    pub ack: bool,
}

/// The connection state machine. See the module docs for how to drive it.
#[derive(Debug)]
pub struct Connection {
    cfg: Config,
    phase: Phase,
    attempt: u32,
    error: Option<Error>,
    recovered: bool,
    resync: bool,
    /// Whether a connect has ever succeeded (so the next unrecovered one is a resync).
    opened_before: bool,
    online: bool,
    reported: Option<State>,
    rng: Rng,
    out: VecDeque<Output>,
    // session
    sid: Option<String>,
    pid: Option<String>,
    offset: Option<String>,
    asked_recovery: bool,
    max_payload: Option<u64>,
    heartbeat_ms: Option<u64>,
    heartbeat_deadline: Option<u64>,
    next_ping: Option<u64>,
    retry_at: Option<u64>,
    connect_deadline: Option<u64>,
    /// A binary packet and its attachments announced and arrived so far.
    binary: Option<(Awaiting, u32, u32)>,
    // outgoing
    /// Frames to send once open, each with the token of its attachments (0: none).
    buffer: VecDeque<(String, u64)>,
    next_ack: u64,
    acks: Vec<PendingAck>,
    rooms: Vec<(SubId, Room)>,
    next_room: SubId,
    pending_leaves: Vec<String>,
    // transports and failover
    /// Which of `url` and `failover` (0: `url`), and the URL itself.
    url_at: usize,
    current_url: String,
    /// The next attempt goes to the next URL.
    advance: bool,
    /// `NeedUrl` is out; `provide_url` is due.
    asking_url: bool,
    /// Which of `transports` this attempt is on.
    transport_at: usize,
    transport: Option<Transport>,
    polling: Option<Polling>,
    next_fetch: u64,
    probe_deadline: Option<u64>,
}

impl Connection {
    /// A new, idle connection. `seed` feeds the backoff jitter.
    pub fn new(cfg: Config, seed: u64) -> Connection {
        Connection {
            current_url: cfg.url.clone(),
            phase: Phase::Idle,
            attempt: 0,
            error: None,
            recovered: false,
            resync: false,
            opened_before: false,
            online: true,
            reported: None,
            rng: Rng::new(seed),
            out: VecDeque::new(),
            sid: None,
            pid: None,
            offset: None,
            asked_recovery: false,
            max_payload: None,
            heartbeat_ms: None,
            heartbeat_deadline: None,
            next_ping: None,
            retry_at: None,
            connect_deadline: None,
            binary: None,
            buffer: VecDeque::new(),
            next_ack: 1,
            acks: Vec::new(),
            rooms: Vec::new(),
            next_room: 1,
            pending_leaves: Vec::new(),
            url_at: 0,
            advance: false,
            asking_url: false,
            transport_at: 0,
            transport: None,
            polling: None,
            next_fetch: 1,
            probe_deadline: None,
            cfg,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The current state.
    pub fn state(&self) -> State {
        State {
            status: self.status(),
            attempt: self.attempt,
            error: self.error.clone(),
            recovered: self.recovered,
            resync: self.resync && self.phase == Phase::Open,
            shared: None,
            url: self.current_url.clone(),
            transport: self.transport.filter(|_| self.phase.transport_active()),
        }
    }

    fn status(&self) -> Status {
        match self.phase {
            Phase::Idle => Status::Idle,
            Phase::Open => Status::Open,
            Phase::Offline => Status::Offline,
            Phase::Closed => Status::Closed,
            Phase::Waiting => Status::Reconnecting,
            _ if self.attempt == 0 => Status::Connecting,
            _ => Status::Reconnecting,
        }
    }

    /// Whether events can be sent now.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The next output, if any. Call until `None` after every input.
    pub fn poll(&mut self) -> Option<Output> {
        if let Some(out) = self.out.pop_front() {
            return Some(out);
        }
        // Over polling, what was sent since the last POST goes in one.
        let id = self.next_fetch;
        let body = self.polling.as_mut()?.take_post(id)?;
        self.next_fetch += 1;
        Some(Output::Fetch {
            id,
            url: self.polling_url(),
            body: Some(body),
        })
    }

    /// Whether the session runs over HTTP long-polling now (binary parts then go as base64,
    /// through [`attachment_bytes`](Self::attachment_bytes)).
    pub fn polling(&self) -> bool {
        self.polling.is_some()
    }

    /// When `handle_timeout` must next be called, in the same clock as `now`.
    pub fn poll_timeout(&self) -> Option<u64> {
        [
            self.retry_at,
            self.connect_deadline,
            self.heartbeat_deadline,
            self.next_ping,
            self.probe_deadline,
            self.acks.iter().map(|a| a.deadline).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn report_state(&mut self) {
        let s = self.state();
        if self.reported.as_ref() != Some(&s) {
            self.reported = Some(s.clone());
            self.out.push_back(Output::State(s));
        }
    }

    fn report(&mut self, e: Error) {
        self.out.push_back(Output::Error(e));
    }

    fn send(&mut self, frame: String) {
        match &mut self.polling {
            Some(p) => p.queue.push(Queued::Text(frame)),
            None => self.out.push_back(Output::Send(frame)),
        }
    }

    /// `FRAME_TOO_LARGE` when a frame of `len` bytes is over the limit (ours, or the server's
    /// `maxPayload`).
    fn too_large(&self, len: u64) -> Option<Error> {
        let limit = self
            .max_payload
            .map_or(self.cfg.max_frame_bytes as u64, |m| {
                m.min(self.cfg.max_frame_bytes as u64)
            });
        (len > limit).then(|| {
            let why = [
                &text::int(len),
                " bytes is over the ",
                &text::int(limit),
                "-byte limit",
            ];
            Error::new(ErrorCode::FrameTooLarge, why.concat())
        })
    }

    /// Sends `frame`, then the attachments of `token` (0: none). Over polling they follow it
    /// in the queue once the driver has handed their bytes over.
    fn send_attached(&mut self, frame: String, token: u64) {
        self.send(frame);
        if token == 0 {
            return;
        }
        match &mut self.polling {
            Some(p) => {
                p.queue.push(Queued::Parts(token));
                self.out.push_back(Output::AttachmentBytes(token));
            }
            None => self.out.push_back(Output::SendAttachments(token)),
        }
    }

    // ---- user calls ------------------------------------------------------------------------

    /// Starts connecting (from idle or closed). Does nothing while already connecting or open.
    pub fn connect(&mut self, now: u64) {
        if matches!(self.phase, Phase::Idle | Phase::Closed) {
            self.attempt = 0;
            self.start_attempt(now);
        }
    }

    /// Drops the current transport, if any, and connects again at once with attempt 0
    /// (e.g. after new credentials). Works from any state, `Closed` included.
    ///
    /// An open session is left on purpose (Socket.IO: the namespace DISCONNECT) and not offered
    /// for recovery: the next one is new, its rooms re-joined and `resync` set. Recovering it
    /// would race the server's cleanup of the old connection: socket.io 4.8 can restore a
    /// session while the old socket still lives, whose late removal then drops the new socket
    /// from every room and broadcast (socket.io#4880), and events are lost without a sign.
    pub fn reconnect(&mut self, now: u64) {
        if self.leave_session() {
            self.pid = None;
            self.offset = None;
        }
        if self.phase.transport_active() {
            self.leave_transport();
        }
        self.attempt = 0;
        self.advance = false;
        self.start_attempt(now);
    }

    /// The session a new connection may recover (Socket.IO connection state recovery), as of
    /// the last event received: what a tab sharing this connection hands to the next leader.
    pub fn session(&self) -> Option<crate::core::share::Session> {
        Some(crate::core::share::Session {
            sid: self.sid.clone()?,
            pid: self.pid.clone()?,
            offset: self.offset.clone(),
        })
    }

    /// Takes over a session another tab held: the next connect offers it for recovery, and
    /// if the server does not recover it, that connect is a resync (rooms re-joined, queries
    /// refetched), as after any unrecovered reconnect.
    pub fn resume(&mut self, session: Option<crate::core::share::Session>) {
        if let Some(s) = session {
            self.sid = Some(s.sid);
            self.pid = Some(s.pid);
            self.offset = s.offset;
        }
        self.opened_before = true;
    }

    /// Closes for good: sends the namespace DISCONNECT if connected, closes the transport,
    /// fails pending acks with `CLOSED` and never reconnects (until `connect`/`reconnect`).
    pub fn close(&mut self, now: u64) {
        self.close_as(now, true);
    }

    /// Closes without leaving the session (no DISCONNECT): the transport just drops, as when
    /// the tab closes, so that another tab can recover the session.
    pub fn hand_over(&mut self, now: u64) {
        self.close_as(now, false);
    }

    fn close_as(&mut self, _now: u64, leave: bool) {
        if self.phase == Phase::Closed {
            return;
        }
        if leave {
            self.leave_session();
        }
        if self.phase.transport_active() {
            self.leave_transport();
        }
        self.phase = Phase::Closed;
        self.retry_at = None;
        for (_, token) in std::mem::take(&mut self.buffer) {
            if token != 0 {
                self.out.push_back(Output::DropAttachments(token));
            }
        }
        let closed = Error::new(ErrorCode::Closed, "the client was closed");
        for a in std::mem::take(&mut self.acks) {
            self.finish_ack(a.id, a.what, Err(closed.clone()), 0);
        }
        self.report_state();
    }

    /// Sends an event now if open, else buffers it (in memory) until the next connect.
    /// `args` is a raw JSON array of the event's arguments.
    pub fn emit(&mut self, now: u64, name: &str, args: &str) -> Result<(), Error> {
        self.emit_inner(now, name, args, None, None).map(|_| ())
    }

    /// [`emit`](Self::emit) (`ack: None`) or [`emit_with_ack`](Self::emit_with_ack)
    /// (`Some(timeout_ms)`) of arguments with binary placeholders
    /// (`{"_placeholder":true,"num":i}`): a Socket.IO BINARY_EVENT, its attachments sent
    /// after it. Returns the ack id, if asked for.
    pub fn emit_attached(
        &mut self,
        now: u64,
        name: &str,
        args: &str,
        bin: Attachments,
        ack: Option<Option<u64>>,
    ) -> Result<Option<u64>, Error> {
        let ack = ack.map(|t| (t.unwrap_or(self.cfg.ack_timeout_ms), AckFor::User));
        self.emit_inner(now, name, args, ack, Some(bin))
    }

    /// Like [`emit`](Self::emit), asking the server for an ack. Returns the ack id; the result
    /// arrives as [`Output::Ack`] (an error after `timeout_ms`, default `ack_timeout_ms`).
    pub fn emit_with_ack(
        &mut self,
        now: u64,
        name: &str,
        args: &str,
        timeout_ms: Option<u64>,
    ) -> Result<u64, Error> {
        let timeout = timeout_ms.unwrap_or(self.cfg.ack_timeout_ms);
        self.emit_inner(now, name, args, Some((timeout, AckFor::User)), None)
            .map(|id| id.unwrap_or(0))
    }

    fn emit_inner(
        &mut self,
        now: u64,
        name: &str,
        args: &str,
        ack: Option<(u64, AckFor)>,
        bin: Option<Attachments>,
    ) -> Result<Option<u64>, Error> {
        if name.is_empty() || RESERVED_EVENTS.contains(&name) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                ["\"", name, "\" is a reserved or empty event name"].concat(),
            )
            .with_event(name));
        }
        json::array_elements(args).map_err(|e| {
            Error::new(
                ErrorCode::PayloadInvalid,
                ["arguments are not a JSON array: ", &e.text()].concat(),
            )
            .with_event(name)
        })?;
        let id = ack.map(|_| self.next_ack);
        let frame = match (&self.cfg.protocol, bin) {
            (_, None) => self.encode_event(id, name, args),
            (Protocol::SocketIo { namespace, .. }, Some(b)) => {
                socketio::encode_event_attached(namespace, id, name, args, b.count)
            }
            (Protocol::Json, Some(_)) => return Err(binary_needs_socketio(name)),
        };
        // Each attachment is a frame of its own: the largest must fit too (a server closes the
        // connection on a frame over its limit, and the send would repeat on every reconnect).
        let largest = bin.map_or(0, |b| b.largest);
        if let Some(e) = self.too_large((frame.len() as u64).max(largest)) {
            return Err(e.with_event(name));
        }
        if let (Some(id), Some((timeout, what))) = (id, ack) {
            self.next_ack += 1;
            self.acks.push(PendingAck {
                id,
                deadline: now.saturating_add(timeout),
                what,
            });
        }
        let token = bin.map_or(0, |b| b.token);
        if self.phase == Phase::Open {
            self.send_attached(frame, token);
        } else {
            self.buffer.push_back((frame, token));
        }
        Ok(id)
    }

    fn encode_event(&self, id: Option<u64>, name: &str, args: &str) -> String {
        match &self.cfg.protocol {
            Protocol::SocketIo { namespace, .. } => {
                socketio::encode_event(namespace, id, name, args)
            }
            Protocol::Json => jsonp::encode_event(id, name, args),
        }
    }

    /// Answers a server event that asked for an ack (`Incoming::ack`). `args` is a raw JSON
    /// array. Dropped when not connected: the server forgets ack ids with the connection.
    pub fn ack(&mut self, now: u64, id: u64, args: &str) -> Result<(), Error> {
        self.ack_attached(now, id, args, None)
    }

    /// [`ack`](Self::ack) with binary placeholders in `args`: a BINARY_ACK, its attachments
    /// sent after it (or dropped with it when not connected).
    pub fn ack_attached(
        &mut self,
        _now: u64,
        id: u64,
        args: &str,
        bin: Option<Attachments>,
    ) -> Result<(), Error> {
        let token = bin.map_or(0, |b| b.token);
        let frame = check_ack_args(args)
            .and_then(|()| {
                self.too_large(bin.map_or(0, |b| b.largest))
                    .map_or(Ok(()), Err)
            })
            .and_then(|()| match (&self.cfg.protocol, bin) {
                (Protocol::SocketIo { namespace, .. }, _) => Ok(socketio::encode_ack(
                    namespace,
                    id,
                    args,
                    bin.map_or(0, |b| b.count),
                )),
                (Protocol::Json, None) => Ok(jsonp::encode_ack(id, args)),
                (Protocol::Json, Some(_)) => Err(binary_needs_socketio("ack")),
            });
        match frame {
            Ok(frame) if self.phase == Phase::Open => self.send_attached(frame, token),
            // Refused, or not connected (the server forgot the ack id): its parts go too.
            r => {
                if token != 0 {
                    self.out.push_back(Output::DropAttachments(token));
                }
                r?;
            }
        }
        Ok(())
    }

    /// Joins a room: sends `subscribe:<channel>` with `params` (a raw JSON value) now if open,
    /// and again after every reconnect that did not recover the session. With `ack`, the
    /// server's ack completes it ([`Output::Subscribed`]); without, sending it does.
    pub fn subscribe(
        &mut self,
        now: u64,
        channel: &str,
        params: Option<&str>,
        ack: bool,
    ) -> Result<SubId, Error> {
        check_params(channel, params)?;
        let id = self.next_room;
        self.next_room += 1;
        let room = Room {
            channel: channel.to_owned(),
            params: params.map(str::to_owned),
            ack,
        };
        self.rooms.push((id, room));
        if self.phase == Phase::Open {
            self.join(now, id);
        }
        Ok(id)
    }

    /// Leaves a room: sends `unsubscribe:<channel>` now if open; if not, only when the next
    /// connect recovers the session (otherwise the server already forgot the room).
    pub fn unsubscribe(&mut self, _now: u64, id: SubId) {
        let Some(at) = self.rooms.iter().position(|(r, _)| *r == id) else {
            return;
        };
        let (_, room) = self.rooms.remove(at);
        let args = room_args(&room);
        let frame = self.encode_event(None, &["unsubscribe:", &room.channel].concat(), &args);
        if self.phase == Phase::Open {
            self.send(frame);
        } else {
            self.pending_leaves.push(frame);
        }
        self.acks.retain(|a| a.what != AckFor::Room(id));
    }

    fn join(&mut self, now: u64, id: SubId) {
        let Some((_, room)) = self.rooms.iter().find(|(r, _)| *r == id) else {
            return;
        };
        let (name, args, ack) = (
            ["subscribe:", &room.channel].concat(),
            room_args(room),
            room.ack,
        );
        let timeout = self.cfg.ack_timeout_ms;
        let frame = if ack {
            let ack_id = self.next_ack;
            self.next_ack += 1;
            let deadline = now.saturating_add(timeout);
            self.acks.push(PendingAck {
                id: ack_id,
                deadline,
                what: AckFor::Room(id),
            });
            self.encode_event(Some(ack_id), &name, &args)
        } else {
            self.encode_event(None, &name, &args)
        };
        self.send(frame);
        if !ack {
            self.out.push_back(Output::Subscribed {
                id,
                result: Ok("[]".into()),
            });
        }
    }

    // ---- platform inputs -------------------------------------------------------------------

    /// The browser went online or offline (`navigator.onLine`, `online`/`offline` events).
    /// Offline: no attempts. Back online: an attempt at once if one was pending.
    pub fn set_online(&mut self, now: u64, online: bool) {
        self.online = online;
        match (online, self.phase) {
            (true, Phase::Offline | Phase::Waiting) => self.start_attempt(now),
            (false, Phase::Waiting) => {
                self.retry_at = None;
                self.phase = Phase::Offline;
                self.report_state();
            }
            _ => self.handle_timeout(now),
        }
    }

    /// The page became visible again (`visibilitychange`, `pageshow`): a waiting retry runs at
    /// once and the heartbeat is checked by elapsed time.
    pub fn page_visible(&mut self, now: u64) {
        if self.phase == Phase::Waiting && self.online {
            self.start_attempt(now);
        } else {
            self.handle_timeout(now);
        }
    }

    /// The WebSocket opened.
    pub fn transport_open(&mut self, now: u64) {
        if self.phase != Phase::Opening {
            return;
        }
        match self.cfg.protocol {
            Protocol::SocketIo { .. } => self.phase = Phase::Handshake,
            Protocol::Json => {
                self.heartbeat_ms = (self.cfg.ping_interval_ms > 0).then_some(
                    self.cfg
                        .ping_interval_ms
                        .saturating_add(self.cfg.ping_timeout_ms),
                );
                self.next_ping = (self.cfg.ping_interval_ms > 0)
                    .then_some(now.saturating_add(self.cfg.ping_interval_ms));
                self.touch(now);
                self.phase = Phase::Auth;
                self.out.push_back(Output::NeedAuth);
            }
        }
    }

    /// The auth payload for this attempt: a raw JSON object, or `None` for no auth.
    pub fn provide_auth(&mut self, _now: u64, auth: Option<&str>) {
        if self.phase != Phase::Auth {
            return;
        }
        let auth = auth
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "null");
        if let Some(a) = auth {
            if json::validate(a) != Ok(Kind::Object) {
                let e = Error::new(ErrorCode::AuthFailed, "auth must be a JSON object");
                return self.fail_attempt(_now, e);
            }
        }
        let frame = match &self.cfg.protocol {
            Protocol::SocketIo { namespace, .. } => {
                let recovery = self.pid.as_deref().map(|pid| (pid, self.offset.as_deref()));
                self.asked_recovery = recovery.is_some();
                socketio::encode_connect(namespace, merge_auth(auth, recovery).as_deref())
            }
            Protocol::Json => jsonp::encode_connect(auth),
        };
        self.phase = Phase::Connecting;
        self.send(frame);
    }

    /// The auth function failed: counts as a failed attempt.
    pub fn auth_failed(&mut self, now: u64, message: &str) {
        if self.phase == Phase::Auth {
            self.fail_attempt(now, Error::new(ErrorCode::AuthFailed, message));
        }
    }

    /// A binary frame arrived. Returns whether it is an attachment of the binary packet
    /// being received: the driver keeps it, in order, until that packet is delivered with
    /// `attachments` set ([`Incoming::attachments`], [`Output::Ack`]). Any other binary frame
    /// is reported and ignored; the connection stays up.
    pub fn handle_binary(&mut self, now: u64, len: usize) -> bool {
        self.touch(now);
        let Some((packet, announced, arrived)) = &mut self.binary else {
            let code = match self.cfg.protocol {
                Protocol::Json => ErrorCode::UnsupportedBinary,
                Protocol::SocketIo { .. } => ErrorCode::DecodeError,
            };
            let n = text::int(len as u64);
            self.report(Error::new(
                code,
                [
                    "a binary frame of ",
                    &n,
                    " bytes that no packet announced; ignored",
                ]
                .concat(),
            ));
            return false;
        };
        *arrived += 1;
        let ours = !matches!(packet, Awaiting::Elsewhere);
        if arrived == announced {
            self.binary_complete(now);
        }
        ours
    }

    /// A binary packet announcing `count` attachments: delivered once they have arrived.
    fn await_binary(&mut self, now: u64, packet: Awaiting, count: u32) {
        self.binary = Some((packet, count, 0));
        if count == 0 {
            self.binary_complete(now);
        }
    }

    fn binary_complete(&mut self, now: u64) {
        let Some((packet, count, _)) = self.binary.take() else {
            return;
        };
        match packet {
            Awaiting::Event(mut ev, offset) => {
                if offset.is_some() {
                    self.offset = offset;
                }
                ev.attachments = count;
                self.deliver(now, ev);
            }
            Awaiting::Ack(id, args) => self.on_ack(id, args, count),
            Awaiting::Elsewhere => {}
        }
    }

    /// A text frame came while attachments were still due: that binary packet is dropped.
    fn binary_cut_short(&mut self) {
        if let Some((packet, announced, arrived)) = self.binary.take() {
            let what = match &packet {
                Awaiting::Event(ev, _) => ev.name.clone(),
                Awaiting::Ack(id, _) => ["ack ", &text::int(*id)].concat(),
                Awaiting::Elsewhere => return,
            };
            let e = Error::new(
                ErrorCode::DecodeError,
                [
                    "a binary packet announced ",
                    &text::int(announced as u64),
                    " attachments and ",
                    &text::int(arrived as u64),
                    " came before the next packet; dropped",
                ]
                .concat(),
            );
            self.report(e.with_event(what));
        }
    }

    /// A text frame arrived.
    pub fn handle_frame(&mut self, now: u64, frame: &str) {
        if !self.phase.transport_active() {
            return;
        }
        if frame.len() > self.cfg.max_frame_bytes {
            self.touch(now);
            return self.report(Error::new(
                ErrorCode::FrameTooLarge,
                [
                    "dropped a ",
                    &text::int(frame.len() as u64),
                    "-byte frame (limit ",
                    &text::int(self.cfg.max_frame_bytes as u64),
                    ")",
                ]
                .concat(),
            ));
        }
        self.touch(now);
        let result = match self.cfg.protocol {
            Protocol::SocketIo { .. } => self.socketio_frame(now, frame),
            Protocol::Json => self.json_frame(now, frame),
        };
        if let Err(e) = result {
            self.report(Error::new(
                ErrorCode::DecodeError,
                [&e.text(), "; frame: ", &preview(frame)].concat(),
            ));
        }
    }

    /// The WebSocket closed or failed.
    pub fn transport_closed(&mut self, now: u64, code: u16, reason: &str) {
        if !self.phase.transport_active() {
            return;
        }
        let what = if reason.is_empty() {
            ["connection closed (code ", &text::int(code.into()), ")"].concat()
        } else {
            [
                "connection closed (code ",
                &text::int(code.into()),
                ": ",
                reason,
                ")",
            ]
            .concat()
        };
        let e = Error::new(ErrorCode::TransportError, what);
        self.reset_session_timers();
        if self.fall_back(now) {
            return;
        }
        if self.phase == Phase::Open {
            return self.lost(now, e);
        }
        self.fail_attempt_no_close(now, e);
    }

    /// Timers: retries, connect timeout, heartbeat, client pings (JSON), ack timeouts.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.acks.iter().any(|a| a.deadline <= now) {
            let (expired, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.acks)
                .into_iter()
                .partition(|a| a.deadline <= now);
            self.acks = pending;
            for a in expired {
                let why = ["no ack within the timeout (ack id ", &text::int(a.id), ")"].concat();
                self.finish_ack(a.id, a.what, Err(Error::new(ErrorCode::AckTimeout, why)), 0);
            }
        }
        if self.heartbeat_deadline.is_some_and(|t| now >= t) && self.phase.transport_active() {
            let e = Error::new(
                ErrorCode::HeartbeatTimeout,
                "no heartbeat from the server in time",
            );
            if self.phase == Phase::Open {
                self.leave_transport();
                self.lost(now, e);
            } else {
                self.fail_attempt(now, e);
            }
        }
        if self.connect_deadline.is_some_and(|t| now >= t) && self.phase.transport_active() {
            // A transport that hangs (a proxy holding the upgrade) gives way to the next.
            let listed = self.transport_at + 1 < self.cfg.transports.len();
            if !(listed && matches!(self.phase, Phase::Opening | Phase::Handshake)) {
                self.fail_attempt(
                    now,
                    Error::new(ErrorCode::ConnectTimeout, "connecting took too long"),
                );
            } else {
                self.leave_transport();
                self.fall_back(now);
            }
        }
        if self.next_ping.is_some_and(|t| now >= t) && self.phase.transport_active() {
            self.next_ping = Some(now.saturating_add(self.cfg.ping_interval_ms));
            self.send(jsonp::PING.to_owned());
        }
        if self.probe_deadline.is_some_and(|t| now >= t) {
            self.probe_failed();
        }
        if self.retry_at.is_some_and(|t| now >= t) {
            self.retry_at = None;
            self.start_attempt(now);
        }
    }

    // ---- HTTP long-polling and the upgrade -------------------------------------------------

    /// A polling request ended: `status` 200 with the body, another status, or 0 when it
    /// failed (network, CORS, aborted). A request of an earlier session is ignored.
    pub fn fetch_done(&mut self, now: u64, id: u64, status: u16, body: &str) {
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        let is_get = p.get == Some(id);
        if is_get {
            p.get = None;
        } else if p.post == Some(id) {
            p.post = None;
        } else {
            return;
        }
        if status != 200 {
            let what = if status == 0 {
                ["polling request failed: ", body].concat()
            } else {
                ["polling request answered HTTP ", &text::int(status.into())].concat()
            };
            return self.polling_failed(now, &what);
        }
        if is_get {
            // Where each packet sits in the body, in UTF-16 units: an event's `in_frame` is
            // made relative to the whole body, which the driver holds as one JS string.
            let total = socketio::utf16_len(body);
            let mut at = 0;
            for (raw, packet) in transport::split_payload(body) {
                if self.polling.is_none() {
                    break; // the session ended on a packet before
                }
                let (start, end) = (at, at + socketio::utf16_len(raw));
                at = end + 1;
                match packet {
                    Ok(Packet::Text(frame)) => {
                        if self.phase == Phase::Opening {
                            self.transport_open(now);
                        }
                        let from = self.out.len();
                        self.handle_frame(now, frame);
                        for out in self.out.iter_mut().skip(from) {
                            if let Output::Event(Incoming {
                                in_frame: Some(f), ..
                            }) = out
                            {
                                f.start_utf16 += start;
                                f.tail_utf16 += total - end;
                            }
                        }
                    }
                    Ok(Packet::Binary(bytes)) => {
                        // Kept before the packet it completes is delivered.
                        let from = self.out.len();
                        if self.handle_binary(now, bytes.len()) {
                            self.out.insert(from, Output::Attachment(bytes));
                        }
                    }
                    Err(nth) => self.report(Error::new(
                        ErrorCode::DecodeError,
                        [
                            "binary packet ",
                            &text::int(nth as u64),
                            " of a polling payload is not base64; ignored",
                        ]
                        .concat(),
                    )),
                }
            }
            if self.polling.as_ref().is_some_and(|p| p.sid.is_none()) {
                // Answered, but not with an OPEN packet (a portal's page, another server).
                return self.polling_failed(now, "not an Engine.IO handshake");
            }
            self.next_get();
        }
        self.finish_upgrade();
    }

    /// A polling request failed: the session ends, with the other request in flight.
    fn polling_failed(&mut self, now: u64, why: &str) {
        self.out.push_back(Output::CloseTransport);
        self.transport_closed(now, 1006, why);
    }

    /// The next long-poll GET, unless one is in flight or polling is paused for the upgrade.
    fn next_get(&mut self) {
        let url = self.polling_url();
        let id = self.next_fetch;
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        if p.get.is_none() && p.sid.is_some() && p.running() && self.phase.transport_active() {
            p.get = Some(id);
            self.next_fetch += 1;
            let body = None;
            self.out.push_back(Output::Fetch { id, url, body });
        }
    }

    /// The bytes of the attachments of `token` ([`Output::AttachmentBytes`]), or `None` when
    /// they cannot be read at once (a Blob): the packet they go with is then not sent, and
    /// `INVALID_ARGUMENT` says so. Returns false when the session is no longer polling (the
    /// driver keeps the parts for the `SendAttachments` that follows).
    pub fn attachment_bytes(&mut self, token: u64, parts: Option<Vec<Vec<u8>>>) -> bool {
        let Some(p) = self.polling.as_mut() else {
            return false;
        };
        let Some(at) = p.queue.iter().position(|q| *q == Queued::Parts(token)) else {
            return false;
        };
        match parts {
            Some(parts) => {
                p.queue
                    .splice(at..=at, parts.into_iter().map(Queued::Bytes));
            }
            None => {
                let dropped: Vec<Queued> = p.queue.drain(at.saturating_sub(1)..=at).collect();
                let e = Error::new(
                    ErrorCode::InvalidArgument,
                    "a Blob cannot be sent over HTTP long-polling (send an ArrayBuffer or a \
                     typed array); the event was not sent",
                );
                // An ack it asked for fails now, not at its timeout.
                let ack = match dropped.first() {
                    Some(Queued::Text(frame)) => frame
                        .get(1..)
                        .and_then(|f| socketio::decode_packet(f).ok())
                        .and_then(|p| p.id),
                    _ => None,
                };
                match ack.and_then(|id| self.take_ack(id)) {
                    Some(a) => self.finish_ack(a.id, a.what, Err(e), 0),
                    None => self.report(e),
                }
            }
        }
        true
    }

    /// The session's OPEN came over polling: its id, and the upgrade probe if the server
    /// offers one and `transports` lists a WebSocket after polling.
    fn polling_opened(&mut self, now: u64, sid: &str, upgrade: bool, max_payload: u64) {
        let wanted = self.cfg.transports[self.transport_at.min(self.cfg.transports.len())..]
            .contains(&Transport::WebSocket);
        let probe_url =
            socketio::engine_url(&self.current_url, self.engine_path(), false, Some(sid));
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        p.sid = Some(sid.to_owned());
        p.max_payload = max_payload;
        if upgrade && wanted {
            p.probe = Probe::Opening;
            self.probe_deadline = Some(now.saturating_add(self.cfg.connect_timeout_ms));
            self.out.push_back(Output::OpenProbe(probe_url));
        }
    }

    /// The probe WebSocket opened.
    pub fn probe_open(&mut self, _now: u64) {
        if let Some(p) = self.polling.as_mut().filter(|p| p.probe == Probe::Opening) {
            p.probe = Probe::Sent;
            self.out.push_back(Output::SendProbe("2probe".into()));
        }
    }

    /// A text frame on the probe: `3probe` pauses polling for the upgrade; anything else
    /// fails the probe.
    pub fn probe_frame(&mut self, _now: u64, frame: &str) {
        match self.polling.as_mut() {
            Some(p) if p.probe == Probe::Sent && frame == "3probe" => {
                p.probe = Probe::Pausing;
                self.finish_upgrade();
            }
            Some(p) if p.probe != Probe::Idle && p.probe != Probe::Failed => self.probe_failed(),
            _ => {}
        }
    }

    /// The probe closed or failed before the upgrade.
    pub fn probe_closed(&mut self, _now: u64) {
        if self
            .polling
            .as_ref()
            .is_some_and(|p| matches!(p.probe, Probe::Opening | Probe::Sent | Probe::Pausing))
        {
            self.probe_failed();
        }
    }

    /// The upgrade did not happen: the session stays on polling, which resumes.
    fn probe_failed(&mut self) {
        self.probe_deadline = None;
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        p.probe = Probe::Failed;
        self.out.push_back(Output::CloseProbe);
        self.next_get();
    }

    /// Polling paused with nothing in flight: `5` (UPGRADE) on the probe, which becomes the
    /// transport, and what was queued goes over it.
    fn finish_upgrade(&mut self) {
        if !self.polling.as_ref().is_some_and(Polling::drained) {
            return;
        }
        let Some(p) = self.polling.take() else {
            return;
        };
        self.probe_deadline = None;
        self.out.push_back(Output::SendProbe("5".into()));
        self.out.push_back(Output::UpgradeProbe);
        self.transport = Some(Transport::WebSocket);
        for packet in p.queue {
            self.out.push_back(match packet {
                Queued::Text(frame) => Output::Send(frame),
                Queued::Bytes(bytes) => Output::SendBinary(bytes),
                Queued::Parts(token) => Output::SendAttachments(token),
            });
        }
        self.report_state();
    }

    // ---- internals -------------------------------------------------------------------------

    fn touch(&mut self, now: u64) {
        if let Some(ms) = self.heartbeat_ms {
            self.heartbeat_deadline = Some(now.saturating_add(ms));
        }
    }

    fn start_attempt(&mut self, now: u64) {
        self.retry_at = None;
        if !self.online {
            self.phase = Phase::Offline;
            return self.report_state();
        }
        self.phase = Phase::Opening;
        self.connect_deadline = Some(now.saturating_add(self.cfg.connect_timeout_ms));
        if std::mem::take(&mut self.advance) {
            if self.cfg.ask_url {
                self.asking_url = true;
                self.out.push_back(Output::NeedUrl);
                return self.report_state();
            }
            self.url_at = (self.url_at + 1) % (1 + self.cfg.failover.len());
            self.current_url = match self.url_at {
                0 => self.cfg.url.clone(),
                i => self.cfg.failover[i - 1].clone(),
            };
        }
        self.transport_at = 0;
        self.open_transport();
    }

    /// The URL for this attempt, from the `url` function ([`Output::NeedUrl`]), or why the
    /// function gave none. One that is not a server URL, or none, fails the attempt
    /// (`INVALID_ARGUMENT`), which is retried with backoff.
    pub fn provide_url(&mut self, now: u64, url: Result<&str, &str>) {
        if !std::mem::take(&mut self.asking_url) || self.phase != Phase::Opening {
            return;
        }
        let checked = url
            .map_err(|why| Error::new(ErrorCode::InvalidArgument, ["`url`: ", why].concat()))
            .and_then(|u| super::protocol::check_url(u).map(|()| u));
        match checked {
            Ok(url) => {
                self.current_url = url.to_owned();
                self.transport_at = 0;
                self.open_transport();
            }
            Err(e) => self.fail_attempt_no_close(now, e),
        }
    }

    /// Opens this attempt's transport (`transports[transport_at]`) to the current URL.
    fn open_transport(&mut self) {
        self.phase = Phase::Opening;
        let polling = self.cfg.transports.get(self.transport_at) == Some(&Transport::Polling)
            && self.cfg.protocol != Protocol::Json;
        if polling {
            // A new session: whatever the last one left (a failed WebSocket, requests, an auth
            // call under way) is let go, as `OpenTransport` does for a WebSocket.
            self.out.push_back(Output::CloseTransport);
            let id = self.next_fetch;
            self.next_fetch += 1;
            self.polling = Some(Polling::new(id));
            let url = socketio::engine_url(&self.current_url, self.engine_path(), true, None);
            let body = None;
            self.out.push_back(Output::Fetch { id, url, body });
            self.transport = Some(Transport::Polling);
        } else {
            let url = self.cfg.protocol.url(&self.current_url);
            self.out.push_back(Output::OpenTransport(url));
            self.transport = Some(Transport::WebSocket);
        }
        self.report_state();
    }

    /// The Engine.IO path (Socket.IO).
    fn engine_path(&self) -> &str {
        match &self.cfg.protocol {
            Protocol::SocketIo { path, .. } => path,
            Protocol::Json => "",
        }
    }

    /// The polling URL of this session.
    fn polling_url(&self) -> String {
        let sid = self.polling.as_ref().and_then(|p| p.sid.as_deref());
        socketio::engine_url(&self.current_url, self.engine_path(), true, sid)
    }

    /// A transport that could not open gives way to the next one listed, in this attempt (it
    /// then has its own connect timeout). Returns whether there was one.
    fn fall_back(&mut self, now: u64) -> bool {
        let opening = matches!(self.phase, Phase::Opening | Phase::Handshake);
        if !opening || self.transport_at + 1 >= self.cfg.transports.len() {
            return false;
        }
        self.transport_at += 1;
        self.connect_deadline = Some(now.saturating_add(self.cfg.connect_timeout_ms));
        self.open_transport();
        true
    }

    /// The connection was lost after working: report, then retry (at the next URL) like
    /// socket.io-client does.
    fn lost(&mut self, now: u64, e: Error) {
        self.advance = true;
        self.error = Some(e.clone());
        self.report(e);
        self.phase = Phase::Waiting;
        self.schedule_retry(now);
    }

    fn reset_session_timers(&mut self) {
        self.heartbeat_deadline = None;
        self.heartbeat_ms = None;
        self.next_ping = None;
        self.connect_deadline = None;
        self.binary = None;
        self.transport = None;
        self.asking_url = false;
        if let Some(p) = self.polling.take() {
            if matches!(p.probe, Probe::Opening | Probe::Sent | Probe::Pausing) {
                self.out.push_back(Output::CloseProbe);
            }
            for q in p.queue {
                if let Queued::Parts(token) = q {
                    self.out.push_back(Output::DropAttachments(token));
                }
            }
        }
        self.probe_deadline = None;
    }

    /// When open, tells the server this session ends (Socket.IO: the namespace DISCONNECT,
    /// which it does not keep for recovery). Returns whether it was open.
    fn leave_session(&mut self) -> bool {
        if self.phase != Phase::Open {
            return false;
        }
        if let Protocol::SocketIo { namespace, .. } = &self.cfg.protocol {
            let frame = socketio::encode_disconnect(namespace);
            self.send(frame);
        }
        true
    }

    fn leave_transport(&mut self) {
        // Over polling, what is ready goes in a last POST with the CLOSE packet, so the server
        // ends the session now rather than at its ping timeout (binary parts not handed over
        // yet are dropped, and what follows them).
        let last = self.polling.as_mut().filter(|p| p.sid.is_some()).map(|p| {
            let ready = p
                .queue
                .iter()
                .position(|q| matches!(q, Queued::Parts(_)))
                .unwrap_or(p.queue.len());
            let mut packets: Vec<Queued> = p.queue.drain(..ready).collect();
            packets.push(Queued::Text("1".into()));
            transport::join_payload(packets)
        });
        let url = last.as_ref().map(|_| self.polling_url());
        self.reset_session_timers();
        self.out.push_back(Output::CloseTransport);
        if let (Some(body), Some(url)) = (last, url) {
            let body = Some(body);
            self.out.push_back(Output::Fetch { id: 0, url, body });
        }
    }

    fn fail_attempt(&mut self, now: u64, e: Error) {
        self.leave_transport();
        self.fail_attempt_no_close(now, e);
    }

    fn fail_attempt_no_close(&mut self, now: u64, e: Error) {
        self.reset_session_timers();
        self.advance = true;
        self.error = Some(e.clone());
        self.report(e);
        self.phase = Phase::Waiting;
        self.schedule_retry(now);
    }

    fn schedule_retry(&mut self, now: u64) {
        self.attempt += 1;
        if !self.cfg.backoff.allows(self.attempt) {
            // No attempt number `attempt` is made: the state keeps counting the ones that were.
            self.attempt -= 1;
            self.phase = Phase::Closed;
            let e = Error::new(
                ErrorCode::ReconnectFailed,
                [
                    "gave up after ",
                    &text::int(self.attempt.into()),
                    " attempts",
                ]
                .concat(),
            );
            self.error = Some(e.clone());
            self.report(e);
        } else if !self.online {
            self.phase = Phase::Offline;
        } else {
            let r = self.rng.next_f64();
            self.retry_at = Some(now.saturating_add(self.cfg.backoff.delay(self.attempt, r)));
        }
        self.report_state();
    }

    fn finish_ack(
        &mut self,
        id: u64,
        what: AckFor,
        result: Result<String, Error>,
        attachments: u32,
    ) {
        match what {
            AckFor::User => self.out.push_back(Output::Ack {
                id,
                result,
                attachments,
            }),
            AckFor::Room(sub) => {
                if self.rooms.iter().any(|(r, _)| *r == sub) {
                    self.out.push_back(Output::Subscribed { id: sub, result })
                }
            }
        }
    }

    fn take_ack(&mut self, id: u64) -> Option<PendingAck> {
        let at = self.acks.iter().position(|a| a.id == id)?;
        Some(self.acks.remove(at))
    }

    fn on_ack(&mut self, id: u64, args: String, attachments: u32) {
        match self.take_ack(id) {
            Some(a) => self.finish_ack(id, a.what, Ok(args), attachments),
            None => self.report(Error::new(
                ErrorCode::UnknownAck,
                ["ack for unknown id ", &text::int(id)].concat(),
            )),
        }
    }

    fn on_connected(&mut self, now: u64, sid: Option<String>, pid: Option<String>) {
        let recovered = self.asked_recovery
            && pid.is_some()
            && pid == self.pid
            && sid.is_some()
            && sid == self.sid;
        if !recovered {
            self.offset = None;
        }
        self.sid = sid;
        self.pid = pid;
        self.asked_recovery = false;
        self.recovered = recovered;
        self.resync = self.opened_before && !recovered;
        self.opened_before = true;
        self.phase = Phase::Open;
        self.connect_deadline = None;
        self.attempt = 0;
        self.error = None;
        self.report_state();
        let leaves = std::mem::take(&mut self.pending_leaves);
        if recovered {
            for f in leaves {
                self.send(f);
            }
        } else {
            let ids: Vec<SubId> = self.rooms.iter().map(|(id, _)| *id).collect();
            for id in ids {
                self.join(now, id);
            }
        }
        while let Some((f, token)) = self.buffer.pop_front() {
            self.send_attached(f, token);
        }
    }

    fn deliver(&mut self, now: u64, ev: Incoming) {
        if self.phase == Phase::Connecting && self.asked_recovery {
            // Socket.IO replays a restored session's missed events before its CONNECT, and
            // only for a session it restored: the session is recovered, and open, before any
            // handler runs (the CONNECT that follows is then taken as said already).
            let (sid, pid) = (self.sid.clone(), self.pid.clone());
            self.on_connected(now, sid, pid);
        }
        if self.phase == Phase::Open {
            self.out.push_back(Output::Event(ev));
        } else {
            let name = ev.name.clone();
            self.report(
                Error::new(
                    ErrorCode::EventBeforeConnect,
                    "event before the connection was accepted; dropped",
                )
                .with_event(name),
            );
        }
    }

    fn server_disconnect(&mut self) {
        self.leave_transport();
        self.phase = Phase::Closed;
        let e = Error::new(ErrorCode::ServerDisconnect, "the server ended the session");
        self.error = Some(e.clone());
        self.report(e);
        self.report_state();
    }

    fn connect_refused(&mut self, now: u64, raw: &str) {
        let (message, code) = match json::Kind::of(raw) {
            Kind::String => (json::unquote(raw).unwrap_or_default(), None),
            _ => {
                let fields = json::Fields::of(raw).ok();
                let msg = fields.as_ref().and_then(|f| f.string("message"));
                let code = fields
                    .and_then(|f| f.get("data"))
                    .and_then(|d| json::Fields::of(d).ok())
                    .and_then(|d| d.string("code"));
                (msg.unwrap_or_else(|| "connection refused".into()), code)
            }
        };
        let code = match code.as_deref() {
            None | Some("AUTH_REJECTED") => ErrorCode::AuthRejected,
            Some(other) => ErrorCode::Server(other.to_owned()),
        };
        self.fail_attempt(now, Error::new(code, message));
    }

    fn socketio_frame(&mut self, now: u64, frame: &str) -> Result<(), DecodeError> {
        match socketio::decode_engine(frame)? {
            socketio::EnginePacket::Open(hs) => {
                if self.phase == Phase::Handshake {
                    if self.polling.is_some() {
                        self.polling_opened(now, &hs.sid, hs.upgrade, hs.max_payload);
                    }
                    self.max_payload = Some(hs.max_payload);
                    self.heartbeat_ms = Some(hs.ping_interval.saturating_add(hs.ping_timeout));
                    self.touch(now);
                    self.phase = Phase::Auth;
                    self.out.push_back(Output::NeedAuth);
                }
            }
            socketio::EnginePacket::Ping => self.send("3".into()),
            socketio::EnginePacket::Close => {
                // First, so that a transport opened next (a fallback) is not closed with it.
                self.out.push_back(Output::CloseTransport);
                self.transport_closed(now, 1000, "engine close");
            }
            socketio::EnginePacket::Pong
            | socketio::EnginePacket::Noop
            | socketio::EnginePacket::Upgrade => {}
            socketio::EnginePacket::Message(msg) => {
                self.binary_cut_short();
                let p = socketio::decode_packet_with(msg, Some(&self.cfg.schemas))?;
                if !matches!(&self.cfg.protocol, Protocol::SocketIo { namespace, .. } if p.nsp == namespace)
                {
                    // Another namespace multiplexed on this socket (its attachments pass by).
                    if matches!(
                        p.kind,
                        socketio::PacketType::BinaryEvent | socketio::PacketType::BinaryAck
                    ) {
                        self.await_binary(now, Awaiting::Elsewhere, p.attachments);
                    }
                    return Ok(());
                }
                use socketio::PacketType as T;
                match p.kind {
                    T::Connect if self.phase == Phase::Connecting => {
                        let fields = json::Fields::of(p.data.unwrap_or("{}")).ok();
                        let field = |k| fields.as_ref().and_then(|f| f.string(k));
                        let (sid, pid) = (field("sid"), field("pid"));
                        self.on_connected(now, sid, pid);
                    }
                    T::Connect => {}
                    T::ConnectError => self.connect_refused(now, p.data.unwrap_or("{}")),
                    T::Disconnect => self.server_disconnect(),
                    T::Event => {
                        let strip = self.pid.is_some();
                        // The data runs to the end of the frame. Where the arguments sit lets
                        // the glue parse them from the JS string it already has.
                        let data_at = frame.len() - p.data.map_or(0, str::len);
                        let parts = p.event.ok_or(DecodeError::InvalidPayload("empty event"))?;
                        let (ev, offset) =
                            socketio::event_from_parts(parts, p.id, strip, Some((frame, data_at)))?;
                        if offset.is_some() {
                            self.offset = offset;
                        }
                        self.deliver(now, ev);
                    }
                    T::Ack => {
                        let data = p.data.unwrap_or("[]");
                        self.on_ack(p.id.unwrap_or(0), data.to_owned(), 0);
                    }
                    T::BinaryEvent => {
                        let strip = self.pid.is_some();
                        let parts = p.event.ok_or(DecodeError::InvalidPayload("empty event"))?;
                        let (ev, offset) = socketio::event_from_parts(parts, p.id, strip, None)?;
                        self.await_binary(now, Awaiting::Event(ev, offset), p.attachments);
                    }
                    T::BinaryAck => {
                        let data = p.data.unwrap_or("[]").to_owned();
                        self.await_binary(
                            now,
                            Awaiting::Ack(p.id.unwrap_or(0), data),
                            p.attachments,
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn json_frame(&mut self, now: u64, frame: &str) -> Result<(), DecodeError> {
        match jsonp::decode(frame)? {
            jsonp::Frame::Connected { sid } if self.phase == Phase::Connecting => {
                self.on_connected(now, sid, None)
            }
            jsonp::Frame::Connected { .. } => {}
            jsonp::Frame::ConnectError(raw) => self.connect_refused(now, &raw),
            jsonp::Frame::Event(ev) => self.deliver(now, ev),
            jsonp::Frame::Ack { id, args } => self.on_ack(id, args, 0),
            jsonp::Frame::Ping => self.send(jsonp::PONG.to_owned()),
            jsonp::Frame::Pong => {}
            jsonp::Frame::Disconnect => self.server_disconnect(),
        }
        Ok(())
    }
}

/// `INVALID_ARGUMENT`: binary payloads over the JSON protocol, which has no binary packets.
pub fn binary_needs_socketio(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        "binary payloads need the Socket.IO protocol",
    )
    .with_event(what)
}

fn room_args(room: &Room) -> String {
    match &room.params {
        Some(p) => ["[", p, "]"].concat(),
        None => "[]".into(),
    }
}

/// `PAYLOAD_INVALID` unless `args` (an ack's arguments) is a JSON array.
pub fn check_ack_args(args: &str) -> Result<(), Error> {
    json::array_elements(args).map(drop).map_err(|e| {
        Error::new(
            ErrorCode::PayloadInvalid,
            ["ack arguments are not a JSON array: ", &e.text()].concat(),
        )
    })
}

/// `PAYLOAD_INVALID` unless a room's `params` are JSON.
pub fn check_params(channel: &str, params: Option<&str>) -> Result<(), Error> {
    match params.map(json::validate) {
        Some(Err(e)) => Err(Error::new(
            ErrorCode::PayloadInvalid,
            ["subscribe params are not JSON: ", &e.text()].concat(),
        )
        .with_event(channel)),
        _ => Ok(()),
    }
}

/// The CONNECT payload: the auth object with `pid` and `offset` added for a recovery attempt.
fn merge_auth(auth: Option<&str>, recovery: Option<(&str, Option<&str>)>) -> Option<String> {
    let Some((pid, offset)) = recovery else {
        return auth.map(str::to_owned);
    };
    let mut out = String::from("{\"pid\":");
    json::quote_into(pid, &mut out);
    if let Some(off) = offset {
        out.push_str(",\"offset\":");
        json::quote_into(off, &mut out);
    }
    if let Some(rest) = auth
        .map(|a| a.trim()[1..].trim_start())
        .filter(|r| !r.starts_with('}'))
    {
        out.push(',');
        out.push_str(rest);
    } else {
        out.push('}');
    }
    Some(out)
}

fn preview(frame: &str) -> String {
    let mut end = frame.len().min(80);
    while !frame.is_char_boundary(end) {
        end -= 1;
    }
    if end < frame.len() {
        [&frame[..end], "…"].concat()
    } else {
        frame.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_fields_are_merged_into_auth() {
        assert_eq!(
            merge_auth(Some(r#"{"token":"t"}"#), None).as_deref(),
            Some(r#"{"token":"t"}"#)
        );
        assert_eq!(
            merge_auth(Some(r#"{ "token":"t"}"#), Some(("p", Some("o")))).as_deref(),
            Some(r#"{"pid":"p","offset":"o","token":"t"}"#)
        );
        assert_eq!(
            merge_auth(Some("{}"), Some(("p", None))).as_deref(),
            Some(r#"{"pid":"p"}"#)
        );
        assert_eq!(
            merge_auth(None, Some(("p", None))).as_deref(),
            Some(r#"{"pid":"p"}"#)
        );
    }

    #[test]
    fn previews_cut_on_char_boundaries() {
        assert_eq!(preview("short"), "short");
        let long = "é".repeat(100);
        assert!(preview(&long).ends_with('…'));
    }
}
