// A Socket.IO cluster on Redis for wiresync's multi-node tests and benches: one redis-server
// and N cluster-node.mjs processes (default 2, named "a", "b", ...), all on 127.0.0.1, each on
// a free port. Tests can kill and restart every part of it.
//
// As a module:
//   import { startCluster } from "../servers/cluster.mjs";
//   const cluster = await startCluster({ nodes: 2, env: { SIO_PING_INTERVAL: "1000" } });
//   const [a, b] = cluster.nodes;
//   await a.kill(); await a.start(); await cluster.redis.restart(); await cluster.stop();
//
// startCluster({ nodes = 2, env = {}, log = true, durable = false }) resolves to (durable: Redis
// keeps its data across restart(), see startRedis)
//   redis: { port, url ("redis://127.0.0.1:PORT"), pid, alive,
//            async restart()  SIGKILL, wait for the exit, start again on the same port and
//                             resolve once it answers PING (all data is gone: no persistence)
//            async stop() }   SIGKILL, resolves when it exited
//   nodes: [{ name, port, url ("http://127.0.0.1:PORT"), pid, alive,
//             kill()          SIGKILL; resolves when the process exited
//             terminate()     SIGTERM (graceful: sessions are persisted for recovery); resolves
//                             with the exit code
//             async start()   starts it again on the SAME port; resolves once it listens
//             async control(pathAndQuery)  GET /control/<pathAndQuery>, parsed JSON }]
//   async stop()              kills the nodes (SIGKILL) then Redis; idempotent
// `env` is added to every node's environment (e.g. SIO_MAX_DISCONNECTION, SIO_PING_INTERVAL,
// SIO_PING_TIMEOUT; see cluster-node.mjs). `log: false` silences the nodes' stderr, which is
// otherwise copied to this process's stderr with a `[cluster-node a]` prefix.
//
// No child outlives this process: an 'exit' handler SIGKILLs whatever is still running, and
// for the case of this process dying from a signal, each node exits when its stdin pipe closes
// (CLUSTER_WATCH_STDIN) and a small watchdog process per redis-server, also watching its stdin,
// sends that Redis `SHUTDOWN NOSAVE`.
//
// As a CLI:
//   node tests/servers/cluster.mjs     (CLUSTER_NODES=3 for three nodes)
// starts a cluster plus a sticky proxy (proxy.mjs) in front of every node, prints
//   cluster redis redis://127.0.0.1:P
//   cluster node a http://127.0.0.1:P
//   cluster node b http://127.0.0.1:P
//   cluster proxy http://127.0.0.1:P
//   cluster ready
// and stops everything on SIGINT/SIGTERM.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startProxy } from "./proxy.mjs";

const HOST = "127.0.0.1";
const NODE_SCRIPT = fileURLToPath(new URL("./cluster-node.mjs", import.meta.url));
const REDIS_SERVER = process.env.REDIS_SERVER || "/usr/bin/redis-server";
const START_TIMEOUT_MS = 10_000;
/** Lines of a child's output kept for the error message when it fails to start. */
const TAIL_LINES = 20;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when a Redis on `port` answers PING with +PONG within `ms`. */
function pingOnce(port, ms = 500) {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(String(data).startsWith("+PONG")));
  });
}

/** Keeps the last TAIL_LINES lines written to `stream`, calling `onLine` for each line. */
function collectLines(stream, onLine = () => {}) {
  const tail = [];
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop();
    for (const line of lines) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      onLine(line);
    }
  });
  return tail;
}

/** Whether `child` is still running (not exited, not killed by a signal). */
const running = (child) => child !== null && child.exitCode === null && child.signalCode === null;

/** Sends `signal` to `child` and resolves when it has exited (at once when it already has). */
async function stopChild(child, signal = "SIGKILL") {
  if (!running(child)) return;
  const exited = once(child, "exit");
  child.kill(signal);
  await exited;
}

/** All children started by any cluster of this process, for the 'exit' handler. */
const allChildren = new Set();
let exitHandlerInstalled = false;

function track(child) {
  allChildren.add(child);
  child.once("exit", () => allChildren.delete(child));
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on("exit", () => {
      for (const c of allChildren) if (running(c)) c.kill("SIGKILL");
    });
  }
  return child;
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

/**
 * Watchdog run with `node -e WATCHDOG <port>`: when its stdin closes (the process that started
 * it is gone) it sends SHUTDOWN NOSAVE to the Redis on <port> and exits.
 */
const WATCHDOG = `
const net = require("node:net");
const port = Number(process.argv[1]);
const shutdown = () => {
  setTimeout(() => process.exit(0), 2000).unref();
  const socket = net.connect(port, "127.0.0.1", () => socket.write("SHUTDOWN NOSAVE\\r\\n"));
  socket.on("error", () => process.exit(0));
  socket.on("close", () => process.exit(0));
};
process.stdin.on("end", shutdown);
process.stdin.on("error", shutdown);
process.stdin.resume();
`;

