// A real Socket.IO cluster: two socket.io 4.8.4 nodes joined by @socket.io/redis-streams-adapter
// on a real redis-server, all on 127.0.0.1 (tests/servers/cluster.mjs). The outbox ledger lives
// in Redis, so "applied once" is checked across nodes. The client runs in headless Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, root, serveStatic, until, wiresyncPage } from "./harness.mjs";
import { startCluster } from "../servers/cluster.mjs";
import { startProxy } from "../servers/proxy.mjs";

let browser, site, page;

before(async () => {
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
  page = await wiresyncPage(browser, site, 30_000);
  await page.evaluate(() => {
    const mod = window.wiresync;
    // A client of the cluster whose events and outbox progress are recorded in `log`.
    window.clusterClient = (url, extra = {}) => {
      const client = mod.connect({
        url,
        auth: { token: "good" },
        catalog: false,
        reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
        ackTimeoutMs: 1000,
        outbox: { name: "cluster-" + Math.random(), capacity: 1000, maxRetries: 50, retry: { initialDelayMs: 100, maxDelayMs: 300 } },
        ...extra,
      });
      const log = { seqs: [], errors: [], states: [] };
      client.on("cluster:tick", (t) => log.seqs.push(t.seq));
      client.onError((e) => log.errors.push(e.code));
      client.onState((s) => log.states.push({ status: s.status, url: s.url, recovered: s.recovered, transport: s.transport }));
      return { client, log };
    };
  });
});

after(async () => {
  await browser?.close();
  site?.close();
});

const tick = (room, count, intervalMs) =>
  `emit?room=${room}&event=cluster:tick&count=${count}&intervalMs=${intervalMs}&payload=${encodeURIComponent(JSON.stringify({ room }))}`;
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

