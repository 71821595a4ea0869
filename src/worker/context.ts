import type { Job } from "bullmq";
import type { OutboundConfig } from "../adapters/outbound/sender.js";
import type { FlowJobData } from "../adapters/queue/flow-queue.js";
import type { FlowStoreDeps } from "../adapters/redis/flow-store.js";
import type { Logger, Telemetry } from "../core/ports.js";
import type { RouterServices } from "../http/services.js";

/** What every processor works with. */
export interface WorkerContext {
  readonly store: FlowStoreDeps;
  readonly outbound: OutboundConfig;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** Services shaped like the API's, for the route store's re-decision. */
  readonly services: RouterServices;
  /** Reads `FLOW_SECRET_<NAME>`; defaults to process.env. */
  readonly secret: (name: string) => string | undefined;
}

export type Processor<K extends FlowJobData["kind"]> = (
  job: Job<Extract<FlowJobData, { kind: K }>>,
  ctx: WorkerContext,
) => Promise<string>;
