//! `shareAcrossTabs`: one connection for the tabs of a group. The rules are
//! [`core::share`](crate::core::share) (the leader's [`Hub`], each tab's [`Member`], the
//! messages); here are the Web Locks (the group's, held by the leader; this tab's own, held
//! while it lives; the other tabs', which the leader waits for to learn that a tab is gone),
//! the BroadcastChannel and the timer, and what each step means for the client.

use std::rc::Rc;

use super::{deliver, pump, report, Inner};
use crate::core::connection::{Connection, Shared, State, Status};
use crate::core::error::Error;
use crate::core::protocol::Incoming;
use crate::core::share::{group_name, Hub, Member, Msg, Room, Step};
use crate::platform::drop_later;
use crate::platform::tabs::{uuid, Channel, Leadership};
use crate::platform::timers::{self, now, Timer};

/// This build shares connections (cargo feature `share`; `share_off.rs` without it).
pub(super) const ENABLED: bool = true;

/// A tab's membership of its group.
pub(super) struct Share {
    name: String,
    member: Member,
    /// Set while this tab leads.
    hub: Option<Hub>,
    channel: Channel,
    _own: Leadership,
    lead: Option<Leadership>,
    /// The other tabs' locks, waited for while leading: granted when the tab is gone.
    watched: Vec<(String, Leadership)>,
    /// This tab took the lock over from a leader that stopped answering (frozen): its session
    /// is not offered for recovery (its socket may still live on the server).
    took_over: bool,
    /// What the state listeners were last told.
    told: Option<State>,
    /// The answer to a probe, due (see `handle`).
    pong: Option<Timer>,
    /// Credentials a follower handed over with `setAuth`, for the next connect only (this
    /// tab's own auth source is asked again after it).
    auth_once: Option<Option<String>>,
    /// Messages for a leader (with their binary parts), sent before this tab knew of one.
    waiting: Vec<(Msg, Option<js_sys::Array>)>,
}

/// Joins (or forms) the group of `identity` for this client's URL and namespace.
pub(super) fn start(inner: &Rc<Inner>, identity: &str) {
    let (url, namespace) = {
        let core = inner.core.borrow();
        let cfg = core.config();
        let ns = match &cfg.protocol {
            crate::core::protocol::Protocol::SocketIo { namespace, .. } => namespace.clone(),
            crate::core::protocol::Protocol::Json => String::new(),
        };
        (cfg.url.clone(), ns)
    };
    let name = group_name(&url, &namespace, identity);
    let me = uuid();
    let weak = Rc::downgrade(inner);
    let channel = Channel::open(&name, move |text, parts| {
        if let Some(inner) = weak.upgrade() {
            match Msg::decode(&text) {
                Ok(msg) => handle(&inner, msg, parts),
                Err(e) => report(&inner, &e),
            }
        }
    });
    // Hello once this tab holds its own lock: the leader then waits for it (granted when the
    // tab is gone) after this tab got it, whatever order the browser carries the two in.
    let weak = Rc::downgrade(inner);
    let own = Leadership::request(&[&name, "|tab|", &me].concat(), move || {
        if let Some(inner) = weak.upgrade() {
            let hello = inner.share.borrow().as_ref().map(|s| s.member.hello());
            match hello {
                // Posted, not kept for a leader: it is how a leader learns of this tab.
                Some(h) if following(&inner) => post(&inner, &h),
                Some(h) => handle(&inner, h, None),
                None => {}
            }
        }
    });
    let member = Member::new(&me, now());
    *inner.share.borrow_mut() = Some(Share {
        name,
        member,
        hub: None,
        channel,
        _own: own,
        lead: None,
        watched: Vec::new(),
        took_over: false,
        told: None,
        pong: None,
        auth_once: None,
        waiting: Vec::new(),
    });
    ask_to_lead(inner, false);
    arm(inner);
}

