export { freePort, startProcess } from './process.js';
export type { RunningProcess, StartOptions } from './process.js';