/** Runs `body(cluster)` on a fresh cluster, stopped after. */
async function withCluster(env, body, { durable = false } = {}) {
  const cluster = await startCluster({ nodes: 2, env, log: false, durable });
  try {
    await cluster.nodes[0].control("reset");
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}

test("node A is SIGKILLed during 500 room events and a 300-message outbox with 20 % of acks dropped: the client goes on at B, recovered, nothing lost or repeated", async () => {
  await withCluster({}, async ({ nodes: [a, b] }) => {
    await b.control("drop-acks?rate=0.2");
    const ids = await page.evaluate(async (urls) => {
      const t = clusterClient(urls);
      window.k = t;
      await waitFor(() => t.client.state.status === "open");
      await t.client.subscribe("order", { orderId: "k1" }).ready;
      const ids = [];
      for (let n = 1; n <= 300; n++) ids.push((await t.client.outbox.enqueue("note:add", { n })).id);
      return ids;
    }, [a.url, b.url]);
    // B emits to the room (through Redis, to the client on A); A dies a third of the way in.
    await b.control(tick("order:k1", 500, 4));
    await until("some events on A", () => page.evaluate(() => window.k.log.seqs.length >= 150), 10_000);
    await a.kill();
    const killedAt = Date.now();
    await until("all 500 events", () => page.evaluate(() => window.k.log.seqs.length >= 500), 30_000);
    await until("the outbox drained", () => page.evaluate(() => {
      const s = window.k.client.outbox.status();
      return s.pending + s.inFlight === 0;
    }), 60_000);
    const r = await page.evaluate(() => {
      const { client, log } = window.k;
      const out = { state: client.state, outbox: client.outbox.status(), log };
      client.close();
      return out;
    });
    console.log(`# killed A; the client was open on B, recovered, ${Date.now() - killedAt} ms later at most`);
    assert.equal(r.state.url, b.url, "the client is on node B");
    assert.equal(r.state.recovered, true, "B recovered the session from Redis");
    assert.deepEqual(r.log.seqs, range(500), "every event exactly once, in order");
    const stats = await b.control("stats");
    assert.equal(stats.joins["order:k1"], 1, "the room was not joined again");
    const ledger = await b.control("ledger");
    assert.deepEqual(ledger.applied, ids, "all 300 applied, once each, in order");
    assert.ok(ledger.duplicates > 0, "some were received again (dropped acks, the kill), and still applied once");
    assert.equal(r.outbox.failed, 0);
  });
});

test("recovery fails (the session is older than maxDisconnectionDuration): rooms are re-joined once on B and active queries refetch", async () => {
  await withCluster({ SIO_MAX_DISCONNECTION: "1000" }, async ({ nodes: [a, b] }) => {
    await page.evaluate(async (urls) => {
      const t = clusterClient(urls);
      t.fetches = 0;
      t.client.cache.observe(["orders"], { queryFn: () => ({ n: ++t.fetches }), staleTime: 600000 }, () => {});
      window.rf = t;
      await waitFor(() => t.client.state.status === "open" && t.fetches === 1);
      await t.client.subscribe("order", { orderId: "r1" }).ready;
    }, [a.url, b.url]);
    // Both nodes down for longer than the session is kept, then B comes back.
    await a.kill();
    await b.kill();
    await new Promise((r) => setTimeout(r, 2500));
    await b.start();
    await until("open again on B", () => page.evaluate((bUrl) => window.rf.client.state.status === "open" && window.rf.client.state.url === bUrl, b.url), 20_000);
    await until("the refetch", () => page.evaluate(() => window.rf.fetches === 2), 10_000);
    await b.control(tick("order:r1", 3, 0));
    await until("events in the re-joined room", () => page.evaluate(() => window.rf.log.seqs.length === 3), 10_000);
    const r = await page.evaluate(() => {
      const { client, log, fetches } = window.rf;
      const out = { recovered: client.state.recovered, resync: client.state.resync, fetches, seqs: log.seqs };
      client.close();
      return out;
    });
    assert.equal(r.recovered, false);
    assert.equal(r.resync, true);
    assert.equal(r.fetches, 2, "the active query refetched once");
    assert.deepEqual(r.seqs, [1, 2, 3]);
    const stats = await b.control("stats");
    assert.equal(stats.joins["order:r1"], 2, "joined on A, then once on B");
  });
});

test("Redis restarts during traffic: nothing the client queued is lost or applied twice", async () => {
  await withCluster({}, async (cluster) => {
    const [a, b] = cluster.nodes;
    await page.evaluate(async (urls) => {
      const t = clusterClient(urls);
      window.rr = t;
      t.ids = [];
      await waitFor(() => t.client.state.status === "open");
      t.sending = (async () => {
        for (let n = 1; n <= 120; n++) {
          t.ids.push((await t.client.outbox.enqueue("note:add", { n })).id);
          await new Promise((r) => setTimeout(r, 15));
        }
      })();
    }, [a.url, b.url]);
    await until("some applied", async () => (await a.control("ledger")).applied.length >= 30, 10_000);
    await cluster.redis.restart();
    await page.evaluate(() => window.rr.sending);
    await until("the outbox drained", () => page.evaluate(() => {
      const s = window.rr.client.outbox.status();
      return s.pending + s.inFlight === 0;
    }), 60_000);
    const r = await page.evaluate(() => {
      const { client, ids } = window.rr;
      const out = { ids, failed: client.outbox.status().failed };
      client.close();
      return out;
    });
    const ledger = await a.control("ledger");
    assert.equal(r.failed, 0);
    // Each entry applied once. (Around the restart the order may differ: entries in flight
    // when a ledger write failed are applied on their retry, after later ones that were not.)
    assert.equal(new Set(ledger.applied).size, ledger.applied.length, "none applied twice");
    assert.deepEqual([...ledger.applied].sort(), [...r.ids].sort(), "every entry applied, across the restart");
    const at = (id) => r.ids.indexOf(id);
    const early = ledger.applied.filter((id, i) => i > 0 && at(id) < at(ledger.applied[i - 1])).length;
    console.log(`# Redis restart: ${r.ids.length} entries applied once each; ${early} applied after a later one (retried after a failed ledger write)`);
  }, { durable: true });
});

test("polling against the cluster behind a sticky proxy: killing the sticky node fails over to the other, recovered", async () => {
  await withCluster({}, async ({ nodes: [a, b] }) => {
    const proxy = await startProxy({ targets: [a.url, b.url], sticky: true });
    try {
      await page.evaluate(async (url) => {
        const t = clusterClient(url, { transports: ["polling"] });
        window.pc = t;
        await waitFor(() => t.client.state.status === "open");
        await t.client.subscribe("order", { orderId: "p1" }).ready;
      }, proxy.url);
      const where = (await a.control("stats")).clients;
      assert.equal(where, 1, "the polling session is on A (the proxy's first target)");
      await b.control(tick("order:p1", 300, 5));
      await until("some events over polling", () => page.evaluate(() => window.pc.log.seqs.length >= 80), 10_000);
      await a.kill();
      await until("all 300 events", () => page.evaluate(() => window.pc.log.seqs.length >= 300), 30_000);
      const r = await page.evaluate(() => {
        const { client, log } = window.pc;
        const out = { state: client.state, seqs: log.seqs };
        client.close();
        return out;
      });
      assert.equal(r.state.transport, "polling");
      assert.equal(r.state.recovered, true);
      assert.deepEqual(r.seqs, range(300), "every event exactly once, in order");
      assert.equal((await b.control("stats")).joins["order:p1"], 1, "no room re-joined");
      assert.ok(proxy.stats().badGateway >= 1, "the dead node's session got a 502");
    } finally {
      await proxy.close();
    }
  });
});