/// Requests the group's lock (taking it over from a quiet leader with `steal`).
fn ask_to_lead(inner: &Rc<Inner>, steal: bool) {
    let name = match inner.share.borrow_mut().as_mut() {
        Some(s) => {
            s.took_over = steal;
            // Later: this may run in that lock's own callback (`step_down`).
            if let Some(old) = s.lead.take() {
                drop_later(old);
            }
            s.name.clone()
        }
        None => return,
    };
    let (w1, w2) = (Rc::downgrade(inner), Rc::downgrade(inner));
    let lead = Leadership::request_with(
        &name,
        steal,
        move || {
            if let Some(inner) = w1.upgrade() {
                lead(&inner);
            }
        },
        Some(Box::new(move || {
            if let Some(inner) = w2.upgrade() {
                step_down(&inner);
            }
        })),
    );
    if let Some(s) = inner.share.borrow_mut().as_mut() {
        s.lead = Some(lead);
    }
}

/// Whether this client shares a connection and another tab holds it.
pub(super) fn following(inner: &Inner) -> bool {
    inner
        .share
        .borrow()
        .as_ref()
        .is_some_and(|s| s.hub.is_none())
}

/// Whether this client shares a connection (as leader or follower).
pub(super) fn sharing(inner: &Inner) -> bool {
    inner.share.borrow().is_some()
}

/// This tab became the leader: it takes the group over (its rooms, its session) and connects.
fn lead(inner: &Rc<Inner>) {
    let t = now();
    let (group, took_over, hello, me) = {
        let share = inner.share.borrow();
        let Some(s) = share.as_ref() else { return };
        let me = s.member.me().to_owned();
        (s.member.group(), s.took_over, s.member.hello(), me)
    };
    let hub = {
        let mut core = inner.core.borrow_mut();
        if let Some(g) = &group {
            core.resume(if took_over { None } else { g.session.clone() });
        }
        let mut hub = Hub::new(&me, group.as_ref(), &mut core, t);
        hub.handle(&mut core, t, hello);
        hub
    };
    let tabs: Vec<String> = hub.tabs().iter().skip(1).cloned().collect();
    if let Some(s) = inner.share.borrow_mut().as_mut() {
        s.hub = Some(hub);
    }
    for tab in tabs {
        watch(inner, tab);
    }
    {
        let mut core = inner.core.borrow_mut();
        core.set_online(t, crate::platform::lifecycle::is_online());
        core.connect(t);
    }
    pump(inner);
    flush(inner);
    send_waiting(inner);
}

/// Another tab took the lock over while this one was frozen: this one lets its connection go
/// and follows.
fn step_down(inner: &Rc<Inner>) {
    let t = now();
    // Not leading first: the group hears nothing of this connection's end.
    let hello = match inner.share.borrow_mut().as_mut() {
        Some(s) => {
            s.hub = None;
            s.watched.clear();
            s.member.reset(t);
            s.member.hello()
        }
        None => return,
    };
    let config = inner.core.borrow().config().clone();
    inner.core.borrow_mut().close(t);
    pump(inner);
    *inner.core.borrow_mut() = Connection::new(config, t);
    post(inner, &hello);
    ask_to_lead(inner, false);
    arm(inner);
}

/// Waits for `tab`'s own lock: granted once that tab is gone.
fn watch(inner: &Rc<Inner>, tab: String) {
    let Some(name) = inner.share.borrow().as_ref().map(|s| s.name.clone()) else {
        return;
    };
    let weak = Rc::downgrade(inner);
    let t = tab.clone();
    let lock = Leadership::request(&[&name, "|tab|", &tab].concat(), move || {
        if let Some(inner) = weak.upgrade() {
            gone(&inner, &t);
        }
    });
    if let Some(s) = inner.share.borrow_mut().as_mut() {
        s.watched.push((tab, lock));
    }
}

fn gone(inner: &Rc<Inner>, tab: &str) {
    {
        let mut share = inner.share.borrow_mut();
        let Some(s) = share.as_mut() else { return };
        // Later: this runs in that lock's own callback.
        if let Some(at) = s.watched.iter().position(|(t, _)| t == tab) {
            drop_later(s.watched.remove(at));
        }
        let Some(hub) = s.hub.as_mut() else { return };
        hub.gone(&mut inner.core.borrow_mut(), now(), tab);
    }
    pump(inner);
    flush(inner);
}

