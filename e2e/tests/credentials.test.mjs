// Everyday edits of an API-key connection in the browser (issue 14), against `patchbay serve`
// and a loopback stand-in service: the service is down, so the Add form offers "Save without
// verifying" and the connection shows "Active · not verified" until Verify checks it; then the key
// is rotated with "Update credential": a wrong key changes nothing, the right one replaces it in
// place (same id, same scenario), and the key never reaches a page.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, screenshot, signIn, tempDir } from '../lib/harness.mjs';

const FIRST_KEY = 'rk_live_CANARY_first_1a2b3c';
const SECOND_KEY = 'rk_live_CANARY_second_4d5e6f';
const ACCOUNT = 'rota@example.test';
const LOGIN = 'rota@example.test';
const PASSWORD = 'rotate all the keys';

/** The stand-in service: `GET /me` with `Authorization: Bearer <key>`; `down` answers 503. */
function startMockService() {
  const state = { down: false, keys: new Set([FIRST_KEY]) };
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (state.down) {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: { message: 'maintenance' } }));
      return;
    }
    const key = (req.headers.authorization || '').replace(/^Bearer /, '');
    if (req.url === '/me' && state.keys.has(key)) {
      res.end(JSON.stringify({ email: ACCOUNT }));
    } else {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { message: 'Invalid API key provided' } }));
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, state, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

let mock;
let app;
let browser;
let providersDir;

before(async () => {
  mock = await startMockService();
  providersDir = tempDir('patchbay-e2e-providers-');
  fs.writeFileSync(
    path.join(providersDir, 'rotakeys.yaml'),
    [
      'id: rotakeys',
      'display_name: Rota Keys',
      'auth_mode: api_key',
      `api_base_url: ${mock.url}`,
      'api_key: {in: header, name: Authorization, prefix: "Bearer "}',
      'verify: {method: GET, path: /me, account: /email}',
      'modules:',
      '  read_items: {name: Read items}',
      '',
    ].join('\n'),
  );
  app = new Patchbay({ command: 'serve', env: { PATCHBAY_PROVIDERS_DIR: providersDir } });
  await app.admin(['create-team', 'Acme']);
  await app.admin(['create-user', '--team', 'Acme', '--login', LOGIN, '--role', 'member'], {
    input: `${PASSWORD}\n`,
  });
  await app.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  mock?.server.close();
  if (providersDir) fs.rmSync(providersDir, { recursive: true, force: true });
});

test('save without verifying, then update the credential in place', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // The service is down: the form says how to save anyway, in the form's own words.
  mock.state.down = true;
  await page.goto(`${base}/connections/new/rotakeys`);
  const skip = page.getByRole('checkbox', { name: /Save without verifying/ });
  assert.equal(await skip.isChecked(), false, 'verifying is the default');
  await page.getByLabel('Connection name').fill('Rota');
  await page.getByLabel('API key').fill(FIRST_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  const error = page.locator('.banner.bad', { hasText: 'The connection was not saved' });
  await error.waitFor();
  const text = await error.innerText();
  assert.ok(text.includes('Save without verifying'), text);
  assert.ok(!text.includes('"verify": false'), `no API words on the page: ${text}`);
  assert.equal(await skip.isChecked(), true, 'the choice is offered ticked');
  await page.getByLabel('API key').fill(FIRST_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?notice=created$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const card = page.locator(`article#${id}`);
  const badge = card.locator('.badge[data-status]');
  assert.equal(await badge.innerText(), 'Active · not verified', 'not shown as if checked');
  assert.ok((await card.innerText()).includes('Saved without checking it with Rota Keys'));

  // The service is back: Verify makes it plain Active.
  mock.state.down = false;
  await card.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('“Rota” is working').waitFor();
  assert.equal(await page.locator(`article#${id} .badge[data-status]`).innerText(), 'Active');

  await page.goto(`${base}/connections/${id}`);
  const fingerprint = await page.locator('dd', { hasText: 'fingerprint' }).innerText();

  // Update credential: a key the service refuses changes nothing.
  await page.locator(`article#${id}`).getByRole('link', { name: 'Update credential' }).click();
  await page.waitForURL(`${base}/connections/${id}/credential`);
  await page.getByLabel('API key').fill(SECOND_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.banner.bad', { hasText: 'The credential was not changed' }).waitFor();
  await page.getByText(/Invalid API key provided/).waitFor();
  assert.equal(await page.getByLabel('API key').inputValue(), '', 'a refused key is not re-filled');
  assert.ok(!(await page.content()).includes(SECOND_KEY));
  await screenshot(page, 'update-credential-refused');

  // The service accepts the new key: replaced in place, same page, a new fingerprint.
  mock.state.keys.add(SECOND_KEY);
  await page.getByLabel('API key').fill(SECOND_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(`${base}/connections/${id}?notice=credential_updated`);
  await page.getByText('The credential of “Rota” was replaced').waitFor();
  await page.getByText(`Rota Keys accepted the new one for ${ACCOUNT}`).waitFor();
  const after = await page.locator('dd', { hasText: 'fingerprint' }).innerText();
  assert.notEqual(after, fingerprint, 'a new fingerprint');
  assert.ok(!(await page.content()).includes(SECOND_KEY), 'the key never reaches a page');

  page.assertClean();
  await page.context().close();
});
