//! One connection for every tab of an app (`shareAcrossTabs`), sans-IO: the messages the tabs
//! of a group exchange, the leader's [`Hub`] (rooms as the union over tabs, acks relayed to the
//! tab that asked, which tab an event is for) and each tab's own [`Member`] side (its rooms,
//! its pending requests and their deadlines, the group as the leader last told it, when the
//! leader has gone quiet).
//!
//! The driver holds a Web Lock per group (the tab holding it is the leader and owns the
//! [`Connection`]), one per tab (held while the tab lives, so the leader learns when a follower
//! is gone), and a BroadcastChannel that carries [`Msg`]s as JSON text.
//!
//! ```
//! use wiresync::core::share::{Msg, Room};
//!
//! let join = Msg::Join { tab: "t1".into(), sub: 3, room: Room::new("order", Some(r#"{"orderId":"1"}"#), true) };
//! assert_eq!(Msg::decode(&join.encode()), Ok(join));
//! assert!(Msg::decode("[\"from a newer build\"]").is_err());
//! ```

pub use super::connection::Room;
use super::connection::{Attachments, Connection, State, Status, SubId};
use super::error::{Error, ErrorCode};
use super::json;
use super::text;

/// The tab protocol's version, part of the name of every group's channel and locks and of the
/// cache's tab channel: tabs of builds that speak another version (old tabs after a deploy)
/// never form one group nor read each other's cache messages. (The outbox's lock and its
/// "the store changed" pings stay shared: one tab flushes a store, whatever its release.)
/// A build may set it with the `WIRESYNC_TAB_PROTOCOL` environment variable (the tests build a
/// second one).
pub const TAB_PROTOCOL: &str = match option_env!("WIRESYNC_TAB_PROTOCOL") {
    Some(v) => v,
    None => "1",
};

/// A follower that heard nothing from the leader for this long asks it (ms).
pub const PROBE_AFTER_MS: u64 = 2_000;
/// A leader that does not answer a probe within this is taken to be frozen or hung, and its
/// lock is taken over (ms).
pub const PROBE_GRACE_MS: u64 = 3_000;

/// The name of a group's BroadcastChannel and leader lock: per tab protocol, server URL,
/// namespace and identity. Tabs of one origin with the same name share one connection.
pub fn group_name(url: &str, namespace: &str, identity: &str) -> String {
    let mut out = String::from("wiresync-share:");
    for (i, part) in [TAB_PROTOCOL, url, namespace, identity].iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(part);
    }
    out
}

/// How the group handles rooms: one per channel and params (see [`Room::new`]), and which
/// events each claims.
impl Room {
    /// A room. Params that are JSON are kept in canonical form (object keys sorted), so that
    /// `{"a":1,"b":2}` and `{"b":2,"a":1}` are one room.
    pub fn new(channel: &str, params: Option<&str>, ack: bool) -> Room {
        let canonical = |p: &str| super::query_key::Value::parse(p).map_or(p.into(), |v| v.hash());
        Room {
            channel: channel.into(),
            params: params.map(canonical),
            ack,
        }
    }

    fn same(&self, other: &Room) -> bool {
        self.channel == other.channel && self.params == other.params && self.ack == other.ack
    }

    /// Whether event `name` with payload `first` (its fields, raw JSON) is this room's: the
    /// event is named `<channel>:…`, the room's params are an object with at least one field,
    /// and the payload holds every one of them with the same value. Room `order`
    /// `{"orderId":"1"}` claims `order:status_update` `{"orderId":"1","status":"late"}`.
    pub fn claims(&self, name: &str, first: &[(&str, &str)]) -> bool {
        let Some(params) = self.params.as_deref() else {
            return false;
        };
        let named = name
            .strip_prefix(self.channel.as_str())
            .is_some_and(|rest| rest.starts_with(':'));
        if !named {
            return false;
        }
        let Ok(wanted) = json::object_entries_raw(params) else {
            return false;
        };
        !wanted.is_empty()
            && wanted.iter().all(|(k, v)| {
                first.iter().any(|(pk, pv)| {
                    json::key_is(pk, &json::unquote(k).unwrap_or_default())
                        && json::same_scalar(v, pv)
                })
            })
    }
}

/// The connection's session as the leader last had it: what a new leader offers the server
/// to recover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Engine/namespace session id.
    pub sid: String,
    /// Socket.IO's private session id.
    pub pid: String,
    /// The offset of the last event received.
    pub offset: Option<String>,
}

/// A room of the group and the tabs holding it (`(tab, its own subscription id)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The room.
    pub room: Room,
    /// Who holds it.
    pub holders: Vec<(String, u64)>,
}