fn post(inner: &Inner, msg: &Msg) {
    if let Some(s) = inner.share.borrow().as_ref() {
        s.channel.post(&msg.encode());
    }
}

/// Sends a message to the leader: handled here when this tab leads, kept until there is one
/// when no tab is known to lead yet (a tab that just opened: its first emits wait, as they
/// wait for the connection without sharing).
pub(super) fn to_leader(inner: &Rc<Inner>, msg: Msg) {
    to_leader_with(inner, msg, None);
}

/// [`to_leader`] with binary parts (an emit's or an ack's).
fn to_leader_with(inner: &Rc<Inner>, msg: Msg, parts: Option<js_sys::Array>) {
    if !following(inner) {
        return handle(inner, msg, parts);
    }
    let (msg, parts) = match inner.share.borrow_mut().as_mut() {
        Some(s) if !s.member.knows_leader() => {
            s.waiting.push((msg, parts));
            return;
        }
        Some(_) => (msg, parts),
        None => return,
    };
    if let Some(s) = inner.share.borrow().as_ref() {
        match &parts {
            Some(p) => s.channel.post_parts(&msg.encode(), p),
            None => s.channel.post(&msg.encode()),
        }
    }
}

/// What waited for a leader goes to the one there now (this tab, or another).
fn send_waiting(inner: &Rc<Inner>) {
    let waiting = match inner.share.borrow_mut().as_mut() {
        Some(s) => std::mem::take(&mut s.waiting),
        None => return,
    };
    for (msg, parts) in waiting {
        to_leader_with(inner, msg, parts);
    }
}

/// A message from another tab (with the binary parts of an event), or one of this tab's own
/// for the leader it is.
fn handle(inner: &Rc<Inner>, msg: Msg, parts: Option<js_sys::Array>) {
    let t = now();
    let leading = !following(inner);
    if leading {
        if let Msg::Reconnect { auth } = &msg {
            if let Some(s) = inner.share.borrow_mut().as_mut() {
                s.auth_once = auth.clone();
            }
            inner.core.borrow_mut().reconnect(t);
            pump(inner);
            return;
        }
        if msg == Msg::Ping {
            // Answered from a timer, not from this message's task: a frozen tab still handles
            // BroadcastChannel messages but runs no timers (nor its socket), so it must not
            // look alive. A hidden tab's timer is late by a second at most.
            let weak = Rc::downgrade(inner);
            let pong = Timer::at(t, move || {
                if let Some(inner) = weak.upgrade() {
                    pong(&inner);
                }
            });
            if let Some(s) = inner.share.borrow_mut().as_mut() {
                s.pong = Some(pong);
            }
            return;
        }
        if let Some(parts) = &parts {
            return binary_for_group(inner, t, &msg, parts);
        }
        let new_tab = {
            let mut share = inner.share.borrow_mut();
            let Some(hub) = share.as_mut().and_then(|s| s.hub.as_mut()) else {
                return;
            };
            hub.handle(&mut inner.core.borrow_mut(), t, msg.clone())
        };
        if let Some(tab) = new_tab {
            watch(inner, tab);
        }
        pump(inner);
        flush(inner);
    }
    receive(inner, &msg, leading, parts);
}

/// A tab's emit or ack answer with binary parts, sent by the leader: the parts wait beside the
/// connection as the leader's own do (`keep_parts`).
fn binary_for_group(inner: &Rc<Inner>, t: u64, msg: &Msg, parts: &js_sys::Array) {
    let bin = super::keep_parts(inner, parts);
    let sent = match inner
        .share
        .borrow_mut()
        .as_mut()
        .and_then(|s| s.hub.as_mut())
    {
        Some(hub) => hub.send(&mut inner.core.borrow_mut(), t, msg, Some(bin)),
        None => false,
    };
    if !sent {
        super::take_parts(inner, bin.token);
    }
    pump(inner);
    flush(inner);
}

/// The credentials for this connect, when a follower handed them over (used once).
pub(super) fn auth_once(inner: &Inner) -> Option<Option<String>> {
    inner.share.borrow_mut().as_mut()?.auth_once.take()
}

