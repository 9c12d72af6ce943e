// perfstack profile: CPU profiles of the running service through its inspector, a flame graph
// (d3-flame-graph, self-contained HTML) and the top functions by self time. docs/profiling.md
export { connectCdp, inspectorWebSocketUrl, ProfilerError } from './cdp.js';
export type { CdpSession } from './cdp.js';
export { openInspector } from './inspector.js';
export { checkProfile, flameTree, selfTimes, topFunctions } from './profile.js';
export type { CallFrame, CpuProfile, FlameNode, FunctionTime, ProfileNode } from './profile.js';
export { flameGraphHtml } from './flamegraph.js';
export { formatTopFunctions, recordProfile, writeProfile } from './record.js';
export type { RecordedProfile, RecordProfileOptions } from './record.js';