/// What the leader tells the group about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The leader's tab id.
    pub leader: String,
    /// The shared connection's state.
    pub state: State,
    /// Every tab of the group, the leader first.
    pub tabs: Vec<String>,
    /// The session to recover, when there is one.
    pub session: Option<Session>,
    /// The rooms joined for the group.
    pub rooms: Vec<Held>,
}

/// A message between the tabs of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// To the leader: a tab is here, with all of its rooms (on joining, and to each new leader).
    Hello {
        /// The tab.
        tab: String,
        /// Its rooms by its own ids.
        rooms: Vec<(u64, Room)>,
    },
    /// To the leader: join a room.
    Join {
        /// The tab.
        tab: String,
        /// The tab's id for it.
        sub: u64,
        /// The room.
        room: Room,
    },
    /// To the leader: leave a room.
    Leave {
        /// The tab.
        tab: String,
        /// The tab's id for it.
        sub: u64,
    },
    /// To the leader: emit; with `req` > 0, tell the tab the ack (`Done`).
    Emit {
        /// The tab.
        tab: String,
        /// The tab's request id; 0 when no ack is wanted.
        req: u64,
        /// Event name.
        name: String,
        /// Raw JSON array of arguments.
        args: String,
        /// Ack timeout (ms), `None` for the default.
        timeout: Option<u64>,
    },
    /// To the leader: the answer to the server's ack request `id` (the first one wins).
    Answer {
        /// The server's ack id.
        id: u64,
        /// Raw JSON array.
        args: String,
    },
    /// To the leader: reconnect now; with `Some`, with these credentials (raw JSON object, or
    /// `None` for none) from then on.
    Reconnect {
        /// New credentials, if any.
        auth: Option<Option<String>>,
    },
    /// To the leader: the tab leaves the group.
    Bye {
        /// The tab.
        tab: String,
    },
    /// To the leader: are you there? (answered with `State`)
    Ping,
    /// From the leader: the group.
    State(Group),
    /// From the leader: an event, for `to` (every tab when empty).
    Event {
        /// The leader that sent it (a tab that lost the lead while frozen may still send).
        from: String,
        /// The tabs it is for; empty: all.
        to: Vec<String>,
        /// Event name.
        name: String,
        /// Raw JSON array of arguments.
        args: String,
        /// The server's ack id, when it asked for one.
        ack: Option<u64>,
        /// Its recovery offset.
        offset: Option<String>,
    },
    /// From the leader: request `req` of `tab` completed (an ack, a room joined).
    Done {
        /// The tab.
        tab: String,
        /// Its request or subscription id.
        req: u64,
        /// Raw JSON array of the ack's arguments, or the error.
        result: Result<String, Error>,
    },
}

/// Writes a message: a JSON array, commas put in as values are added.
struct W(String);

impl W {
    fn sep(&mut self) {
        if !self.0.ends_with('[') {
            self.0.push(',');
        }
    }
    fn s(&mut self, v: &str) -> &mut W {
        self.sep();
        json::quote_into(v, &mut self.0);
        self
    }
    fn raw(&mut self, v: &str) -> &mut W {
        self.sep();
        self.0.push_str(v);
        self
    }
    fn int(&mut self, v: u64) -> &mut W {
        self.raw(&text::int(v))
    }
    fn opt_int(&mut self, v: Option<u64>) -> &mut W {
        match v {
            Some(v) => self.int(v),
            None => self.raw("null"),
        }
    }
    fn opt_s(&mut self, v: Option<&str>) -> &mut W {
        match v {
            Some(v) => self.s(v),
            None => self.raw("null"),
        }
    }
    fn opt_raw(&mut self, v: Option<&str>) -> &mut W {
        self.raw(v.unwrap_or("null"))
    }
    fn b(&mut self, v: bool) -> &mut W {
        self.raw(if v { "true" } else { "false" })
    }
    fn open(&mut self) -> &mut W {
        self.sep();
        self.0.push('[');
        self
    }
    fn close(&mut self) -> &mut W {
        self.0.push(']');
        self
    }
    fn room(&mut self, r: &Room) -> &mut W {
        self.s(&r.channel).opt_raw(r.params.as_deref()).b(r.ack)
    }
    fn error(&mut self, e: &Error) -> &mut W {
        self.open()
            .s(e.code.as_str())
            .s(&e.message)
            .opt_s(e.event.as_deref())
            .close()
    }
    fn strings(&mut self, items: &[String]) -> &mut W {
        self.open();
        for t in items {
            self.s(t);
        }
        self.close()
    }
}

