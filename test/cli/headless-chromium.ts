import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** A quiet browser for a test: no sandbox (CI runs as root), no GPU, nothing fetched from the internet. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Chromium on a fresh profile (its own --user-data-dir), with a desktop-sized window. */
export async function launchChromium(): Promise<HeadlessChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Why Chromium cannot run here, in one line; undefined when it can. */
export async function chromiumUnavailable(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (Debian: apt-get install -y chromium)`;
  try {
    await (await launchChromium()).close();
    return undefined;
  } catch (error) {
    return `${CHROMIUM} cannot be launched: ${(error as Error).message.split('\n')[0]}`;
  }
}
