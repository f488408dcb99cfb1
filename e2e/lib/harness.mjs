// Shared set-up of the browser tests: the real `patchbay` binary on a free loopback port with its
// own data directory, headless Chromium through playwright-core, and small helpers.
//
// PATCHBAY_BIN overrides the binary (default: ../target/debug/patchbay, built by scripts/e2e).
// PATCHBAY_E2E_KEEP=1 keeps the temporary directories (their paths are printed).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const ROOT = path.resolve(here, '..', '..');
/** The binary under test. */
export const BIN = process.env.PATCHBAY_BIN || path.join(ROOT, 'target', 'debug', 'patchbay');
/**
 * Where the screenshots of the main pages go. The committed ones in docs/screenshots (referenced
 * from the docs) are rewritten only with PATCHBAY_UPDATE_SCREENSHOTS=1: every run renders them a
 * few pixels differently, and an ordinary test run should leave the work tree clean.
 */
export const SCREENSHOTS =
  process.env.PATCHBAY_UPDATE_SCREENSHOTS === '1'
    ? path.join(ROOT, 'docs', 'screenshots')
    : path.join(ROOT, 'target', 'e2e-screenshots');

const KEEP = process.env.PATCHBAY_E2E_KEEP === '1';

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory, removed by `cleanup()` unless PATCHBAY_E2E_KEEP=1. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (KEEP) console.log(`PATCHBAY_E2E_KEEP=1: keeping ${dir}`);
  return dir;
}

function removeDir(dir) {
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
}

/** The environment for the binary: ours minus PATCHBAY_* and proxies, plus `extra`. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PATCHBAY_') || /^(https?|all|no)_proxy$/i.test(k) || k === 'RUST_LOG') continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', RUST_LOG: 'info', ...extra };
}

/**
 * A `patchbay serve` or `patchbay demo` process. `env` adds to the defaults
 * (PATCHBAY_LISTEN/PUBLIC_URL on a free port, a fresh PATCHBAY_DATA_DIR, private networks allowed).
 */
export class Patchbay {
  constructor({ command = 'serve', env = {} } = {}) {
    this.command = command;
    this.root = tempDir('patchbay-e2e-');
    this.dataDir = path.join(this.root, 'data');
    this.logPath = path.join(this.root, 'patchbay.log');
    this.extraEnv = env;
    this.stdout = '';
  }

  /** Sets the port and environment; call before `admin()` or `start()`. */
  async prepare() {
    if (this.env) return this;
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.env = childEnv({
      PATCHBAY_LISTEN: `127.0.0.1:${this.port}`,
      PATCHBAY_PUBLIC_URL: this.url,
      PATCHBAY_DATA_DIR: this.dataDir,
      PATCHBAY_ALLOW_PRIVATE_NETWORKS: 'true',
      ...this.extraEnv,
    });
    return this;
  }

  /** Runs `patchbay admin ARGS` to completion; returns stdout (throws on failure). */
  async admin(args, { input = '' } = {}) {
    await this.prepare();
    const out = spawnSync(BIN, ['admin', ...args], { env: this.env, input, encoding: 'utf8', timeout: 60_000 });
    if (out.status !== 0) {
      throw new Error(`patchbay admin ${args.join(' ')} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
    }
    return out.stdout.trim();
  }

  /** Starts the server and waits until /healthz answers 200. */
  async start() {
    await this.prepare();
    const log = fs.openSync(this.logPath, 'a');
    this.child = spawn(BIN, [this.command], { env: this.env, stdio: ['ignore', 'pipe', log] });
    this.child.stdout.on('data', (chunk) => {
      this.stdout += chunk.toString();
      fs.appendFileSync(this.logPath, chunk);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`patchbay ${this.command} exited early:\n${this.logs()}`);
      }
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.status === 200) return this;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`patchbay ${this.command} not ready:\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Everything the process printed. */
  logs() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
  async stop() {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    removeDir(this.root);
  }
}

/** Headless Chromium with a fresh profile (playwright creates a new temporary user-data dir). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.PATCHBAY_CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A new page that records console errors and CSP violations (both fail the test at `assertClean`)
 * and responses of our origin without the strict headers.
 */
export async function newPage(browser, base, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    // A page answered with 4xx on purpose (a refused sign-in) logs "Failed to load resource";
    // broken sub-resources are caught from their responses below instead.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (resp) => {
    const url = resp.url();
    if (!url.startsWith(base) || url.includes('/oauth/callback')) return;
    if (resp.status() >= 400 && resp.request().resourceType() !== 'document') {
      problems.push(`${resp.status()} for ${resp.request().resourceType()} ${url}`);
    }
    const h = resp.headers();
    const csp = h['content-security-policy'] || '';
    for (const [name, ok] of [
      ['content-security-policy', csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'")],
      ['x-content-type-options', h['x-content-type-options'] === 'nosniff'],
      ['referrer-policy', h['referrer-policy'] === 'no-referrer'],
      ['cache-control', h['cache-control'] === 'no-store'],
    ]) {
      if (!ok) problems.push(`${resp.status()} ${url}: missing or wrong ${name}`);
    }
  });
  page.assertClean = () => {
    if (problems.length) throw new Error(`problems on the page:\n${problems.join('\n')}`);
  };
  return page;
}

/** Saves a screenshot of the page as NAME.png under [`SCREENSHOTS`]. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Signs in through the form. */
export async function signIn(page, base, login, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Email or login').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
