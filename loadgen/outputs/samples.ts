// Per-request samples (`perfstack run --samples`): every http_req_duration point as a line of
// k6's JSON output format, gzipped, so `perfstack import` reads either engine's file the same way.

import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createGzip, type Gzip } from 'node:zlib';
import type { MetricRegistry } from '../metrics/registry.js';

export class SamplesWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly unsubscribe: () => void;
  private readonly temporary: string;
  written = 0;

  constructor(
    registry: MetricRegistry,
    private readonly path: string,
    metrics: ReadonlySet<string> = new Set(['http_req_duration']),
  ) {
    this.temporary = `${path}.partial`;
    this.gzip = createGzip({ level: 6 });
    this.file = createWriteStream(this.temporary);
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
    await new Promise<void>((resolve, reject) => {
      this.file.once('close', resolve);
      this.file.once('error', reject);
      this.gzip.end();
    });
    await rename(this.temporary, this.path).catch(async (error: unknown) => {
      await rm(this.temporary, { force: true });
      throw error;
    });
    return this.path;
  }
}
