// k6/browser's Page, Locator, Response, JSHandle, ElementHandle and Keyboard (the async API),
// each a thin wrapper over Playwright's object of the same name. Where k6's signature differs
// from Playwright's (waitForFunction takes options before arg; locator.type is pressSequentially;
// screenshots are ArrayBuffers), the wrapper follows k6.
import type {
  ElementHandle as PwElementHandle,
  JSHandle as PwJSHandle,
  Keyboard as PwKeyboard,
  Locator as PwLocator,
  Page as PwPage,
  Response as PwResponse,
} from 'playwright-core';
import type { BrowserContext } from './browser.js';
import { withTimeout } from './timeout.js';
import { FLUSH_EXPRESSION } from './vitals.js';

/** What a page needs from the context that made it. */
export interface PageOwner {
  /** The k6 BrowserContext object `page.context()` returns. */
  readonly api: BrowserContext;
  /** True once the run is being aborted: no flushing, just closing. */
  readonly aborting: boolean;
  /** Resolves when the context's request metrics so far have been emitted. */
  settleNetwork(): Promise<void>;
  /** Called once the page is closed (the context closes itself if it was made for this page). */
  pageClosed(page: Page): Promise<void>;
}

/** A function or an expression evaluated in the page, as in k6 (`PageFunction`). */
export type PageFunction<R = unknown> = string | ((arg: never) => R | Promise<R>);

const FLUSH_TIMEOUT_MS = 3000;
const NETWORK_SETTLE_TIMEOUT_MS = 2000;
const WAIT_UNTIL = new Set(['load', 'domcontentloaded', 'networkidle']);

type LocatorClickOptions = Parameters<PwLocator['click']>[0];
type TimeoutOption = { timeout?: number };
type DelayOption = { delay?: number; timeout?: number };
type ScreenshotOptions = { path?: string; type?: 'png' | 'jpeg'; omitBackground?: boolean; quality?: number; fullPage?: boolean; timeout?: number };
type Polling = number | 'raf' | 'mutation';

function toArrayBuffer(buffer: Uint8Array): ArrayBuffer {
  return new Uint8Array(buffer).buffer;
}

function withoutHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

type LifecycleEvent = 'load' | 'domcontentloaded' | 'networkidle';

/** k6's waitUntil values (Playwright's extra 'commit' is not one of them); 'load' by default. */
function lifecycleEvent(method: string, value: string | undefined): LifecycleEvent {
  const waitUntil = value ?? 'load';
  if (!WAIT_UNTIL.has(waitUntil)) throw new Error(`${method}: waitUntil "${waitUntil}" is not one of load, domcontentloaded, networkidle`);
  return waitUntil as LifecycleEvent;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim();
}

