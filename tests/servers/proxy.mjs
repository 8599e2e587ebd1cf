// HTTP + WebSocket reverse proxy in front of Socket.IO nodes, for wiresync's multi-node tests
// (node:http and node:net only). Import it; it is not a CLI.
//
//   import { startProxy } from "./proxy.mjs";
//   const proxy = await startProxy({ targets: [nodeA.url, nodeB.url], sticky: true });
//   io(proxy.url, ...); proxy.setWebSocket(false); proxy.stats(); await proxy.close();
//
// startProxy({ targets, sticky = true, websocket = true }) resolves, once it listens on
// 127.0.0.1 on a free port, to:
//   url                  "http://127.0.0.1:PORT"
//   setWebSocket(bool)   false: every WebSocket upgrade is answered `HTTP/1.1 403 Forbidden` and
//                        its socket closed (like a corporate proxy); true allows them again
//   setTargets(list)     replaces the targets (base URLs such as "http://127.0.0.1:4000", or
//                        objects with a `url`); sessions on a removed target get 502 from now on
//   dropConnections({ keepUpstream = false } = {})
//                        destroys every open tunnel (WebSocket) and in-flight request, both
//                        sides, like a network blip; returns { tunnels, requests } destroyed.
//                        keepUpstream: tunnels are cut on the client side only; the node keeps
//                        its TCP connection (read and discarded until close()), so it notices
//                        only by ping timeout, as with a dead mobile network (half-open)
//   stats()              { polls, posts, upgrades, refusedUpgrades, badGateway, sessions }
//                        polls/posts: Engine.IO polling GET/POST forwarded; upgrades: WebSocket
//                        tunnels opened to a target; refusedUpgrades: 403s of websocket=false;
//                        badGateway: 502s; sessions: sids learnt
//   close()              stops listening and destroys every connection; resolves when closed
//
// Routing:
//   - sticky (default): a request or upgrade with a `sid` query parameter goes to the target
//     that issued that sid, learnt from the body of each polling handshake (a GET with
//     transport=polling and no sid, whose body starts `0{"sid":"..."`). When that target
//     refuses the connection (dead, or removed by setTargets) the answer is 502 and the client
//     must start a new session. Requests without a sid (or with a sid never learnt, e.g. a
//     WebSocket-only session) go to the first target that accepts the connection, trying the
//     next on a connection error, so with node A dead new sessions land on node B.
//   - sticky: false: round-robin over the targets for every request and upgrade (skipping
//     targets that refuse the connection); polling sessions then break, as behind a
//     misconfigured load balancer, while WebSocket-only clients are fine.
// Everything else (headers, CORS headers of the nodes, bodies, /control/... requests) passes
// through untouched, except hop-by-hop headers (a node's `Connection: close` is kept; the
// proxy's own connections to the nodes are kept alive otherwise). A request body is buffered
// (at most 10 MB) so it can be re-sent to the next target. At most MAX_SESSIONS sids are
// remembered (the oldest are forgotten first).

import http from "node:http";
import net from "node:net";

const HOST = "127.0.0.1";
const MAX_BODY = 10 * 1024 * 1024;
const MAX_SESSIONS = 10_000;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

/** { url, host, port } of a target given as a URL string or an object with `url`. */
function toTarget(entry) {
  const url = typeof entry === "string" ? entry : entry?.url;
  if (typeof url !== "string") throw new TypeError(`bad proxy target: ${JSON.stringify(entry)}`);
  const parsed = new URL(url);
  return { url: parsed.origin, host: parsed.hostname, port: Number(parsed.port || 80) };
}

/** Reads a whole request body; rejects when it exceeds MAX_BODY. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The sid of a polling handshake body `0{"sid":...}`, or null. */
function handshakeSid(body) {
  const text = body.toString("utf8");
  if (!text.startsWith("0{")) return null;
  try {
    const sid = JSON.parse(text.slice(1).split("\x1e")[0]).sid;
    return typeof sid === "string" ? sid : null;
  } catch {
    return null;
  }
}

