//! The typed event catalog of our users' domains (order tracking, support chat, feeds,
//! leaderboards, carts, wallets and investments, notifications, presence), taken from the apps'
//! own event names and payloads.
//!
//! Each payload is a plain Rust struct (serde, camelCase on the wire) and carries a static
//! [`Schema`]. The same schema validates incoming payloads at
//! runtime (a mismatch goes to the error hook with the event name and the reason, never to the
//! typed handler) and generates `catalog.d.ts`, so Rust and TypeScript agree.
//!
//! ```
//! use wiresync::events::{Event, OrderStatusUpdate};
//! assert_eq!(OrderStatusUpdate::NAME, "order:status_update");
//! let raw = r#"{"orderId":"ord_1","status":"preparing","message":"Cooking","timestamp":"2026-11-23T10:00:00Z"}"#;
//! assert!(wiresync::events::validate_incoming("order:status_update", raw).is_ok());
//! assert!(wiresync::events::validate_incoming("order:status_update", r#"{"orderId":1}"#).is_err());
//! ```

use crate::core::schema::{self, Schema, Type};

/// Declares a payload struct (serde, the wire names given) and its [`Schema`], as the
/// catalog's are declared. Fields: `rust_name "wireName": Type`, where `Type` is `String`, a
/// number, `bool`, `Option<_>`, `Vec<_>` or another such payload. Your crate needs `serde`
/// (with `derive`). With [`Event`] it is a typed event: declare it in
/// [`Options::listen`](crate::Options) / `emit` (see [`Schemas::add`](schema::Schemas::add)) and it is validated
/// both ways, as catalog events are.
///
/// ```
/// use wiresync::core::schema::Schemas;
/// use wiresync::events::Event;
///
/// wiresync::payload! {
///     /// `shipment:moved`: a parcel moved.
///     ShipmentMoved {
///         /// The parcel.
///         id "id": String,
///         /// Kilometres to go.
///         km_left "kmLeft": f64,
///         /// Depot, when at one.
///         depot "depot": Option<String>,
///     }
/// }
/// impl Event for ShipmentMoved {
///     const NAME: &'static str = "shipment:moved";
/// }
/// // Server → client: `client.on::<ShipmentMoved>(…)` takes it (`Emit` for the other way).
/// impl wiresync::events::Listen for ShipmentMoved {}
///
/// // In an app: `options.listen.add::<ShipmentMoved>()`, then `client.on::<ShipmentMoved>(…)`.
/// let mut listen = Schemas::default();
/// listen.add::<ShipmentMoved>();
/// assert!(listen.validate("shipment:moved", r#"{"id":"p1","kmLeft":2.5}"#).is_ok());
/// assert_eq!(
///     listen.validate("shipment:moved", r#"{"id":"p1","kmLeft":"far"}"#).unwrap_err(),
///     "field `kmLeft`: expected number, got string"
/// );
/// ```
#[macro_export]
macro_rules! payload {
    ($(#[doc = $doc:literal])* $name:ident {
        $( $(#[doc = $fdoc:literal])* $field:ident $json:literal : $ty:ty ),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[doc = $fdoc])* #[serde(rename = $json)] pub $field: $ty, )*
        }
        impl $crate::core::schema::Schema for $name {
            const TYPE: &'static $crate::core::schema::Type = &$crate::core::schema::Type::Object {
                // Type names, like docs, feed the generated TypeScript only.
                name: if cfg!(target_arch = "wasm32") { "" } else { stringify!($name) },
                extra: None,
                fields: &[ $( $crate::core::schema::Field {
                    name: $json,
                    ty: <$ty as $crate::core::schema::Schema>::TYPE,
                    // Docs feed the generated TypeScript only; keep them out of the wasm.
                    doc: if cfg!(target_arch = "wasm32") { "" } else { concat!($($fdoc),*) },
                } ),* ],
            };
        }
    };
}

/// Declares a string enum and its [`Schema`]: `Variant = "wire"` (for fields of a
/// [`payload!`](crate::payload)).
#[macro_export]
macro_rules! one_of {
    ($(#[doc = $doc:literal])* $name:ident { $( $variant:ident = $json:literal ),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( #[doc = concat!("`\"", $json, "\"`")] #[serde(rename = $json)] $variant, )*
        }
        impl $crate::core::schema::Schema for $name {
            const TYPE: &'static $crate::core::schema::Type = &$crate::core::schema::Type::OneOf {
                name: if cfg!(target_arch = "wasm32") { "" } else { stringify!($name) },
                values: &[$($json),*],
            };
        }
    };
}

