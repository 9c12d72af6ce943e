// Response compression: gzip or brotli, negotiated from Accept-Encoding by the `compression`
// package (it prefers br, then gzip; bodies under the threshold and incompressible types such as
// application/octet-stream stay as they are, and it always sets Vary: Accept-Encoding).

import { constants } from 'node:zlib';
import compression from 'compression';
import type { RequestHandler } from 'express';
import type { PerfstackConfig } from '../config/index.js';

export type CompressionSettings = PerfstackConfig['compression'];

/** The compression middleware the config describes, or undefined when it is switched off. */
export function compressionMiddleware(settings: CompressionSettings, enabled?: boolean): RequestHandler | undefined {
  if (!(enabled ?? settings.enabled)) return undefined;
  return compression({
    threshold: settings.thresholdBytes,
    level: settings.gzipLevel,
    brotli: { params: { [constants.BROTLI_PARAM_QUALITY]: settings.brotliQuality } },
  });
}
