//! IndexedDB for the outbox and the persisted query cache: one database per outbox or cache,
//! requests and transactions awaited as promises (the browser settles them; no Rust closure
//! outlives a request), and the record formats with their schema version.

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransaction, IdbTransactionMode,
};

use crate::core::outbox::{Entry, EntryState, Message};

/// The database schema version; `upgrade` turns older versions into this one.
pub const SCHEMA_VERSION: u32 = 1;
/// The record format version written in every record (`v`).
pub const RECORD_VERSION: u32 = 1;
const ENTRIES: &str = "entries";
const QUARANTINE: &str = "quarantine";

/// Why a write failed.
#[derive(Debug)]
pub enum WriteError {
    /// `QuotaExceededError`: nothing in the transaction was stored.
    Quota,
    /// Anything else, with the browser's message.
    Other(String),
}

/// An open outbox or cache database.
#[derive(Debug)]
pub struct Store {
    db: IdbDatabase,
}

/// One change in a group commit.
#[derive(Debug)]
pub enum Op {
    /// Insert or replace this record.
    Put(JsValue),
    /// Delete the record with this id.
    Delete(String),
}

async fn request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let p = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(p).await?;
    req.result()
}

async fn complete(tx: &IdbTransaction) -> Result<(), JsValue> {
    let p = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(p).await.map(|_| ())
}

fn error_name(tx: &IdbTransaction) -> Option<String> {
    tx.error().map(|e| e.name())
}

