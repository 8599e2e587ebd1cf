//! The durable outbox, sans-IO: which entry to send next, what to write to storage, when to
//! retry, when to give up. Storage, sockets and `fetch` are the driver's business.
//!
//! Time is wall-clock milliseconds (`Date.now()`): entries and their deadlines outlive the page.
//! Inputs: [`Outbox::enqueue`], [`Outbox::load`], [`Outbox::set_ready`], (a send is reported back with
//! [`Outbox::settle`]), [`Outbox::connection_lost`], [`Outbox::handle_timeout`] and the user
//! calls (`retry`, `remove`, `clear`, `flush`). Outputs: [`Outbox::poll`] after every input,
//! [`Outbox::poll_timeout`] for the next deadline.
//!
//! Guarantees: an entry is removed only when the server acknowledged it (or the user removed
//! it); it is sent in enqueue order within its lane, several at a time (the window) but never
//! past an entry of its lane that is waiting to be retried; after `max_retries` failed attempts
//! or its TTL it moves to `failed` with the reason, never silently dropped; an entry that was
//! in flight when the page died is sent again with the same id.

use std::collections::VecDeque;

use super::backoff::{Backoff, Rng};
use super::error::{Error, ErrorCode};
use super::json;

/// What happens when an enqueue would exceed the capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The oldest entry not in flight is dropped (and reported). The default.
    DropOldest,
    /// The enqueue fails with `OUTBOX_FULL`.
    Reject,
}

/// Outbox settings. Every field has its default beside it.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Entries (pending and in flight) an outbox holds. Default 100.
    pub capacity: usize,
    /// Policy when full. Default [`Overflow::DropOldest`].
    pub overflow: Overflow,
    /// Time to live of an entry from its enqueue, ms. Default 24 h.
    pub ttl_ms: u64,
    /// Failed attempts after which an entry moves to `failed`. Default 3.
    pub max_retries: u32,
    /// Entries of one lane in flight at once. Default 16. (HTTP requests: always 1.)
    pub window: usize,
    /// Delay between attempts of one entry. Default 1 s doubling to 30 s, jitter 0.5.
    pub retry: Backoff,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            capacity: 100,
            overflow: Overflow::DropOldest,
            ttl_ms: 86_400_000,
            max_retries: 3,
            window: 16,
            retry: Backoff {
                initial_delay_ms: 1000,
                max_delay_ms: 30_000,
                ..Backoff::default()
            },
        }
    }
}

/// What an entry delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A socket event: its name and payload (a raw JSON object; the id is added at send time).
    Event {
        /// Event name.
        name: String,
        /// Raw JSON object.
        payload: String,
    },
    /// An HTTP request replayed with `fetch`.
    Request {
        /// URL.
        url: String,
        /// Method, e.g. `POST`.
        method: String,
        /// Headers (never auth: attach that at send time).
        headers: Vec<(String, String)>,
        /// Body text.
        body: Option<String>,
    },
}

/// Where an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryState {
    /// Waiting to be sent (or re-sent).
    Pending,
    /// Sent, waiting for the ack.
    InFlight,
    /// Given up on; kept until retried or removed.
    Failed(String),
}

/// One queued message and its delivery bookkeeping (what storage holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Client message id (a UUID), sent with the message so the server can deduplicate.
    pub id: String,
    /// Enqueue order, increasing across reloads.
    pub seq: u64,
    /// Ordering lane. Default `"default"`.
    pub lane: String,
    /// What to deliver.
    pub message: Message,
    /// Entries with the same key coalesce while unsent.
    pub dedupe_key: Option<String>,
    /// Wall-clock enqueue time, ms.
    pub created_at: u64,
    /// Wall-clock time after which it fails as expired, ms.
    pub expires_at: u64,
    /// Attempts that failed so far.
    pub attempts: u32,
    /// Not before this wall-clock time (retry backoff), ms.
    pub not_before: u64,
    /// Where it is.
    pub state: EntryState,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Sends so far (this page only): pass it back to [`Outbox::settle`], so the answer to an
    /// older send of the same entry (say, an ack timeout from before a reconnect) is ignored.
    pub sends: u32,
}

