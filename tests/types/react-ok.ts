/// <reference path="./react-shim.d.ts" />
// Must compile: typed use of wiresync/react. Every `@ts-expect-error` line must be an error
// (tsc fails on an unused one), so each proves a mistake is caught.
import { createElement, type ReactElement } from "react";
import { connect, type ConnectionState, type OutboxStatus, type QueryState, type Status } from "../../pkg/index.js";
import {
  RealtimeProvider,
  useClient,
  useConnectionState,
  useEvent,
  useOutboxStatus,
  useQuery,
  useQueryData,
  type UseQueryDataOptions,
} from "../../pkg/react.js";

interface Listen {
  "chat:message": { text: string; from: string };
}
interface Emit {
  "chat:send_message": { chatId: string; message: string; timestamp: string };
}
interface Todo {
  id: number;
  title: string;
}

function Widget(): ReactElement {
  const client = useClient<Listen, Emit>();
  client.emit("chat:send_message", { chatId: "c", message: "hi", timestamp: "t" });

  // Catalog events are typed without an event map; an app's map is given explicitly.
  useEvent("order:status_update", (update, meta) => {
    const s: string = update.status;
    meta.ack?.({ ok: true, s });
  });
  useEvent<Listen, "chat:message">("chat:message", (m) => void (m.text satisfies string));
  useEvent("some:custom_event", (payload) => void payload);

  const state: ConnectionState = useConnectionState();
  const status: Status = state.status;
  const outbox: OutboxStatus | undefined = useOutboxStatus();
  const pending: number = outbox ? outbox.pending + outbox.inFlight : 0;

  const options: UseQueryDataOptions<Todo[]> = { staleTime: 30_000, gcTime: 60_000, enabled: status === "open" };
  const todos: QueryState<Todo[]> = useQueryData(["todos", { done: false }], {
    ...options,
    queryFn: async ({ queryKey }) => (await fetch(`/api/${String(queryKey[0])}`)).json() as Promise<Todo[]>,
  });
  const first: string | undefined = todos.data?.[0]?.title;
  const count = useQuery({ queryKey: ["count"], queryFn: () => 42 });
  const n: number | undefined = count.data;
  const followed = useQueryData<{ status: string }>(["order-status", "o1"]); // no queryFn: follows the cache
  const error: string | null = followed.error;

  // @ts-expect-error not an event of the app's map
  useEvent<Listen, "chat:msg">("chat:msg", () => {});
  // @ts-expect-error no such field on the typed payload
  useEvent<Listen, "chat:message">("chat:message", (m) => void m.body);
  // @ts-expect-error catalog payloads are typed: orderId is a string
  useEvent("order:status_update", (u) => void (u.orderId satisfies number));
  // @ts-expect-error the outbox can be disabled: the status may be undefined
  void useOutboxStatus().pending;
  // @ts-expect-error a query key is an array
  useQueryData("todos", { queryFn: () => 1 });
  // @ts-expect-error an unknown option (a typo of staleTime)
  useQueryData(["todos"], { queryFn: () => 1, staleTim: 5 });
  // @ts-expect-error the data's type comes from queryFn
  const wrong: string | undefined = useQueryData(["count"], { queryFn: () => 42 }).data;
  // @ts-expect-error useQuery needs a queryKey
  useQuery({ queryFn: () => 1 });
  void wrong;

  return createElement("p", null, status, pending, first, n, error);
}

export function App(): ReactElement {
  const client = connect<Listen, Emit>({ url: "http://127.0.0.1:3000" });
  // @ts-expect-error the provider needs a client
  createElement(RealtimeProvider, {});
  return createElement(RealtimeProvider, { client }, createElement(Widget));
}