mod chat;
mod commerce;
mod finance;
mod notify;
mod order;
mod social;

pub use chat::*;
pub use commerce::*;
pub use finance::*;
pub use notify::*;
pub use order::*;
pub use social::*;

/// A typed event: a payload type with its wire name (the catalog's, or an app's own declared
/// with [`payload!`](crate::payload)). Which way it goes is a second trait: [`Listen`] (server
/// → client, what `Client::on` takes) or [`Emit`] (client → server, what `emit`, the outbox
/// and `emit_with_ack` take).
pub trait Event: Schema + serde::de::DeserializeOwned + serde::Serialize {
    /// The event name on the wire, e.g. `"order:status_update"`.
    const NAME: &'static str;
}

/// A server → client event: one `Client::on` can listen to.
///
/// ```
/// use wiresync::events::{Listen, OrderStatusUpdate};
/// fn listens<E: Listen>() -> &'static str { E::NAME }
/// assert_eq!(listens::<OrderStatusUpdate>(), "order:status_update");
/// ```
///
/// A client → server event is not one, so listening to it does not compile:
///
/// ```compile_fail,E0277
/// use wiresync::events::{ChatSendMessage, Listen};
/// fn listens<E: Listen>() -> &'static str { E::NAME }
/// listens::<ChatSendMessage>();
/// ```
pub trait Listen: Event {}

/// A client → server event: one `Client::emit`, `emit_with_ack` and the outbox can send.
///
/// ```compile_fail,E0277
/// use wiresync::events::{Emit, OrderStatusUpdate};
/// fn emits<E: Emit>() -> &'static str { E::NAME }
/// emits::<OrderStatusUpdate>();
/// ```
pub trait Emit: Event {}

/// A room: its join parameters as a payload type, and its channel. `Client::subscribe` sends
/// `subscribe:<CHANNEL>` with the parameters, again after every reconnect that did not recover
/// the session, and `unsubscribe:<CHANNEL>` when its guard drops.
///
/// ```
/// use wiresync::events::{OrderRoom, Room};
/// assert_eq!(OrderRoom::CHANNEL, "order");
/// let params = OrderRoom { order_id: "ord_1".into() };
/// # let _ = params;
/// ```
pub trait Room: Schema + serde::Serialize {
    /// The channel, e.g. `"order"` for `subscribe:order`.
    const CHANNEL: &'static str;
    /// Whether the join waits for the server's ack (`ready` resolves on it). Default `true`.
    const ACK: bool = true;
}

impl schema::Schemas {
    /// Declares `E`'s payload type for `E::NAME` (replacing the catalog's, if it has one).
    pub fn add<E: Event>(&mut self) -> &mut Self {
        self.declare(E::NAME, Some(E::TYPE));
        self
    }
}

