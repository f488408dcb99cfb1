// Building a scenario in the browser, against `patchbay demo`: Add a scenario, a "Watch items"
// step of Demo Cloud with the connection picker on "Add" → Save → the Add form made for the step
// → Save → Allow → back with the step ready; then a "Create an item" step through the same
// connection, which lacks permissions → "Extend permissions" → Allow → ready. Also: a failed Save
// keeps the choices and says why, Remove of a step, Delete of a scenario after its confirmation,
// the same pages without JavaScript and on a narrow screen. Saves docs/screenshots/scenarios.png.

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
  token = /export PATCHBAY_TOKEN=(\S+)/.exec(app.stdout)?.[1];
  assert.ok(token, `no admin token in:\n${app.stdout}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
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

/** The status label of step `n` (0-based) of a scenario section. */
async function stepStatus(section, n) {
  return section.locator('li.step').nth(n).locator('[data-step-status]').innerText();
}

/** Adds a scenario through the page-head Add and returns its section and id. */
async function addScenario(page, base, name) {
  await page.goto(`${base}/scenarios`);
  await page.locator('.page-head').getByRole('link', { name: 'Add', exact: true }).click();
  await page.waitForURL(`${base}/scenarios/new`);
  await page.getByLabel('Scenario name').fill(name);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/scenarios\?notice=created&s=scn_[0-9a-z]+#scn_/);
  await page.getByText(`“${name}” was created`).waitFor();
  const id = new URL(page.url()).hash.slice(1);
  return { id, section: page.locator(`section#${id}`) };
}

test('build a scenario: Add a step with a new connection, reuse it, extend its permissions', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  // A new scenario: the name, then an empty scenario with the New step row.
  await page.getByRole('link', { name: 'Scenarios' }).click();
  await page.waitForURL(`${base}/scenarios`);
  const { id, section } = await addScenario(page, base, 'Copy new items');
  await section.getByText('No steps yet.').waitFor();

  // The module picker lists every app's modules grouped by app.
  const modulePicker = section.getByLabel('Module', { exact: true });
  const groups = await modulePicker.locator('optgroup').evaluateAll((els) => els.map((e) => e.label));
  assert.ok(groups.includes('Demo Cloud') && groups.includes('GitHub'), groups.join(', '));
  const demoModules = await modulePicker
    .locator('optgroup[label="Demo Cloud"] option')
    .evaluateAll((els) => els.map((e) => e.textContent));
  assert.deepEqual([...demoModules].sort(), ['Create an item', 'Delete an item', 'Get my profile', 'Watch items']);
  const connectionPicker = section.getByLabel('Connection', { exact: true });
  assert.equal(await connectionPicker.locator('option').first().innerText(), 'Add');

  // Step 1: Watch items, connection Add → Save → the Add form made for this step.
  await modulePicker.selectOption({ label: 'Watch items' });
  await connectionPicker.selectOption({ label: 'Add' });
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(`${base}/connections/new/democloud?scenario=${id}&step=0`);
  await page.getByText('For step 1 of “Copy new items”: Watch items').waitFor();
  // Exactly the module's scopes are asked for.
  assert.ok(await page.getByRole('checkbox', { name: /items:read/ }).isChecked());
  assert.ok(!(await page.getByRole('checkbox', { name: /items:write/ }).isChecked()));
  await page.getByLabel('Connection name').fill('Items workspace');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'connected');
  await page.getByText('Access granted').waitFor();
  assert.equal(await stepStatus(section, 0), 'Ready');
  assert.equal(await section.locator('.card-head .badge').innerText(), 'Ready');
  const stepOne = section.locator('li.step').nth(0);
  assert.equal(await stepOne.getByRole('combobox').locator('option:checked').innerText(), 'Items workspace');
  const scenario = await api('GET', `/v1/scenarios/${id}`);
  const connectionId = scenario.steps[0].connection;
  const connection = await api('GET', `/v1/connections/${connectionId}`);
  assert.deepEqual(connection.granted_scopes.map((s) => s.scope).sort(), ['items:read', 'profile']);

  // Step 2: Create an item through the same connection: saved, but it lacks items:write.
  await section.getByLabel('Module', { exact: true }).selectOption({ label: 'Create an item' });
  await section.getByLabel('Connection', { exact: true }).selectOption({ label: 'Items workspace' });
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(`${base}/scenarios?notice=saved&s=${id}#${id}`);
  await page.getByText('“Copy new items” was saved').waitFor();
  assert.equal(await stepStatus(section, 1), 'Missing permissions');
  const stepTwo = section.locator('li.step').nth(1);
  assert.ok((await stepTwo.innerText()).includes('items:write'));

  // Extend permissions: the same connection asks Demo Cloud for the step's scope.
  await stepTwo.getByRole('button', { name: 'Extend permissions' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.pathname === '/scenarios' && u.searchParams.get('outcome') === 'connected');
  assert.equal(await stepStatus(section, 0), 'Ready');
  assert.equal(await stepStatus(section, 1), 'Ready');
  assert.equal(await section.locator('.card-head .badge').innerText(), 'Ready');
  const extended = await api('GET', `/v1/connections/${connectionId}`);
  assert.ok(extended.granted_scopes.some((s) => s.scope === 'items:write'));
  assert.equal(extended.id, connectionId);
  const stored = await api('GET', `/v1/scenarios/${id}`);
  assert.deepEqual(
    stored.steps.map((s) => [s.module, s.connection]),
    [
      ['democloud.watch_items', connectionId],
      ['democloud.create_item', connectionId],
    ],
  );

  // Keyboard: the pickers are reachable and labelled; Tab from the New step's module picker goes
  // to its connection picker, then to Save.
  await section.getByLabel('Module', { exact: true }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('name')), 'new.connection');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Save');

  // Narrow screen: no sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a narrow screen`);
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.goto(`${base}/scenarios#${id}`);
  await screenshot(page, 'scenarios');
  page.assertClean();
  await page.context().close();
});