/// What an enqueue asks for.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The id to give it (the driver makes UUIDs).
    pub id: String,
    /// What to deliver.
    pub message: Message,
    /// Lane; default `"default"`.
    pub lane: Option<String>,
    /// Coalescing key.
    pub dedupe_key: Option<String>,
    /// TTL override, ms.
    pub ttl_ms: Option<u64>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server acknowledged it: remove it.
    Delivered,
    /// Worth retrying (timeout, network error, 5xx, 408, 429, connection lost).
    Retry(String),
    /// The server refused it for good (a 4xx, a negative ack).
    Reject(String),
}

/// Counts for the status display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Waiting to be sent.
    pub pending: usize,
    /// Sent, not yet acknowledged.
    pub in_flight: usize,
    /// Given up on.
    pub failed: usize,
    /// Whether this outbox is sending now (ready and has work).
    pub processing: bool,
    /// The last failure's reason.
    pub last_error: Option<String>,
}

/// What the driver must do or report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOutput {
    /// Store this entry (insert or replace).
    Write(Entry),
    /// Delete this entry from storage.
    Delete(String),
    /// Send this entry now; report the result with [`Outbox::settle`].
    Send(Entry),
    /// Delivered and removed.
    Delivered(Entry),
    /// Moved to failed (the entry carries the reason).
    Failed(Entry),
    /// Dropped without delivery: capacity (`drop-oldest`) or coalesced by a newer entry.
    Dropped {
        /// The entry.
        entry: Entry,
        /// `"capacity"` or `"replaced"`.
        reason: &'static str,
    },
    /// The counts changed.
    Changed(Status),
}