/// Reads the elements of one message (all of them raw JSON); `None` for anything amiss.
struct Reader<'a>(Vec<&'a str>);

fn elements(raw: &str) -> Option<Reader<'_>> {
    json::array_elements(raw).ok().map(Reader)
}

impl<'a> Reader<'a> {
    fn raw(&self, i: usize) -> Option<&'a str> {
        self.0.get(i).copied()
    }
    fn string(&self, i: usize) -> Option<String> {
        json::unquote(self.raw(i)?).ok()
    }
    /// `null` is `Some(None)`.
    fn opt_string(&self, i: usize) -> Option<Option<String>> {
        match self.raw(i)? {
            "null" => Some(None),
            _ => self.string(i).map(Some),
        }
    }
    fn int(&self, i: usize) -> Option<u64> {
        json::as_u64(self.raw(i)?)
    }
    fn opt_int(&self, i: usize) -> Option<Option<u64>> {
        match self.raw(i)? {
            "null" => Some(None),
            r => json::as_u64(r).map(Some),
        }
    }
    fn bool(&self, i: usize) -> Option<bool> {
        match self.raw(i)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    /// A raw JSON array (arguments).
    fn array(&self, i: usize) -> Option<&'a str> {
        self.raw(i).filter(|a| a.starts_with('['))
    }
    fn opt_raw(&self, i: usize) -> Option<Option<String>> {
        self.raw(i).map(|r| (r != "null").then(|| r.to_owned()))
    }
    fn list(&self, i: usize) -> Option<Vec<Reader<'a>>> {
        json::array_elements(self.array(i)?)
            .ok()?
            .into_iter()
            .map(elements)
            .collect()
    }
    fn strings(&self, i: usize) -> Option<Vec<String>> {
        json::array_elements(self.array(i)?)
            .ok()?
            .into_iter()
            .map(|x| json::unquote(x).ok())
            .collect()
    }
    fn room(&self, at: usize) -> Option<Room> {
        Some(Room {
            channel: self.string(at)?,
            params: self.opt_raw(at + 1)?,
            ack: self.bool(at + 2)?,
        })
    }
    fn error(&self, i: usize) -> Option<Error> {
        let e = elements(self.array(i)?)?;
        Some(Error {
            code: ErrorCode::parse(&e.string(0)?),
            message: e.string(1)?,
            event: e.opt_string(2)?,
        })
    }
    fn holders(&self, i: usize) -> Option<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for h in self.list(i)? {
            out.push((h.string(0)?, h.int(1)?));
        }
        Some(out)
    }
}

impl Msg {
    /// The message as JSON text (an array whose first element names it).
    pub fn encode(&self) -> String {
        let mut w = W(String::from("["));
        match self {
            Msg::Hello { tab, rooms } => {
                w.s("hello").s(tab).open();
                for (sub, r) in rooms {
                    w.open().int(*sub).room(r).close();
                }
                w.close();
            }
            Msg::Join { tab, sub, room } => {
                w.s("join").s(tab).int(*sub).room(room);
            }
            Msg::Leave { tab, sub } => {
                w.s("leave").s(tab).int(*sub);
            }
            Msg::Emit {
                tab,
                req,
                name,
                args,
                timeout,
            } => {
                w.s("emit")
                    .s(tab)
                    .int(*req)
                    .s(name)
                    .raw(args)
                    .opt_int(*timeout);
            }
            Msg::Answer { id, args } => {
                w.s("answer").int(*id).raw(args);
            }
            Msg::Reconnect { auth } => {
                w.s("reconnect");
                if let Some(a) = auth {
                    w.opt_raw(a.as_deref());
                }
            }
            Msg::Bye { tab } => {
                w.s("bye").s(tab);
            }
            Msg::Ping => {
                w.s("ping");
            }
            Msg::State(g) => {
                let st = &g.state;
                let session = g.session.as_ref();
                w.s("state")
                    .s(&g.leader)
                    .s(st.status.as_str())
                    .int(st.attempt as u64);
                match &st.error {
                    Some(e) => w.error(e),
                    None => w.raw("null"),
                };
                w.b(st.recovered)
                    .b(st.resync)
                    .strings(&g.tabs)
                    .opt_s(session.map(|x| x.sid.as_str()))
                    .opt_s(session.map(|x| x.pid.as_str()))
                    .opt_s(session.and_then(|x| x.offset.as_deref()))
                    .open();
                for h in &g.rooms {
                    w.open().room(&h.room).open();
                    for (t, sub) in &h.holders {
                        w.open().s(t).int(*sub).close();
                    }
                    w.close().close();
                }
                w.close().s(&st.url).opt_s(st.transport.map(|t| t.as_str()));
            }
            Msg::Event {
                from,
                to,
                name,
                args,
                ack,
                offset,
            } => {
                w.s("event")
                    .s(from)
                    .strings(to)
                    .s(name)
                    .raw(args)
                    .opt_int(*ack)
                    .opt_s(offset.as_deref());
            }
            Msg::Done { tab, req, result } => {
                w.s("done").s(tab).int(*req).b(result.is_ok());
                match result {
                    Ok(args) => w.raw(args),
                    Err(e) => w.error(e),
                };
            }
        }
        w.close();
        w.0
    }

