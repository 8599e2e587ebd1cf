// The page side of react.test.mjs: bundled by esbuild once per React version (react and
// react-dom mapped to react18 / react-dom18 for 18), with pkg/react.js inside the bundle and
// "/index.js" left as an import of the served pkg/, so the real wasm client runs. Development
// builds of React in <StrictMode> (effects mount, unmount and mount again), and console.error
// recorded, so React's own warnings (an uncached getSnapshot, an update loop) fail the tests.
import * as React from "react";
import { flushSync, version as domVersion } from "react-dom";
import { createRoot } from "react-dom/client";
import init, { connect } from "/index.js";
import {
  RealtimeProvider,
  useClient,
  useConnectionState,
  useEvent,
  useOutboxStatus,
  useQuery,
  useQueryData,
} from "../../pkg/react.js";

const h = React.createElement;

const consoleErrors = [];
for (const level of ["error", "warn"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    consoleErrors.push(`${level}: ${args.map(String).join(" ")}`);
    original(...args);
  };
}

/** Per component name: renders, and what it saw. */
const log = {};
const note = (name) => (log[name] ??= { renders: 0, seen: [], calls: [] });

/** Live and total subscriptions a client's hooks made, by kind. Wraps the instance methods. */
function track(client) {
  const live = { on: 0, onState: 0, outbox: 0, observe: 0, watch: 0 };
  const made = { ...live };
  const wrap = (obj, method, kind) => {
    const original = obj[method].bind(obj);
    obj[method] = (...args) => {
      const off = original(...args);
      made[kind]++;
      live[kind]++;
      let done = false;
      return () => {
        if (!done) {
          done = true;
          live[kind]--;
        }
        off();
      };
    };
  };
  wrap(client, "on", "on");
  wrap(client, "onState", "onState");
  wrap(client.outbox, "onChange", "outbox");
  wrap(client.cache, "observe", "observe");
  wrap(client.cache, "watch", "watch");
  return { live, made };
}

function EventProbe({ event, label }) {
  const n = note("event");
  n.renders++;
  const [count, setCount] = React.useState(0);
  useEvent(event, (payload) => {
    n.calls.push({ label, event, payload });
    setCount((c) => c + 1);
  });
  return h("p", { id: "event" }, `count:${count} label:${label} event:${event}`);
}

function StateProbe() {
  const n = note("state");
  n.renders++;
  const s = useConnectionState();
  if (n.seen.at(-1) !== s.status) n.seen.push(s.status);
  // The same object between changes: a stable dependency (a new one each read would loop).
  if (n.last && n.last !== s) n.changes = (n.changes ?? 0) + 1;
  n.last = s;
  return h("p", { id: "state" }, `status:${s.status} attempt:${s.attempt} recovered:${s.recovered}`);
}

function OutboxProbe() {
  const n = note("outbox");
  n.renders++;
  const s = useOutboxStatus();
  if (s === undefined) return h("p", { id: "outbox" }, "no outbox");
  if (n.seen.at(-1) !== s.pending) n.seen.push(s.pending);
  return h("p", { id: "outbox" }, `pending:${s.pending} inFlight:${s.inFlight} failed:${s.failed} persistence:${s.persistence}`);
}

function QueryProbe({ id, queryFn, shape = "data", enabled }) {
  const n = note("query");
  n.renders++;
  // A new array literal on every render: the hook must not observe again for it.
  const queryKey = ["todo", id];
  const s = shape === "query"
    ? useQuery({ queryKey, queryFn, enabled })
    : useQueryData(queryKey, { queryFn, enabled });
  n.seen.push(`${s.status}:${s.isFetching}:${JSON.stringify(s.data)}`);
  return h("p", { id: "query" },
    `status:${s.status} fetching:${s.isFetching} invalidated:${s.isInvalidated} data:${JSON.stringify(s.data) ?? "none"}`);
}

/** `useQueryData(["profile"], …)` rendered into `<p id={id}>`. Without `options` it is called
 *  with the key alone (passive: no queryFn); several roots render it (ProfileActive,
 *  ProfilePassive, ProfileDisabled), each with its own `id`. */
function ProfileProbe({ id, options }) {
  const n = note(id);
  n.renders++;
  const s = options === undefined ? useQueryData(["profile"]) : useQueryData(["profile"], options);
  n.seen.push(`${s.status}:${s.isFetching}:${s.isInvalidated}:${JSON.stringify(s.data)}`);
  return h("p", { id },
    `status:${s.status} fetching:${s.isFetching} invalidated:${s.isInvalidated} data:${JSON.stringify(s.data) ?? "none"}`);
}

function ClientProbe() {
  useClient();
  return h("p", { id: "client" }, "has client");
}

class Boundary extends React.Component {
  constructor(props) {
    super(props);
    this.state = { error: null };
  }
  static getDerivedStateFromError(error) {
    return { error };
  }
  render() {
    return this.state.error ? h("p", { id: "boundary" }, `caught: ${this.state.error.message}`) : this.props.children;
  }
}

const components = {
  EventProbe, StateProbe, OutboxProbe, QueryProbe, ClientProbe,
  // One component, three roots: mounted and unmounted independently.
  ProfileActive: ProfileProbe, ProfilePassive: ProfileProbe, ProfileDisabled: ProfileProbe,
};
const roots = {};

function element(component, client, props, fallback) {
  const inner = h(components[component], props);
  const provided = typeof client === "function"
    ? h(RealtimeProvider, { create: client, fallback }, inner)
    : client ? h(RealtimeProvider, { client }, inner) : inner;
  return h(React.StrictMode, null, h(Boundary, null, provided));
}

window.app = {
  react: React.version,
  reactDom: domVersion,
  consoleErrors,
  log,
  init: () => init(),
  /** A client with its hook subscriptions counted (`client.tracked.live`). */
  connect(options) {
    const client = connect(options);
    client.tracked = track(client);
    // With a listener, wiresync reports errors here instead of console.warn.
    client.errors = [];
    client.onError((e) => client.errors.push(e.code));
    return client;
  },
  /** Renders `component` with `props` into its own root (again: a re-render with new props).
   *  `client: null` renders it without a provider; a function is the provider's `create`,
   *  with `fallback`. */
  render(component, client, props = {}, fallback) {
    let root = roots[component];
    if (!root) {
      const div = document.createElement("div");
      div.id = `root-${component}`;
      document.body.append(div);
      root = roots[component] = { root: createRoot(div), div };
    }
    flushSync(() => root.root.render(element(component, client, props, fallback)));
  },
  unmount(component) {
    const root = roots[component];
    if (!root) return;
    root.root.unmount();
    root.div.remove();
    delete roots[component];
  },
  text: (id) => document.getElementById(id)?.textContent ?? null,
  rootText: (component) => roots[component]?.div.textContent ?? null,
};
