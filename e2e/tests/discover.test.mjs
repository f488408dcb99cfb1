// Connect a server by URL in the browser, against `patchbay demo`: sign in, on the Add page
// "Connect a server by URL" with Demo Cloud's protected resource (its API), which Patchbay
// discovers and registers with; then the new app's Add form, Allow on its consent page, and the
// connection active. A URL Patchbay cannot use shows the reason on the Add page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, signIn } from '../lib/harness.mjs';

const LOGIN = 'demo@patchbay.local';
const PASSWORD = 'e2e-discover-password';

let app;
let browser;
let demoCloud;

before(async () => {
  app = new Patchbay({ command: 'demo', env: { PATCHBAY_DEMO_PASSWORD: PASSWORD } });
  await app.start();
  demoCloud = /Demo Cloud \(OAuth provider `democloud`\) answers at (\S+)/.exec(app.stdout)?.[1];
  assert.ok(demoCloud, `no Demo Cloud address in:\n${app.stdout}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('connect a server by URL: discover, register, consent, connected', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // A URL that is no OAuth server: the Add page again, with the reason and the URL kept.
  await page.goto(`${base}/connections/new`);
  await page.getByLabel('Server URL').fill('ftp://nowhere.example');
  await page.getByRole('button', { name: 'Connect server' }).click();
  await page.getByText('The server could not be connected').waitFor();
  assert.equal(await page.getByLabel('Server URL').inputValue(), 'ftp://nowhere.example');

  // Demo Cloud's API: its resource metadata names the authorization server.
  await page.getByLabel('Server URL').fill(`${demoCloud}/api`);
  await page.getByLabel('Name (optional)').fill('Demo items API');
  await page.getByRole('button', { name: 'Connect server' }).click();
  await page.waitForURL(/\/connections\/new\/127-0-0-1-\d+$/);
  await page.getByRole('checkbox', { name: /items:read/ }).check();
  await page.getByLabel('Connection name').fill('Items by URL');
  await page.getByRole('button', { name: 'Save' }).click();

  // The consent page of the discovered server (reached through the page that continues there).
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  assert.ok(page.url().startsWith(demoCloud), `on Demo Cloud, not ${page.url()}`);
  assert.ok(new URL(page.url()).searchParams.get('resource')?.endsWith('/api'), page.url());
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?outcome=connected$/);
  await page.getByText('“Items by URL” is connected').waitFor();

  // The app is listed on the Add page with the catalog.
  await page.goto(`${base}/connections/new`);
  await page.getByRole('link', { name: /Demo items API/ }).waitFor();
});
