export * from "./event.js";
export * from "./report.js";
export * from "./stage.js";
export * from "./stats.js";
export * from "./suggest.js";