export class Response {
  readonly #pw: PwResponse;
  constructor(pw: PwResponse) { this.#pw = pw; }
  status(): number { return this.#pw.status(); }
  statusText(): string { return this.#pw.statusText(); }
  url(): string { return this.#pw.url(); }
  ok(): boolean { return this.#pw.ok(); }
  headers(): Record<string, string> { return this.#pw.headers(); }
  allHeaders(): Promise<Record<string, string>> { return this.#pw.allHeaders(); }
  headersArray(): Promise<Array<{ name: string; value: string }>> { return this.#pw.headersArray(); }
  headerValue(name: string): Promise<string | null> { return this.#pw.headerValue(name); }
  headerValues(name: string): Promise<string[]> { return this.#pw.headerValues(name); }
  async body(): Promise<ArrayBuffer> { return toArrayBuffer(await this.#pw.body()); }
  text(): Promise<string> { return this.#pw.text(); }
  json(): Promise<unknown> { return this.#pw.json(); }
  async size(): Promise<{ body: number; headers: number }> {
    const sizes = await this.#pw.request().sizes();
    return { body: sizes.responseBodySize, headers: sizes.responseHeadersSize };
  }
}

export class JSHandle<T = unknown> {
  readonly #pw: PwJSHandle<T>;
  constructor(pw: PwJSHandle<T>) { this.#pw = pw; }
  jsonValue(): Promise<T> { return this.#pw.jsonValue(); }
  evaluate<R>(pageFunction: PageFunction<R>, arg?: unknown): Promise<R> {
    return this.#pw.evaluate(pageFunction as never, arg as never) as Promise<R>;
  }
  dispose(): Promise<void> { return this.#pw.dispose(); }
  asElement(): ElementHandle | null {
    const element = this.#pw.asElement();
    return element === null ? null : new ElementHandle(element);
  }
}

export class ElementHandle {
  readonly #pw: PwElementHandle;
  constructor(pw: PwElementHandle) { this.#pw = pw; }
  click(options?: Parameters<PwElementHandle['click']>[0]): Promise<void> { return this.#pw.click(options); }
  fill(value: string, options?: TimeoutOption): Promise<void> { return this.#pw.fill(value, options); }
  type(text: string, options?: DelayOption): Promise<void> { return this.#pw.type(text, options); }
  press(key: string, options?: DelayOption): Promise<void> { return this.#pw.press(key, options); }
  focus(): Promise<void> { return this.#pw.focus(); }
  hover(options?: Parameters<PwElementHandle['hover']>[0]): Promise<void> { return this.#pw.hover(options); }
  textContent(): Promise<string | null> { return this.#pw.textContent(); }
  innerText(): Promise<string> { return this.#pw.innerText(); }
  innerHTML(): Promise<string> { return this.#pw.innerHTML(); }
  getAttribute(name: string): Promise<string | null> { return this.#pw.getAttribute(name); }
  inputValue(options?: TimeoutOption): Promise<string> { return this.#pw.inputValue(options); }
  isVisible(): Promise<boolean> { return this.#pw.isVisible(); }
  isHidden(): Promise<boolean> { return this.#pw.isHidden(); }
  isChecked(): Promise<boolean> { return this.#pw.isChecked(); }
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null> { return this.#pw.boundingBox(); }
  jsonValue(): Promise<unknown> { return this.#pw.jsonValue(); }
  evaluate<R>(pageFunction: PageFunction<R>, arg?: unknown): Promise<R> {
    return this.#pw.evaluate(pageFunction as never, arg as never) as Promise<R>;
  }
  dispose(): Promise<void> { return this.#pw.dispose(); }
}

export class Locator {
  readonly #pw: PwLocator;
  constructor(pw: PwLocator) { this.#pw = pw; }
  click(options?: LocatorClickOptions): Promise<void> { return this.#pw.click(options); }
  dblclick(options?: Parameters<PwLocator['dblclick']>[0]): Promise<void> { return this.#pw.dblclick(options); }
  fill(value: string, options?: TimeoutOption): Promise<void> { return this.#pw.fill(value, options); }
  clear(options?: TimeoutOption): Promise<void> { return this.#pw.clear(options); }
  /** k6 keeps `type`; it types like pressSequentially (Playwright deprecated its `type`). */
  type(text: string, options?: DelayOption): Promise<void> { return this.#pw.pressSequentially(text, options); }
  pressSequentially(text: string, options?: DelayOption): Promise<void> { return this.#pw.pressSequentially(text, options); }
  press(key: string, options?: DelayOption): Promise<void> { return this.#pw.press(key, options); }
  check(options?: Parameters<PwLocator['check']>[0]): Promise<void> { return this.#pw.check(options); }
  uncheck(options?: Parameters<PwLocator['uncheck']>[0]): Promise<void> { return this.#pw.uncheck(options); }
  setChecked(checked: boolean, options?: Parameters<PwLocator['setChecked']>[1]): Promise<void> { return this.#pw.setChecked(checked, options); }
  selectOption(values: Parameters<PwLocator['selectOption']>[0], options?: TimeoutOption): Promise<string[]> { return this.#pw.selectOption(values, options); }
  hover(options?: Parameters<PwLocator['hover']>[0]): Promise<void> { return this.#pw.hover(options); }
  focus(options?: TimeoutOption): Promise<void> { return this.#pw.focus(options); }
  textContent(options?: TimeoutOption): Promise<string | null> { return this.#pw.textContent(options); }
  innerText(options?: TimeoutOption): Promise<string> { return this.#pw.innerText(options); }
  innerHTML(options?: TimeoutOption): Promise<string> { return this.#pw.innerHTML(options); }
  getAttribute(name: string, options?: TimeoutOption): Promise<string | null> { return this.#pw.getAttribute(name, options); }
  inputValue(options?: TimeoutOption): Promise<string> { return this.#pw.inputValue(options); }
  isVisible(): Promise<boolean> { return this.#pw.isVisible(); }
  isHidden(): Promise<boolean> { return this.#pw.isHidden(); }
  isEnabled(options?: TimeoutOption): Promise<boolean> { return this.#pw.isEnabled(options); }
  isDisabled(options?: TimeoutOption): Promise<boolean> { return this.#pw.isDisabled(options); }
  isEditable(options?: TimeoutOption): Promise<boolean> { return this.#pw.isEditable(options); }
  isChecked(options?: TimeoutOption): Promise<boolean> { return this.#pw.isChecked(options); }
  count(): Promise<number> { return this.#pw.count(); }
  boundingBox(options?: TimeoutOption): Promise<{ x: number; y: number; width: number; height: number } | null> { return this.#pw.boundingBox(options); }
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void> { return this.#pw.waitFor(options); }
  dispatchEvent(type: string, eventInit?: unknown, options?: TimeoutOption): Promise<void> { return this.#pw.dispatchEvent(type, eventInit as object | undefined, options); }
  first(): Locator { return new Locator(this.#pw.first()); }
  last(): Locator { return new Locator(this.#pw.last()); }
  nth(index: number): Locator { return new Locator(this.#pw.nth(index)); }
  locator(selector: string): Locator { return new Locator(this.#pw.locator(selector)); }
  async all(): Promise<Locator[]> { return (await this.#pw.all()).map((l) => new Locator(l)); }
  getByRole(role: Parameters<PwLocator['getByRole']>[0], options?: Parameters<PwLocator['getByRole']>[1]): Locator { return new Locator(this.#pw.getByRole(role, options)); }
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByText(text, options)); }
  getByTestId(testId: string | RegExp): Locator { return new Locator(this.#pw.getByTestId(testId)); }
  getByLabel(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByLabel(text, options)); }
  getByPlaceholder(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByPlaceholder(text, options)); }
}

export class Keyboard {
  readonly #pw: PwKeyboard;
  constructor(pw: PwKeyboard) { this.#pw = pw; }
  down(key: string): Promise<void> { return this.#pw.down(key); }
  up(key: string): Promise<void> { return this.#pw.up(key); }
  press(key: string, options?: { delay?: number }): Promise<void> { return this.#pw.press(key, options); }
  type(text: string, options?: { delay?: number }): Promise<void> { return this.#pw.type(text, options); }
  insertText(text: string): Promise<void> { return this.#pw.insertText(text); }
}

export class Page {
  readonly #pw: PwPage;
  readonly #owner: PageOwner;
  readonly #keyboard: Keyboard;
  #closing: Promise<void> | undefined;

  constructor(pw: PwPage, owner: PageOwner) {
    this.#pw = pw;
    this.#owner = owner;
    this.#keyboard = new Keyboard(pw.keyboard);
  }

  get keyboard(): Keyboard { return this.#keyboard; }
  context(): BrowserContext { return this.#owner.api; }
  url(): string { return this.#pw.url(); }
  isClosed(): boolean { return this.#closing !== undefined || this.#pw.isClosed(); }

  async goto(url: string, options: { waitUntil?: string; timeout?: number; referer?: string } = {}): Promise<Response | null> {
    const waitUntil = lifecycleEvent('page.goto', options.waitUntil);
    // The document being left reports its Web Vitals first (a same-document navigation keeps it).
    const current = this.#pw.url();
    if (/^(https?|file):/.test(current) && withoutHash(current) !== withoutHash(url)) await this.flushVitals();
    try {
      const response = await this.#pw.goto(url, {
        waitUntil,
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(options.referer !== undefined ? { referer: options.referer } : {}),
      });
      return response === null ? null : new Response(response);
    } catch (err) {
      const reason = firstLine((err as Error).message).replace(/^page\.goto:\s*/, '').replace(` at ${url}`, '');
      // After a network error Chromium commits its error page a moment later; let it, so the
      // page's next navigation is not interrupted by it.
      if (reason.startsWith('net::')) await this.#pw.waitForURL(/^chrome-error:/, { waitUntil: 'commit', timeout: 2000 }).catch(() => undefined);
      throw new Error(`page.goto: navigating to "${url}" failed: ${reason}`, { cause: err });
    }
  }

  async reload(options: { waitUntil?: string; timeout?: number } = {}): Promise<Response | null> {
    const waitUntil = lifecycleEvent('page.reload', options.waitUntil);
    await this.flushVitals();
    const response = await this.#pw.reload({
      waitUntil,
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    return response === null ? null : new Response(response);
  }

  /**
   * Makes the page report its pending Web Vitals (CLS, INP, a not yet final LCP) and waits until
   * they, and the metrics of the requests made so far, are emitted. Bounded; never throws.
   */
  async flushVitals(): Promise<void> {
    if (this.#pw.isClosed() || this.#owner.aborting) return;
    await withTimeout(this.#pw.evaluate(FLUSH_EXPRESSION).catch(() => false), FLUSH_TIMEOUT_MS);
    await withTimeout(this.#owner.settleNetwork(), NETWORK_SETTLE_TIMEOUT_MS);
  }

  /** Flushes the Web Vitals, closes the page (and the context browser.newPage() made for it). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#pw.isClosed()) {
        await this.flushVitals();
        await this.#pw.close().catch(() => undefined); // already gone with its browser
      }
      await this.#owner.pageClosed(this);
    })();
    return this.#closing;
  }

  title(): Promise<string> { return this.#pw.title(); }
  content(): Promise<string> { return this.#pw.content(); }
  setContent(html: string, options?: { waitUntil?: 'load' | 'domcontentloaded' | 'networkidle'; timeout?: number }): Promise<void> { return this.#pw.setContent(html, options); }
  locator(selector: string): Locator { return new Locator(this.#pw.locator(selector)); }
  getByRole(role: Parameters<PwPage['getByRole']>[0], options?: Parameters<PwPage['getByRole']>[1]): Locator { return new Locator(this.#pw.getByRole(role, options)); }
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByText(text, options)); }
  getByTestId(testId: string | RegExp): Locator { return new Locator(this.#pw.getByTestId(testId)); }
  getByLabel(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByLabel(text, options)); }
  getByPlaceholder(text: string | RegExp, options?: { exact?: boolean }): Locator { return new Locator(this.#pw.getByPlaceholder(text, options)); }

  evaluate<R>(pageFunction: PageFunction<R>, arg?: unknown): Promise<R> {
    return this.#pw.evaluate(pageFunction as never, arg as never) as Promise<R>;
  }

  async evaluateHandle<R>(pageFunction: PageFunction<R>, arg?: unknown): Promise<JSHandle<R>> {
    return new JSHandle((await this.#pw.evaluateHandle(pageFunction as never, arg as never)) as PwJSHandle<R>);
  }

  /** k6's order: (pageFunction, options, arg). Polling 'mutation' is approximated by 'raf'. */
  async waitForFunction<R>(pageFunction: PageFunction<R>, options: { polling?: Polling; timeout?: number } = {}, arg?: unknown): Promise<JSHandle<R>> {
    const polling = options.polling === undefined || options.polling === 'mutation' ? 'raf' : options.polling;
    const handle = await this.#pw.waitForFunction(pageFunction as never, arg as never, {
      polling,
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    return new JSHandle(handle as PwJSHandle<R>);
  }

  async waitForSelector(selector: string, options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number; strict?: boolean }): Promise<ElementHandle | null> {
    const element = await this.#pw.waitForSelector(selector, options ?? {});
    return element === null ? null : new ElementHandle(element as PwElementHandle);
  }

  waitForLoadState(state?: 'load' | 'domcontentloaded' | 'networkidle', options?: TimeoutOption): Promise<void> { return this.#pw.waitForLoadState(state, options); }
  waitForTimeout(timeout: number): Promise<void> { return this.#pw.waitForTimeout(timeout); }
  waitForURL(url: string | RegExp, options?: { timeout?: number; waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' }): Promise<void> { return this.#pw.waitForURL(url, options); }

  click(selector: string, options?: Parameters<PwPage['click']>[1]): Promise<void> { return this.#pw.click(selector, options); }
  dblclick(selector: string, options?: Parameters<PwPage['dblclick']>[1]): Promise<void> { return this.#pw.dblclick(selector, options); }
  fill(selector: string, value: string, options?: TimeoutOption): Promise<void> { return this.#pw.fill(selector, value, options); }
  type(selector: string, text: string, options?: DelayOption): Promise<void> { return this.#pw.locator(selector).pressSequentially(text, options); }
  press(selector: string, key: string, options?: DelayOption): Promise<void> { return this.#pw.press(selector, key, options); }
  check(selector: string, options?: Parameters<PwPage['check']>[1]): Promise<void> { return this.#pw.check(selector, options); }
  uncheck(selector: string, options?: Parameters<PwPage['uncheck']>[1]): Promise<void> { return this.#pw.uncheck(selector, options); }
  selectOption(selector: string, values: Parameters<PwPage['selectOption']>[1], options?: TimeoutOption): Promise<string[]> { return this.#pw.selectOption(selector, values, options); }
  hover(selector: string, options?: Parameters<PwPage['hover']>[1]): Promise<void> { return this.#pw.hover(selector, options); }
  focus(selector: string, options?: TimeoutOption): Promise<void> { return this.#pw.focus(selector, options); }
  textContent(selector: string, options?: TimeoutOption): Promise<string | null> { return this.#pw.textContent(selector, options); }
  innerText(selector: string, options?: TimeoutOption): Promise<string> { return this.#pw.innerText(selector, options); }
  innerHTML(selector: string, options?: TimeoutOption): Promise<string> { return this.#pw.innerHTML(selector, options); }
  getAttribute(selector: string, name: string, options?: TimeoutOption): Promise<string | null> { return this.#pw.getAttribute(selector, name, options); }
  inputValue(selector: string, options?: TimeoutOption): Promise<string> { return this.#pw.inputValue(selector, options); }
  isVisible(selector: string): Promise<boolean> { return this.#pw.isVisible(selector); }
  isHidden(selector: string): Promise<boolean> { return this.#pw.isHidden(selector); }

  async screenshot(options: ScreenshotOptions = {}): Promise<ArrayBuffer> { return toArrayBuffer(await this.#pw.screenshot(options)); }
  setViewportSize(size: { width: number; height: number }): Promise<void> { return this.#pw.setViewportSize(size); }
  viewportSize(): { width: number; height: number } | null { return this.#pw.viewportSize(); }
  setDefaultTimeout(timeout: number): void { this.#pw.setDefaultTimeout(timeout); }
  setDefaultNavigationTimeout(timeout: number): void { this.#pw.setDefaultNavigationTimeout(timeout); }
  setExtraHTTPHeaders(headers: Record<string, string>): Promise<void> { return this.#pw.setExtraHTTPHeaders(headers); }
  bringToFront(): Promise<void> { return this.#pw.bringToFront(); }
}