/// Answers a probe: the group's state to every tab.
fn pong(inner: &Rc<Inner>) {
    if let Some(hub) = inner
        .share
        .borrow_mut()
        .as_mut()
        .and_then(|s| s.hub.as_mut())
    {
        hub.handle(&mut inner.core.borrow_mut(), now(), Msg::Ping);
    }
    flush(inner);
}

/// This tab's own side of a message.
fn receive(inner: &Rc<Inner>, msg: &Msg, leading: bool, parts: Option<js_sys::Array>) {
    let step = match inner.share.borrow_mut().as_mut() {
        Some(s) => s.member.receive(now(), msg, leading),
        None => return,
    };
    act(inner, step, Some(msg), parts);
    arm(inner);
}

fn act(inner: &Rc<Inner>, step: Step, msg: Option<&Msg>, parts: Option<js_sys::Array>) {
    match step {
        Step::None => {}
        Step::State => tell_state(inner),
        Step::NewLeader => {
            let hello = inner.share.borrow().as_ref().map(|s| s.member.hello());
            if let Some(h) = hello {
                post(inner, &h);
            }
            send_waiting(inner);
            tell_state(inner);
        }
        Step::Deliver => {
            if let Some(Msg::Event {
                name, args, ack, ..
            }) = msg
            {
                let mut ev = relayed(name, args, *ack);
                if let Some(parts) = parts {
                    // Where `deliver` takes a packet's binary parts from, as for the socket's.
                    ev.attachments = parts.length();
                    *inner.attach_in.borrow_mut() = parts.iter().collect();
                }
                deliver(inner, ev);
            }
        }
        Step::Complete(req, result) => super::complete(inner, req, result, parts),
        Step::Probe => post(inner, &Msg::Ping),
        Step::TakeOver => ask_to_lead(inner, true),
    }
}

/// An event that another tab received, as this tab delivers it (its own schemas check it).
fn relayed(name: &str, args: &str, ack: Option<u64>) -> Incoming {
    let first_len = crate::core::json::array_elements(args)
        .ok()
        .and_then(|a| a.first().map(|f| f.len()))
        .unwrap_or(0);
    Incoming {
        name: name.into(),
        args: args.into(),
        ack,
        first_len,
        payload_ok: None,
        in_frame: None,
        attachments: 0,
    }
}

/// Sends (or handles here) what the hub queued.
pub(super) fn flush(inner: &Rc<Inner>) {
    loop {
        let msgs = match inner
            .share
            .borrow_mut()
            .as_mut()
            .and_then(|s| s.hub.as_mut())
        {
            Some(hub) => hub.poll(),
            None => return,
        };
        if msgs.is_empty() {
            return;
        }
        for msg in msgs {
            let mine = match &msg {
                Msg::Done { tab, .. } => Some(is_me(inner, tab)),
                _ => None,
            };
            match mine {
                Some(true) => receive(inner, &msg, true, None),
                Some(false) => post(inner, &msg),
                None => {
                    post(inner, &msg);
                    if let Msg::State(_) = msg {
                        tell_state(inner);
                    }
                }
            }
        }
    }
}

fn is_me(inner: &Inner, tab: &str) -> bool {
    inner
        .share
        .borrow()
        .as_ref()
        .is_some_and(|s| s.member.me() == tab)
}

/// An event the leader's connection received: to the tabs it is for, and here if this tab
/// is one of them. False when this client does not share its connection.
pub(super) fn event(inner: &Rc<Inner>, ev: &Incoming) -> bool {
    let msg = {
        let mut share = inner.share.borrow_mut();
        let Some(s) = share.as_mut() else {
            return false;
        };
        let Some(hub) = s.hub.as_mut() else {
            return false;
        };
        let followers = hub.tabs().len() > 1;
        let msg = hub.event(
            &inner.core.borrow(),
            &ev.name,
            &ev.args,
            ev.first_arg(),
            ev.ack,
        );
        if followers && ev.attachments > 0 {
            // The packet's binary parts, which `deliver` takes here after this.
            let parts: js_sys::Array = inner.attach_in.borrow().iter().collect();
            s.channel.post_parts(&msg.encode(), &parts);
        } else if followers {
            s.channel.post(&msg.encode());
        }
        msg
    };
    if let Msg::Event { to, .. } = &msg {
        if !(to.is_empty() || to.iter().any(|t| is_me(inner, t))) {
            return true;
        }
    }
    false
}