/// The outbox state machine.
#[derive(Debug)]
pub struct Outbox {
    cfg: OutboxConfig,
    entries: VecDeque<Entry>,
    next_seq: u64,
    ready: bool,
    rng: Rng,
    last_error: Option<String>,
    out: VecDeque<OutboxOutput>,
    reported: Option<Status>,
    /// Counts and next deadline as of the last pump (every input ends with one).
    status: Status,
    next_deadline: Option<u64>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new(cfg: OutboxConfig, seed: u64) -> Outbox {
        Outbox {
            cfg,
            entries: VecDeque::new(),
            next_seq: 1,
            ready: false,
            rng: Rng::new(seed),
            last_error: None,
            out: VecDeque::new(),
            reported: None,
            status: Status::default(),
            next_deadline: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &OutboxConfig {
        &self.cfg
    }

    /// Entries in delivery order (lanes interleaved by enqueue order), failed ones included.
    pub fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// The next output. Call until `None` after every input.
    pub fn poll(&mut self) -> Option<OutboxOutput> {
        self.out.pop_front()
    }

    /// The next wall-clock time `handle_timeout` must run: an expiry or a retry.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.next_deadline
    }

    /// The counts now.
    pub fn status(&self) -> Status {
        self.status.clone()
    }

    fn changed(&mut self) {
        let s = self.status.clone();
        if self.reported.as_ref() != Some(&s) {
            self.reported = Some(s.clone());
            self.out.push_back(OutboxOutput::Changed(s));
        }
    }

    fn live(&self) -> usize {
        self.status.pending + self.status.in_flight
    }

    /// Adds an entry. The driver resolves the caller's promise once the `Write` it produces is
    /// committed. Errors: `OUTBOX_FULL` under the `reject` policy.
    pub fn enqueue(&mut self, now: u64, new: NewEntry) -> Result<(), Error> {
        let lane = new.lane.unwrap_or_else(|| "default".into());
        // Coalesce: a pending, never-sent entry with the same key is replaced in place.
        let coalesce = new.dedupe_key.as_ref().and_then(|key| {
            self.entries.iter().position(|e| {
                e.dedupe_key.as_ref() == Some(key)
                    && e.lane == lane
                    && e.state == EntryState::Pending
                    && e.attempts == 0
            })
        });
        if coalesce.is_none() && self.live() >= self.cfg.capacity {
            match self.cfg.overflow {
                Overflow::Reject => {
                    return Err(Error::new(
                        ErrorCode::OutboxFull,
                        format!(
                            "the outbox holds {} entries, its capacity",
                            self.cfg.capacity
                        ),
                    ))
                }
                Overflow::DropOldest => {
                    let oldest = self
                        .entries
                        .iter()
                        .position(|e| e.state == EntryState::Pending);
                    let Some(entry) = oldest.and_then(|at| self.entries.remove(at)) else {
                        return Err(Error::new(
                            ErrorCode::OutboxFull,
                            "the outbox is full of entries in flight",
                        ));
                    };
                    self.out.push_back(OutboxOutput::Delete(entry.id.clone()));
                    self.out.push_back(OutboxOutput::Dropped {
                        entry,
                        reason: "capacity",
                    });
                }
            }
        }
        let seq = match coalesce {
            Some(at) => self.entries[at].seq,
            None => {
                // Time-based, so entries of several tabs interleave in time order; strictly
                // increasing within this tab.
                self.next_seq = self.next_seq.max(now.saturating_mul(1000)) + 1;
                self.next_seq
            }
        };
        let entry = Entry {
            id: new.id,
            seq,
            lane,
            message: new.message,
            dedupe_key: new.dedupe_key,
            created_at: now,
            expires_at: now.saturating_add(new.ttl_ms.unwrap_or(self.cfg.ttl_ms)),
            attempts: 0,
            not_before: 0,
            state: EntryState::Pending,
            last_error: None,
            sends: 0,
        };
        self.out.push_back(OutboxOutput::Write(entry.clone()));
        match coalesce {
            Some(at) => {
                let old = std::mem::replace(&mut self.entries[at], entry);
                self.out.push_back(OutboxOutput::Delete(old.id.clone()));
                self.out.push_back(OutboxOutput::Dropped {
                    entry: old,
                    reason: "replaced",
                });
            }
            None => self.entries.push_back(entry),
        }
        self.pump(now);
        Ok(())
    }

    /// Takes what storage holds (after a reload, or after another tab wrote). Storage is the
    /// truth: entries it no longer has were delivered, removed or cleared elsewhere and are
    /// forgotten here, except `unsaved` ones (this tab's writes not yet committed). Entries
    /// that were in flight when their page died go back to pending with the same id; entries
    /// this tab knows keep their state.
    pub fn load(&mut self, now: u64, stored: Vec<Entry>, unsaved: &[String]) {
        let mut merged: Vec<Entry> = stored
            .into_iter()
            .map(|mut e| {
                match self.entries.iter().find(|k| k.id == e.id) {
                    // What only this tab knows: an entry in flight here stays in flight, and
                    // keeps its send count so its ack is not taken for a stale one.
                    Some(known) => {
                        e.sends = known.sends;
                        if known.state == EntryState::InFlight || e.state == EntryState::InFlight {
                            e.state = known.state.clone();
                        }
                    }
                    None if e.state == EntryState::InFlight => e.state = EntryState::Pending,
                    None => {}
                }
                e
            })
            .collect();
        for e in &self.entries {
            if unsaved.contains(&e.id) && !merged.iter().any(|m| m.id == e.id) {
                merged.push(e.clone());
            }
        }
        merged.sort_unstable_by_key(|e| e.seq); // seqs are unique
        self.next_seq = self.next_seq.max(merged.last().map_or(0, |e| e.seq) + 1);
        self.entries = merged.into();
        self.pump(now);
    }

    /// Whether this outbox may send now: the connection is open (for events) and this tab
    /// holds the flush lock. Becoming ready flushes at once.
    pub fn set_ready(&mut self, now: u64, ready: bool) {
        self.ready = ready;
        self.pump(now);
    }

    /// The connection dropped: entries in flight will get no ack; they are sent again (same
    /// id) once ready. Not counted as a failed attempt.
    pub fn connection_lost(&mut self, now: u64) {
        self.ready = false;
        for e in self
            .entries
            .iter_mut()
            .filter(|e| e.state == EntryState::InFlight)
        {
            if matches!(e.message, Message::Event { .. }) {
                e.state = EntryState::Pending;
            }
        }
        self.pump(now);
    }

    /// Send number `sends` of entry `id` ended (see [`Entry::sends`]).
    pub fn settle(&mut self, now: u64, id: &str, sends: u32, outcome: Outcome) {
        let current = |e: &Entry| e.id == id && e.state == EntryState::InFlight && e.sends == sends;
        let Some(at) = self.entries.iter().position(current) else {
            return; // removed meanwhile, or the answer to an older send
        };
        match outcome {
            Outcome::Delivered => {
                if let Some(entry) = self.entries.remove(at) {
                    self.out.push_back(OutboxOutput::Delete(entry.id.clone()));
                    self.out.push_back(OutboxOutput::Delivered(entry));
                }
            }
            Outcome::Retry(why) => {
                let e = &mut self.entries[at];
                e.attempts += 1;
                e.last_error = Some(why.clone());
                self.last_error = Some(why.clone());
                if e.attempts > self.cfg.max_retries {
                    self.fail(
                        at,
                        format!("gave up after {} attempts: {why}", self.cfg.max_retries + 1),
                    );
                } else {
                    let delay = self.cfg.retry.delay(e.attempts, self.rng.next_f64());
                    let e = &mut self.entries[at];
                    e.state = EntryState::Pending;
                    e.not_before = now + delay;
                    self.out.push_back(OutboxOutput::Write(e.clone()));
                }
            }
            Outcome::Reject(why) => {
                self.entries[at].attempts += 1;
                self.last_error = Some(why.clone());
                self.fail(at, format!("rejected: {why}"));
            }
        }
        self.pump(now);
    }

    fn fail(&mut self, at: usize, reason: String) {
        let e = &mut self.entries[at];
        e.state = EntryState::Failed(reason.clone());
        e.last_error = Some(reason);
        let e = e.clone();
        self.out.push_back(OutboxOutput::Write(e.clone()));
        self.out.push_back(OutboxOutput::Failed(e));
    }

    /// Expiries and retry delays.
    pub fn handle_timeout(&mut self, now: u64) {
        self.pump(now);
    }

    /// Sends what is due now, ignoring retry delays.
    pub fn flush(&mut self, now: u64) {
        for e in self
            .entries
            .iter_mut()
            .filter(|e| e.state == EntryState::Pending)
        {
            e.not_before = 0;
        }
        self.pump(now);
    }

    /// Moves a failed entry back to pending with fresh attempts and TTL. Returns whether found.
    pub fn retry(&mut self, now: u64, id: &str) -> bool {
        let ttl = self.cfg.ttl_ms;
        let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.id == id && matches!(e.state, EntryState::Failed(_)))
        else {
            return false;
        };
        e.state = EntryState::Pending;
        e.attempts = 0;
        e.not_before = 0;
        e.expires_at = now.saturating_add(ttl);
        let e = e.clone();
        self.out.push_back(OutboxOutput::Write(e));
        self.pump(now);
        true
    }