/// Binds payload types to event names, both directions, and builds the lookup tables.
macro_rules! catalog {
    (listen { $($lty:ident => $lname:literal,)* } emit { $($ety:ident => $ename:literal,)* }) => {
        $( impl Event for $lty { const NAME: &'static str = $lname; } impl Listen for $lty {} )*
        $( impl Event for $ety { const NAME: &'static str = $ename; } impl Emit for $ety {} )*

        /// The schema of a server → client catalog event.
        pub fn listen_schema(name: &str) -> Option<&'static Type> {
            match name { $( $lname => Some(<$lty as Schema>::TYPE), )* _ => None }
        }

        /// The schema of a client → server catalog event.
        pub fn emit_schema(name: &str) -> Option<&'static Type> {
            match name { $( $ename => Some(<$ety as Schema>::TYPE), )* _ => None }
        }

        /// Every server → client event: `(name, type)`.
        pub const LISTEN: &[(&str, &Type)] = &[ $( ($lname, <$lty as Schema>::TYPE), )* ];
        /// Every client → server event: `(name, type)`.
        pub const EMIT: &[(&str, &Type)] = &[ $( ($ename, <$ety as Schema>::TYPE), )* ];
    };
}

catalog! {
    listen {
        OrderStatusUpdate => "order:status_update",
        OrderLocationUpdate => "order:location_update",
        OrderEtaUpdate => "order:eta_update",
        ChatMessage => "chat:message",
        ChatTyping => "chat:typing",
        ChatRead => "chat:read",
        ChatAgentStatus => "chat:agent_status",
        FeedNewPost => "feed:new_post",
        FeedPostLiked => "feed:post_liked",
        FeedPostCommented => "feed:post_commented",
        FeedUserFollowed => "feed:user_followed",
        LeaderboardUpdate => "leaderboard:update",
        LeaderboardRankChange => "leaderboard:rank_change",
        LeaderboardAchievement => "leaderboard:achievement",
        CartSync => "cart:sync",
        CartItemReserved => "cart:item_reserved",
        CartItemReleased => "cart:item_released",
        WalletBalanceUpdated => "wallet:balance_updated",
        InvestmentCreated => "investment:created",
        InvestmentConfirmed => "investment:confirmed",
        TransactionStatusChanged => "transaction:status_changed",
        PropertyFundingUpdated => "property:funding_updated",
        PropertyStatusChanged => "property:status_changed",
        RewardDistributed => "reward:distributed",
        NotificationNew => "notification:new",
        PortfolioUpdated => "portfolio:updated",
        UserOnline => "user:online",
        UserOffline => "user:offline",
    }
    emit {
        ChatSendMessage => "chat:send_message",
        ChatTypingInput => "chat:typing",
        ChatReadInput => "chat:read",
        NotificationRead => "notification:read",
        PresenceUpdate => "presence:update",
    }
}

/// Validates a server → client payload (raw JSON) if `name` is a catalog event.
/// `Ok` for events outside the catalog.
pub fn validate_incoming(name: &str, raw: &str) -> Result<(), String> {
    listen_schema(name).map_or(Ok(()), |ty| schema::validate(ty, raw))
}

/// Validates a client → server payload (raw JSON) if `name` is a catalog emit.
pub fn validate_outgoing(name: &str, raw: &str) -> Result<(), String> {
    emit_schema(name).map_or(Ok(()), |ty| schema::validate(ty, raw))
}

/// The TypeScript declarations of the whole catalog (what `pkg-template/catalog.d.ts` holds).
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from the Rust catalog (src/events) by `cargo test --test catalog`.\n\
         // Do not edit: change the Rust structs and regenerate with WIRESYNC_BLESS=1.\n\n",
    );
    let (mut seen, mut types) = (Vec::new(), Vec::new());
    for (_, ty) in LISTEN.iter().chain(EMIT) {
        schema::named_types(ty, &mut seen, &mut types);
    }
    for ty in types {
        if let Some(decl) = schema::ts_decl(ty, "") {
            out.push_str(&decl);
            out.push('\n');
        }
    }
    for (title, doc, list) in [
        (
            "CatalogListenEvents",
            "Server → client catalog events: event name → payload.",
            LISTEN,
        ),
        (
            "CatalogEmitEvents",
            "Client → server catalog events: event name → payload.",
            EMIT,
        ),
    ] {
        out.push_str(&format!("/** {doc} */\nexport interface {title} {{\n"));
        for (name, ty) in list {
            out.push_str(&format!(
                "  {}: {};\n",
                crate::core::json::quote(name),
                schema::ts_ref(ty)
            ));
        }
        out.push_str("}\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
