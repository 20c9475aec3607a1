// Debian's chromium, driven headless through playwright-core: no browser is ever downloaded. The
// HTML report's browser tests and the README screenshot script start it the same way.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.RSEQ_EMU_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser cannot run here, or null when it can. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no chromium at ${CHROMIUM} (bash .ci/install installs Debian's; RSEQ_EMU_CHROMIUM names another)`;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh profile in a temporary directory, removed by `close()`. */
export async function openBrowser(colorScheme: 'light' | 'dark' = 'light'): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'rseq-emu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, colorScheme, viewport: { width: 1280, height: 900 }, offline: true });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
