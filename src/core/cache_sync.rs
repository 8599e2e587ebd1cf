//! What one tab tells the others about its query cache (over a BroadcastChannel): patches with
//! their data and invalidations with their filters. Plain JSON text, so any tab (and any build
//! of the same schema) can read it; anything it cannot read is ignored.
//!
//! ```
//! use wiresync::core::cache_sync::SyncMessage;
//!
//! let text = SyncMessage::Set { key: r#"["cart"]"#.into(), data: r#"{"items":2}"#.into() }.encode();
//! assert!(matches!(SyncMessage::decode(&text), Some(SyncMessage::Set { data, .. }) if data == r#"{"items":2}"#));
//! assert!(SyncMessage::decode("from some other app").is_none());
//! ```

use super::json::Fields;
use super::query_cache::{Filters, QueryType, RefetchType};
use super::query_key::Value;

/// One message between tabs.
#[derive(Debug, Clone)]
pub enum SyncMessage {
    /// `setQueryData(key, data)`: the key as its hash (canonical JSON), the data as JSON text.
    Set {
        /// `hashKey(key)`.
        key: String,
        /// Raw JSON.
        data: String,
    },
    /// `invalidateQueries(filters)` with its `refetchType`.
    Invalidate(Filters, RefetchType),
}

fn kind_code(k: QueryType) -> &'static str {
    match k {
        QueryType::All => "all",
        QueryType::Active => "active",
        QueryType::Inactive => "inactive",
    }
}

fn refetch_code(r: RefetchType) -> &'static str {
    match r {
        RefetchType::Active => "active",
        RefetchType::Inactive => "inactive",
        RefetchType::All => "all",
        RefetchType::None => "none",
    }
}

impl SyncMessage {
    /// The message as JSON text.
    pub fn encode(&self) -> String {
        match self {
            SyncMessage::Set { key, data } => {
                [r#"{"t":"set","k":"#, key, r#","d":"#, data, "}"].concat()
            }
            SyncMessage::Invalidate(f, r) => {
                let key = f.query_key.as_ref().map_or("null".into(), Value::hash);
                let stale = f.stale.map_or("null", |s| if s { "true" } else { "false" });
                [
                    r#"{"t":"invalidate","k":"#,
                    &key,
                    r#","e":"#,
                    if f.exact { "true" } else { "false" },
                    r#","y":""#,
                    kind_code(f.kind),
                    r#"","s":"#,
                    stale,
                    r#","r":""#,
                    refetch_code(*r),
                    r#""}"#,
                ]
                .concat()
            }
        }
    }

    /// Reads a message; `None` for anything malformed or unknown.
    pub fn decode(text: &str) -> Option<SyncMessage> {
        let f = Fields::of(text).ok()?;
        match f.string("t")?.as_str() {
            "set" => {
                let key = Value::parse(f.get("k")?).ok()?;
                let data = f.get("d")?.trim().to_owned();
                matches!(key, Value::Arr(_)).then(|| SyncMessage::Set {
                    key: key.hash(),
                    data,
                })
            }
            "invalidate" => {
                let query_key = match f.get("k")?.trim() {
                    "null" => None,
                    raw => match Value::parse(raw).ok()? {
                        k @ Value::Arr(_) => Some(k),
                        _ => return None,
                    },
                };
                let kind = match f.string("y")?.as_str() {
                    "all" => QueryType::All,
                    "active" => QueryType::Active,
                    "inactive" => QueryType::Inactive,
                    _ => return None,
                };
                let refetch = match f.string("r")?.as_str() {
                    "active" => RefetchType::Active,
                    "inactive" => RefetchType::Inactive,
                    "all" => RefetchType::All,
                    "none" => RefetchType::None,
                    _ => return None,
                };
                let stale = match f.get("s")?.trim() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                };
                let filters = Filters {
                    query_key,
                    exact: f.get("e")?.trim() == "true",
                    kind,
                    stale,
                };
                Some(SyncMessage::Invalidate(filters, refetch))
            }
            _ => None,
        }
    }
}

