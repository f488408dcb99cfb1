// The OAuth flow in the browser, against `patchbay demo` (serve + the Demo Cloud authorization
// server): sign in, Add a Demo Cloud connection with a custom name, Allow on the consent page,
// see it active with its permissions, Verify, Rename, extend its permissions through
// Reauthorize, Deny on a second connection and see the error banner, Delete and see the receipt.
// Then a scenario whose step needs more than its connection has: Extend permissions in place, Add
// a connection made for a step (its connection picker on Add, then Save), and Delete of a
// connection in use (the confirmation lists it).
// Saves the screenshots of the main pages to docs/screenshots/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, screenshot, signIn } from '../lib/harness.mjs';

const LOGIN = 'demo@patchbay.local';
const PASSWORD = 'e2e-demo-password';

let app;
let browser;
let token;

before(async () => {
  app = new Patchbay({ command: 'demo', env: { PATCHBAY_DEMO_PASSWORD: PASSWORD } });
  await app.start();
  assert.ok(app.stdout.includes(`Sign in as ${LOGIN} with password ${PASSWORD}`), app.stdout);
  token = /export PATCHBAY_TOKEN=(\S+)/.exec(app.stdout)?.[1];
  assert.ok(token, `no admin token in:\n${app.stdout}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

/** Adds a Demo Cloud connection up to the consent page. */
async function addDemoConnection(page, base, name, scopes = []) {
  await page.goto(`${base}/connections`);
  await page.getByRole('link', { name: 'Add', exact: true }).first().click();
  await page.getByRole('link', { name: /Demo Cloud/ }).click();
  await page.waitForURL(`${base}/connections/new/democloud`);
  await page.getByLabel('Connection name').fill(name);
  for (const scope of scopes) await page.getByRole('checkbox', { name: new RegExp(scope) }).check();
  return page;
}

test('OAuth connection: allow, verify, rename, extend, deny, delete', async () => {
  const base = app.url;
  const page = await newPage(browser, base);

  await page.goto(`${base}/`);
  await page.waitForURL(`${base}/login`);
  await screenshot(page, 'login');
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  await page.getByText('No connections yet').waitFor();
  await screenshot(page, 'connections-empty');

  // Add: the app picker, then the form with a custom name and one extra permission.
  await page.getByRole('link', { name: 'Add', exact: true }).first().click();
  await page.waitForURL(`${base}/connections/new`);
  await screenshot(page, 'add-pick-app');
  await page.getByRole('link', { name: /Demo Cloud/ }).click();
  assert.equal(await page.getByLabel('Connection name').inputValue(), 'My Demo Cloud connection');
  await page.getByLabel('Connection name').fill('Team workspace');
  await page.getByRole('checkbox', { name: /items:read/ }).check();
  await screenshot(page, 'add-form');
  await page.getByRole('button', { name: 'Save' }).click();

  // Demo Cloud's consent page (another origin: the page CSP's form-action allowed the 303).
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  assert.ok(!page.url().startsWith(base), `on the provider's page, not ${page.url()}`);
  await screenshot(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();

  // Back on the connection's page: active, with its account and described permissions.
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?outcome=connected$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.getByText('“Team workspace” is connected').waitFor();
  const card = page.locator(`article#${id}`);
  assert.equal(await card.locator('.badge[data-status]').innerText(), 'Active');
  const text = await card.innerText();
  assert.match(text, /Connected as\s+\S+@\S+/);
  assert.ok(text.includes('items:read') && text.includes('Read your items'), text);
  assert.ok(text.includes('profile') && text.includes('See your profile'), text);
  assert.match(text, /Grant expires/);
  assert.ok(!page.url().includes('code='), 'no code in the landing URL');
  await screenshot(page, 'connection-active');

  // Verify: OK with the account and the time.
  await card.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${base}/connections/${id}?notice=verified`);
  await page.getByText('“Team workspace” is working').waitFor();
  await page.getByText(/Demo Cloud accepted the credential for \S+@\S+/).waitFor();

  // Rename inline.
  await page.locator(`article#${id}`).getByText('Rename', { exact: true }).click();
  await page.locator(`article#${id}`).getByLabel('New name').fill('Team workspace (prod)');
  await page.locator(`article#${id}`).getByRole('button', { name: 'Save' }).click();
  await page.getByText('Renamed to “Team workspace (prod)”').waitFor();
  await page.getByRole('heading', { name: 'Team workspace (prod)', level: 1 }).waitFor();

  // Extend permissions: tick items:write, Reauthorize, Allow; same id, the new scope granted.
  await page.getByRole('checkbox', { name: /items:write/ }).check();
  await page.locator(`article#${id}`).getByRole('button', { name: 'Reauthorize' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${base}/connections/${id}?outcome=connected`);
  const extended = await page.locator(`article#${id}`).innerText();
  assert.ok(extended.includes('items:write') && extended.includes('Create and edit items'), extended);
  assert.ok(extended.includes('Team workspace (prod)'), 'the name survives a reauthorization');

  // Deny on a second connection: an error banner from its stored status.
  await addDemoConnection(page, base, 'Refused one');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?outcome=denied$/);
  const deniedId = new URL(page.url()).pathname.split('/').pop();
  assert.notEqual(deniedId, id);
  await page.locator('.banner.bad', { hasText: 'Access was denied at Demo Cloud' }).waitFor();
  assert.equal(await page.locator(`article#${deniedId} .badge[data-status]`).innerText(), 'Pending');
  await screenshot(page, 'connection-denied');

  // The list: both connections, then filtered by status on the server.
  await page.goto(`${base}/connections`);
  assert.equal(await page.locator('article.card').count(), 2);
  await screenshot(page, 'connections');
  await page.getByLabel('Status').selectOption('pending');
  await page.waitForURL(/status=pending/);
  assert.equal(await page.locator('article.card').count(), 1);
  await page.locator(`article#${deniedId}`).waitFor();

  // Narrow screen: the list stays readable (no horizontal scrolling).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/connections`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a narrow screen`);
  await screenshot(page, 'connections-narrow');
  await page.setViewportSize({ width: 1280, height: 900 });

  // Keyboard: Tab reaches the main actions in order, and Enter on "Add" opens the picker.
  await page.goto(`${base}/connections`);
  await page.keyboard.press('Tab'); // skip link
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to content');

  // Delete: the confirmation, then the revocation receipt.
  await page.goto(`${base}/connections/${id}`);
  await page.getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Delete “Team workspace (prod)”?' }).waitFor();
  await screenshot(page, 'delete-confirm');
  await page.getByRole('button', { name: 'Delete' }).click();
  // The receipt is a page of its own (POST → 303 → GET): a reload shows it again and posts nothing.
  await page.waitForURL(`${base}/connections/${id}/deleted`);
  await page.getByRole('heading', { name: 'Connection deleted' }).waitFor();
  await page.getByText('Revocation receipt').waitFor();
  const receipt = await page.locator('table').innerText();
  assert.match(receipt, /Revoked|Pending/, receipt);
  await screenshot(page, 'delete-receipt');
  const reloaded = await page.reload();
  assert.equal(reloaded.request().method(), 'GET');
  assert.equal(reloaded.status(), 200);
  assert.equal(await page.locator('table').innerText(), receipt, 'the same receipt after a reload');

  await page.goto(`${base}/connections`);
  assert.equal(await page.locator('article.card').count(), 1);

  // Events (admins): what happened, newest first, filterable.
  await page.getByRole('link', { name: 'Events' }).click();
  await page.waitForURL(`${base}/events`);
  const events = await page.locator('table').innerText();
  for (const label of ['Created', 'Verified', 'Reauthorized', 'Deleted']) {
    assert.ok(events.includes(label), `no ${label} event in:\n${events}`);
  }
  await screenshot(page, 'events');
  await page.getByLabel('Event').selectOption('connection.verified');
  await page.waitForURL(/type=connection\.verified/);
  const rows = page.locator('tbody tr');
  assert.ok((await rows.count()) >= 1);
  for (const row of await rows.all()) assert.ok((await row.innerText()).includes('Verified'));
  page.assertClean();
  await page.context().close();
});

test('a consent flow started in one browser session cannot be completed in another', async () => {
  const base = app.url;
  const first = await newPage(browser, base);
  await signIn(first, base, LOGIN, PASSWORD);
  await first.waitForURL(`${base}/connections`);
  await addDemoConnection(first, base, 'Bound to a session');
  await first.getByRole('button', { name: 'Save' }).click();
  await first.getByRole('button', { name: 'Allow' }).waitFor();
  const consentUrl = first.url();

  // Another browser (its own cookies) signs in and opens the same consent URL.
  const second = await newPage(browser, base);
  await signIn(second, base, LOGIN, PASSWORD);
  await second.waitForURL(`${base}/connections`);
  await second.goto(consentUrl);
  await second.getByRole('button', { name: 'Allow' }).click();
  await second.getByText(/another browser session/).waitFor();

  await first.context().close();
  await second.context().close();
});

/** Calls the JSON API with the demo's admin token. */
async function api(method, path, body) {
  const r = await fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => null);
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

test('scenario steps: extend permissions in place, add a connection for a step, delete in use', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // A connection that can read items only.
  await addDemoConnection(page, base, 'Reader', ['items:read']);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/\?outcome=connected$/);
  const id = new URL(page.url()).pathname.split('/').pop();

  // A scenario (made over the API, as a platform would) whose second step needs items:write and
  // whose third step has no connection yet.
  const scenario = await api('POST', '/v1/scenarios', {
    name: 'Copy new items',
    steps: [
      { module: 'democloud.watch_items', connection: id },
      { module: 'democloud.create_item', connection: id },
      { module: 'democloud.get_profile' },
    ],
  });

  await page.getByRole('link', { name: 'Scenarios' }).click();
  await page.waitForURL(`${base}/scenarios`);
  const section = page.locator(`section#${scenario.id}`);
  await section.getByText('Needs attention').waitFor();
  const steps = section.locator('li.step');
  assert.equal(await steps.nth(0).locator('[data-step-status]').innerText(), 'Ready');
  assert.equal(await steps.nth(1).locator('[data-step-status]').innerText(), 'Missing permissions');
  assert.ok((await steps.nth(1).innerText()).includes('items:write'));
  assert.equal(await steps.nth(2).locator('[data-step-status]').innerText(), 'Needs a connection');

  // Extend permissions: the same connection asks Demo Cloud for items:write.
  await steps.nth(1).getByRole('button', { name: 'Extend permissions' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'connected');
  await page.getByText('Access granted').waitFor();
  assert.equal(await steps.nth(1).locator('[data-step-status]').innerText(), 'Ready');
  const after = await api('GET', `/v1/connections/${id}`);
  assert.ok(after.granted_scopes.some((s) => s.scope === 'items:write'), JSON.stringify(after.granted_scopes));
  assert.equal(after.name, 'Reader');

  // Add for step 3: its connection picker starts on Add; Save opens the form made for the step,
  // and the connection is bound on save.
  assert.equal(await steps.nth(2).getByRole('combobox').locator('option:checked').innerText(), 'Add');
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('For step 3 of “Copy new items”: Get my profile').waitFor();
  await page.getByLabel('Connection name').fill('Profile reader');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'connected');
  await section.getByText('Ready', { exact: true }).first().waitFor();
  assert.equal(await steps.nth(2).locator('[data-step-status]').innerText(), 'Ready');
  assert.equal(await section.locator('.card-head .badge').innerText(), 'Ready');

  // "Used in" on the connection, and a delete that lists the steps first.
  await page.goto(`${base}/connections/${id}`);
  await page.locator(`article#${id}`).getByText('“Copy new items” · step 1').waitFor();
  await page.getByRole('link', { name: 'Delete' }).click();
  await page.getByText('These scenarios use this connection and will stop working').waitFor();
  assert.ok((await page.locator('.banner.warn').innerText()).includes('step 2 · democloud.create_item'));
  await screenshot(page, 'delete-confirm-in-use');
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Connection deleted' }).waitFor();
  await page.goto(`${base}/scenarios`);
  assert.equal(await steps.nth(0).locator('[data-step-status]').innerText(), 'Needs a connection');

  page.assertClean();
  await page.context().close();
});
