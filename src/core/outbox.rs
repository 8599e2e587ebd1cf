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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

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
    /// Each lane as the last pump left it, for the incremental steps (see [`Outbox::can_step`]).
    lanes: Vec<LaneState>,
    /// The `now` of the last pump or incremental step.
    as_of: u64,
    /// The deadlines of the pending entries (expiries, and retries while ready): built only
    /// when an incremental step sends the entry that held the next deadline; dropped by every
    /// full pump.
    deadlines: Option<Deadlines>,
    /// Entries visited by the pumps and steps so far (a work counter for tests).
    visited: u64,
    /// Tests only: every input ends with a full pump (the reference for the incremental steps).
    #[cfg(test)]
    full_pumps_only: bool,
}

/// One lane as the last pump's scan left it: what an entry appended to it would meet.
#[derive(Debug)]
struct LaneState {
    name: String,
    /// Entries of the lane in flight.
    in_flight: usize,
    /// Entries of the lane pending. Each of them waits (a scan sends what it can), and no later
    /// entry of the lane overtakes a waiting one: the lane is blocked while this is not 0.
    pending: usize,
}

/// A multiset of deadlines with its minimum at hand: a min-heap of them all, and a min-heap of
/// those gone since (each one in the first), dropped from both when they meet at the top.
#[derive(Debug)]
struct Deadlines {
    all: BinaryHeap<Reverse<u64>>,
    gone: BinaryHeap<Reverse<u64>>,
}

impl Deadlines {
    fn next(&mut self) -> Option<u64> {
        while let (Some(a), Some(b)) = (self.all.peek(), self.gone.peek()) {
            if a != b {
                break;
            }
            self.all.pop();
            self.gone.pop();
        }
        self.all.peek().map(|d| d.0)
    }
}

/// Sorted by heap sort: less code than another instance of `sort_unstable` (ids are sorted
/// only to be searched).
fn sorted(ids: Vec<&str>) -> Vec<&str> {
    BinaryHeap::from(ids).into_sorted_vec()
}

fn seq_of(e: &Entry) -> u64 {
    e.seq
}

