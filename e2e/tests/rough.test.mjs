// The states beside the happy path, in the browser against `patchbay demo`: a never-granted
// connection offers Continue and Discard (not Verify) and is not offered by a step's picker;
// the Add form focuses its name; Cancel on a step's Add form returns to the scenario; opening
// Rename moves no button under the pointer; the Extend-permissions checkboxes have their own
// button; the New-step connection picker narrows to the chosen module's app; several steps of one
// app that need a connection get one connection (Save with them on Add, or the scenario's offer);
// many connections fit a compact table, which the list remembers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Patchbay, launchBrowser, newPage, signIn } from '../lib/harness.mjs';

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

/** Opens the Add form of Demo Cloud, names the connection and saves it up to the consent page. */
async function startDemoConnection(page, base, name) {
  await page.goto(`${base}/connections/new/democloud`);
  await page.getByLabel('Connection name').fill(name);
  await page.getByRole('button', { name: 'Save' }).click();
}

test('a never-granted connection: Continue or Discard, and hidden from step pickers', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // The Add form puts the cursor in the name field.
  await page.goto(`${base}/connections/new/democloud`);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'name');

  await startDemoConnection(page, base, 'Draft');
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}\?outcome=denied$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const card = page.locator(`article#${id}`);
  const primary = card.locator('.actions > form > button.primary');
  assert.equal(await primary.innerText(), 'Continue to Demo Cloud');
  assert.equal(await card.getByRole('button', { name: 'Verify' }).count(), 0, 'nothing to verify yet');
  assert.equal(await card.getByRole('button', { name: 'Discard' }).count(), 1);

  // The same name again continues the same connection instead of answering "name taken".
  await startDemoConnection(page, base, 'Draft');
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(`${base}/connections/${id}?outcome=denied`);

  // A step's picker does not offer it.
  const granted = await api('POST', '/v1/scenarios', { name: 'Pickers', steps: [{ module: 'democloud.watch_items' }] });
  await page.goto(`${base}/scenarios`);
  const picker = page.locator(`section#${granted.id} li.step`).first().getByRole('combobox');
  const options = await picker.locator('option').allInnerTexts();
  assert.ok(!options.some((o) => o.includes('Draft')), `a never-granted connection offered: ${options}`);

  // Continue: Demo Cloud's consent page for the same connection; this time Allow.
  await page.goto(`${base}/connections/${id}`);
  await card.getByRole('button', { name: 'Continue to Demo Cloud' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${base}/connections/${id}?outcome=connected`);
  assert.equal(await card.locator('.badge[data-status]').innerText(), 'Active');

  // Discard: another never-granted one goes, with a banner.
  await startDemoConnection(page, base, 'Abandoned');
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(/outcome=denied$/);
  const gone = new URL(page.url()).pathname.split('/').pop();
  await page.locator(`article#${gone}`).getByRole('button', { name: 'Discard' }).click();
  await page.waitForURL(`${base}/connections?notice=discarded`);
  await page.getByText('The connection was discarded').waitFor();
  assert.equal(await page.locator(`article#${gone}`).count(), 0);
  page.assertClean();
  await page.context().close();
});

test('Rename does not move Delete; Extend permissions has its own button', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  await startDemoConnection(page, base, 'Steady');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/outcome=connected$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const card = page.locator(`article#${id}`);

  const del = card.getByRole('link', { name: 'Delete' });
  const before = await del.boundingBox();
  await card.getByText('Rename', { exact: true }).click();
  await card.getByLabel('New name').waitFor();
  const after = await del.boundingBox();
  assert.deepEqual(after, before, 'opening Rename moved Delete');

  // The checkboxes below the card submit with the button next to them.
  await page.getByRole('checkbox', { name: /items:write/ }).check();
  const ask = page.getByRole('button', { name: 'Ask Demo Cloud for these' });
  const box = await page.getByRole('checkbox', { name: /items:write/ }).boundingBox();
  const button = await ask.boundingBox();
  assert.ok(button.y - box.y < 200, `the button is ${button.y - box.y}px below the checkbox`);
  await ask.click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${base}/connections/${id}?outcome=connected`);
  assert.ok((await card.innerText()).includes('items:write'));
  page.assertClean();
  await page.context().close();
});

test('New step narrows its connection picker; Cancel on a step form returns to the scenario', async () => {
  const base = app.url;
  // A connection to another app (saved unverified: the demo is offline).
  await api('POST', '/v1/connections', {
    provider: 'stripe',
    name: 'Billing',
    credentials: { api_key: 'sk_test_e2e' },
    verify: false,
  });
  const s = await api('POST', '/v1/scenarios', { name: 'Narrow', steps: [] });
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  await page.goto(`${base}/scenarios`);
  const section = page.locator(`section#${s.id}`);
  const picker = section.locator('select[name="new.connection"]');
  const visibleGroups = () =>
    picker.evaluate((el) => [...el.querySelectorAll('optgroup')].filter((g) => !g.hidden).map((g) => g.label));
  assert.ok((await visibleGroups()).includes('Stripe'), 'every app before a module is chosen');
  await section.locator('select[name="new.module"]').selectOption('democloud.watch_items');
  assert.deepEqual(await visibleGroups(), ['Demo Cloud']);

  // Save with the new step on Add opens the step's form; Cancel goes back to the scenario.
  await picker.selectOption('add');
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/For step 1 of “Narrow”/).waitFor();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(`${base}/scenarios#${s.id}`);
  page.assertClean();
  await page.context().close();
});