    /// Removes an entry in any state. Returns whether found.
    pub fn remove(&mut self, now: u64, id: &str) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else {
            return false;
        };
        self.entries.remove(at);
        self.out.push_back(OutboxOutput::Delete(id.to_owned()));
        self.pump(now);
        true
    }

    /// Removes every entry (e.g. on logout).
    pub fn clear(&mut self, now: u64) {
        for e in std::mem::take(&mut self.entries) {
            self.out.push_back(OutboxOutput::Delete(e.id));
        }
        self.pump(now);
    }

    /// One pass over the entries: expires what is due, sends what the windows allow (lane by
    /// lane, in order), and takes the counts and the next deadline for `status` and
    /// `poll_timeout`. Every input ends here.
    fn pump(&mut self, now: u64) {
        // Per lane: the index of an entry of that lane (for its name), in flight, blocked.
        let mut lanes: Vec<(usize, usize, bool)> = Vec::new();
        let mut status = Status {
            last_error: self.last_error.clone(),
            ..Status::default()
        };
        let mut next: Option<u64> = None;
        for at in 0..self.entries.len() {
            let e = &self.entries[at];
            if e.state == EntryState::Pending && now >= e.expires_at {
                self.fail(at, "expired (TTL)".into());
            }
            let e = &self.entries[at];
            let li = match lanes
                .iter()
                .position(|(i, _, _)| self.entries[*i].lane == e.lane)
            {
                Some(li) => li,
                None => {
                    lanes.push((at, 0, false));
                    lanes.len() - 1
                }
            };
            let (_, in_flight, blocked) = &mut lanes[li];
            match &e.state {
                EntryState::Failed(_) => status.failed += 1,
                EntryState::InFlight => {
                    *in_flight += 1;
                    status.in_flight += 1;
                }
                EntryState::Pending => {
                    let window = match e.message {
                        Message::Request { .. } => 1,
                        Message::Event { .. } => self.cfg.window.max(1),
                    };
                    let due = e.not_before <= now;
                    if self.ready && !*blocked && due && *in_flight < window {
                        *in_flight += 1;
                        status.in_flight += 1;
                        let e = &mut self.entries[at];
                        e.state = EntryState::InFlight;
                        e.sends += 1;
                        self.out.push_back(OutboxOutput::Send(e.clone()));
                    } else {
                        // Nothing overtakes a waiting entry in its lane.
                        *blocked = true;
                        status.pending += 1;
                        let retry_at = (self.ready && !due).then_some(e.not_before);
                        next = [next, Some(e.expires_at), retry_at]
                            .into_iter()
                            .flatten()
                            .min();
                    }
                }
            }
        }
        status.processing = self.ready && status.pending + status.in_flight > 0;
        self.status = status;
        self.next_deadline = next;
        self.changed();
    }
}

