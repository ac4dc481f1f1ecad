/**
 * Opens an HTML report in real headless Chromium (Debian's `chromium`, which scripts/bootstrap
 * installs for the tests) through playwright-core, and records what a reader's browser would
 * complain about: console errors, page errors, and any request beyond the file itself.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/tools';

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  join(PROJECT_ROOT, '.tools/bin/chromium'),
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

export function chromiumPath(): string {
  const found = CANDIDATES.find((path) => path && existsSync(path));
  if (!found)
    throw new Error(
      'no Chromium to open the report in: run `scripts/bootstrap --with-browser` (installs Debian chromium) or set CHROMIUM_PATH',
    );
  return found;
}

export interface OpenedReport {
  page: Page;
  /** Console errors, uncaught page errors, and requests to anything but the report file. */
  complaints: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openReport(path: string): Promise<OpenedReport> {
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(path).href;
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') complaints.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => complaints.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (request.url() !== url) complaints.push(`request: ${request.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    complaints,
    async screenshot(name) {
      const dir = join(PROJECT_ROOT, 'test-results');
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: () => browser.close(),
  };
}
