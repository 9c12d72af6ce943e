// Per-request samples (`perfstack run --samples`): every http_req_duration point as a line of
// k6's JSON output format, gzipped, so `perfstack import` reads either engine's file the same way.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { rename, rm } from 'node:fs/promises';
import { createGzip, type Gzip } from 'node:zlib';
import type { MetricRegistry } from '../metrics/registry.js';

export class SamplesWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly unsubscribe: () => void;
  private readonly temporary: string;
  written = 0;
  private failure: Error | undefined;

  constructor(
    registry: MetricRegistry,
    private readonly path: string,
    metrics: ReadonlySet<string> = new Set(['http_req_duration']),
  ) {
    this.temporary = `${path}.partial`;
    mkdirSync(dirname(path), { recursive: true });
    this.gzip = createGzip({ level: 6 });
    this.file = createWriteStream(this.temporary);
    // A write error (disk full, folder gone) must not hang close() or crash the run: keep it for close().
    this.file.on('error', (error) => (this.failure ??= error));
    this.gzip.on('error', (error) => (this.failure ??= error));
    this.gzip.pipe(this.file);
    this.unsubscribe = registry.onSample((metric, value, tags, timeMs) => {
      if (!metrics.has(metric.info.name)) return;
      this.written += 1;
      this.gzip.write(`{"type":"Point","metric":${JSON.stringify(metric.info.name)},"data":{"time":"${new Date(timeMs).toISOString()}","value":${value},"tags":${JSON.stringify(tags.tags)}}}\n`);
    });
  }

  /** Finishes the file and moves it into place (a partial file never looks complete). */
  async close(): Promise<string> {
    this.unsubscribe();
    await new Promise<void>((resolve) => {
      if (this.file.closed || this.failure) return resolve();
      this.file.once('close', resolve);
      this.gzip.end();
    });
    if (this.failure) {
      await rm(this.temporary, { force: true });
      throw new Error(`samples: could not write ${this.path}: ${this.failure.message}`);
    }
    await rename(this.temporary, this.path).catch(async (error: unknown) => {
      await rm(this.temporary, { force: true });
      throw error;
    });
    return this.path;
  }
}
