// Connect sessions (issue 17) in the browser: a platform's page on another origin opens the
// hosted page in a popup through /connect.js, the end user completes a Demo Cloud consent and
// an API-key connection, and the platform gets each result by postMessage (its promise resolves)
// and by webhook. A page on a foreign origin (not in allowed_origins) gets no message.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, screenshot, tempDir } from '../lib/harness.mjs';

const GOOD_KEY = 'mk_live_CONNECT_5d2e8a';

let app;
let token;
let browser;
let keys;
let platform;
let foreign;
let providersDir;
const hooks = [];

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** The stand-in API-key service: `GET /me` with `Authorization: Bearer <key>`. */
async function startKeys() {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/me' && req.headers.authorization === `Bearer ${GOOD_KEY}`) {
      res.end(JSON.stringify({ email: 'ada@platform.test' }));
    } else {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { message: 'Invalid API key provided' } }));
    }
  });
  return { server, url: await listen(server) };
}

async function api(method, p, body) {
  const r = await fetch(`${app.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return [r.status, await r.json()];
}

/**
 * A platform: its page loads /connect.js and opens a session on a click; `/session` is its
 * backend, creating the session for one end user with `allowedOrigin` allowed; `/hook` takes
 * Patchbay's webhooks.
 */
async function startPlatform(allowedOrigin) {
  const state = { origin: null };
  const server = http.createServer(async (req, res) => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Acme Automations</title>
<button id="add">Add connection</button><pre id="result"></pre>
<script src="${app.url}/connect.js"></script>
<script>
  document.getElementById('add').addEventListener('click', function () {
    var url = fetch('/session', { method: 'POST' }).then(function (r) { return r.json(); }).then(function (b) { return b.url; });
    PatchbayConnect.openPending(url).then(function (result) {
      document.getElementById('result').textContent = JSON.stringify(result);
    });
  });
</script>`);
      return;
    }
    if (req.url === '/session') {
      const [status, body] = await api('POST', '/v1/connect/sessions', {
        end_user: { id: 'user-42', display_name: 'Ada Lovelace' },
        allowed_providers: ['democloud', 'mockkeys'],
        allowed_origins: [allowedOrigin ?? state.origin],
      });
      res.setHeader('content-type', 'application/json');
      res.statusCode = status;
      res.end(JSON.stringify({ url: body.url }));
      return;
    }
    if (req.url === '/hook') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      hooks.push(JSON.parse(raw));
      res.end('ok');
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  state.origin = await listen(server);
  return { server, url: state.origin };
}

before(async () => {
  keys = await startKeys();
  providersDir = tempDir('patchbay-e2e-connect-providers-');
  fs.writeFileSync(
    path.join(providersDir, 'mockkeys.yaml'),
    [
      'id: mockkeys',
      'display_name: Mock Keys',
      'description: A loopback API-key service for the browser tests',
      'auth_mode: api_key',
      `api_base_url: ${keys.url}`,
      'api_key: {in: header, name: Authorization, prefix: "Bearer "}',
      'verify: {method: GET, path: /me, account: /email}',
      'settings:',
      '  - {key: region, label: API region, placeholder: eu-west}',
      '',
    ].join('\n'),
  );
  app = new Patchbay({ command: 'demo', env: { PATCHBAY_PROVIDERS_DIR: providersDir } });
  await app.start();
  token = /export PATCHBAY_TOKEN=(\S+)/.exec(app.stdout)?.[1];
  assert.ok(token, `no admin token in:\n${app.stdout}`);
  platform = await startPlatform();
  // Another origin whose sessions name the real platform's origin, never its own.
  foreign = await startPlatform(platform.url);
  const [status, hook] = await api('POST', '/v1/webhooks', {
    url: `${platform.url}/hook`,
    events: ['connection.created'],
  });
  assert.equal(status, 201, JSON.stringify(hook));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  keys?.server.close();
  platform?.server.close();
  foreign?.server.close();
  if (providersDir) fs.rmSync(providersDir, { recursive: true, force: true });
});

