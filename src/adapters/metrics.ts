import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Telemetry } from "../core/ports.js";

/** Prometheus metrics for the Node entry. Labels never carry account or user ids. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "router_http_requests_total",
    help: "HTTP requests by route template, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "router_http_request_duration_seconds",
    help: "HTTP request latency by route template",
    labelNames: ["route", "method"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const redisUp = new Gauge({
    name: "router_redis_up",
    help: "1 when Redis answered the last check",
    registers: [registry],
  });
  const decisions = new Counter({
    name: "router_decisions_total",
    help: "Routing decisions by flow and winning rule",
    labelNames: ["flow", "rule"] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: "router_jobs_total",
    help: "Step jobs by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  const allWorkersJobs = new Counter({
    name: "router_cluster_jobs_total",
    help: "Step jobs by kind and outcome, summed over every worker process sharing this Redis",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  const stepSeconds = new Histogram({
    name: "router_step_duration_seconds",
    help: "Time from entering a step to leaving it",
    labelNames: ["flow", "type"] as const,
    buckets: [0.01, 0.1, 1, 10, 60, 600, 3600, 86_400, 604_800],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "router_queue_depth",
    help: "Jobs in the step queue by state",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  const telemetry: Telemetry = {
    decision: (flow, rule) => decisions.inc({ flow, rule }),
    job: (kind, outcome) => jobs.inc({ kind, outcome }),
    stepDuration: (flow, type, s) => stepSeconds.observe({ flow, type }, s),
  };
  return {
    registry,
    telemetry,
    redisUp,
    queueDepth,
    /** Sets `router_cluster_jobs_total` from the shared tally (read at scrape time). */
    setClusterJobs(rows: readonly { kind: string; outcome: string; n: number }[]) {
      allWorkersJobs.reset();
      for (const { kind, outcome, n } of rows) allWorkersJobs.inc({ kind, outcome }, n);
    },
    observe(route: string, method: string, status: number, seconds: number) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