    /// Reads a message; a `DECODE_ERROR` for one that cannot be read (a message of another
    /// build or app, or a damaged one). Never panics.
    pub fn decode(text: &str) -> Result<Msg, Error> {
        Self::read(text).ok_or_else(|| {
            Error::new(
                ErrorCode::DecodeError,
                "a message from another tab could not be read (another build?): ignored",
            )
        })
    }

    fn read(text: &str) -> Option<Msg> {
        let r = elements(text)?;
        Some(match r.string(0)?.as_str() {
            "hello" => {
                let mut rooms = Vec::new();
                for x in r.list(2)? {
                    rooms.push((x.int(0)?, x.room(1)?));
                }
                Msg::Hello {
                    tab: r.string(1)?,
                    rooms,
                }
            }
            "join" => Msg::Join {
                tab: r.string(1)?,
                sub: r.int(2)?,
                room: r.room(3)?,
            },
            "leave" => Msg::Leave {
                tab: r.string(1)?,
                sub: r.int(2)?,
            },
            "emit" => Msg::Emit {
                tab: r.string(1)?,
                req: r.int(2)?,
                name: r.string(3)?,
                args: r.array(4)?.into(),
                timeout: r.opt_int(5)?,
            },
            "answer" => Msg::Answer {
                id: r.int(1)?,
                args: r.array(2)?.into(),
            },
            "reconnect" => Msg::Reconnect {
                auth: match r.0.len() {
                    1 => None,
                    _ => Some(r.opt_raw(1)?),
                },
            },
            "bye" => Msg::Bye { tab: r.string(1)? },
            "ping" => Msg::Ping,
            "state" => {
                let session = match (r.opt_string(8)?, r.opt_string(9)?) {
                    (Some(sid), Some(pid)) => Some(Session {
                        sid,
                        pid,
                        offset: r.opt_string(10)?,
                    }),
                    _ => None,
                };
                let mut rooms = Vec::new();
                for x in r.list(11)? {
                    rooms.push(Held {
                        room: x.room(0)?,
                        holders: x.holders(3)?,
                    });
                }
                Msg::State(Group {
                    leader: r.string(1)?,
                    state: State {
                        status: Status::parse(&r.string(2)?)?,
                        attempt: r.int(3)? as u32,
                        error: match r.raw(4)? {
                            "null" => None,
                            _ => Some(r.error(4)?),
                        },
                        recovered: r.bool(5)?,
                        resync: r.bool(6)?,
                        shared: None,
                        // Absent from an older release's message: unknown.
                        url: r.string(12).unwrap_or_default(),
                        transport: r
                            .string(13)
                            .and_then(|t| crate::core::transport::Transport::parse(&t)),
                    },
                    tabs: r.strings(7)?,
                    session,
                    rooms,
                })
            }
            "event" => Msg::Event {
                from: r.string(1)?,
                to: r.strings(2)?,
                name: r.string(3)?,
                args: r.array(4)?.into(),
                ack: r.opt_int(5)?,
                offset: r.opt_string(6)?,
            },
            "done" => Msg::Done {
                tab: r.string(1)?,
                req: r.int(2)?,
                result: match r.bool(3)? {
                    true => Ok(r.array(4)?.into()),
                    false => Err(r.error(4)?),
                },
            },
            _ => return None,
        })
    }
}

// ---- the leader ---------------------------------------------------------------------------

#[derive(Debug)]
struct HubRoom {
    id: SubId,
    room: Room,
    holders: Vec<(String, u64)>,
    /// The join's ack arguments once the server acked it (this session).
    ready: Option<String>,
    /// Holders whose join waits for that ack.
    waiting: Vec<(String, u64)>,
}