/// `{"clientMessageId":"<id>", ...payload}`: the entry id as the first field of its payload
/// object (`payload` must be a JSON object), so the server can deduplicate.
pub fn inject_id(payload: &str, field: &str, id: &str) -> String {
    let rest = payload.trim()[1..].trim_start();
    let mut out = String::with_capacity(payload.len() + field.len() + id.len() + 8);
    out.push('{');
    json::quote_into(field, &mut out);
    out.push(':');
    json::quote_into(id, &mut out);
    if !rest.starts_with('}') {
        out.push(',');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_becomes_the_first_payload_field() {
        assert_eq!(
            inject_id(r#"{"a":1}"#, "clientMessageId", "u1"),
            r#"{"clientMessageId":"u1","a":1}"#
        );
        assert_eq!(inject_id("{ }", "id", "u1"), r#"{"id":"u1"}"#);
    }

    fn event(id: &str) -> NewEntry {
        NewEntry {
            id: id.into(),
            message: Message::Event {
                name: "chat:send_message".into(),
                payload: format!(r#"{{"n":"{id}"}}"#),
            },
            lane: None,
            dedupe_key: None,
            ttl_ms: None,
        }
    }

    struct Run {
        ob: Outbox,
        now: u64,
        sent: Vec<String>,
        written: Vec<String>,
        deleted: Vec<String>,
        delivered: Vec<String>,
        failed: Vec<(String, String)>,
        dropped: Vec<(String, &'static str)>,
    }

    impl Run {
        fn new(cfg: OutboxConfig) -> Run {
            Run {
                ob: Outbox::new(cfg, 3),
                now: 1_000_000,
                sent: vec![],
                written: vec![],
                deleted: vec![],
                delivered: vec![],
                failed: vec![],
                dropped: vec![],
            }
        }
        fn drain(&mut self) {
            while let Some(o) = self.ob.poll() {
                match o {
                    OutboxOutput::Send(e) => self.sent.push(e.id),
                    OutboxOutput::Write(e) => self.written.push(e.id),
                    OutboxOutput::Delete(id) => self.deleted.push(id),
                    OutboxOutput::Delivered(e) => self.delivered.push(e.id),
                    OutboxOutput::Failed(e) => {
                        let EntryState::Failed(why) = e.state else {
                            panic!("failed without reason")
                        };
                        self.failed.push((e.id, why))
                    }
                    OutboxOutput::Dropped { entry, reason } => {
                        self.dropped.push((entry.id, reason))
                    }
                    OutboxOutput::Changed(_) => {}
                }
            }
        }
        fn enqueue(&mut self, n: NewEntry) -> Result<(), Error> {
            let r = self.ob.enqueue(self.now, n);
            self.drain();
            r
        }
        fn settle(&mut self, id: &str, o: Outcome) {
            let sends = self
                .ob
                .entries()
                .iter()
                .find(|e| e.id == id)
                .map_or(0, |e| e.sends);
            self.ob.settle(self.now, id, sends, o);
            self.drain();
        }
        fn advance(&mut self, ms: u64) {
            let end = self.now + ms;
            while let Some(t) = self.ob.poll_timeout().filter(|t| *t <= end) {
                self.now = self.now.max(t);
                self.ob.handle_timeout(self.now);
                self.drain();
            }
            self.now = end;
        }
        fn ready(&mut self, r: bool) {
            self.ob.set_ready(self.now, r);
            self.drain();
        }
        fn take_sent(&mut self) -> Vec<String> {
            std::mem::take(&mut self.sent)
        }
    }

    #[test]
    fn entries_wait_until_ready_then_go_in_order_within_the_window() {
        let mut r = Run::new(OutboxConfig {
            window: 3,
            ..OutboxConfig::default()
        });
        for id in ["a", "b", "c", "d", "e"] {
            r.enqueue(event(id)).unwrap();
        }
        assert_eq!(
            r.written,
            ["a", "b", "c", "d", "e"],
            "each written before anything else"
        );
        assert!(r.sent.is_empty(), "nothing is sent while not ready");
        r.ready(true);
        assert_eq!(r.take_sent(), ["a", "b", "c"], "three in flight at once");
        r.settle("b", Outcome::Delivered);
        assert_eq!(r.take_sent(), ["d"]);
        r.settle("a", Outcome::Delivered);
        r.settle("c", Outcome::Delivered);
        assert_eq!(r.take_sent(), ["e"]);
        r.settle("d", Outcome::Delivered);
        r.settle("e", Outcome::Delivered);
        assert_eq!(r.delivered, ["b", "a", "c", "d", "e"]);
        assert_eq!(r.deleted, ["b", "a", "c", "d", "e"], "removed only on ack");
        assert_eq!(r.ob.status(), Status::default());
    }

    #[test]
    fn a_timed_out_entry_is_retried_with_backoff_and_blocks_its_lane_meanwhile() {
        let cfg = OutboxConfig {
            window: 4,
            retry: Backoff {
                jitter: 0.0,
                ..OutboxConfig::default().retry
            },
            ..OutboxConfig::default()
        };
        let mut r = Run::new(cfg);
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        r.enqueue(NewEntry {
            lane: Some("other".into()),
            ..event("x")
        })
        .unwrap();
        assert_eq!(r.take_sent(), ["a", "x"]);
        r.settle("a", Outcome::Retry("ACK_TIMEOUT".into()));
        r.enqueue(event("b")).unwrap();
        r.enqueue(NewEntry {
            lane: Some("other".into()),
            ..event("y")
        })
        .unwrap();
        assert_eq!(
            r.take_sent(),
            ["y"],
            "b waits behind a; the other lane goes on"
        );
        r.advance(999);
        assert!(r.take_sent().is_empty());
        r.advance(1);
        assert_eq!(
            r.take_sent(),
            ["a", "b"],
            "a again after 1 s, same id, then b"
        );
        r.settle("a", Outcome::Retry("ACK_TIMEOUT".into()));
        r.advance(2000);
        assert_eq!(r.take_sent(), ["a"], "second retry after 2 s");
    }

    #[test]
    fn max_retries_then_failed_with_the_reason_never_dropped() {
        let mut r = Run::new(OutboxConfig {
            max_retries: 2,
            ..OutboxConfig::default()
        });
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        for _ in 0..3 {
            assert_eq!(r.take_sent(), ["a"]);
            r.settle("a", Outcome::Retry("ACK_TIMEOUT".into()));
            r.advance(60_000);
        }
        assert_eq!(
            r.failed,
            [("a".into(), "gave up after 3 attempts: ACK_TIMEOUT".into())]
        );
        assert!(r.deleted.is_empty(), "a failed entry stays stored");
        assert_eq!(r.ob.status().failed, 1);
        assert!(r.ob.retry(r.now, "a"));
        r.drain();
        assert_eq!(r.take_sent(), ["a"], "retry() sends it again");
    }

    #[test]
    fn a_rejection_fails_at_once() {
        let mut r = Run::new(OutboxConfig::default());
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        r.settle("a", Outcome::Reject("HTTP 422".into()));
        assert_eq!(r.failed, [("a".into(), "rejected: HTTP 422".into())]);
    }

    #[test]
    fn ttl_expiry_moves_to_failed() {
        let mut r = Run::new(OutboxConfig::default());
        r.enqueue(NewEntry {
            ttl_ms: Some(5000),
            ..event("short")
        })
        .unwrap();
        r.enqueue(event("long")).unwrap();
        r.advance(4999);
        assert!(r.failed.is_empty());
        r.advance(1);
        assert_eq!(r.failed, [("short".into(), "expired (TTL)".into())]);
        r.ready(true);
        assert_eq!(r.take_sent(), ["long"]);
    }

    #[test]
    fn capacity_drop_oldest_reports_and_reject_refuses() {
        let mut r = Run::new(OutboxConfig {
            capacity: 2,
            ..OutboxConfig::default()
        });
        r.enqueue(event("a")).unwrap();
        r.enqueue(event("b")).unwrap();
        r.enqueue(event("c")).unwrap();
        assert_eq!(r.dropped, [("a".into(), "capacity")]);
        assert_eq!(
            r.ob.entries()
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["b", "c"]
        );

        let mut q = Run::new(OutboxConfig {
            capacity: 2,
            overflow: Overflow::Reject,
            ..OutboxConfig::default()
        });
        q.enqueue(event("a")).unwrap();
        q.enqueue(event("b")).unwrap();
        let err = q.enqueue(event("c")).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutboxFull);
        assert_eq!(q.ob.entries().len(), 2, "existing entries intact");
        assert!(!q.written.contains(&"c".to_owned()));
    }

    #[test]
    fn dedupe_key_replaces_an_unsent_entry_in_place_but_not_a_sent_one() {
        let mut r = Run::new(OutboxConfig {
            window: 1,
            ..OutboxConfig::default()
        });
        let keyed = |id: &str| NewEntry {
            dedupe_key: Some("cart:qty".into()),
            ..event(id)
        };
        r.enqueue(keyed("q1")).unwrap();
        r.enqueue(event("other")).unwrap();
        r.enqueue(keyed("q2")).unwrap();
        assert_eq!(r.dropped, [("q1".into(), "replaced")]);
        let order: Vec<&str> = r.ob.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            order,
            ["q2", "other"],
            "the newer payload takes the older one's place"
        );
        r.ready(true);
        assert_eq!(r.take_sent(), ["q2"]);
        r.enqueue(keyed("q3")).unwrap();
        assert_eq!(r.dropped.len(), 1, "q2 is in flight: q3 is a new entry");
        assert_eq!(r.ob.entries().len(), 3);
    }

    #[test]
    fn in_flight_entries_survive_a_crash_and_go_again_with_the_same_id() {
        let mut r = Run::new(OutboxConfig::default());
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        r.enqueue(event("b")).unwrap();
        r.settle("a", Outcome::Delivered);
        // What storage holds when the page dies: b in flight (its Write said so only in memory;
        // storage has it as pending or in flight, both must work).
        let mut stored: Vec<Entry> = r.ob.entries().iter().cloned().collect();
        stored[0].state = EntryState::InFlight;
        let mut fresh = Run::new(OutboxConfig::default());
        fresh.ob.load(fresh.now, stored, &[]);
        fresh.drain();
        assert!(fresh.sent.is_empty());
        fresh.ready(true);
        assert_eq!(fresh.take_sent(), ["b"]);
        fresh.enqueue(event("c")).unwrap();
        let seqs: Vec<u64> = fresh.ob.entries().iter().map(|e| e.seq).collect();
        assert!(
            seqs[0] < seqs[1],
            "new entries order after loaded ones: {seqs:?}"
        );
    }

    #[test]
    fn a_lost_connection_puts_events_back_without_counting_an_attempt() {
        let mut r = Run::new(OutboxConfig::default());
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        r.ob.connection_lost(r.now);
        r.drain();
        assert_eq!(r.ob.status().pending, 1);
        r.ready(true);
        assert_eq!(r.take_sent(), ["a", "a"]);
        assert_eq!(r.ob.entries()[0].attempts, 0);
    }

    #[test]
    fn the_answer_to_an_older_send_is_ignored() {
        let mut r = Run::new(OutboxConfig::default());
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        r.ob.connection_lost(r.now);
        r.ready(true);
        assert_eq!(r.take_sent(), ["a", "a"]);
        // The first send's ack timer fires after the re-send: it must not count.
        r.ob.settle(r.now, "a", 1, Outcome::Retry("ACK_TIMEOUT".into()));
        r.drain();
        assert_eq!(r.ob.entries()[0].state, EntryState::InFlight);
        assert_eq!(r.ob.entries()[0].attempts, 0);
        r.ob.settle(r.now, "a", 2, Outcome::Delivered);
        r.drain();
        assert_eq!(r.delivered, ["a"]);
    }

    #[test]
    fn a_reload_from_storage_while_in_flight_keeps_the_ack_valid() {
        let mut r = Run::new(OutboxConfig::default());
        r.ready(true);
        r.enqueue(event("a")).unwrap();
        assert_eq!(r.take_sent(), ["a"]);
        // Storage has it as written at enqueue (pending, no sends); another tab wrote meanwhile.
        let mut stored: Vec<Entry> = r.ob.entries().iter().cloned().collect();
        stored[0].state = EntryState::Pending;
        stored[0].sends = 0;
        r.ob.load(r.now, stored, &[]);
        r.drain();
        assert!(r.take_sent().is_empty(), "still in flight: not sent twice");
        // The ack of send 1 (the one before the reload) must count.
        r.ob.settle(r.now, "a", 1, Outcome::Delivered);
        r.drain();
        assert_eq!(r.delivered, ["a"]);
    }

    #[test]
    fn requests_go_one_at_a_time_per_lane() {
        let mut r = Run::new(OutboxConfig::default());
        let req = |id: &str| NewEntry {
            message: Message::Request {
                url: "/api/x".into(),
                method: "POST".into(),
                headers: vec![],
                body: None,
            },
            ..event(id)
        };
        r.ready(true);
        r.enqueue(req("r1")).unwrap();
        r.enqueue(req("r2")).unwrap();
        assert_eq!(r.take_sent(), ["r1"]);
        r.settle("r1", Outcome::Delivered);
        assert_eq!(r.take_sent(), ["r2"]);
    }

    #[test]
    fn storage_is_the_truth_on_reload_except_for_unsaved_writes() {
        let mut r = Run::new(OutboxConfig::default());
        r.enqueue(event("a")).unwrap();
        r.enqueue(event("b")).unwrap();
        // Another tab cleared the store (logout) while b's write was still under way here.
        r.ob.load(r.now, vec![], &["b".to_owned()]);
        r.drain();
        let ids: Vec<&str> = r.ob.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["b"]);
        r.ready(true);
        assert_eq!(r.take_sent(), ["b"], "a, cleared elsewhere, is never sent");
    }

    #[test]
    fn remove_and_clear_delete_from_storage() {
        let mut r = Run::new(OutboxConfig::default());
        r.enqueue(event("a")).unwrap();
        r.enqueue(event("b")).unwrap();
        assert!(r.ob.remove(r.now, "a"));
        r.ob.clear(r.now);
        r.drain();
        assert_eq!(r.deleted, ["a", "b"]);
        assert!(r.ob.entries().is_empty());
    }
}
