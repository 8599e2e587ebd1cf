// The Expo bundler test app: the contract in tests/bundlers/lib.mjs, with React Native
// components (react-native-web renders `testID` as `data-testid`). It imports wiresync exactly
// as an app would; metro.config.js makes "wiresync" resolve to its Metro entry.
import { useEffect, useState } from "react";
import { Text, View } from "react-native";
import init, { connect } from "wiresync";

export default function App() {
  const [status, setStatus] = useState("");
  const [joined, setJoined] = useState("");
  const [event, setEvent] = useState("");
  const [enqueued, setEnqueued] = useState("");
  const [error, setError] = useState("");

  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    let client;
    let closed = false;
    (async () => {
      await init();
      if (closed) return;
      client = connect({
        url: params.get("server"),
        auth: { token: "good" },
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
        outbox: { name: params.get("outbox") },
      });
      setStatus(client.state.status);
      client.onState((s) => setStatus(s.status));
      client.on("order:status_update", (p) => setEvent(`${p.orderId} ${p.status}`));
      client.subscribe("order", { orderId: params.get("order") }).ready.then(() => setJoined("yes"));
      const { id } = await client.outbox.enqueue("note:add", { text: "from an Expo app" });
      setEnqueued(id);
    })().catch((e) => {
      console.error(e);
      setError(String(e));
    });
    return () => {
      closed = true;
      client?.close();
    };
  }, []);

  return (
    <View style={{ padding: 16, gap: 8 }}>
      <Text>wiresync in Expo (web)</Text>
      <Text>status: <Text testID="status">{status}</Text> · joined: <Text testID="joined">{joined}</Text></Text>
      <Text>event: <Text testID="event">{event}</Text></Text>
      <Text>enqueued: <Text testID="enqueued">{enqueued}</Text></Text>
      {error ? <Text testID="error">{error}</Text> : null}
    </View>
  );
}