/// The leader's side of a group: what it does for the tabs with its [`Connection`]. Every
/// method takes the connection and queues messages to send; drain them with [`Hub::poll`]
/// (the driver posts them, or handles those meant for its own tab).
#[derive(Debug)]
pub struct Hub {
    me: String,
    tabs: Vec<String>,
    rooms: Vec<HubRoom>,
    /// Acks asked for other tabs: (the connection's ack id, tab, its request id).
    relayed: Vec<(u64, String, u64)>,
    /// Server ack requests not answered yet.
    asked: Vec<u64>,
    out: Vec<Msg>,
}

impl Hub {
    /// The hub of a new leader `me`. With `before` (the group as the previous leader told
    /// it), its rooms are taken over without joining them again (the session is recovered;
    /// if it is not, the connection re-joins them) and the previous leader's own are left.
    pub fn new(me: &str, before: Option<&Group>, conn: &mut Connection, now: u64) -> Hub {
        let mut hub = Hub {
            me: me.into(),
            tabs: vec![me.into()],
            rooms: Vec::new(),
            relayed: Vec::new(),
            asked: Vec::new(),
            out: Vec::new(),
        };
        if let Some(g) = before {
            for t in &g.tabs {
                if *t != g.leader && !hub.tabs.contains(t) {
                    hub.tabs.push(t.clone());
                }
            }
            for h in &g.rooms {
                let Ok(id) =
                    conn.subscribe(now, &h.room.channel, h.room.params.as_deref(), h.room.ack)
                else {
                    continue;
                };
                let holders: Vec<_> = h
                    .holders
                    .iter()
                    .filter(|(t, _)| *t != g.leader)
                    .cloned()
                    .collect();
                if holders.is_empty() {
                    // Joined for the previous leader only: left (sent if the session recovers).
                    conn.unsubscribe(now, id);
                    continue;
                }
                hub.rooms.push(HubRoom {
                    id,
                    room: h.room.clone(),
                    holders,
                    ready: Some("[]".into()),
                    waiting: Vec::new(),
                });
            }
        }
        hub
    }

    /// The messages to send, in order.
    pub fn poll(&mut self) -> Vec<Msg> {
        std::mem::take(&mut self.out)
    }

    /// Every tab of the group, this one first.
    pub fn tabs(&self) -> &[String] {
        &self.tabs
    }

    /// What the group is told: the connection's state, tabs, session and rooms.
    pub fn group(&self, conn: &Connection) -> Group {
        Group {
            leader: self.me.clone(),
            state: conn.state(),
            tabs: self.tabs.clone(),
            session: conn.session(),
            rooms: self
                .rooms
                .iter()
                .map(|r| Held {
                    room: r.room.clone(),
                    holders: r.holders.clone(),
                })
                .collect(),
        }
    }

    fn tell(&mut self, conn: &Connection) {
        let g = self.group(conn);
        self.out.push(Msg::State(g));
    }

    /// Handles a message from a tab (or from this tab's own calls). Returns a tab new to the
    /// group, for the driver to watch (its lock).
    pub fn handle(&mut self, conn: &mut Connection, now: u64, msg: Msg) -> Option<String> {
        let mut new_tab = None;
        match msg {
            Msg::Hello { tab, rooms } => {
                if !self.tabs.contains(&tab) {
                    self.tabs.push(tab.clone());
                    new_tab = Some(tab.clone());
                }
                // The tab's rooms are exactly these: what it no longer holds is left.
                let stale: Vec<u64> = self
                    .rooms
                    .iter()
                    .flat_map(|r| r.holders.iter())
                    .filter(|(t, s)| *t == tab && !rooms.iter().any(|(x, _)| x == s))
                    .map(|(_, s)| *s)
                    .collect();
                for sub in stale {
                    self.leave(conn, now, &tab, sub);
                }
                for (sub, room) in rooms {
                    self.join(conn, now, &tab, sub, room);
                }
                self.tell(conn);
            }
            Msg::Join { tab, sub, room } => {
                if !self.tabs.contains(&tab) {
                    // Its Hello went to the previous leader.
                    self.tabs.push(tab.clone());
                    new_tab = Some(tab.clone());
                }
                self.join(conn, now, &tab, sub, room);
                self.tell(conn);
            }
            Msg::Leave { tab, sub } => {
                self.leave(conn, now, &tab, sub);
                self.tell(conn);
            }
            m @ (Msg::Emit { .. } | Msg::Answer { .. }) => {
                self.send(conn, now, &m, None);
            }
            Msg::Bye { tab } => self.gone(conn, now, &tab),
            Msg::Ping => self.tell(conn),
            // Reconnect is the driver's (auth); State, Event and Done are the followers'.
            _ => {}
        }
        new_tab
    }

