/**
 * The ceiling for `/v1/route`: a bare Hono POST that parses the JSON body and does one Redis SET,
 * on @hono/node-server, with nothing else. Child process of `test/bench/run.ts`.
 * Env: PORT, REDIS_URL, KEY_PREFIX. Prints `ready <port>` on stdout once listening.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Redis } from "ioredis";

const port = Number(process.env.PORT ?? 0);
const redisUrl = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:0");
const prefix = process.env.KEY_PREFIX ?? "ceiling:";

const redis = new Redis({ host: redisUrl.hostname, port: Number(redisUrl.port), lazyConnect: true } as never);
await redis.connect();

const app = new Hono();
app.post("/v1/route", async (c) => {
  const body = (await c.req.json()) as { accountId?: string; userId?: string };
  await redis.set(`${prefix}${body.accountId}:${body.userId ?? "-"}`, "1");
  return c.json({ accountId: body.accountId, reused: false }, 200);
});

const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});

const stop = () => {
  server.close();
  redis.disconnect();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