/// Upgrade steps, one per version: never edit a step, add the next one.
fn upgrade(db: &IdbDatabase, old_version: f64) -> Result<(), JsValue> {
    if old_version < 1.0 {
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&"id".into());
        db.create_object_store_with_optional_parameters(ENTRIES, &params)?;
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(QUARANTINE, &params)?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating or upgrading) the database `name`. `Err` with the reason when
    /// IndexedDB is missing, refused or blocked: the caller then runs in memory.
    pub async fn open(name: &str) -> Result<Store, String> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or("IndexedDB is not available")?;
        let req = factory
            .open_with_u32(name, SCHEMA_VERSION)
            .map_err(|e| describe(&e))?;
        let on_upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new({
            let req = req.clone();
            move |e: web_sys::IdbVersionChangeEvent| {
                if let Ok(db) = req.result().and_then(|d| d.dyn_into::<IdbDatabase>()) {
                    if let Err(err) = upgrade(&db, e.old_version()) {
                        web_sys::console::error_2(&"wiresync: outbox upgrade failed".into(), &err);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let p = Promise::new(&mut |resolve, reject| {
            req.set_onsuccess(Some(&resolve));
            req.set_onerror(Some(&reject));
            req.set_onblocked(Some(&reject));
        });
        let opened = JsFuture::from(p).await;
        req.set_onupgradeneeded(None);
        drop(on_upgrade);
        opened.map_err(|_| {
            req.error()
                .ok()
                .flatten()
                .map_or("IndexedDB open was blocked".into(), |e| {
                    [e.name(), ": ".into(), e.message()].concat()
                })
        })?;
        let db: IdbDatabase = req.result().map_err(|e| describe(&e))?.unchecked_into();
        Ok(Store { db })
    }

    /// Every stored record.
    pub async fn load(&self) -> Result<Vec<JsValue>, String> {
        let tx = self
            .db
            .transaction_with_str(ENTRIES)
            .map_err(|e| describe(&e))?;
        let store = tx.object_store(ENTRIES).map_err(|e| describe(&e))?;
        let all = request(&store.get_all().map_err(|e| describe(&e))?)
            .await
            .map_err(|e| describe(&e))?;
        Ok(Array::from(&all).to_vec())
    }

    /// Applies all ops in one transaction (group commit). All or nothing.
    pub async fn apply(&self, ops: &[Op]) -> Result<(), WriteError> {
        let other = |e: JsValue| WriteError::Other(describe(&e));
        let tx = self
            .db
            .transaction_with_str_and_mode(ENTRIES, IdbTransactionMode::Readwrite)
            .map_err(other)?;
        let store = tx.object_store(ENTRIES).map_err(other)?;
        for op in ops {
            let r = match op {
                Op::Put(record) => store.put(record),
                Op::Delete(id) => store.delete(&id.into()),
            };
            if let Err(e) = r {
                let _ = tx.abort();
                return Err(if is_quota(&e) {
                    WriteError::Quota
                } else {
                    WriteError::Other(describe(&e))
                });
            }
        }
        match complete(&tx).await {
            Ok(()) => Ok(()),
            Err(e) => match error_name(&tx) {
                Some(n) if n == "QuotaExceededError" => Err(WriteError::Quota),
                Some(n) => Err(WriteError::Other(n)),
                None => Err(WriteError::Other(describe(&e))),
            },
        }
    }

    /// Moves undecodable records aside: kept in `quarantine`, removed from `entries`.
    pub async fn quarantine(&self, records: &[(JsValue, Option<String>)]) -> Result<(), String> {
        let stores = Array::of2(&ENTRIES.into(), &QUARANTINE.into());
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite)
            .map_err(|e| describe(&e))?;
        let entries = tx.object_store(ENTRIES).map_err(|e| describe(&e))?;
        let aside = tx.object_store(QUARANTINE).map_err(|e| describe(&e))?;
        for (record, id) in records {
            aside.add(record).map_err(|e| describe(&e))?;
            if let Some(id) = id {
                entries.delete(&id.into()).map_err(|e| describe(&e))?;
            }
        }
        complete(&tx).await.map_err(|e| describe(&e))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.db.close();
    }
}

fn is_quota(e: &JsValue) -> bool {
    e.dyn_ref::<web_sys::DomException>()
        .is_some_and(|d| d.name() == "QuotaExceededError")
}

fn describe(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<web_sys::DomException>() {
        return [d.name(), ": ".into(), d.message()].concat();
    }
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "IndexedDB error".into())
}

// ---- records ----------------------------------------------------------------------------

/// The field names of the records and their fixed values, made into JS strings once: a record
/// then costs the decoding of its own strings only (id, payload, ...), not of twenty names.
#[rustfmt::skip]
const NAMES: [&str; 27] = [
    "v", "id", "seq", "lane", "kind", "event", "payload", "url", "method", "headers", "body",
    "dedupeKey", "createdAt", "expiresAt", "attempts", "notBefore", "state", "failedReason",
    "lastError", "request", "pending", "inflight", "failed", "data", "at", "buster", "default",
];

thread_local! {
    static JS_NAMES: Vec<JsValue> = NAMES.iter().map(|n| JsValue::from_str(n)).collect();
}

/// `name` as a JS string: the one made once when it is in [`NAMES`] (a copy of a reference,
/// no decoding), else decoded.
fn js_name(name: &str) -> JsValue {
    match NAMES.iter().position(|n| *n == name) {
        Some(i) => JS_NAMES.with(|names| names[i].clone()),
        None => JsValue::from_str(name),
    }
}

fn set(o: &Object, k: &str, v: JsValue) {
    let _ = Reflect::set(o, &js_name(k), &v);
}

fn opt(v: &Option<String>) -> JsValue {
    v.as_ref().map_or(JsValue::UNDEFINED, |s| s.into())
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/platform/records.js")]
extern "C" {
    /// The record object from its fields in order (see `records.js`).
    #[wasm_bindgen(js_name = outboxRecord)]
    fn outbox_record(
        v: u32,
        id: &str,
        seq: f64,
        lane: &JsValue,
        kind: &JsValue,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
        d: &JsValue,
        dedupe_key: &JsValue,
        created_at: f64,
        expires_at: f64,
        attempts: u32,
        not_before: f64,
        state: &JsValue,
        failed_reason: &JsValue,
        last_error: &JsValue,
    ) -> JsValue;
}

/// The stored form of an entry. It holds the message and its delivery state, never auth.
/// `payload`: the event payload as a JS string already, when the caller has it (an enqueue
/// from JS), so it is not decoded out of wasm memory again. `parts`: the binary parts its
/// placeholders stand for, stored as they are.
pub fn to_record(e: &Entry, payload: Option<JsValue>, parts: Option<&Array>) -> JsValue {
    let u = JsValue::UNDEFINED;
    let (kind, a, b, c, d) = match &e.message {
        Message::Event {
            name,
            payload: text,
        } => (
            "event",
            name.into(),
            payload.unwrap_or_else(|| text.into()),
            u.clone(),
            parts.map_or(u.clone(), |p| p.into()),
        ),
        Message::Request {
            url,
            method,
            headers,
            body,
        } => {
            let h = Array::new();
            for (k, v) in headers {
                h.push(&Array::of2(&k.into(), &v.into()));
            }
            ("request", url.into(), method.into(), h.into(), opt(body))
        }
    };
    let (state, reason) = match &e.state {
        EntryState::Pending => ("pending", None),
        EntryState::InFlight => ("inflight", None),
        EntryState::Failed(r) => ("failed", Some(r.clone())),
    };
    outbox_record(
        RECORD_VERSION,
        &e.id,
        e.seq as f64,
        &js_name(&e.lane),
        &js_name(kind),
        &a,
        &b,
        &c,
        &d,
        &opt(&e.dedupe_key),
        e.created_at as f64,
        e.expires_at as f64,
        e.attempts,
        e.not_before as f64,
        &js_name(state),
        &opt(&reason),
        &opt(&e.last_error),
    )
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &js_name(k)).unwrap_or(JsValue::UNDEFINED)
}

fn string(o: &JsValue, k: &str) -> Result<String, String> {
    get(o, k)
        .as_string()
        .ok_or_else(|| ["`", k, "` is not a string"].concat())
}

fn opt_string(o: &JsValue, k: &str) -> Option<String> {
    get(o, k).as_string()
}

fn number(o: &JsValue, k: &str) -> Result<u64, String> {
    get(o, k)
        .as_f64()
        .filter(|n| *n >= 0.0)
        .map(|n| n as u64)
        .ok_or_else(|| ["`", k, "` is not a number"].concat())
}

/// The binary parts a stored event record holds, if any.
pub fn record_parts(o: &JsValue) -> Option<Array> {
    let bin = get(o, "bin");
    Array::is_array(&bin).then(|| bin.into())
}

/// Reads a stored record back; `Err` names what is wrong (the record is then quarantined).
pub fn from_record(o: &JsValue) -> Result<Entry, String> {
    if !o.is_object() {
        return Err("not an object".into());
    }
    match get(o, "v").as_f64() {
        Some(v) if v as u32 == RECORD_VERSION => {}
        _ => return Err("unknown record version".into()),
    }
    let message = match string(o, "kind")?.as_str() {
        "event" => Message::Event {
            name: string(o, "event")?,
            payload: string(o, "payload")?,
        },
        "request" => {
            let headers = Array::from(&get(o, "headers"))
                .iter()
                .map(|pair| {
                    let pair = Array::from(&pair);
                    Ok((
                        pair.get(0).as_string().ok_or("bad header")?,
                        pair.get(1).as_string().ok_or("bad header")?,
                    ))
                })
                .collect::<Result<Vec<_>, &str>>()?;
            Message::Request {
                url: string(o, "url")?,
                method: string(o, "method")?,
                headers,
                body: opt_string(o, "body"),
            }
        }
        other => return Err(["unknown kind ", other].concat()),
    };
    let state = match string(o, "state")?.as_str() {
        "pending" => EntryState::Pending,
        "inflight" => EntryState::InFlight,
        "failed" => EntryState::Failed(opt_string(o, "failedReason").unwrap_or_default()),
        other => return Err(["unknown state ", other].concat()),
    };
    let entry = Entry {
        id: string(o, "id")?,
        seq: number(o, "seq")?,
        lane: string(o, "lane")?,
        message,
        dedupe_key: opt_string(o, "dedupeKey"),
        created_at: number(o, "createdAt")?,
        expires_at: number(o, "expiresAt")?,
        attempts: number(o, "attempts")? as u32,
        not_before: number(o, "notBefore").unwrap_or(0),
        state,
        last_error: opt_string(o, "lastError"),
        sends: 0,
    };
    entry.check()?;
    Ok(entry)
}

/// A persisted query: `hash` (the key as canonical JSON) with its server data (JSON text),
/// when it was set (epoch ms) and the cache's buster string.
pub fn to_query_record(hash: &str, data: &str, at: u64, buster: &str) -> JsValue {
    let o = Object::new();
    set(&o, "v", RECORD_VERSION.into());
    set(&o, "id", hash.into());
    set(&o, "data", data.into());
    set(&o, "at", (at as f64).into());
    set(&o, "buster", buster.into());
    o.into()
}

/// A persisted query read back: `(hash, data, at, buster)`.
pub fn from_query_record(o: &JsValue) -> Result<(String, String, u64, String), String> {
    match get(o, "v").as_f64() {
        Some(v) if v as u32 == RECORD_VERSION => {}
        _ => return Err("unknown record version".into()),
    }
    Ok((
        string(o, "id")?,
        string(o, "data")?,
        number(o, "at")?,
        string(o, "buster")?,
    ))
}