async function waitFor(check, what) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Opens the platform's page and clicks Add connection; returns [platform page, popup]. */
async function openPopup(base) {
  const page = await newPage(browser, app.url);
  await page.goto(base);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Add connection' }).click()]);
  await popup.waitForURL(/\/connect\/s$/);
  assert.ok(!popup.url().includes('token='), 'the token left the address bar');
  return [page, popup];
}

async function result(page) {
  const text = await waitFor(async () => (await page.locator('#result').textContent()) || null, 'the promise');
  return JSON.parse(text);
}

test('a Demo Cloud consent in the popup reaches the platform by postMessage and webhook', async () => {
  const [page, popup] = await openPopup(platform.url);
  await popup.getByRole('heading', { name: 'Demo team wants to connect one of your apps' }).waitFor();
  assert.ok(await popup.getByText('For Ada Lovelace').isVisible());
  await popup.getByRole('link', { name: /Demo Cloud/ }).click();
  await popup.getByRole('heading', { name: 'Demo team wants to connect your Demo Cloud' }).waitFor();
  assert.equal(await popup.getByLabel('Connection name').inputValue(), 'My Demo Cloud connection');
  await screenshot(popup, 'connect-popup');
  await popup.getByRole('button', { name: 'Save' }).click();
  await popup.getByRole('button', { name: 'Allow' }).click();

  const got = await result(page);
  assert.equal(got.outcome, 'connected');
  assert.match(got.connectionId, /^con_/);
  assert.match(got.sessionId, /^cs_/);
  const [, c] = await api('GET', `/v1/connections/${got.connectionId}`);
  assert.equal(c.status, 'active');
  assert.deepEqual(c.end_user, { id: 'user-42', display_name: 'Ada Lovelace' });

  const hook = await waitFor(() => hooks.find((h) => h.data?.connection_id === got.connectionId), 'the webhook');
  assert.equal(hook.data.session_id, got.sessionId);
  assert.equal(hook.data.end_user.id, 'user-42');
  page.assertClean();
  await page.context().close();
});

test('an API-key connection in the popup: a rejected key, then the result by postMessage and webhook', async () => {
  const [page, popup] = await openPopup(platform.url);
  await popup.getByRole('link', { name: /Mock Keys/ }).click();
  await popup.getByLabel('API key').fill('mk_live_wrong');
  await popup.getByRole('button', { name: 'Save' }).click();
  await popup.getByText('The connection was not saved').waitFor();
  assert.ok(await popup.getByText('Invalid API key provided').isVisible(), 'the provider says why');
  await popup.getByLabel('API key').fill(GOOD_KEY);
  await popup.getByText('Show advanced settings').click();
  await popup.getByLabel('API region').fill('eu-west');
  await popup.getByRole('button', { name: 'Save' }).click();

  const got = await result(page);
  assert.equal(got.outcome, 'connected');
  const [, c] = await api('GET', `/v1/connections/${got.connectionId}`);
  assert.equal(c.provider, 'mockkeys');
  assert.equal(c.account, 'ada@platform.test');
  assert.equal(c.settings.region, 'eu-west');
  const [, mine] = await api('GET', '/v1/connections?end_user=user-42');
  assert.equal(mine.items.length, 2, 'both connections are the end user’s');

  const hook = await waitFor(() => hooks.find((h) => h.data?.connection_id === got.connectionId), 'the webhook');
  assert.equal(hook.data.session_id, got.sessionId);
  page.assertClean();
  await page.context().close();
});

test('a page on a foreign origin gets no message', async () => {
  const [page, popup] = await openPopup(foreign.url);
  await popup.getByRole('link', { name: /Mock Keys/ }).click();
  await popup.getByLabel('API key').fill(GOOD_KEY);
  await popup.getByRole('button', { name: 'Save' }).click();
  await popup.getByText('Connected').first().waitFor();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await page.locator('#result').textContent(), '', 'no result reached the foreign page');
  await popup.close();
  const got = await result(page);
  assert.equal(got.outcome, 'closed', 'the promise resolves when the popup closes');
  await page.context().close();
});
