import { performance } from "node:perf_hooks";

/** How often the governor looks at the event loop. */
const SAMPLE_MS = 250;
/** Event-loop utilisation above which the process counts as saturated. */
const SATURATED = 0.85;
/**
 * Requests per sample (≈ 200 req/s) from which HTTP counts as the load: a few health checks or
 * status polls while the worker itself saturates the loop must not slow the worker down.
 */
const BUSY_REQUESTS = 50;

export interface HttpPriority {
  /** Called once per answered HTTP request. */
  requestServed(): void;
  stop(): void;
}

/**
 * In one process that both serves HTTP and runs flow jobs (`npm start`, role `all`), requests
 * come first. While the event loop is saturated and requests arrive at ≥ 200/s, the flow worker
 * runs at most `busyConcurrency` jobs at once; as soon as the loop has room again it returns to
 * its configured concurrency. Steps are asynchronous by nature: during a burst they queue in
 * BullMQ (nothing is lost or reordered per instance) and catch up after it, instead of taking
 * their share of CPU out of every request's latency. Separate `api` and `worker` processes
 * (the scale-out setup) need none of this.
 */
export function prioritiseHttp(
  worker: { readonly concurrency: number; setConcurrency(n: number): void },
  busyConcurrency = 2,
): HttpPriority {
  let served = 0;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy =
      performance.eventLoopUtilization(now, last).utilization > SATURATED && served >= BUSY_REQUESTS;
    last = now;
    served = 0;
    worker.setConcurrency(busy ? Math.min(busyConcurrency, worker.concurrency) : worker.concurrency);
  }, SAMPLE_MS);
  timer.unref?.();
  return {
    requestServed: () => {
      served++;
    },
    stop: () => clearInterval(timer),
  };
}
