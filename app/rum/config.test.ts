// The `frontend` config section: defaults, and clear errors naming the field.

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import projectConfig from '../../perfstack.config.js';

const withFrontend = (frontend: Record<string, unknown>) => ({ ...projectConfig, frontend: { ...projectConfig.frontend, ...frontend } });

describe('config: frontend', () => {
  it('defaults to web.dev "good" at p75 and a 1 MB JavaScript budget when left out', () => {
    const { frontend: _left, ...rest } = projectConfig;
    const config = parseConfig(rest);
    expect(config.frontend).toMatchObject({ lcpSeconds: 2.5, inpSeconds: 0.2, cls: 0.1, fcpSeconds: 1.8, ttfbSeconds: 0.8, javascriptBytes: 1_000_000, pages: ['search'] });
  });

  it.each([
    [{ pages: ['search', 'other'] }, /frontend\.pages.*"other" is reserved/s],
    [{ pages: ['search', 'search'] }, /frontend\.pages.*twice/s],
    [{ pages: ['/entities/1'] }, /frontend\.pages\[0\].*lower-case/s],
    [{ pages: [] }, /frontend\.pages.*at least one page template/s],
    [{ lcpSeconds: -1 }, /frontend\.lcpSeconds.*positive/s],
    [{ cls: 0 }, /frontend\.cls.*positive layout-shift score/s],
    [{ javascriptBytes: 1.5 }, /frontend\.javascriptBytes/],
    [{ rum: true }, /frontend.*rum/s],
  ])('refuses %j with a message naming the field', (frontend, message) => {
    expect(() => parseConfig(withFrontend(frontend))).toThrow(message);
  });
});