/// The connection's state changed (or the group did): the state listeners hear it with how
/// the connection is shared, and the other tabs are told.
pub(super) fn state_changed(inner: &Rc<Inner>) {
    let msg = {
        let share = inner.share.borrow();
        let Some(hub) = share.as_ref().and_then(|s| s.hub.as_ref()) else {
            return;
        };
        Msg::State(hub.group(&inner.core.borrow()))
    };
    post(inner, &msg);
    tell_state(inner);
}

/// The state as this tab sees it: its own connection's when it leads, the leader's when it
/// follows; `None` when it does not share.
pub(super) fn state(inner: &Inner) -> Option<State> {
    let share = inner.share.borrow();
    let s = share.as_ref()?;
    let (mut state, tabs) = match &s.hub {
        Some(hub) => (inner.core.borrow().state(), hub.tabs().len()),
        None => match s.member.group() {
            Some(g) => (g.state, g.tabs.len()),
            None => (
                State {
                    status: Status::Connecting,
                    attempt: 0,
                    error: None,
                    recovered: false,
                    resync: false,
                    shared: None,
                    url: inner.core.borrow().config().url.clone(),
                    transport: None,
                },
                1,
            ),
        },
    };
    state.shared = Some(Shared {
        leader: s.hub.is_some(),
        tabs: tabs as u32,
    });
    Some(state)
}

fn tell_state(inner: &Rc<Inner>) {
    let Some(state) = state(inner) else { return };
    {
        let mut share = inner.share.borrow_mut();
        let Some(s) = share.as_mut() else { return };
        if s.told.as_ref() == Some(&state) {
            return;
        }
        s.told = Some(state.clone());
    }
    super::tell_state(inner, &state);
}

/// Arms the timer for this tab's pending requests and its watch on the leader.
fn arm(inner: &Rc<Inner>) {
    let at = {
        let share = inner.share.borrow();
        let Some(s) = share.as_ref() else { return };
        s.member.poll_timeout(s.hub.is_none())
    };
    if let Some(at) = at {
        timers::rearm(
            inner,
            |i| &i.share_timer,
            at,
            |inner| {
                let steps = match inner.share.borrow_mut().as_mut() {
                    Some(s) => {
                        let following = s.hub.is_none();
                        s.member.timeout(now(), following)
                    }
                    None => return,
                };
                for step in steps {
                    act(inner, step, None, None);
                }
                arm(inner);
            },
        );
    }
}

/// Joins a room through the group; returns this tab's id for it. `ready` is in place before
/// the join goes out (a leader may answer it at once).
pub(super) fn join(inner: &Rc<Inner>, room: Room, ready: super::AckWaiter) -> u64 {
    let ack = room.ack;
    let timeout = inner.core.borrow().config().ack_timeout_ms;
    let (sub, msg) = {
        let mut share = inner.share.borrow_mut();
        let s = share.as_mut().expect("sharing");
        let (sub, msg) = s.member.join(room);
        if ack {
            s.member.expect(now(), sub, timeout);
        }
        (sub, msg)
    };
    inner.requests.borrow_mut().push((sub, ready));
    to_leader(inner, msg);
    arm(inner);
    sub
}

/// Leaves a room through the group.
pub(super) fn leave(inner: &Rc<Inner>, sub: u64) {
    let msg = inner
        .share
        .borrow_mut()
        .as_mut()
        .and_then(|s| s.member.leave(sub));
    if let Some(msg) = msg {
        to_leader(inner, msg);
    }
}

/// Emits through the leader (this tab follows); with `ack`, the request id its answer
/// completes.
pub(super) fn emit(
    inner: &Rc<Inner>,
    name: &str,
    args: &str,
    ack: Option<Option<u64>>,
    parts: Option<&js_sys::Array>,
) -> u64 {
    let timeout = inner.core.borrow().config().ack_timeout_ms;
    let (req, msg) = {
        let mut share = inner.share.borrow_mut();
        let s = share.as_mut().expect("sharing");
        s.member.emit(now(), name, args, ack, timeout)
    };
    to_leader_with(inner, msg, parts.cloned());
    arm(inner);
    req
}

