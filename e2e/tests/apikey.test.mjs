// API-key connections in the browser, against `patchbay serve` and a tiny loopback service that
// stands in for the third-party API: sign in, Add with advanced settings, a rejected key, Verify
// (ok, then the provider's reason), Rename, filters, Delete with its receipt (a page of its own,
// which a reload reads again), CSRF and cookies.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, screenshot, signIn, tempDir } from '../lib/harness.mjs';

const GOOD_KEY = 'mk_live_CANARY_7f3a9c1e5b';
const WRONG_KEY = 'mk_live_wrong_000000';
const ACCOUNT = 'ann@example.test';
const LOGIN = 'ann@example.test';
const PASSWORD = 'correct horse battery';

/** The stand-in service: `GET /me` with `Authorization: Bearer <key>`. */
function startMockService() {
  const state = { revoked: false, calls: 0 };
  const server = http.createServer((req, res) => {
    state.calls += 1;
    const ok = req.url === '/me' && req.headers.authorization === `Bearer ${GOOD_KEY}` && !state.revoked;
    res.setHeader('content-type', 'application/json');
    if (ok) {
      res.end(JSON.stringify({ email: ACCOUNT, id: 42 }));
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
    path.join(providersDir, 'mockkeys.yaml'),
    [
      'id: mockkeys',
      'display_name: Mock Keys',
      'description: A loopback API-key service for the browser tests',
      'auth_mode: api_key',
      `api_base_url: ${mock.url}`,
      'api_key: {in: header, name: Authorization, prefix: "Bearer "}',
      'verify: {method: GET, path: /me, account: /email}',
      'settings:',
      '  - {key: region, label: API region, placeholder: eu-west}',
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

test('API-key connection: add, verify, rename, filter, delete', async () => {
  const base = app.url;
  const page = await newPage(browser, base);

  // Signed out: every page leads to the sign-in form, which remembers where we were going.
  await page.goto(`${base}/connections?status=active`);
  assert.match(page.url(), /\/login\?next=/);

  // A wrong password is refused with a clear message and the login kept.
  await page.getByLabel('Email or login').fill(LOGIN);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Wrong login or password.').waitFor();
  assert.equal(await page.getByLabel('Email or login').inputValue(), LOGIN);
  assert.equal(await page.getByLabel('Password').inputValue(), '');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/connections?status=active`);

  // The session cookie: HttpOnly, SameSite=Lax, Path=/, not Secure on http.
  const cookies = await page.context().cookies(base);
  const session = cookies.find((c) => c.name === 'patchbay_session');
  assert.ok(session, 'the session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(session.path, '/');
  assert.equal(session.secure, false);
  assert.equal(await page.evaluate(() => document.cookie.includes('patchbay_session')), false);

  // Add: pick the app through the search box.
  await page.goto(`${base}/connections`);
  await page.getByText('No connections yet').waitFor();
  await page.getByRole('link', { name: 'Add', exact: true }).first().click();
  await page.waitForURL(`${base}/connections/new`);
  await page.getByLabel('Search apps').fill('mock k');
  assert.equal(await page.getByRole('link', { name: /Stripe/ }).isVisible(), false, 'the live filter hides other apps');
  assert.equal(await page.getByRole('heading', { name: 'Payments', exact: true }).isVisible(), false, 'and the category headings left empty');
  assert.equal(await page.getByRole('heading', { name: 'Other', exact: true }).isVisible(), true, 'Mock Keys names no category');
  await page.getByRole('link', { name: /Mock Keys/ }).click();
  await page.waitForURL(`${base}/connections/new/mockkeys`);

  // The form: a default name, a password-type key field, advanced settings behind a checkbox.
  const name = page.getByLabel('Connection name');
  assert.equal(await name.inputValue(), 'My Mock Keys connection');
  const key = page.getByLabel('API key');
  assert.equal(await key.getAttribute('type'), 'password');
  const region = page.getByLabel(/API region/);
  assert.equal(await region.isVisible(), false, 'advanced settings start hidden');
  await page.getByText('Show advanced settings').click();
  assert.equal(await region.isVisible(), true);
  await screenshot(page, 'apikey-add-form');

  // A key the service rejects: nothing is saved, the reason is shown, the key is not re-filled.
  await name.fill('Acme keys');
  await region.fill('eu-west');
  await key.fill(WRONG_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('The connection was not saved').waitFor();
  await page.getByText(/Invalid API key provided/).waitFor();
  assert.equal(await page.getByLabel('Connection name').inputValue(), 'Acme keys');
  assert.equal(await page.getByLabel('API key').inputValue(), '');
  assert.equal(await page.getByLabel(/API region/).inputValue(), 'eu-west');
  assert.ok(!(await page.content()).includes(WRONG_KEY), 'a rejected key is not echoed');

  await page.getByLabel('API key').fill(GOOD_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?notice=created$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.getByText('“Acme keys” is connected').waitFor();
  const card = page.locator(`article#${id}`);
  assert.equal(await card.locator('.badge[data-status]').innerText(), 'Active');
  assert.ok((await card.innerText()).includes(ACCOUNT), 'Connected as shows the account');
  assert.ok((await page.content()).includes('eu-west'), 'the non-secret setting is shown');
  assert.ok(!(await page.content()).includes(GOOD_KEY), 'the key never reaches a page');

  // Verify: OK with the account and the time.
  await card.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${base}/connections/${id}?notice=verified`);
  await page.getByText('“Acme keys” is working').waitFor();
  await page.getByText(`Mock Keys accepted the credential for ${ACCOUNT}`).waitFor();

  // The key is revoked at the service: Verify shows the provider's reason and the status changes.
  mock.state.revoked = true;
  await page.locator(`article#${id}`).getByRole('button', { name: 'Verify' }).click();
  await page.getByText('“Acme keys” failed verification').waitFor();
  await page.locator('.banner', { hasText: 'Invalid API key provided' }).waitFor();
  assert.equal(await page.locator(`article#${id} .badge[data-status]`).innerText(), 'Needs reauthorization');
  await screenshot(page, 'apikey-verify-failed');
  mock.state.revoked = false;

  // Rename inline from the list.
  await page.goto(`${base}/connections`);
  const listCard = page.locator(`article#${id}`);
  await listCard.getByText('Rename', { exact: true }).click();
  await listCard.getByLabel('New name').fill('Acme production keys');
  await listCard.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(new RegExp(`/connections\\?notice=renamed&c=${id}`));
  await page.getByText('Renamed to “Acme production keys”').waitFor();

  // Verify from the list comes back to the list with the result inline.
  await page.locator(`article#${id}`).getByRole('button', { name: 'Verify' }).click();
  await page.getByText('“Acme production keys” is working').waitFor();
  assert.equal(await page.locator(`article#${id} .badge[data-status]`).innerText(), 'Active');

  // Filters and search run on the server.
  await page.goto(`${base}/connections?status=needs_reauth`);
  await page.getByText('No connection matches these filters').waitFor();
  await page.goto(`${base}/connections`);
  await page.getByLabel('Search').fill('production');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/q=production/);
  assert.equal(await page.locator('article.card').count(), 1);
  await page.getByLabel('Search').fill('nothing like this');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('No connection matches these filters').waitFor();

  // A POST without the form's anti-CSRF token changes nothing.
  const forged = await page.request.post(`${base}/connections/${id}/rename`, {
    form: { name: 'forged' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  const wrongToken = await page.request.post(`${base}/connections/${id}/delete`, {
    form: { csrf: 'not-the-token' },
    maxRedirects: 0,
  });
  assert.equal(wrongToken.status(), 403);

  // Delete: confirmation, then the receipt says what happened at the provider.
  await page.goto(`${base}/connections/${id}`);
  assert.ok((await page.content()).includes('Acme production keys'), 'the forged rename did not happen');
  await page.getByRole('link', { name: 'Delete' }).click();
  await page.waitForURL(`${base}/connections/${id}/delete`);
  await page.getByText('No scenario uses this connection.').waitFor();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${base}/connections/${id}/deleted`);
  await page.getByRole('heading', { name: 'Connection deleted' }).waitFor();
  await page.getByText('Patchbay destroyed its copy of the credential.').waitFor();
  await page.locator('td', { hasText: 'Not supported' }).waitFor();
  // A reload reads the receipt again; nothing is posted twice.
  await page.reload();
  await page.locator('td', { hasText: 'Not supported' }).waitFor();
  await page.getByRole('link', { name: 'Back to connections' }).click();
  await page.getByText('No connections yet').waitFor();

  // Sign out ends the session; the old cookie no longer works.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You signed out.').waitFor();
  await page.goto(`${base}/connections`);
  assert.match(page.url(), /\/login$/);

  page.assertClean();
  await page.context().close();
});
