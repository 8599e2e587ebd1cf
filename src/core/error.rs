//! The one error type every layer reports: a stable code, a message, and the event it concerns.

use std::fmt;

/// A stable, machine-readable error code. `as_str()` is what JavaScript sees as `error.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The server's middleware refused the connection (`CONNECT_ERROR` without a `data.code`
    /// of its own, or with `data.code` `AUTH_REJECTED`).
    AuthRejected,
    /// The server refused the connection with this `data.code` of its own.
    Server(String),
    /// The auth function threw or returned something that is not an object.
    AuthFailed,
    /// No ack arrived in time.
    AckTimeout,
    /// A frame could not be decoded.
    DecodeError,
    /// A payload did not match its catalog type, or an argument was not valid JSON.
    PayloadInvalid,
    /// A frame is larger than the limit.
    FrameTooLarge,
    /// An ack arrived for an id that is not pending.
    UnknownAck,
    /// An event arrived before the namespace CONNECT was answered (and no recovery was asked).
    EventBeforeConnect,
    /// No heartbeat for `pingInterval + pingTimeout`.
    HeartbeatTimeout,
    /// Opening the transport and connecting took longer than the connect timeout.
    ConnectTimeout,
    /// The WebSocket failed or closed.
    TransportError,
    /// The server ended the session (namespace DISCONNECT); the client does not reconnect.
    ServerDisconnect,
    /// Binary attachments are not supported yet; the event was dropped.
    UnsupportedBinary,
    /// A call was made with an argument that cannot work (reserved event name, bad option).
    InvalidArgument,
    /// The client was closed by the user.
    Closed,
    /// `maxAttempts` reconnects failed; the client gave up.
    ReconnectFailed,
    /// The outbox is at capacity and its policy is `reject`.
    OutboxFull,
    /// Storage refused the write for lack of space; nothing stored was changed.
    QuotaExceeded,
    /// IndexedDB is missing or blocked; the outbox runs in memory.
    StorageUnavailable,
    /// A stored record could not be read; it was moved aside.
    StorageCorrupt,
    /// An application handler threw; the other handlers still ran.
    HandlerError,
}

impl ErrorCode {
    /// The code whose [`as_str`](Self::as_str) is `code` (a server's own code otherwise).
    pub fn parse(code: &str) -> ErrorCode {
        use ErrorCode::*;
        [
            AuthRejected,
            AuthFailed,
            AckTimeout,
            DecodeError,
            PayloadInvalid,
            FrameTooLarge,
            UnknownAck,
            EventBeforeConnect,
            HeartbeatTimeout,
            ConnectTimeout,
            TransportError,
            ServerDisconnect,
            UnsupportedBinary,
            InvalidArgument,
            Closed,
            ReconnectFailed,
            OutboxFull,
            QuotaExceeded,
            StorageUnavailable,
            StorageCorrupt,
            HandlerError,
        ]
        .into_iter()
        .find(|c| c.as_str() == code)
        .unwrap_or_else(|| Server(code.into()))
    }

    /// The code as JavaScript sees it, e.g. `"ACK_TIMEOUT"`.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::AuthRejected => "AUTH_REJECTED",
            ErrorCode::Server(code) => code,
            ErrorCode::AuthFailed => "AUTH_FAILED",
            ErrorCode::AckTimeout => "ACK_TIMEOUT",
            ErrorCode::DecodeError => "DECODE_ERROR",
            ErrorCode::PayloadInvalid => "PAYLOAD_INVALID",
            ErrorCode::FrameTooLarge => "FRAME_TOO_LARGE",
            ErrorCode::UnknownAck => "UNKNOWN_ACK",
            ErrorCode::EventBeforeConnect => "EVENT_BEFORE_CONNECT",
            ErrorCode::HeartbeatTimeout => "HEARTBEAT_TIMEOUT",
            ErrorCode::ConnectTimeout => "CONNECT_TIMEOUT",
            ErrorCode::TransportError => "TRANSPORT_ERROR",
            ErrorCode::ServerDisconnect => "SERVER_DISCONNECT",
            ErrorCode::UnsupportedBinary => "UNSUPPORTED_BINARY",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::ReconnectFailed => "RECONNECT_FAILED",
            ErrorCode::OutboxFull => "OUTBOX_FULL",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::StorageUnavailable => "STORAGE_UNAVAILABLE",
            ErrorCode::StorageCorrupt => "STORAGE_CORRUPT",
            ErrorCode::HandlerError => "HANDLER_ERROR",
        }
    }
}

/// An error with its code, a human message and, when it concerns one, the event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of error.
    pub code: ErrorCode,
    /// Human-readable detail. Never contains auth data.
    pub message: String,
    /// The event it concerns, if any.
    pub event: Option<String>,
}

impl Error {
    /// An error without an event.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            event: None,
        }
    }

    /// The same error, about `event`.
    pub fn with_event(mut self, event: impl Into<String>) -> Error {
        self.event = Some(event.into());
        self
    }
}

impl Error {
    /// `CODE (event): message`, or `CODE: message` (built without `core::fmt`).
    pub fn text(&self) -> String {
        match &self.event {
            Some(ev) => [self.code.as_str(), " (", ev, "): ", &self.message].concat(),
            None => [self.code.as_str(), ": ", &self.message].concat(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
