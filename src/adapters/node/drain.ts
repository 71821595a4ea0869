/**
 * Graceful drain of a Node HTTP server on shutdown. Once draining, every answer carries
 * `Connection: close`, so a keep-alive client reconnects (to another process) instead of feeding
 * this one requests. A connection is closed only after it has been idle for a second: closing
 * idle keep-alive sockets at once cut off requests clients were sending on them at that moment
 * (ECONNRESET, with no way to tell whether a POST was applied), while a client that sends within
 * the second gets its answer, with `Connection: close`.
 */
import type { Server } from "node:http";
import { Server as NetServer, type Socket } from "node:net";

const IDLE_GRACE_MS = 1_000;

export interface HttpDrain {
  /** Stops accepting; resolves once every connection is closed (forced after `ms`). */
  drain(ms: number): Promise<void>;
}

/** Tracks the server's connections from now on, for a later `drain`. */
export function drainableServer(server: Server): HttpDrain {
  let draining = false;
  const sockets = new Map<Socket, { inFlight: number; idleSince: number }>();
  server.on("connection", (socket: Socket) => {
    sockets.set(socket, { inFlight: 0, idleSince: Date.now() });
    socket.once("close", () => sockets.delete(socket));
  });
  server.prependListener("request", (req, res) => {
    const s = sockets.get(req.socket);
    if (s) s.inFlight++;
    if (draining) res.setHeader("connection", "close");
    res.once("close", () => {
      if (!s) return;
      s.inFlight--;
      s.idleSince = Date.now();
    });
  });
  return {
    drain(ms) {
      draining = true;
      return new Promise<void>((done) => {
        const closeIdle = () => {
          const now = Date.now();
          for (const [socket, s] of sockets)
            if (s.inFlight === 0 && now - s.idleSince >= IDLE_GRACE_MS) socket.destroy();
        };
        const idle = setInterval(closeIdle, 100);
        const force = setTimeout(() => server.closeAllConnections(), ms);
        // net.Server's close stops listening and waits for the connections to end. http.Server's
        // own close would first close every idle keep-alive connection at once, racing the
        // requests clients are writing on them.
        NetServer.prototype.close.call(server, () => {
          clearInterval(idle);
          clearTimeout(force);
          done();
        });
        closeIdle();
      });
    },
  };
}