    /// Sends a tab's `Emit` or `Answer` on the connection, with its binary parts (`bin`, which
    /// the driver keeps) if it has any. An emit's ack is relayed to the tab when it comes, a
    /// failure at once; an answer goes only if it is the first to the server's request.
    /// Returns whether the connection took it (if not, the driver lets go of the parts).
    pub fn send(
        &mut self,
        conn: &mut Connection,
        now: u64,
        msg: &Msg,
        bin: Option<Attachments>,
    ) -> bool {
        match msg {
            Msg::Emit {
                tab,
                req,
                name,
                args,
                timeout,
            } => {
                let ack = (*req != 0).then_some(*timeout);
                let sent = match bin {
                    Some(bin) => conn.emit_attached(now, name, args, bin, ack),
                    None if *req == 0 => conn.emit(now, name, args).map(|()| None),
                    None => conn.emit_with_ack(now, name, args, *timeout).map(Some),
                };
                match sent {
                    Ok(id) => {
                        if let Some(id) = id {
                            self.relayed.push((id, tab.clone(), *req));
                        }
                        true
                    }
                    Err(e) => {
                        if *req != 0 {
                            self.out.push(Msg::Done {
                                tab: tab.clone(),
                                req: *req,
                                result: Err(e),
                            });
                        }
                        false
                    }
                }
            }
            Msg::Answer { id, args } => match self.asked.iter().position(|a| a == id) {
                Some(at) => {
                    self.asked.remove(at);
                    conn.ack_attached(now, *id, args, bin).is_ok()
                }
                None => false,
            },
            _ => false,
        }
    }

    fn join(&mut self, conn: &mut Connection, now: u64, tab: &str, sub: u64, room: Room) {
        let holder = (tab.to_owned(), sub);
        if let Some(r) = self.rooms.iter_mut().find(|r| r.room.same(&room)) {
            if r.holders.contains(&holder) {
                // Again (to a new leader): its answer may have been lost with the old one.
                if let Some(args) = &r.ready {
                    self.out.push(Msg::Done {
                        tab: holder.0,
                        req: sub,
                        result: Ok(args.clone()),
                    });
                }
                return;
            }
            r.holders.push(holder.clone());
            match &r.ready {
                Some(args) => self.out.push(Msg::Done {
                    tab: holder.0,
                    req: sub,
                    result: Ok(args.clone()),
                }),
                None => r.waiting.push(holder),
            }
            return;
        }
        match conn.subscribe(now, &room.channel, room.params.as_deref(), room.ack) {
            Ok(id) => self.rooms.push(HubRoom {
                id,
                room,
                holders: vec![holder.clone()],
                ready: None,
                waiting: vec![holder],
            }),
            Err(e) => self.out.push(Msg::Done {
                tab: holder.0,
                req: sub,
                result: Err(e),
            }),
        }
    }

    fn leave(&mut self, conn: &mut Connection, now: u64, tab: &str, sub: u64) {
        let holder = (tab.to_owned(), sub);
        for r in &mut self.rooms {
            r.holders.retain(|h| *h != holder);
            r.waiting.retain(|h| *h != holder);
        }
        while let Some(at) = self.rooms.iter().position(|r| r.holders.is_empty()) {
            let r = self.rooms.remove(at);
            conn.unsubscribe(now, r.id);
        }
    }

    /// A tab left or died: its rooms are left where no other tab holds them, and the acks
    /// asked for it are dropped.
    pub fn gone(&mut self, conn: &mut Connection, now: u64, tab: &str) {
        self.tabs.retain(|t| t != tab);
        let subs: Vec<u64> = self
            .rooms
            .iter()
            .flat_map(|r| r.holders.iter())
            .filter(|(t, _)| t == tab)
            .map(|(_, s)| *s)
            .collect();
        for sub in subs {
            self.leave(conn, now, tab, sub);
        }
        self.relayed.retain(|(_, t, _)| t != tab);
        self.tell(conn);
    }

    /// The connection finished a room join ([`Output::Subscribed`](super::connection::Output)):
    /// the tabs waiting for it are told. False when the id is not a group room's.
    pub fn subscribed(&mut self, id: SubId, result: &Result<String, Error>) -> bool {
        let Some(r) = self.rooms.iter_mut().find(|r| r.id == id) else {
            return false;
        };
        r.ready = result.as_ref().ok().cloned();
        for (tab, req) in std::mem::take(&mut r.waiting) {
            self.out.push(Msg::Done {
                tab,
                req,
                result: result.clone(),
            });
        }
        true
    }