test('several steps of one app get one connection with what they need together', async () => {
  const base = app.url;
  const s = await api('POST', '/v1/scenarios', {
    name: 'Shared items',
    steps: [{ module: 'democloud.watch_items' }, { module: 'democloud.create_item' }],
  });
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  await page.goto(`${base}/scenarios`);
  const section = page.locator(`section#${s.id}`);

  // Save with both steps on Add opens one form for the two of them; Cancel goes back.
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('For steps 1 and 2 of “Shared items”: Watch items and Create an item').waitFor();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(`${base}/scenarios#${s.id}`);

  // The scenario offers the same: one connection for both steps.
  await section.getByRole('link', { name: 'Create one connection for steps 1 and 2' }).click();
  await page.getByText('For steps 1 and 2 of “Shared items”').waitFor();
  for (const scope of ['items:read', 'items:write']) {
    assert.ok(await page.getByRole('checkbox', { name: new RegExp(scope) }).isChecked(), `${scope} asked for`);
  }
  await page.getByLabel('Connection name').fill('Shared');
  await page.getByRole('button', { name: 'Save' }).click();

  // One consent asks for what both steps need; once allowed, both run through the one connection.
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  for (const scope of ['items:read', 'items:write']) {
    assert.ok(await page.getByRole('checkbox', { name: new RegExp(scope) }).isChecked(), `${scope} at Demo Cloud`);
  }
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'connected');
  await page.getByText('Access granted').waitFor();
  const steps = section.locator('li.step');
  for (const n of [0, 1]) {
    assert.equal(await steps.nth(n).locator('[data-step-status]').innerText(), 'Ready', `step ${n + 1}`);
    assert.ok((await steps.nth(n).innerText()).includes('Connection: Shared'), await steps.nth(n).innerText());
  }
  assert.equal(await section.getByRole('link', { name: /Create one connection/ }).count(), 0, 'nothing left to offer');
  const list = await api('GET', '/v1/connections?q=Shared');
  assert.equal(list.items.length, 1, JSON.stringify(list.items.map((c) => c.name)));
  page.assertClean();
  await page.context().close();
});

test('many connections: a compact table, remembered until Cards is chosen again', async () => {
  const base = app.url;
  for (const name of ['Ledger A', 'Ledger B', 'Ledger C']) {
    await api('POST', '/v1/connections', {
      provider: 'stripe',
      name,
      credentials: { api_key: `sk_test_${name.at(-1)}` },
      verify: false,
    });
  }
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  assert.ok((await page.locator('article.card').count()) >= 3, 'cards by default');

  await page.getByRole('link', { name: 'Table', exact: true }).click();
  await page.waitForURL(`${base}/connections?view=table`);
  const table = page.locator('table.compact');
  const headers = await table.locator('thead th').allInnerTexts();
  assert.deepEqual(headers, ['Name', 'App', 'Status', 'Account', 'Last verified']);
  assert.equal(await page.locator('article.card').count(), 0, 'no cards in the table view');
  const row = table.locator('tr', { has: page.getByRole('link', { name: 'Ledger B' }) });
  const cells = await row.locator('th, td').allInnerTexts();
  assert.equal(cells[0], 'Ledger B');
  assert.ok(cells[1].endsWith('Stripe'), cells[1]);
  assert.equal(cells[2], 'Active · not verified');
  assert.equal(cells[3], 'Not known yet');
  assert.equal(cells[4], 'Not checked yet');
  assert.equal(await page.getByRole('link', { name: 'Table', exact: true }).getAttribute('aria-current'), 'page');

  // Remembered: the plain address, a filter and the way back from a connection keep the table.
  await page.goto(`${base}/connections`);
  await table.waitFor();
  await page.getByLabel('App').selectOption('stripe');
  await page.waitForURL(/provider=stripe/);
  assert.ok((await table.locator('tbody tr').count()) >= 3);
  assert.ok((await table.innerText()).includes('Ledger A'));
  await row.getByRole('link', { name: 'Ledger B' }).click();
  await page.waitForURL(/\/connections\/con_[0-9a-f]{32}$/);
  await page.getByRole('link', { name: 'Connections' }).first().click();
  await table.waitFor();

  // Cards again, from the table of a filtered list: the filter stays, and so does the choice.
  await page.goto(`${base}/connections?provider=stripe`);
  await page.getByRole('link', { name: 'Cards', exact: true }).click();
  await page.waitForURL(`${base}/connections?view=cards&provider=stripe`);
  await page.locator('article.card').first().waitFor();
  await page.goto(`${base}/connections`);
  assert.equal(await table.count(), 0);
  assert.ok((await page.locator('article.card').count()) >= 3);
  page.assertClean();
  await page.context().close();
});
