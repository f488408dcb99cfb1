// The states beside the OAuth happy path (issue 14), against `patchbay demo`: a denied consent
// leaves a connection that offers no Verify (the API answers 409 `not_connected`) and still
// knows what it was created for; Continue asks for all of it again; a consent that grants
// less (a scope unticked on Demo Cloud's page) is reported as a warning naming what is missing,
// on the connection's page and on the scenarios page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, screenshot, signIn } from '../lib/harness.mjs';

const LOGIN = 'demo@patchbay.local';
const PASSWORD = 'e2e-rough-password';

let app;
let browser;
let token;

before(async () => {
  app = new Patchbay({ command: 'demo', env: { PATCHBAY_DEMO_PASSWORD: PASSWORD } });
  await app.start();
  token = /export PATCHBAY_TOKEN=(\S+)/.exec(app.stdout)?.[1];
  assert.ok(token, `no export PATCHBAY_TOKEN line in:\n${app.stdout}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

/** Calls the JSON API with the demo's admin token; returns [status, body]. */
async function api(method, path, body) {
  const r = await fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [r.status, await r.json().catch(() => null)];
}

test('a denied consent: no Verify, the permissions remembered, a partial grant warned about', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // Add with two extra permissions, then Deny on Demo Cloud's page.
  await page.goto(`${base}/connections/new/democloud`);
  await page.getByLabel('Connection name').fill('Item writer');
  await page.getByRole('checkbox', { name: /items:read/ }).check();
  await page.getByRole('checkbox', { name: /items:write/ }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?outcome=denied$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const card = page.locator(`article#${id}`);

  // Nothing to check yet: no Verify button; the API says why, with a 409, not a 500.
  assert.equal(await card.getByRole('button', { name: 'Verify' }).count(), 0, 'Verify is not offered');
  const [status, body] = await api('POST', `/v1/connections/${id}/verify`);
  assert.equal(status, 409, JSON.stringify(body));
  assert.equal(body.error.code, 'not_connected');
  assert.match(body.error.message, /not connected yet/);

  // The card still lists what the connection is for, not only `profile`.
  const missing = await card.locator('ul.scopes.missing').innerText();
  assert.ok(missing.includes('items:read') && missing.includes('items:write'), missing);

  // Continue (a new consent for the same connection) asks Demo Cloud for all of it; untick
  // items:write there and Allow.
  await card.getByRole('button', { name: 'Continue to Demo Cloud' }).click();
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  for (const scope of ['items:read', 'items:write']) {
    assert.ok(await page.getByRole('checkbox', { name: new RegExp(scope) }).isChecked(), `${scope} is asked for`);
  }
  await page.getByRole('checkbox', { name: /items:write/ }).uncheck();
  await page.getByRole('button', { name: 'Allow' }).click();

  // Not plain success: a warning that names what was not granted.
  await page.waitForURL(`${base}/connections/${id}?outcome=partial`);
  const banner = page.locator('.banner.warn', { hasText: 'not with every permission' });
  await banner.waitFor();
  assert.ok((await banner.innerText()).includes('did not grant items:write'), await banner.innerText());
  assert.equal(await page.locator('.banner.ok').count(), 0, 'no green banner');
  assert.equal(await card.locator('.badge[data-status]').innerText(), 'Active');
  assert.ok(await card.getByRole('button', { name: 'Verify' }).isVisible(), 'Verify once connected');
  await screenshot(page, 'connection-partial-consent');

  // The scenarios page: a step needs items:write; Extend permissions, untick it again.
  const [created, scenario] = await api('POST', '/v1/scenarios', {
    name: 'Write items',
    steps: [{ module: 'democloud.create_item', connection: id }],
  });
  assert.equal(created, 201, JSON.stringify(scenario));
  await page.goto(`${base}/scenarios`);
  const step = page.locator(`section#${scenario.id} li.step`).first();
  await step.getByRole('button', { name: 'Extend permissions' }).click();
  await page.getByRole('checkbox', { name: /items:write/ }).uncheck();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'partial');
  const warn = page.locator('.banner.warn', { hasText: 'Access granted only in part' });
  await warn.waitFor();
  assert.ok((await warn.innerText()).includes('did not grant items:write'), await warn.innerText());
  assert.equal(await page.getByText('Access granted', { exact: true }).count(), 0, 'not reported as plain success');

  page.assertClean();
  await page.context().close();
});