/// Whether other tabs listen, as far as this one knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peers {
    Unknown,
    Absent,
    Present,
}

const HELLO: &str = r#"{"t":"hello"}"#;
const HERE: &str = r#"{"t":"here"}"#;
/// How long a new tab waits for an answer before it stops queueing for the others.
pub const HELLO_WAIT_MS: u64 = 2_000;
/// At most this many changes wait for an answer or a post.
const MAX_QUEUED: usize = 10_000;

/// The protocol between the tabs of one cache, without the channel: a new tab says hello, the
/// tabs there answer "here". Until one answers (or for [`HELLO_WAIT_MS`]) changes are queued;
/// with nobody there, nothing is encoded or posted, so a single tab pays nothing. Changes go
/// out batched: the driver posts [`TabLink::take_batch`] once per task.
#[derive(Debug)]
pub struct TabLink {
    peers: Peers,
    queued: Vec<String>,
    hello_deadline: Option<u64>,
}

impl TabLink {
    /// A link just opened at `now`: returns it and the hello to post.
    pub fn open(now: u64) -> (TabLink, &'static str) {
        let link = TabLink {
            peers: Peers::Unknown,
            queued: Vec::new(),
            hello_deadline: Some(now.saturating_add(HELLO_WAIT_MS)),
        };
        (link, HELLO)
    }