/// Entries of one lane in flight at once for this kind of message.
fn window_of(message: &Message, window: usize) -> usize {
    match message {
        Message::Request { .. } => 1,
        Message::Event { .. } => window.max(1),
    }
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
            lanes: Vec::new(),
            as_of: 0,
            deadlines: None,
            visited: 0,
            #[cfg(test)]
            full_pumps_only: false,
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
        let full = coalesce.is_none() && self.live() >= self.cfg.capacity;
        if full {
            match self.cfg.overflow {
                Overflow::Reject => {
                    return Err(Error::new(
                        ErrorCode::OutboxFull,
                        [
                            "the outbox holds ",
                            &super::text::int(self.cfg.capacity as u64),
                            " entries, its capacity",
                        ]
                        .concat(),
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
                self.next_seq = self
                    .next_seq
                    .max(now.saturating_mul(1000))
                    .saturating_add(1);
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
        let expired = now >= entry.expires_at;
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
        // Appended behind the others, with nothing else changed: only its own lane decides.
        if coalesce.is_none() && !full && !expired && self.can_step(now) {
            self.appended(now);
        } else {
            self.pump(now);
        }
        Ok(())
    }

    /// Takes what storage holds (after a reload, or after another tab wrote). Storage is the
    /// truth: entries it no longer has were delivered, removed or cleared elsewhere and are
    /// forgotten here, except `unsaved` ones (this tab's writes not yet committed). Entries
    /// that were in flight when their page died go back to pending with the same id; entries
    /// this tab knows keep their state.
    pub fn load(&mut self, now: u64, mut stored: Vec<Entry>, unsaved: &[String]) {
        // Both sides in seq order (this tab's entries always are; an entry keeps its seq for
        // good), so one walk pairs each stored entry with the known one of the same seq and id;
        // the unsaved ids, sorted, answer by binary search. A reload is n log n, not n².
        stored.sort_unstable_by_key(seq_of);
        let unsaved = sorted(unsaved.iter().map(String::as_str).collect());
        let mut in_storage = vec![false; self.entries.len()];
        let mut k = 0; // the first known entry whose seq is not below the stored one's
        for e in &mut stored {
            while self.entries.get(k).is_some_and(|known| known.seq < e.seq) {
                k += 1;
            }
            // Two tabs may give out the same seq: look through the known entries that have it.
            let found = (k..self.entries.len())
                .take_while(|&j| self.entries[j].seq == e.seq)
                .find(|&j| self.entries[j].id == e.id);
            match found {
                // What only this tab knows: an entry in flight here stays in flight, and keeps
                // its send count so its ack is not taken for a stale one.
                Some(j) => {
                    in_storage[j] = true;
                    let known = &self.entries[j];
                    e.sends = known.sends;
                    if known.state == EntryState::InFlight || e.state == EntryState::InFlight {
                        e.state = known.state.clone();
                    }
                }
                None if e.state == EntryState::InFlight => e.state = EntryState::Pending,
                None => {}
            }
        }
        let mut merged = stored;
        for (k, e) in self.entries.iter().enumerate() {
            if !in_storage[k] && unsaved.binary_search(&e.id.as_str()).is_ok() {
                merged.push(e.clone());
            }
        }
        merged.sort_unstable_by_key(seq_of);
        let last = merged.last().map_or(0, |e| e.seq);
        self.next_seq = self.next_seq.max(last.saturating_add(1));
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
            self.visited += self.entries.len() as u64;
            return; // removed meanwhile, or the answer to an older send
        };
        self.visited += at as u64 + 1;
        match outcome {
            Outcome::Delivered => {
                if let Some(entry) = self.entries.remove(at) {
                    self.out.push_back(OutboxOutput::Delete(entry.id.clone()));
                    let lane = self.lanes.iter().position(|l| l.name == entry.lane);
                    self.out.push_back(OutboxOutput::Delivered(entry));
                    // One entry in flight fewer, nothing else changed: only its lane moves on.
                    if let Some(li) = lane.filter(|_| self.can_step(now)) {
                        return self.delivered(now, at, li);
                    }
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
                        [
                            "gave up after ",
                            &super::text::int(u64::from(self.cfg.max_retries) + 1),
                            " attempts: ",
                            &why,
                        ]
                        .concat(),
                    );
                } else {
                    let delay = self.cfg.retry.delay(e.attempts, self.rng.next_f64());
                    let e = &mut self.entries[at];
                    e.state = EntryState::Pending;
                    e.not_before = now.saturating_add(delay);
                    self.out.push_back(OutboxOutput::Write(e.clone()));
                }
            }
            Outcome::Reject(why) => {
                self.entries[at].attempts += 1;
                self.last_error = Some(why.clone());
                self.fail(at, ["rejected: ", &why].concat());
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

    /// Removes the entries with these ids, in any state, with one pump (not one per entry):
    /// e.g. the enqueues of a group commit that failed.
    pub fn withdraw(&mut self, now: u64, ids: &[&str]) {
        let ids = sorted(ids.to_vec());
        let before = self.entries.len();
        let mut kept = Vec::with_capacity(before);
        for e in std::mem::take(&mut self.entries) {
            if ids.binary_search(&e.id.as_str()).is_ok() {
                self.out.push_back(OutboxOutput::Delete(e.id));
            } else {
                kept.push(e);
            }
        }
        self.entries = kept.into();
        self.visited += before as u64;
        if self.entries.len() != before {
            self.pump(now);
        }
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
    /// `poll_timeout`. Every input ends here, or in one of the incremental steps that give the
    /// same result (see [`Outbox::can_step`]).
    fn pump(&mut self, now: u64) {
        let mut lanes = std::mem::take(&mut self.lanes);
        lanes.clear();
        let mut status = Status {
            last_error: self.last_error.clone(),
            ..Status::default()
        };
        let mut next: Option<u64> = None;
        let mut li = 0; // the lane of the previous entry: lanes come in runs
        for at in 0..self.entries.len() {
            self.visited += 1;
            if self.entries[at].state == EntryState::Pending && now >= self.entries[at].expires_at {
                self.fail(at, "expired (TTL)".into());
            }
            let e = &mut self.entries[at];
            if lanes.get(li).is_none_or(|l| l.name != e.lane) {
                li = match lanes.iter().position(|l| l.name == e.lane) {
                    Some(li) => li,
                    None => {
                        lanes.push(LaneState {
                            name: e.lane.clone(),
                            in_flight: 0,
                            pending: 0,
                        });
                        lanes.len() - 1
                    }
                };
            }
            let lane = &mut lanes[li];
            match e.state {
                EntryState::Failed(_) => status.failed += 1,
                EntryState::InFlight => {
                    lane.in_flight += 1;
                    status.in_flight += 1;
                }
                EntryState::Pending => {
                    let due = e.not_before <= now;
                    let window = window_of(&e.message, self.cfg.window);
                    if self.ready && lane.pending == 0 && due && lane.in_flight < window {
                        lane.in_flight += 1;
                        status.in_flight += 1;
                        e.state = EntryState::InFlight;
                        e.sends += 1;
                        self.out.push_back(OutboxOutput::Send(e.clone()));
                    } else {
                        // Nothing overtakes a waiting entry in its lane.
                        lane.pending += 1;
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
        self.lanes = lanes;
        self.as_of = now;
        self.deadlines = None;
        self.changed();
    }

    /// Whether an input at `now` that appends an entry or removes one in flight may skip the
    /// full pump. After a pump at `t`, the state is one a pump at any `now` in
    /// `[t, next deadline)` leaves as it is: no pending entry expires, none becomes due (a
    /// retry delay that ends is a deadline while ready; while not ready nothing is sent), and
    /// every lane meets the same entries in flight. So the pump after such an input decides
    /// the same as the last one for every entry but those of the lane the input touched, after
    /// the place it touched: an incremental step redoes just those.
    fn can_step(&self, now: u64) -> bool {
        #[cfg(test)]
        if self.full_pumps_only {
            return false;
        }
        now >= self.as_of && self.next_deadline.is_none_or(|d| now < d)
    }

    /// The incremental step after an entry was appended (not expired, not due later): it meets
    /// its lane as the last scan left it, i.e. what the pump would find at the end.
    fn appended(&mut self, now: u64) {
        self.visited += 1;
        let Some(e) = self.entries.back_mut() else {
            return;
        };
        let li = match self.lanes.iter().position(|l| l.name == e.lane) {
            Some(li) => li,
            None => {
                self.lanes.push(LaneState {
                    name: e.lane.clone(),
                    in_flight: 0,
                    pending: 0,
                });
                self.lanes.len() - 1
            }
        };
        let lane = &mut self.lanes[li];
        // Due: a new entry has no retry delay (`not_before` 0).
        let window = window_of(&e.message, self.cfg.window);
        if self.ready && lane.pending == 0 && lane.in_flight < window {
            lane.in_flight += 1;
            self.status.in_flight += 1;
            e.state = EntryState::InFlight;
            e.sends += 1;
            self.out.push_back(OutboxOutput::Send(e.clone()));
        } else {
            lane.pending += 1;
            self.status.pending += 1;
            let at = e.expires_at;
            self.next_deadline = Some(self.next_deadline.map_or(at, |d| d.min(at)));
            if let Some(d) = &mut self.deadlines {
                d.all.push(Reverse(at));
            }
        }
        self.stepped(now);
    }

    /// The incremental step after the entry in flight at `at` of lane `li` was delivered and
    /// removed. Entries before `at` and of other lanes: as before. Of lane `li` after `at`:
    /// the pump would meet one entry in flight fewer, so its pending entries may go, in order,
    /// until one waits (as they all did before, it still waits and so do the later ones).
    fn delivered(&mut self, now: u64, at: usize, li: usize) {
        self.status.in_flight -= 1;
        self.lanes[li].in_flight -= 1;
        // The lane as the pump meets it at `at`: in flight before it, and whether a pending
        // entry before it waits (every pending entry waits, see `can_step`).
        let mut in_flight = 0;
        let mut waiting = false;
        for e in self.entries.range(..at) {
            self.visited += 1;
            if e.lane == self.lanes[li].name {
                match e.state {
                    EntryState::InFlight => in_flight += 1,
                    EntryState::Pending => waiting = true,
                    EntryState::Failed(_) => {}
                }
            }
        }
        // The lane's pending entries after `at` not met yet.
        let mut ahead = if waiting { 0 } else { self.lanes[li].pending };
        let mut rebuild = false;
        let mut i = at;
        while ahead > 0 && i < self.entries.len() {
            self.visited += 1;
            let e = &mut self.entries[i];
            i += 1;
            if e.lane != self.lanes[li].name {
                continue;
            }
            match e.state {
                EntryState::InFlight => in_flight += 1,
                EntryState::Failed(_) => {}
                EntryState::Pending => {
                    let window = window_of(&e.message, self.cfg.window);
                    if !(self.ready && e.not_before <= now && in_flight < window) {
                        break; // waits, as before: so does the rest of the lane
                    }
                    ahead -= 1;
                    in_flight += 1;
                    let lane = &mut self.lanes[li];
                    lane.in_flight += 1;
                    lane.pending -= 1;
                    self.status.in_flight += 1;
                    self.status.pending -= 1;
                    e.state = EntryState::InFlight;
                    e.sends += 1;
                    self.out.push_back(OutboxOutput::Send(e.clone()));
                    // It was due, so its only deadline was its expiry.
                    let gone = e.expires_at;
                    match &mut self.deadlines {
                        Some(d) => d.gone.push(Reverse(gone)),
                        None => rebuild |= self.next_deadline == Some(gone),
                    }
                }
            }
        }
        if rebuild {
            // The next deadline went with an entry sent: the deadlines of the pending ones,
            // in a heap, for this and the following steps.
            let mut all = Vec::with_capacity(self.status.pending);
            for e in &self.entries {
                self.visited += 1;
                if e.state == EntryState::Pending {
                    all.push(Reverse(e.expires_at));
                    if self.ready && e.not_before > now {
                        all.push(Reverse(e.not_before)); // not due (see `can_step`): a retry
                    }
                }
            }
            self.deadlines = Some(Deadlines {
                all: all.into(),
                gone: BinaryHeap::new(),
            });
        }
        if let Some(d) = &mut self.deadlines {
            self.next_deadline = d.next();
        }
        self.stepped(now);
    }

    /// What every incremental step ends with.
    fn stepped(&mut self, now: u64) {
        self.status.processing = self.ready && self.live() > 0;
        self.as_of = now;
        self.changed();
    }

    /// Entries the pumps and incremental steps have visited so far: a work counter, for tests
    /// that check the cost of an input does not grow with the queue.
    pub fn entries_visited(&self) -> u64 {
        self.visited
    }
}

impl Entry {
    /// Whether an entry read back from storage can be used. Storage may hold what this version
    /// never wrote (an older or newer one, a hand edit, a truncated write), so everything a
    /// send relies on is checked; `Err` says what is wrong (the driver quarantines the record).
    pub fn check(&self) -> Result<(), &'static str> {
        if self.id.is_empty() {
            return Err("no id");
        }
        match &self.message {
            Message::Event { name, payload } => {
                if name.is_empty() {
                    return Err("no event name");
                }
                if !matches!(json::validate(payload), Ok(json::Kind::Object)) {
                    return Err("the payload is not a JSON object");
                }
            }
            Message::Request { url, method, .. } => {
                if url.is_empty() || method.is_empty() {
                    return Err("no url or method");
                }
            }
        }
        Ok(())
    }
}

/// `{"clientMessageId":"<id>", ...payload}`: the entry id as the first field of its payload
/// object, so the server can deduplicate. `None` when `payload` does not start as an object
/// (entries are checked before, at enqueue and at load; this never panics either way).
pub fn inject_id(payload: &str, field: &str, id: &str) -> Option<String> {
    let rest = payload.trim_start().strip_prefix('{')?.trim_start();
    let mut out = String::with_capacity(payload.len() + field.len() + id.len() + 8);
    out.push('{');
    json::quote_into(field, &mut out);
    out.push(':');
    json::quote_into(id, &mut out);
    if !rest.starts_with('}') {
        out.push(',');
    }
    out.push_str(rest);
    Some(out)
}

/// Takes the ids of a committed group of writes off `unsaved` (the ids of the writes not yet
/// committed, in the order they were made). A commit takes every write queued before it, in
/// order, so they are the front of `unsaved`: one walk. Otherwise (not expected) every
/// occurrence of a committed id goes, found by binary search.
pub fn forget_saved(unsaved: &mut Vec<String>, saved: &[&str]) {
    let front = unsaved.len() >= saved.len() && unsaved.iter().zip(saved).all(|(u, s)| u == s);
    if front {
        unsaved.drain(..saved.len());
    } else {
        let saved = sorted(saved.to_vec());
        unsaved.retain(|u| saved.binary_search(&u.as_str()).is_err());
    }
}

/// Removes from `stored` (entries read back from storage) those whose deletion is still
/// pending (`deleting`): storage has not caught up with them yet, so a reload must not revive
/// them. O(n log n).
pub fn drop_deleting(stored: &mut Vec<Entry>, deleting: &[String]) {
    if deleting.is_empty() {
        return;
    }
    let deleting = sorted(deleting.iter().map(String::as_str).collect());
    stored.retain(|e| deleting.binary_search(&e.id.as_str()).is_err());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_does_not_revive_entries_whose_deletion_is_pending() {
        let mk = |id: &str| Entry {
            id: id.into(),
            seq: 1,
            lane: "default".into(),
            message: Message::Event {
                name: "e".into(),
                payload: "{}".into(),
            },
            dedupe_key: None,
            created_at: 0,
            expires_at: u64::MAX,
            attempts: 0,
            not_before: 0,
            state: EntryState::Pending,
            last_error: None,
            sends: 1,
        };
        let mut stored = vec![mk("a"), mk("b"), mk("c")];
        drop_deleting(&mut stored, &["c".into(), "a".into()]);
        assert_eq!(
            stored.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        drop_deleting(&mut stored, &[]);
        assert_eq!(stored.len(), 1);
    }

    #[test]
    fn the_id_becomes_the_first_payload_field() {
        assert_eq!(
            inject_id(r#"{"a":1}"#, "clientMessageId", "u1").as_deref(),
            Some(r#"{"clientMessageId":"u1","a":1}"#)
        );
        assert_eq!(
            inject_id("{ }", "id", "u1").as_deref(),
            Some(r#"{"id":"u1"}"#)
        );
        // What storage may hold: no trap, no id injected into a non-object.
        for bad in ["", "  ", "é", "[1]", "\"x\""] {
            assert_eq!(inject_id(bad, "id", "u1"), None, "{bad:?}");
        }
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

    /// Drains the outputs (the work counter is what these tests look at).
    fn discard(ob: &mut Outbox) {
        while ob.poll().is_some() {}
    }

    #[test]
    fn enqueues_and_in_order_acks_visit_a_bounded_number_of_entries_each() {
        // (case, ready while enqueuing, n, full pumps only). The counter counts entries visited
        // by scans; 10,000 full pumps over a growing queue would visit 50 million.
        let cases = [
            ("offline", false, 2_000, false),
            ("offline", false, 10_000, false),
            ("online, window 16", true, 2_000, false),
            ("online, window 16", true, 10_000, false),
            ("reference: a full pump per input", true, 2_000, true),
        ];
        for (case, ready, n, full) in cases {
            let mut ob = Outbox::new(
                OutboxConfig {
                    capacity: 100_000,
                    window: 16,
                    ..OutboxConfig::default()
                },
                3,
            );
            ob.full_pumps_only = full;
            let t0 = 1_000_000;
            ob.set_ready(t0, ready);
            let start = ob.entries_visited();
            for i in 0..n {
                // ~4 per ms: expiries differ, as they do for a tab enqueueing in a loop.
                ob.enqueue(t0 + i / 4, event(&format!("e{i}"))).unwrap();
                discard(&mut ob);
            }
            let enqueues = ob.entries_visited() - start;
            let now = t0 + n;
            ob.set_ready(now, true); // one full pump
            discard(&mut ob);
            let start = ob.entries_visited();
            let mut delivered = 0;
            while let Some(e) = ob.entries().front() {
                assert_eq!(
                    e.state,
                    EntryState::InFlight,
                    "{case}: the oldest is in flight"
                );
                let (id, sends) = (e.id.clone(), e.sends);
                ob.settle(now, &id, sends, Outcome::Delivered);
                while let Some(o) = ob.poll() {
                    delivered += matches!(o, OutboxOutput::Delivered(_)) as u64;
                }
            }
            let acks = ob.entries_visited() - start;
            assert_eq!(delivered, n, "{case}: every entry delivered");
            assert_eq!(ob.status(), Status::default(), "{case}");
            if full {
                assert!(
                    enqueues > n * n / 4,
                    "{case}: {enqueues} visits for {n} enqueues"
                );
                assert!(acks > n * n / 4, "{case}: {acks} visits for {n} acks");
            } else {
                // One per enqueue; per ack, the window's entries and the next one, plus one
                // pass to heap up the deadlines when the entry holding the next one goes.
                assert!(
                    enqueues <= 4 * n,
                    "{case}: {enqueues} visits for {n} enqueues"
                );
                assert!(acks <= 20 * n, "{case}: {acks} visits for {n} acks");
            }
        }
    }

    /// A tiny deterministic source of choices for the model test.
    struct Dice(Rng);

    impl Dice {
        fn below(&mut self, n: u64) -> u64 {
            (self.0.next_f64() * n as f64) as u64
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
        fn pick<'a>(&mut self, ids: &'a [String]) -> Option<&'a String> {
            (!ids.is_empty()).then(|| &ids[self.below(ids.len() as u64) as usize])
        }
    }

    fn both(a: &mut Outbox, b: &mut Outbox, mut input: impl FnMut(&mut Outbox)) {
        input(a);
        input(b);
    }

    #[test]
    fn incremental_steps_decide_exactly_as_full_pumps() {
        // The same random inputs to two outboxes, one of them with a full pump after every
        // input (the reference): the same outputs, counts, deadline and entries after each.
        let mut stepped = [0u64; 100]; // inputs, by roll, that cost less than a full pump
        let mut inputs = [0u64; 100];
        for seed in 1..=300u64 {
            let mut dice = Dice(Rng::new(seed));
            let cfg = OutboxConfig {
                capacity: 4 + dice.below(30) as usize,
                overflow: if dice.chance(50) {
                    Overflow::DropOldest
                } else {
                    Overflow::Reject
                },
                ttl_ms: 2_000 + dice.below(20_000),
                max_retries: dice.below(3) as u32,
                window: 1 + dice.below(4) as usize,
                ..OutboxConfig::default()
            };
            let mut fast = Outbox::new(cfg.clone(), seed);
            let mut full = Outbox::new(cfg, seed);
            full.full_pumps_only = true;
            let mut now = 5_000_000u64;
            for step in 0..400 {
                let ids = |state: fn(&EntryState) -> bool| -> Vec<String> {
                    fast.entries()
                        .iter()
                        .filter(|e| state(&e.state))
                        .map(|e| e.id.clone())
                        .collect()
                };
                let in_flight = ids(|s| *s == EntryState::InFlight);
                let failed = ids(|s| matches!(s, EntryState::Failed(_)));
                let all = ids(|_| true);
                let roll = dice.below(100);
                let visited = (fast.entries_visited(), full.entries_visited());
                let what = format!("seed {seed}, step {step}, roll {roll}");
                match roll {
                    0..=39 => {
                        let lanes = [None, Some("b"), Some("c")];
                        let lane = lanes[dice.below(3) as usize].map(str::to_owned);
                        let request = dice.chance(15);
                        let new = NewEntry {
                            lane,
                            dedupe_key: dice.chance(15).then(|| format!("k{}", dice.below(3))),
                            ttl_ms: match dice.below(20) {
                                0..=2 => Some(dice.below(5_000)),
                                3 => Some(u64::MAX),
                                _ => None,
                            },
                            message: if request {
                                Message::Request {
                                    url: "/x".into(),
                                    method: "POST".into(),
                                    headers: vec![],
                                    body: None,
                                }
                            } else {
                                event("_").message
                            },
                            ..event(&format!("s{step}"))
                        };
                        let a = fast.enqueue(now, new.clone());
                        let b = full.enqueue(now, new);
                        assert_eq!(a, b, "{what}");
                    }
                    40..=64 => {
                        let Some(id) = dice.pick(&in_flight).cloned() else {
                            continue;
                        };
                        let sends = fast.entries().iter().find(|e| e.id == id).unwrap().sends;
                        let sends = if dice.chance(5) { sends - 1 } else { sends };
                        let outcome = match dice.below(100) {
                            0..=79 => Outcome::Delivered,
                            80..=91 => Outcome::Retry("ACK_TIMEOUT".into()),
                            _ => Outcome::Reject("no".into()),
                        };
                        both(&mut fast, &mut full, |ob| {
                            ob.settle(now, &id, sends, outcome.clone())
                        });
                    }
                    65..=74 => {
                        now += dice.below(4_000);
                        if dice.chance(50) {
                            both(&mut fast, &mut full, |ob| ob.handle_timeout(now));
                        }
                    }
                    75..=77 => now = now.saturating_sub(dice.below(1_500)), // the wall clock
                    78..=83 => {
                        let ready = dice.chance(70);
                        both(&mut fast, &mut full, |ob| ob.set_ready(now, ready));
                    }
                    84..=86 => both(&mut fast, &mut full, |ob| ob.connection_lost(now)),
                    87..=88 => both(&mut fast, &mut full, |ob| ob.flush(now)),
                    89..=91 => {
                        let Some(id) = dice.pick(&failed).cloned() else {
                            continue;
                        };
                        both(&mut fast, &mut full, |ob| assert!(ob.retry(now, &id)));
                    }
                    92..=95 => {
                        let Some(id) = dice.pick(&all).cloned() else {
                            continue;
                        };
                        both(&mut fast, &mut full, |ob| assert!(ob.remove(now, &id)));
                    }
                    96..=98 => {
                        // Another tab wrote: storage has some of the entries (as written).
                        let mut stored: Vec<Entry> = Vec::new();
                        let mut unsaved: Vec<String> = Vec::new();
                        for e in fast.entries() {
                            match dice.below(10) {
                                0 => {}
                                1 => unsaved.push(e.id.clone()),
                                _ => stored.push(Entry {
                                    sends: 0,
                                    ..e.clone()
                                }),
                            }
                        }
                        both(&mut fast, &mut full, |ob| {
                            ob.load(now, stored.clone(), &unsaved)
                        });
                    }
                    _ => both(&mut fast, &mut full, |ob| ob.clear(now)),
                }
                let a: Vec<OutboxOutput> = std::iter::from_fn(|| fast.poll()).collect();
                let b: Vec<OutboxOutput> = std::iter::from_fn(|| full.poll()).collect();
                assert_eq!(a, b, "{what}: outputs");
                assert_eq!(fast.status(), full.status(), "{what}: status");
                assert_eq!(fast.poll_timeout(), full.poll_timeout(), "{what}: deadline");
                assert_eq!(fast.entries(), full.entries(), "{what}: entries");
                inputs[roll as usize] += 1;
                let cost = (
                    fast.entries_visited() - visited.0,
                    full.entries_visited() - visited.1,
                );
                stepped[roll as usize] += (cost.0 < cost.1) as u64;
            }
        }
        // Enqueues, and acks (most of the settles), took the incremental steps often enough.
        let share = |r: std::ops::Range<usize>| {
            stepped[r.clone()].iter().sum::<u64>() * 100 / inputs[r].iter().sum::<u64>()
        };
        assert!(share(0..40) >= 50, "enqueues: {}% stepped", share(0..40));
        assert!(share(40..65) >= 30, "settles: {}% stepped", share(40..65));
    }

    #[test]
    fn committed_writes_leave_the_unsaved_list() {
        let owned = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // (unsaved, committed, left): a commit is normally the front, in order; anything else
        // takes every occurrence of its ids.
        let cases: [(&[&str], &[&str], &[&str]); 5] = [
            (&["a", "b", "c", "d"], &["a", "b"], &["c", "d"]),
            (&["a", "b", "a"], &["a", "b"], &["a"]), // a written again after the commit began
            (&["a", "b"], &[], &["a", "b"]),
            (&["c", "a", "b", "a"], &["a", "b"], &["c"]),
            (&["a"], &["a", "b"], &[]),
        ];
        for (unsaved, saved, left) in cases {
            let mut u = owned(unsaved);
            forget_saved(&mut u, saved);
            assert_eq!(u, owned(left), "{unsaved:?} - {saved:?}");
        }
    }

    #[test]
    fn withdraw_removes_many_with_one_pump() {
        let mut r = Run::new(OutboxConfig {
            window: 1,
            ..OutboxConfig::default()
        });
        for id in ["a", "b", "c", "d"] {
            r.enqueue(event(id)).unwrap();
        }
        r.ready(true);
        assert_eq!(r.take_sent(), ["a"]);
        let pumps = r.ob.entries_visited();
        r.ob.withdraw(r.now, &["c", "a", "x"]);
        r.drain();
        assert_eq!(r.deleted, ["a", "c"]);
        assert_eq!(r.take_sent(), ["b"], "a's slot in the window is free");
        assert_eq!(r.ob.entries_visited() - pumps, 4 + 2, "one pass, one pump");
    }

    #[test]
    fn load_merges_as_the_pairwise_search_did() {
        // The merge as it was (a search per stored entry, n²), against the walk in seq order.
        fn pairwise(known: &VecDeque<Entry>, stored: &[Entry], unsaved: &[String]) -> Vec<Entry> {
            let mut merged: Vec<Entry> = stored
                .iter()
                .cloned()
                .map(|mut e| {
                    match known.iter().find(|k| k.id == e.id) {
                        Some(k) => {
                            e.sends = k.sends;
                            if k.state == EntryState::InFlight || e.state == EntryState::InFlight {
                                e.state = k.state.clone();
                            }
                        }
                        None if e.state == EntryState::InFlight => e.state = EntryState::Pending,
                        None => {}
                    }
                    e
                })
                .collect();
            for e in known {
                if unsaved.contains(&e.id) && !merged.iter().any(|m| m.id == e.id) {
                    merged.push(e.clone());
                }
            }
            merged
        }
        let by_seq_and_id =
            |v: &mut Vec<Entry>| v.sort_by(|a, b| (a.seq, &a.id).cmp(&(b.seq, &b.id)));
        for seed in 1..=200u64 {
            let mut dice = Dice(Rng::new(seed));
            let mut r = Run::new(OutboxConfig {
                capacity: 1000,
                window: 1 + dice.below(3) as usize,
                ..OutboxConfig::default()
            });
            r.ready(dice.chance(50));
            for i in 0..dice.below(40) {
                r.enqueue(event(&format!("k{i}"))).unwrap();
            }
            for e in r.ob.entries().clone() {
                if e.state == EntryState::InFlight && dice.chance(30) {
                    r.settle(&e.id, Outcome::Delivered);
                }
            }
            let known = r.ob.entries().clone();
            // Storage: some of these, as written or as another tab left them, and entries of
            // another tab, some with the same seq as ours.
            let mut stored: Vec<Entry> = Vec::new();
            let mut unsaved: Vec<String> = Vec::new();
            for e in &known {
                match dice.below(6) {
                    0 => {}
                    1 => unsaved.push(e.id.clone()),
                    2 => stored.push(Entry {
                        state: EntryState::InFlight,
                        sends: 0,
                        ..e.clone()
                    }),
                    n => {
                        if n == 3 {
                            unsaved.push(e.id.clone()); // stored, and written again since
                        }
                        stored.push(Entry {
                            sends: 0,
                            ..e.clone()
                        })
                    }
                }
                if dice.chance(20) {
                    let other = Entry {
                        id: format!("other-{}", e.id),
                        state: if dice.chance(50) {
                            EntryState::InFlight
                        } else {
                            EntryState::Pending
                        },
                        ..e.clone()
                    };
                    if dice.chance(30) {
                        unsaved.push(other.id.clone()); // not ours: makes no difference
                    }
                    stored.push(other);
                }
            }
            // In the order storage returns them (by id), not by seq.
            stored.sort_by(|a, b| a.id.cmp(&b.id));
            let mut expected = pairwise(&known, &stored, &unsaved);
            r.ob.load(r.now, stored, &unsaved);
            let mut got: Vec<Entry> = r.ob.entries().iter().cloned().collect();
            assert!(
                got.windows(2).all(|w| w[0].seq <= w[1].seq),
                "seed {seed}: in seq order"
            );
            // The pump after the merge may have sent some: compare what the merge gave.
            for e in &mut got {
                if let Some(x) = expected.iter().find(|x| x.id == e.id) {
                    if x.state == EntryState::Pending && e.state == EntryState::InFlight {
                        e.state = EntryState::Pending;
                        e.sends = x.sends;
                    }
                }
            }
            by_seq_and_id(&mut expected);
            by_seq_and_id(&mut got);
            assert_eq!(got, expected, "seed {seed}");
        }
    }
}