    /// The connection's ack `id` came (or failed): the tab that asked is told. False when
    /// it was this tab's own.
    pub fn acked(&mut self, id: u64, result: &Result<String, Error>) -> bool {
        let Some(at) = self.relayed.iter().position(|(a, _, _)| *a == id) else {
            return false;
        };
        let (_, tab, req) = self.relayed.remove(at);
        self.out.push(Msg::Done {
            tab,
            req,
            result: result.clone(),
        });
        true
    }

    /// The message that carries an incoming event to the group: to the tabs whose rooms claim
    /// it ([`Room::claims`]), or to every tab when no room of the group does. An ack the
    /// server asked for is then answered by the first tab that answers.
    pub fn event(
        &mut self,
        conn: &Connection,
        name: &str,
        args: &str,
        first: Option<&str>,
        ack: Option<u64>,
    ) -> Msg {
        let mut to: Vec<String> = Vec::new();
        let fields = first
            .filter(|_| self.rooms.iter().any(|r| r.room.params.is_some()))
            .and_then(|f| json::object_entries_raw(f).ok());
        if let Some(fields) = fields {
            for r in &self.rooms {
                if r.room.claims(name, &fields) {
                    for (t, _) in &r.holders {
                        if !to.contains(t) {
                            to.push(t.clone());
                        }
                    }
                }
            }
        }
        if let Some(id) = ack {
            self.asked.push(id);
        }
        Msg::Event {
            from: self.me.clone(),
            to,
            name: name.into(),
            args: args.into(),
            ack,
            offset: conn.session().and_then(|s| s.offset),
        }
    }
}

// ---- every tab ----------------------------------------------------------------------------

/// What a tab must do after a message or a timeout ([`Member::receive`], [`Member::timeout`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing.
    None,
    /// The group's state changed as this tab sees it: tell the state listeners.
    State,
    /// A new leader: send it `Hello` (the state changed too).
    NewLeader,
    /// Deliver this event here.
    Deliver,
    /// Complete request `req` (an ack or a room join) with this.
    Complete(u64, Result<String, Error>),
    /// Probe the leader: send `Ping`.
    Probe,
    /// The leader did not answer: take its lock over.
    TakeOver,
}

/// One tab's own side of a group: its id, rooms and pending requests, and the group as the
/// leader last told it.
#[derive(Debug, Clone)]
pub struct Member {
    me: String,
    next: u64,
    rooms: Vec<(u64, Room)>,
    pending: Vec<(u64, u64)>,
    group: Option<Group>,
    offset: Option<String>,
    heard: u64,
    probed: Option<u64>,
}

impl Member {
    /// A tab `me` (a random id, unique among the tabs).
    pub fn new(me: &str, now: u64) -> Member {
        Member {
            me: me.into(),
            next: 1,
            rooms: Vec::new(),
            pending: Vec::new(),
            group: None,
            offset: None,
            heard: now,
            probed: None,
        }
    }

    /// Takes over `old`'s rooms and ids (the tab moved to another group): the new group's
    /// leader hears of them with this tab's `Hello`.
    pub fn carry(&mut self, old: Member) {
        self.next = self.next.max(old.next);
        self.rooms = old.rooms;
    }

    /// This tab's id.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Whether a leader has told this tab of the group (since it joined or last reset).
    pub fn knows_leader(&self) -> bool {
        self.group.is_some()
    }

    /// The group as the leader last told it, with the latest offset seen since.
    pub fn group(&self) -> Option<Group> {
        let mut g = self.group.clone()?;
        if let (Some(s), Some(o)) = (g.session.as_mut(), &self.offset) {
            s.offset = Some(o.clone());
        }
        Some(g)
    }

    /// Forgets the group (a new one is joined).
    pub fn reset(&mut self, now: u64) {
        self.group = None;
        self.offset = None;
        self.heard = now;
        self.probed = None;
    }

