// The committed RUM bundle (app/public/static/rum.js) is what app/rum/bundle.ts builds from the
// sources now, and it stays small next to the page's 1 MB JavaScript budget.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../testing.js';
import { buildRumBundle, RUM_BUNDLE_PATH } from './bundle.js';

describe('app/public/static/rum.js', () => {
  it('is up to date with app/rum/client/rum.ts and web-vitals (else run `npx tsx app/rum/bundle.ts`)', async () => {
    expect(readFileSync(RUM_BUNDLE_PATH, 'utf8') === (await buildRumBundle())).toBe(true);
  });

  it('is one self-contained script: no import, posts to /rum, under 2 % of the JavaScript budget', () => {
    const text = readFileSync(RUM_BUNDLE_PATH, 'utf8');
    expect(text).not.toMatch(/\bimport\s*[({"']|\brequire\(/);
    expect(text).toContain('"/rum"');
    expect(Buffer.byteLength(text)).toBeLessThan(testConfig().frontend.javascriptBytes * 0.02);
  });
});
