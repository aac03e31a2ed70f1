import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Browser tests drive Debian's Chromium (`apt-get install -y chromium`) through playwright-core:
 * no browser download, the same binary CI installs. Every page opened here records console
 * errors, uncaught exceptions, failed requests and HTTP errors, and `assertClean` fails the
 * test on any of them.
 */

export const CHROMIUM = process.env.BEEM_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Set BEEM_SKIP_BROWSER=1 to leave the browser suite out deliberately (it never skips on its own). */
export const skipBrowser = process.env.BEEM_SKIP_BROWSER === '1';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM}, and it is not there.\n` +
        '  Install it:  sudo apt-get install -y chromium   (Debian/Ubuntu; .ci/run does this)\n' +
        '  or point BEEM_CHROMIUM at another Chromium binary,\n' +
        '  or run without the browser suite on purpose:  BEEM_SKIP_BROWSER=1 npm test',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Videos must play without a click in a background tab.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Everything that went wrong in the browser since the page opened. */
  problems: string[];
  /** Requests (by URL substring) whose failure or error status is part of the test. */
  expect(fragment: string): void;
}

export interface OpenOptions {
  baseUrl: string;
  viewport?: { width: number; height: number };
  /** A `beem_session=<token>` cookie string for a signed-in user. */
  cookie?: string;
  locale?: 'ru-RU' | 'en-US';
}

export async function openPage(browser: Browser, options: OpenOptions): Promise<WatchedPage> {
  const context = await browser.newContext({
    baseURL: options.baseUrl,
    viewport: options.viewport ?? DESKTOP,
    locale: options.locale ?? 'ru-RU',
    acceptDownloads: true,
  });
  if (options.cookie) {
    const [name, value] = options.cookie.split('=');
    await context.addCookies([{ name: name!, value: value!, url: options.baseUrl, httpOnly: true, sameSite: 'Lax' }]);
  }
  const page = await context.newPage();
  // Fail a step with the locator it waited for, well before the test's own timeout.
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const expected: string[] = [];
  const isExpected = (url: string) => expected.some((fragment) => url.includes(fragment));
  // Only Beem is under test: pages of other sites on the way (the payment page, the
  // sign-in provider) are judged by their own suites.
  const appOrigin = new URL(options.baseUrl).origin;
  const ours = (url: string) => url.startsWith(appOrigin);

  page.on('console', (message) => {
    if (message.type() !== 'error' || !ours(page.url())) return;
    const where = message.location().url ?? '';
    // Chromium logs every HTTP error status as a console error; those are judged below by URL.
    if (/Failed to load resource/.test(message.text()) && (isExpected(where) || where === '')) return;
    problems.push(`console error: ${message.text()} (${where})`);
  });
  page.on('pageerror', (error) => {
    if (ours(page.url())) problems.push(`uncaught exception: ${error.message}`);
  });
  page.on('requestfailed', (request) => {
    if (!ours(request.url())) return;
    const reason = request.failure()?.errorText ?? '';
    // Cancelled, not failed: a media element dropping its range request, or a navigation
    // (sign-out, a link) ending the page while one of its requests was still in flight.
    if (reason.includes('ERR_ABORTED')) return;
    if (isExpected(request.url())) return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && ours(response.url()) && !isExpected(response.url())) {
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    }
  });
  return { context, page, problems, expect: (fragment) => expected.push(fragment) };
}

export function assertClean(watched: WatchedPage): void {
  if (watched.problems.length > 0) {
    throw new Error(`The browser reported problems:\n  ${watched.problems.join('\n  ')}`);
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