    /// `Hello` for the leader: this tab and its rooms.
    pub fn hello(&self) -> Msg {
        Msg::Hello {
            tab: self.me.clone(),
            rooms: self.rooms.clone(),
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        id
    }

    /// Joins a room: its id here, and the message for the leader.
    pub fn join(&mut self, room: Room) -> (u64, Msg) {
        let sub = self.id();
        self.rooms.push((sub, room.clone()));
        let tab = self.me.clone();
        (sub, Msg::Join { tab, sub, room })
    }

    /// Leaves a room; `None` when it was not joined.
    pub fn leave(&mut self, sub: u64) -> Option<Msg> {
        let at = self.rooms.iter().position(|(s, _)| *s == sub)?;
        self.rooms.remove(at);
        self.pending.retain(|(r, _)| *r != sub);
        Some(Msg::Leave {
            tab: self.me.clone(),
            sub,
        })
    }

    /// Emits through the leader; with `ack` (`Some(timeout)`, `None` inside for
    /// `default_timeout`), the request id the answer will carry, which fails with
    /// `ACK_TIMEOUT` here when it does not come in time.
    pub fn emit(
        &mut self,
        now: u64,
        name: &str,
        args: &str,
        ack: Option<Option<u64>>,
        default_timeout: u64,
    ) -> (u64, Msg) {
        let req = match ack {
            Some(t) => {
                let req = self.id();
                let ms = t.unwrap_or(default_timeout);
                self.pending.push((req, now.saturating_add(ms)));
                req
            }
            None => 0,
        };
        let msg = Msg::Emit {
            tab: self.me.clone(),
            req,
            name: name.into(),
            args: args.into(),
            timeout: ack.flatten(),
        };
        (req, msg)
    }

    /// Waits for a room join's answer until `now + timeout` (when joining with an ack).
    pub fn expect(&mut self, now: u64, sub: u64, timeout: u64) {
        self.pending.push((sub, now.saturating_add(timeout)));
    }

    /// Handles a message as this tab, which follows (`leading`: false) or leads.
    pub fn receive(&mut self, now: u64, msg: &Msg, leading: bool) -> Step {
        match msg {
            Msg::State(g) if !leading => {
                self.heard = now;
                self.probed = None;
                let was = self.group.replace(g.clone());
                if let Some(s) = &g.session {
                    self.offset = s.offset.clone();
                }
                match was {
                    Some(w) if w.leader == g.leader => {
                        if w.state != g.state || w.tabs.len() != g.tabs.len() {
                            Step::State
                        } else {
                            Step::None
                        }
                    }
                    _ => Step::NewLeader,
                }
            }
            Msg::Event {
                from, to, offset, ..
            } if !leading => {
                if self.group.as_ref().is_some_and(|g| g.leader != *from) {
                    return Step::None; // from a tab that lost the lead while it was frozen
                }
                self.heard = now;
                if offset.is_some() {
                    self.offset = offset.clone();
                }
                if to.is_empty() || to.contains(&self.me) {
                    Step::Deliver
                } else {
                    Step::None
                }
            }
            Msg::Done { tab, req, result } if *tab == self.me => {
                self.heard = now;
                match self.pending.iter().position(|(r, _)| r == req) {
                    Some(at) => {
                        self.pending.remove(at);
                        Step::Complete(*req, result.clone())
                    }
                    // A room join without an ack wait, or one already timed out.
                    None if self.rooms.iter().any(|(s, _)| s == req) => {
                        Step::Complete(*req, result.clone())
                    }
                    None => Step::None,
                }
            }
            _ => Step::None,
        }
    }

    /// This tab's grace for a probe: [`PROBE_GRACE_MS`] and up to a second more, drawn from its
    /// id, so that the tabs of a group do not all take a quiet leader's lock over at once (the
    /// first to lead tells the others, who then wait for it).
    fn grace(&self) -> u64 {
        let spread = self
            .me
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        PROBE_GRACE_MS + spread % 1000
    }

    /// When [`timeout`](Self::timeout) must next be called; `following`: whether a leader is
    /// to be watched.
    pub fn poll_timeout(&self, following: bool) -> Option<u64> {
        let watch = following.then(|| match self.probed {
            Some(at) => at.saturating_add(self.grace()),
            None => self.heard.saturating_add(PROBE_AFTER_MS),
        });
        self.pending.iter().map(|(_, d)| *d).chain(watch).min()
    }

    /// Requests whose time is up fail with `ACK_TIMEOUT`; a quiet leader is probed, and one
    /// that does not answer is taken over.
    pub fn timeout(&mut self, now: u64, following: bool) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].1 <= now {
                let (req, _) = self.pending.remove(i);
                let e = Error::new(ErrorCode::AckTimeout, "no ack from the server in time");
                steps.push(Step::Complete(req, Err(e)));
            } else {
                i += 1;
            }
        }
        if following {
            match self.probed {
                Some(at) if now >= at.saturating_add(self.grace()) => {
                    self.probed = None;
                    self.heard = now;
                    steps.push(Step::TakeOver);
                }
                None if now >= self.heard.saturating_add(PROBE_AFTER_MS) => {
                    self.probed = Some(now);
                    steps.push(Step::Probe);
                }
                _ => {}
            }
        }
        steps
    }

    /// This tab's rooms, by its ids.
    pub fn rooms(&self) -> &[(u64, Room)] {
        &self.rooms
    }
}