/**
 * Starts redis-server on 127.0.0.1 (a free port unless `port` is given) without persistence,
 * or with `durable: true` with an append-only file synced on every write (what a production
 * Redis keeps across a restart). Resolves to { port, url, pid, alive, restart(), stop() } once
 * it answers PING.
 */
export async function startRedis({ port, durable = false } = {}) {
  const redisPort = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "wiresync-redis-"));
  let child = null;

  const launch = async () => {
    const aof = durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    const args = ["--port", String(redisPort), "--bind", HOST, "--save", "", ...aof, "--dir", dir];
    child = track(spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "pipe"] }));
    const tail = collectLines(child.stdout);
    collectLines(child.stderr, (line) => tail.push(line));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await pingOnce(redisPort))) {
      if (!running(child)) throw new Error(`redis-server exited at start:\n${tail.join("\n")}`);
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms:\n${tail.join("\n")}`);
      }
      await sleep(20);
    }
  };

  await launch();
  const watchdog = track(spawn(process.execPath, ["-e", WATCHDOG, String(redisPort)], { stdio: ["pipe", "ignore", "ignore"] }));
  watchdog.stdin.on("error", () => {});
  let stopped = false;
  return {
    port: redisPort,
    url: `redis://${HOST}:${redisPort}`,
    get pid() {
      return child?.pid;
    },
    get alive() {
      return running(child);
    },
    async restart() {
      await stopChild(child);
      await launch();
    },
    async stop() {
      await stopChild(watchdog);
      await stopChild(child);
      if (!stopped) {
        stopped = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

/** Spawns cluster-node.mjs; resolves { child, port } once it prints its listening line. */
async function spawnNode({ name, port, redisUrl, env, log }) {
  const child = track(
    spawn(process.execPath, [NODE_SCRIPT], {
      env: {
        ...process.env,
        ...env,
        NODE_NAME: name,
        NODE_PORT: String(port),
        REDIS_URL: redisUrl,
        CLUSTER_WATCH_STDIN: "1",
      },
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  child.stdin.on("error", () => {});
  const prefix = `[cluster-node ${name}] `;
  const stderrTail = collectLines(child.stderr, (line) => {
    if (log) process.stderr.write(prefix + line + "\n");
  });
  let onListening;
  const listening = new Promise((resolve) => (onListening = resolve));
  collectLines(child.stdout, (line) => {
    const match = /^cluster-node \S+ listening on 127\.0\.0\.1:(\d+)/.exec(line);
    if (match) onListening(Number(match[1]));
  });

  let timer;
  const failure = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cluster-node ${name} did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once("exit", (code, signal) =>
      reject(new Error(`cluster-node ${name} exited (${signal ?? code}) before listening:\n${stderrTail.join("\n")}`)),
    );
  });
  try {
    const actualPort = await Promise.race([listening, failure]);
    return { child, port: actualPort };
  } catch (err) {
    await stopChild(child);
    throw err;
  } finally {
    clearTimeout(timer);
    failure.catch(() => {});
  }
}

/** Starts node `name` and returns its handle (see the header comment). */
async function startNode({ name, redisUrl, env, log }) {
  let { child, port } = await spawnNode({ name, port: 0, redisUrl, env, log });
  const url = `http://${HOST}:${port}`;
  return {
    name,
    port,
    url,
    get pid() {
      return child.pid;
    },
    get alive() {
      return running(child);
    },
    kill: () => stopChild(child, "SIGKILL"),
    async terminate() {
      if (!running(child)) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      return code;
    },
    async start() {
      if (running(child)) return;
      ({ child } = await spawnNode({ name, port, redisUrl, env, log }));
    },
    async control(pathAndQuery) {
      const res = await fetch(`${url}/control/${pathAndQuery}`);
      return res.json();
    },
  };
}

/** Node names: a, b, c, ... */
const nodeName = (i) => String.fromCharCode(97 + i);

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

export async function startCluster({ nodes = 2, env = {}, log = true, durable = false } = {}) {
  const redis = await startRedis({ durable });
  const started = [];
  const stop = async () => {
    await Promise.all(started.map((node) => node.kill()));
    await redis.stop();
  };
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(await startNode({ name: nodeName(i), redisUrl: redis.url, env, log }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  let stopping = null;
  return {
    redis,
    nodes: started,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function main() {
  const count = Number.parseInt(process.env.CLUSTER_NODES ?? "2", 10) || 2;
  const cluster = await startCluster({ nodes: count });
  const proxy = await startProxy({ targets: cluster.nodes.map((n) => n.url), sticky: true });
  console.log(`cluster redis ${cluster.redis.url}`);
  for (const node of cluster.nodes) console.log(`cluster node ${node.name} ${node.url}`);
  console.log(`cluster proxy ${proxy.url}`);
  console.log("cluster ready");
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`cluster: ${signal}, stopping`);
    await proxy.close();
    await cluster.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error("cluster:", err);
    process.exit(1);
  });
}
