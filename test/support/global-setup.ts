import type { TestProject } from "vitest/node";
import { startRedis } from "./redis-server.js";

/** Starts one private redis-server for the whole run; test files isolate by key prefix. */
export default async function setup(project: TestProject) {
  const redis = await startRedis();
  project.provide("redisUrl", redis.url);
  return async () => {
    await redis.destroy();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
