// perfstack's `k6/browser`: what a k6 script gets when it imports the browser module. It follows
// k6's documented async API (the subset in SUPPORTED_BROWSER_API) on playwright-core driving the
// system's Chromium, and emits k6's browser metrics: the Web Vitals (measured in the page by the
// web-vitals library) and the page's network requests.
//
// One Chromium process serves every VU; it starts on first use. browser.newPage() gives each page
// a context of its own (k6 gives each VU its own context) and closing the page closes it. Closing a
// page or a context first makes the page report its Web Vitals (see vitals.ts), so a
// goto + interaction + close yields TTFB, FCP, LCP, CLS and INP.
import { Browser, BrowserModuleState, type BrowserApi } from './browser.js';

export interface BrowserHost {
  /** Emit one sample of a k6 metric (k6's browser metric names), tagged with the page URL etc. */
  emit(metric: { name: string; type: 'trend' | 'counter' | 'gauge' | 'rate'; contains: 'default' | 'time' | 'data' }, value: number, tags: Record<string, string>): void;
  executablePath: string;          // /usr/bin/chromium
  launchArgs: string[];            // the flags above
  headless: boolean;
  signal: AbortSignal;             // aborted when the run stops: close everything
}

/**
 * The k6/browser API perfstack implements, as `<object>.<method>` (k6's class names; `browser` is
 * the module's export). Anything else a script calls is not there.
 */
export const SUPPORTED_BROWSER_API: readonly string[] = Object.freeze([
  'browser.newPage', 'browser.newContext', 'browser.context', 'browser.closeContext', 'browser.isConnected',

  'BrowserContext.newPage', 'BrowserContext.pages', 'BrowserContext.close', 'BrowserContext.browser',
  'BrowserContext.addInitScript', 'BrowserContext.addCookies', 'BrowserContext.clearCookies', 'BrowserContext.cookies',
  'BrowserContext.clearPermissions', 'BrowserContext.grantPermissions', 'BrowserContext.setDefaultTimeout',
  'BrowserContext.setDefaultNavigationTimeout', 'BrowserContext.setGeolocation', 'BrowserContext.setOffline',

  'Page.goto', 'Page.reload', 'Page.close', 'Page.isClosed', 'Page.url', 'Page.title', 'Page.content', 'Page.setContent',
  'Page.context', 'Page.keyboard', 'Page.locator', 'Page.getByRole', 'Page.getByText', 'Page.getByTestId',
  'Page.getByLabel', 'Page.getByPlaceholder', 'Page.evaluate', 'Page.evaluateHandle', 'Page.waitForFunction',
  'Page.waitForSelector', 'Page.waitForLoadState', 'Page.waitForTimeout', 'Page.waitForURL', 'Page.click',
  'Page.dblclick', 'Page.fill', 'Page.type', 'Page.press', 'Page.check', 'Page.uncheck', 'Page.selectOption',
  'Page.hover', 'Page.focus', 'Page.textContent', 'Page.innerText', 'Page.innerHTML', 'Page.getAttribute',
  'Page.inputValue', 'Page.isVisible', 'Page.isHidden', 'Page.screenshot', 'Page.setViewportSize', 'Page.viewportSize',
  'Page.setDefaultTimeout', 'Page.setDefaultNavigationTimeout', 'Page.setExtraHTTPHeaders', 'Page.bringToFront',

  'Locator.click', 'Locator.dblclick', 'Locator.fill', 'Locator.clear', 'Locator.type', 'Locator.pressSequentially',
  'Locator.press', 'Locator.check', 'Locator.uncheck', 'Locator.setChecked', 'Locator.selectOption', 'Locator.hover',
  'Locator.focus', 'Locator.textContent', 'Locator.innerText', 'Locator.innerHTML', 'Locator.getAttribute',
  'Locator.inputValue', 'Locator.isVisible', 'Locator.isHidden', 'Locator.isEnabled', 'Locator.isDisabled',
  'Locator.isEditable', 'Locator.isChecked', 'Locator.count', 'Locator.boundingBox', 'Locator.waitFor',
  'Locator.dispatchEvent', 'Locator.first', 'Locator.last', 'Locator.nth', 'Locator.locator', 'Locator.all',
  'Locator.getByRole', 'Locator.getByText', 'Locator.getByTestId', 'Locator.getByLabel', 'Locator.getByPlaceholder',

  'Response.status', 'Response.statusText', 'Response.url', 'Response.ok', 'Response.headers', 'Response.allHeaders',
  'Response.headersArray', 'Response.headerValue', 'Response.headerValues', 'Response.body', 'Response.text',
  'Response.json', 'Response.size',

  'JSHandle.jsonValue', 'JSHandle.evaluate', 'JSHandle.dispose', 'JSHandle.asElement',

  'ElementHandle.click', 'ElementHandle.fill', 'ElementHandle.type', 'ElementHandle.press', 'ElementHandle.focus',
  'ElementHandle.hover', 'ElementHandle.textContent', 'ElementHandle.innerText', 'ElementHandle.innerHTML',
  'ElementHandle.getAttribute', 'ElementHandle.inputValue', 'ElementHandle.isVisible', 'ElementHandle.isHidden',
  'ElementHandle.isChecked', 'ElementHandle.boundingBox', 'ElementHandle.jsonValue', 'ElementHandle.evaluate',
  'ElementHandle.dispose',

  'Keyboard.down', 'Keyboard.up', 'Keyboard.press', 'Keyboard.type', 'Keyboard.insertText',
]);

export function createBrowserModule(host: BrowserHost): { browser: BrowserApi; close(): Promise<void> } {
  const state = new BrowserModuleState(
    { executablePath: host.executablePath, launchArgs: [...host.launchArgs], headless: host.headless },
    (metric, value, tags) => host.emit(metric, value, tags),
  );
  const browser = new Browser(state);
  const onAbort = (): void => { void state.shutdown(true); };
  if (host.signal.aborted) onAbort();
  else host.signal.addEventListener('abort', onAbort, { once: true });
  return {
    browser,
    /** End of the run: flushes and closes every open page and context, then Chromium. */
    close(): Promise<void> {
      host.signal.removeEventListener('abort', onAbort);
      return state.shutdown(host.signal.aborted);
    },
  };
}

export type { BrowserApi, BrowserContext, NewContextOptions } from './browser.js';
export type { ElementHandle, JSHandle, Keyboard, Locator, Page, Response } from './page.js';
export { BROWSER_METRICS } from './metrics.js';