function withoutHopByHop(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

export async function startProxy({ targets, sticky = true, websocket = true } = {}) {
  let list = (targets ?? []).map(toTarget);
  let allowWebSocket = websocket;
  let turn = 0;
  /** Keep-alive connections to the nodes, so a node's own `Connection: close` shows through. */
  const agent = new http.Agent({ keepAlive: true });
  /** sid -> target url */
  const sessions = new Map();
  const counts = { polls: 0, posts: 0, upgrades: 0, refusedUpgrades: 0, badGateway: 0 };
  /** Open tunnels and in-flight requests (functions destroying both sides), and the node side
   *  of tunnels dropped with keepUpstream. */
  const open = { tunnels: new Set(), requests: new Set(), halfOpen: new Set() };

  /**
   * Targets to try, in order, for a request with query `params`: the sid's target only (or
   * none when it is not configured any more), else every target starting with the first
   * (sticky) or the next in turn (round-robin).
   */
  function candidates(params) {
    const sid = params.get("sid");
    if (sticky && sid !== null && sessions.has(sid)) {
      const target = list.find((t) => t.url === sessions.get(sid));
      return { pinned: true, order: target ? [target] : [] };
    }
    if (list.length === 0) return { pinned: false, order: [] };
    const start = sticky ? 0 : turn++ % list.length;
    return { pinned: false, order: list.map((_, i) => list[(start + i) % list.length]) };
  }

  // ------------------------------------------------------------------------------------------
  // Plain HTTP requests (polling, /control/...)
  // ------------------------------------------------------------------------------------------

  /**
   * Sends one request to `target`; resolves the response, rejects on an error before it.
   * `current.request` holds the upstream request meanwhile, so it can be aborted.
   */
  function forwardOnce(target, req, body, current) {
    return new Promise((resolve, reject) => {
      const upstream = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...withoutHopByHop(req.headers), "content-length": String(body.length) },
        agent,
      });
      current.request = upstream;
      upstream.on("response", resolve);
      upstream.on("error", (err) => {
        err.reusedSocket = upstream.reusedSocket;
        reject(err);
      });
      upstream.end(body);
    });
  }

  function badGateway(res, message) {
    counts.badGateway++;
    if (res.headersSent) return res.destroy();
    res.writeHead(502, { "Content-Type": "text/plain", "Access-Control-Allow-Origin": "*", Connection: "close" });
    res.end(message);
  }

  async function onRequest(req, res) {
    const params = new URL(req.url ?? "/", `http://${HOST}`).searchParams;
    const polling = params.get("transport") === "polling";
    if (polling && req.method === "GET") counts.polls++;
    if (polling && req.method === "POST") counts.posts++;

    let body;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    // From here until the client's response closes, dropConnections() can cut it (a long poll
    // waits for its response headers until the node has something to send).
    const current = { request: null, response: null };
    const drop = () => {
      current.request?.destroy();
      current.response?.destroy();
      res.destroy();
    };
    open.requests.add(drop);
    res.on("close", () => {
      open.requests.delete(drop);
      current.request?.destroy();
      current.response?.destroy();
    });

    const { pinned, order } = candidates(params);
    let target = null;
    for (const candidate of order) {
      if (res.destroyed) return;
      try {
        current.response = await forwardOnce(candidate, req, body, current).catch((err) => {
          // A kept-alive connection the node closed meanwhile: once more on a new one.
          if (err.reusedSocket && !res.destroyed) return forwardOnce(candidate, req, body, current);
          throw err;
        });
        target = candidate;
        break;
      } catch {
        if (pinned) break;
      }
    }
    if (res.destroyed) return;
    if (!target) return badGateway(res, pinned ? "session's node is unreachable" : "no target reachable");

    const upstreamRes = current.response;
    upstreamRes.on("error", () => res.destroy());
    upstreamRes.on("aborted", () => res.destroy());
    const headers = withoutHopByHop(upstreamRes.headers);
    // Keep a node's `Connection: close` (its control API never keeps connections alive).
    if (/\bclose\b/i.test(upstreamRes.headers.connection ?? "")) headers.connection = "close";
    res.writeHead(upstreamRes.statusCode, headers);

    const handshake = polling && req.method === "GET" && !params.has("sid") && upstreamRes.statusCode === 200 &&
      !upstreamRes.headers["content-encoding"];
    if (!handshake) {
      upstreamRes.pipe(res);
      return;
    }
    const chunks = [];
    upstreamRes.on("data", (chunk) => chunks.push(chunk));
    upstreamRes.on("end", () => {
      const text = Buffer.concat(chunks);
      const sid = handshakeSid(text);
      if (sid) {
        sessions.set(sid, target.url);
        if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value);
      }
      res.end(text);
    });
  }

  // ------------------------------------------------------------------------------------------
  // WebSocket upgrades: raw TCP tunnel
  // ------------------------------------------------------------------------------------------

  function refuse(socket, status) {
    socket.on("error", () => {});
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 100).unref();
  }

  /** Opens a TCP connection to the first target of `order` that accepts one. */
  function connectFirst(order, pinned) {
    return new Promise((resolve) => {
      const attempt = (i) => {
        if (i >= order.length || (pinned && i > 0)) return resolve(null);
        const upstream = net.connect(order[i].port, order[i].host);
        upstream.once("connect", () => {
          upstream.removeAllListeners("error");
          resolve(upstream);
        });
        upstream.once("error", () => attempt(i + 1));
      };
      attempt(0);
    });
  }

  async function onUpgrade(req, socket, head) {
    socket.on("error", () => {});
    if (!allowWebSocket) {
      counts.refusedUpgrades++;
      return refuse(socket, "403 Forbidden");
    }
    const params = new URL(req.url ?? "/", `http://${HOST}`).searchParams;
    const { pinned, order } = candidates(params);
    const upstream = await connectFirst(order, pinned);
    if (!upstream) {
      counts.badGateway++;
      return refuse(socket, "502 Bad Gateway");
    }
    if (socket.destroyed) return upstream.destroy();
    counts.upgrades++;

    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    if (head?.length) upstream.write(head);

    // drop(keepUpstream): destroys the client side; the node side too unless keepUpstream, in
    // which case it stays open, read and discarded, until close() (a half-open connection).
    const drop = (keepUpstream = false) => {
      open.tunnels.delete(drop);
      if (keepUpstream && !upstream.destroyed) {
        upstream.removeListener("close", cleanup);
        upstream.unpipe(socket);
        socket.unpipe(upstream);
        upstream.resume();
        open.halfOpen.add(upstream);
        upstream.once("close", () => open.halfOpen.delete(upstream));
      } else {
        upstream.destroy();
      }
      socket.destroy();
    };
    const cleanup = () => {
      if (open.tunnels.has(drop)) drop();
    };
    open.tunnels.add(drop);
    upstream.on("error", () => upstream.destroy());
    upstream.on("close", cleanup);
    socket.on("close", cleanup);
    socket.pipe(upstream);
    upstream.pipe(socket);
  }

  // ------------------------------------------------------------------------------------------
  // Server
  // ------------------------------------------------------------------------------------------

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      console.error("proxy: request failed:", err);
      res.destroy();
    });
  });
  server.on("upgrade", (req, socket, head) => {
    onUpgrade(req, socket, head).catch((err) => {
      console.error("proxy: upgrade failed:", err);
      socket.destroy();
    });
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  const url = `http://${HOST}:${server.address().port}`;

  const dropConnections = ({ keepUpstream = false } = {}) => {
    const dropped = { tunnels: open.tunnels.size, requests: open.requests.size };
    for (const drop of [...open.tunnels]) drop(keepUpstream);
    for (const drop of [...open.requests]) drop();
    open.requests.clear();
    return dropped;
  };

  let closed = null;
  return {
    url,
    setWebSocket(allow) {
      allowWebSocket = Boolean(allow);
    },
    setTargets(next) {
      list = next.map(toTarget);
    },
    dropConnections,
    stats: () => ({ ...counts, sessions: sessions.size }),
    close() {
      closed ??= new Promise((resolve) => {
        server.close(() => resolve());
        dropConnections();
        for (const upstream of open.halfOpen) upstream.destroy();
        agent.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