test('a failed Save says why and keeps the choices; Remove a step; Delete after the confirmation', async () => {
  const base = app.url;
  const page = await newPage(browser, base);
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);

  const { id, section } = await addScenario(page, base, 'Throwaway');
  const { items } = await api('GET', '/v1/connections');
  const demo = items.find((c) => c.provider === 'democloud');
  assert.ok(demo, 'the first test left a Demo Cloud connection');

  // Two steps, both through the existing connection.
  for (const module of ['Watch items', 'Get my profile']) {
    await section.getByLabel('Module', { exact: true }).selectOption({ label: module });
    await section.getByLabel('Connection', { exact: true }).selectOption(demo.id);
    await section.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('“Throwaway” was saved').waitFor();
  }
  assert.equal(await section.locator('li.step').count(), 2);

  // A connection but no module: refused, nothing stored, the choice kept.
  await section.getByLabel('Connection', { exact: true }).selectOption(demo.id);
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.banner.bad', { hasText: '“Throwaway” was not saved' }).waitFor();
  await section.getByRole('alert').getByText(/no module/).waitFor();
  assert.equal(await section.getByLabel('Connection', { exact: true }).inputValue(), demo.id);
  assert.equal((await api('GET', `/v1/scenarios/${id}`)).steps.length, 2);

  // Remove step 1: step 2 moves up.
  await page.goto(`${base}/scenarios#${id}`);
  await section.getByRole('button', { name: 'Remove step 1' }).click();
  await page.getByText('A step was removed from “Throwaway”').waitFor();
  assert.equal(await section.locator('li.step').count(), 1);
  assert.ok((await section.locator('li.step').innerText()).includes('Get my profile'));

  // Delete: the confirmation page, Cancel keeps it, Delete removes it; the connection stays.
  await section.getByRole('link', { name: 'Delete “Throwaway”' }).click();
  await page.getByRole('heading', { name: 'Delete “Throwaway”?' }).waitFor();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(`${base}/scenarios#${id}`);
  await section.getByRole('link', { name: 'Delete “Throwaway”' }).click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${base}/scenarios?notice=deleted`);
  await page.getByText('The scenario was deleted').waitFor();
  assert.equal(await page.locator(`section#${id}`).count(), 0);
  await api('GET', `/v1/connections/${demo.id}`);

  page.assertClean();
  await page.context().close();
});

test('without JavaScript the same forms work', async () => {
  const base = app.url;
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await signIn(page, base, LOGIN, PASSWORD);
  await page.waitForURL(`${base}/connections`);
  const { id, section } = await addScenario(page, base, 'No script');
  await section.getByLabel('Module', { exact: true }).selectOption('democloud.get_profile');
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(`${base}/connections/new/democloud?scenario=${id}&step=0`);
  await page.getByText('For step 1 of “No script”: Get my profile').waitFor();
  const stored = await api('GET', `/v1/scenarios/${id}`);
  assert.deepEqual(
    stored.steps.map((s) => [s.module, s.connection]),
    [['democloud.get_profile', null]],
  );
  await context.close();
});