    /// When [`TabLink::handle_timeout`] is due: the end of the wait for an answer.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.hello_deadline
    }

    /// Nobody answered in time: this tab is alone, and stops queueing.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.hello_deadline.is_some_and(|d| now >= d) {
            self.hello_deadline = None;
            if self.peers == Peers::Unknown {
                self.peers = Peers::Absent;
                self.queued.clear();
            }
        }
    }

    /// Whether another tab may hear a change (so it is worth encoding).
    pub fn others_listen(&self) -> bool {
        self.peers != Peers::Absent
    }

    /// Queues a change for the other tabs (dropped when nobody listens or the queue is full).
    pub fn tell(&mut self, message: &SyncMessage) {
        if self.others_listen() && self.queued.len() < MAX_QUEUED {
            self.queued.push(message.encode());
        }
    }

    /// What to post now, as one JSON array: the changes queued, once another tab is there.
    pub fn take_batch(&mut self) -> Option<String> {
        if self.peers != Peers::Present || self.queued.is_empty() {
            return None;
        }
        let batch = std::mem::take(&mut self.queued);
        Some(["[", &batch.join(","), "]"].concat())
    }

    /// A message from another tab: `apply` gets each change it carries (to make here, telling
    /// nobody else; anything unreadable is skipped). Returns the answer to post, if any.
    pub fn received(
        &mut self,
        text: &str,
        mut apply: impl FnMut(SyncMessage),
    ) -> Option<&'static str> {
        match text {
            HELLO => {
                // A tab that opened just now has its own state (storage, server): changes
                // queued from before it came are not replayed to it.
                if self.peers != Peers::Present {
                    self.queued.clear();
                }
                self.present();
                Some(HERE)
            }
            // A tab that was there when this one opened: what changed since goes to it.
            HERE => {
                self.present();
                None
            }
            _ => {
                for m in super::json::array_elements(text).unwrap_or_default() {
                    if let Some(m) = SyncMessage::decode(m) {
                        apply(m);
                    }
                }
                None
            }
        }
    }

    fn present(&mut self) {
        self.peers = Peers::Present;
        self.hello_deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> Value {
        Value::parse(raw).unwrap()
    }

    #[test]
    fn set_round_trips_with_the_data_untouched() {
        let m = SyncMessage::Set {
            key: key(r#"["order", {"b": 1, "a": 2}]"#).hash(),
            data: r#"{"z":1,"a":[true,null]}"#.into(),
        };
        let Some(SyncMessage::Set { key, data }) = SyncMessage::decode(&m.encode()) else {
            panic!("no round trip");
        };
        assert_eq!(
            (key.as_str(), data.as_str()),
            (r#"["order",{"a":2,"b":1}]"#, r#"{"z":1,"a":[true,null]}"#)
        );
    }

    #[test]
    fn invalidations_round_trip_with_every_filter() {
        for (k, exact, kind, stale, refetch) in [
            (
                Some(r#"["orders"]"#),
                false,
                QueryType::All,
                None,
                RefetchType::Active,
            ),
            (
                Some(r#"["order", "1"]"#),
                true,
                QueryType::Active,
                Some(true),
                RefetchType::None,
            ),
            (
                None,
                false,
                QueryType::Inactive,
                Some(false),
                RefetchType::All,
            ),
            (None, true, QueryType::All, None, RefetchType::Inactive),
        ] {
            let f = Filters {
                query_key: k.map(key),
                exact,
                kind,
                stale,
            };
            let text = SyncMessage::Invalidate(f, refetch).encode();
            let Some(SyncMessage::Invalidate(g, r)) = SyncMessage::decode(&text) else {
                panic!("{text} did not decode");
            };
            assert_eq!(
                (g.query_key.map(|k| k.hash()), g.exact, g.kind, g.stale, r),
                (k.map(|k| key(k).hash()), exact, kind, stale, refetch)
            );
        }
    }

    fn invalidate_all() -> SyncMessage {
        SyncMessage::Invalidate(Filters::default(), RefetchType::Active)
    }

    #[test]
    fn a_tab_alone_stops_queueing_after_the_wait() {
        let (mut link, hello) = TabLink::open(1_000);
        assert_eq!(hello, HELLO);
        link.tell(&invalidate_all());
        assert!(link.take_batch().is_none(), "nobody answered yet: queued");
        assert_eq!(link.poll_timeout(), Some(1_000 + HELLO_WAIT_MS));
        link.handle_timeout(1_000 + HELLO_WAIT_MS - 1);
        assert!(link.others_listen());
        link.handle_timeout(1_000 + HELLO_WAIT_MS);
        assert!(!link.others_listen() && link.poll_timeout().is_none());
        link.tell(&invalidate_all());
        assert!(link.take_batch().is_none(), "alone: nothing kept");
        // A tab that opens later says hello: this one answers and tells it what changes next.
        assert_eq!(link.received(HELLO, |_| panic!("no change")), Some(HERE));
        link.tell(&invalidate_all());
        let batch = link.take_batch().unwrap();
        assert_eq!(crate::core::json::array_elements(&batch).unwrap().len(), 1);
        assert!(link.take_batch().is_none(), "taken once");
    }

    #[test]
    fn an_answer_sends_what_was_queued_and_changes_come_back_decoded() {
        let (mut link, _) = TabLink::open(0);
        link.tell(&invalidate_all());
        let set = SyncMessage::Set {
            key: r#"["a"]"#.into(),
            data: "1".into(),
        };
        link.tell(&set);
        assert_eq!(link.received(HERE, |_| panic!("no change")), None);
        let batch = link.take_batch().unwrap();
        let mut got = vec![];
        assert_eq!(TabLink::open(0).0.received(&batch, |m| got.push(m)), None);
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[1], SyncMessage::Set { data, .. } if data == "1"));
        // Unreadable parts are skipped, not fatal.
        link.received(r#"[{"t":"wipe"},7,"x"]"#, |_| panic!("nothing readable"));
        link.received("not json", |_| panic!("nothing readable"));
        link.handle_timeout(HELLO_WAIT_MS);
        assert!(link.others_listen(), "an answer ends the wait for good");
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"t":"set","k":"order","d":1}"#,
            r#"{"t":"set","k":["a"]}"#,
            r#"{"t":"invalidate","k":null,"e":false,"y":"sometimes","s":null,"r":"active"}"#,
            r#"{"t":"invalidate","k":{"a":1},"e":false,"y":"all","s":null,"r":"active"}"#,
            r#"{"t":"wipe"}"#,
        ] {
            assert!(SyncMessage::decode(bad).is_none(), "{bad}");
        }
    }
}
