// The service's own side: opens the Node.js inspector on loopback (`perfstack app --inspect-port`),
// so `perfstack profile` can record a CPU profile from another process.

import inspector from 'node:inspector';

/** Opens the inspector on 127.0.0.1:port (0 picks a free port); returns its ws:// URL. */
export function openInspector(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--inspect-port must be a whole number 0..65535, got ${port}`);
  // Loopback only: whoever reaches the inspector can run any code in the service.
  inspector.open(port, '127.0.0.1', false);
  const url = inspector.url();
  if (!url) throw new Error(`could not open the inspector on 127.0.0.1:${port}`);
  return url;
}
