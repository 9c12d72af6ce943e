// `k6/timers`: the event-loop timers k6 documents, which are Node's own here. Think time is
// `await new Promise((r) => setTimeout(r, ms))`, never the blocking sleep().

export const setTimeout = globalThis.setTimeout;
export const clearTimeout = globalThis.clearTimeout;
export const setInterval = globalThis.setInterval;
export const clearInterval = globalThis.clearInterval;
