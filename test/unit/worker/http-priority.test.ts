import { setImmediate as yieldLoop } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type HttpPriority, prioritiseHttp } from "../../../src/worker/http-priority.js";

/** A stand-in for the running flow worker: records every concurrency it is given. */
function fakeWorker() {
  const set: number[] = [];
  let current = 16;
  return {
    concurrency: 16,
    setConcurrency(n: number) {
      current = n;
      set.push(n);
    },
    get current() {
      return current;
    },
    set,
  };
}

/** Keeps the event loop ~95 % busy for `ms`, yielding briefly; `onSlice` runs once per slice. */
async function saturate(ms: number, onSlice: () => void) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 20;
    while (performance.now() < slice) {
      // spin
    }
    onSlice();
    await yieldLoop();
  }
}

/** Runs `body` with a governor over a fresh fake worker; stops the governor after. */
async function withPriority(
  body: (worker: ReturnType<typeof fakeWorker>, priority: HttpPriority) => Promise<void>,
) {
  const worker = fakeWorker();
  const priority = prioritiseHttp(worker, 2);
  try {
    await body(worker, priority);
  } finally {
    priority.stop();
  }
}

describe("HTTP priority in the all-in-one process", () => {
  it("runs fewer flow jobs at once while the loop is saturated serving requests, and all of them again after", () =>
    withPriority(async (worker, priority) => {
      await saturate(800, () => {
        for (let i = 0; i < 10; i++) priority.requestServed(); // ≈ 500 req/s
      });
      expect(worker.current).toBe(2);
      await new Promise((r) => setTimeout(r, 600));
      expect(worker.current).toBe(16);
    }));

  it("leaves the worker alone when the loop is busy with jobs but no request is being served", () =>
    withPriority(async (worker) => {
      await saturate(800, () => {});
      expect(worker.set.every((n) => n === 16)).toBe(true);
    }));

  it("leaves the worker alone when its own jobs saturate the loop and only a few polls arrive", () =>
    withPriority(async (worker, priority) => {
      await saturate(800, () => priority.requestServed()); // ≈ 50 req/s
      expect(worker.set.length).toBeGreaterThan(0);
      expect(worker.set.every((n) => n === 16)).toBe(true);
    }));

  it("leaves the worker alone under light traffic that does not saturate the loop", () =>
    withPriority(async (worker, priority) => {
      for (let i = 0; i < 40; i++) {
        priority.requestServed();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(worker.set.length).toBeGreaterThan(0);
      expect(worker.set.every((n) => n === 16)).toBe(true);
    }));
});