/// Leaves the group: a follower says goodbye; a leader hands its session over (the transport
/// drops without leaving the session, so the next leader recovers it) when other tabs remain,
/// or closes it when none do.
pub(super) fn leave_group(inner: &Rc<Inner>) {
    let Some(s) = inner.share.borrow_mut().take() else {
        return;
    };
    let t = now();
    match &s.hub {
        Some(hub) if hub.tabs().len() > 1 => inner.core.borrow_mut().hand_over(t),
        Some(_) => inner.core.borrow_mut().close(t),
        None => s.channel.post(
            &Msg::Bye {
                tab: s.member.me().into(),
            }
            .encode(),
        ),
    }
    inner.share_timer.borrow_mut().take();
    // The locks and the channel go with `s`, after the transport was told to close.
    pump(inner);
    drop_later(s);
    // What went through the group is not answered now (as `close` fails a connection's acks).
    let pending = std::mem::take(&mut *inner.requests.borrow_mut());
    for (_, w) in pending {
        w(Err(Error::new(
            crate::core::error::ErrorCode::Closed,
            "the client left its group of tabs",
        )));
    }
}

/// Reconnects the group's connection (with new credentials: `auth`).
pub(super) fn reconnect(inner: &Rc<Inner>, auth: Option<Option<String>>) {
    to_leader(inner, Msg::Reconnect { auth });
}

/// Answers the server's ack request `id`, once for the group.
pub(super) fn answer(inner: &Rc<Inner>, id: u64, args: &str, parts: Option<&js_sys::Array>) {
    let msg = Msg::Answer {
        id,
        args: args.into(),
    };
    to_leader_with(inner, msg, parts.cloned());
}

/// Leaves this group and joins the one of `identity` with a fresh connection. The tab's rooms
/// (and its ids for them) come along: the new group joins them.
pub(super) fn regroup(inner: &Rc<Inner>, identity: &str) {
    let config = inner.core.borrow().config().clone();
    let kept = inner.share.borrow().as_ref().map(|s| s.member.clone());
    leave_group(inner);
    *inner.core.borrow_mut() = Connection::new(config, now());
    start(inner, identity);
    if let (Some(old), Some(s)) = (kept, inner.share.borrow_mut().as_mut()) {
        s.member.carry(old);
    }
}

/// The connection's ack `id` came: the tab that asked for it is told. False when it was
/// this tab's own (or this client does not share).
pub(super) fn acked(
    inner: &Rc<Inner>,
    id: u64,
    result: &Result<String, Error>,
    parts: &Option<js_sys::Array>,
) -> bool {
    let relayed = match inner
        .share
        .borrow_mut()
        .as_mut()
        .and_then(|s| s.hub.as_mut())
    {
        Some(hub) => match hub.acked(id, result) {
            true => hub.poll(),
            false => return false,
        },
        None => return false,
    };
    // The `Done` for the tab that asked (this one, when its first emits waited for it to
    // lead), with the ack's binary parts.
    for msg in relayed {
        let mine = matches!(&msg, Msg::Done { tab, .. } if is_me(inner, tab));
        match parts {
            _ if mine => receive(inner, &msg, true, parts.clone()),
            Some(p) if matches!(msg, Msg::Done { .. }) => {
                if let Some(s) = inner.share.borrow().as_ref() {
                    s.channel.post_parts(&msg.encode(), p);
                }
            }
            _ => post(inner, &msg),
        }
    }
    flush(inner);
    true
}

/// The connection joined a room (or failed to): the tabs waiting for it are told. False
/// when this client does not share.
pub(super) fn subscribed(inner: &Rc<Inner>, id: u64, result: &Result<String, Error>) -> bool {
    match inner
        .share
        .borrow_mut()
        .as_mut()
        .and_then(|s| s.hub.as_mut())
    {
        Some(hub) => hub.subscribed(id, result),
        None => return false,
    };
    flush(inner);
    true
}
