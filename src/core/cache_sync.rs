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
