// The web back office in headless Chromium at phone size, without JavaScript in the pages:
// sign-in, the overview's figures, a promise on a customer, the payment page's dispute, another
// shop's URL, a form without its token. axe-core runs on every page (no serious or critical
// violation) and each page is saved to docs/screenshots/. Started by run-browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { BASE, SETUP, SETUP_OTHER, PAY, RECEIVABLES, SHOTS } = process.env;
const PASSWORD = 'correct horse battery';
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, javaScriptEnabled: true };

/** "1 234,56 €" with no-break spaces, as the pages write amounts. */
function euros(decimal) {
  const [units, cents = '00'] = decimal.replace('-', '').split('.');
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  return `${decimal.startsWith('-') ? '-' : ''}${grouped},${cents.padEnd(2, '0')}\u00a0€`;
}

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
});

/** axe-core on the page as it is, then a full-page screenshot. The pages' CSP forbids any
 * script, so axe is evaluated through the DevTools protocol, which the CSP does not govern. */
async function check(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function signUp(context, link, email, shots) {
  const page = await context.newPage();
  await page.goto(link);
  if (shots) await check(page, 'setup');
  await page.fill('#password', PASSWORD);
  await page.fill('#again', PASSWORD);
  await Promise.all([page.waitForURL('**/login'), page.click('button[type=submit]')]);
  if (shots) await check(page, 'login');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/app'), page.click('main button[type=submit]')]);
  return page;
}

let owner;
let ownerPage;

test('the owner signs in and the overview shows the till\'s figures', async () => {
  owner = await browser.newContext(phone);
  ownerPage = await signUp(owner, SETUP, 'owner@example.fr', true);
  const page = ownerPage;
  assert.equal(await page.textContent('#receivables'), euros(RECEIVABLES));
  assert.equal(await page.textContent('#bucket-1_30'), euros('1234.56'));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);
  await check(page, 'overview');
});

// Before the promise below: a promise pauses the customer's reminders, which cancels the
// one queued.
test('the reminders page shows the queued reminder with its text, and cancels it', async () => {
  const page = ownerPage;
  await page.goto(`${BASE}/app/reminders`);
  assert.match(await page.textContent('h1'), /Relances/);
  assert.match(await page.textContent('main'), /Hélène Dupré/);
  await page.click('main details summary');
  assert.match(await page.textContent('main details pre'), /Bonjour Hélène Dupré,[\s\S]*Référence de paiement[\s\S]*RF\d\d/);
  await check(page, 'reminders');
  await Promise.all([page.waitForURL('**/app/reminders'), page.click('text=Annuler cette relance')]);
  assert.match(await page.textContent('#queued'), /\(0\)/);
});

test('a bucket opens the overdue list, and a promise is recorded on the customer', async () => {
  const page = ownerPage;
  await page.goto(`${BASE}/app`);
  await page.click('a[href="/app/overdue?bucket=1_30"]');
  assert.match(await page.textContent('main'), /Hélène Dupré/);
  assert.doesNotMatch(await page.textContent('main'), /Marc Petit/);
  await check(page, 'overdue');
  await page.click('text=Hélène Dupré');
  await check(page, 'customer');
  const on = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 10);
  await page.fill('#promise-on', on);
  await page.fill('#promise-amount', '100,50');
  await Promise.all([page.waitForURL('**/app/customers/C1'), page.click('text=Enregistrer la promesse')]);
  assert.match(await page.textContent('.timeline'), /promesse de payer 100,50\u00a0€ d'ici le/);
  await page.goto(`${BASE}/app/bank`);
  await check(page, 'bank');
  await page.goto(`${BASE}/app/today`);
  assert.match(await page.textContent('h1'), /Aujourd'hui/);
  await check(page, 'today');
  await page.goto(`${BASE}/app/sessions`);
  await check(page, 'sessions');
  await page.goto(`${BASE}/app/settings`);
  await check(page, 'settings');
  await page.goto(`${BASE}/app/devices`);
  assert.match(await page.textContent('main'), /ce serveur/);
  await check(page, 'devices');
});

test('the devices page issues an enrolment code with its QR code', async () => {
  const page = ownerPage;
  await page.goto(`${BASE}/app/devices`);
  await Promise.all([page.waitForURL('**/app/devices/enrol'), page.click('text=Créer un code d\'inscription')]);
  assert.equal(await page.textContent('#enrol-server'), BASE);
  assert.match(await page.textContent('#enrol-code'), /^[A-Z0-9]{6,}$/);
  assert.equal(await page.locator('figure.qr svg[role=img]').count(), 1);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);
  await check(page, 'devices-enrolment');
});

test('a statement uploaded on the bank page is refused when unbalanced, then imported', async () => {
  const page = ownerPage;
  const camt = (closing) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-21T06:00:00+02:00</CreDtTm></GrpHdr>
<Stmt><Id>S-1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-20</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-04-20</Dt></BookgDt><ValDt><Dt>2026-04-20</Dt></ValDt><AcctSvcrRef>TX-B1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-B1</AcctSvcrRef></Refs><Amt Ccy="EUR">20.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><RmtInf><Ustrd>VIREMENT MARC PETIT</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
  const upload = async (xml) => {
    await page.goto(`${BASE}/app/bank`);
    await page.setInputFiles('#statement', { name: 'releve.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
    await Promise.all([page.waitForURL('**/app/bank/import'), page.click('form[action="/app/bank/import"] button')]);
  };
  await upload(camt('19.00'));
  assert.match(await page.textContent('#refused'), /is not the closing 19\.00/);
  await upload(camt('20.00'));
  assert.match(await page.textContent('#imported'), /1 opérations lues/);
  assert.match(await page.textContent('#imported'), /20,00\u00a0€/);
  await check(page, 'bank-import');
});

test('the settings page refuses a bad threshold with the core\'s reason and saves a good one', async () => {
  const page = ownerPage;
  await page.goto(`${BASE}/app/settings`);
  await page.fill('#warn_limit_pct', '150');
  const refused = await Promise.all([page.waitForNavigation(), page.click('form[action="/app/settings/rules"] button')]);
  assert.equal(refused[0].status(), 422);
  assert.match(await page.textContent('main'), /use 1 to 100/);
  await page.goto(`${BASE}/app/settings`);
  assert.equal(await page.inputValue('#warn_limit_pct'), '80');
  await page.fill('#offset-0', '3');
  await Promise.all([page.waitForURL('**/app/settings#ladder'), page.click('form[action="/app/settings/ladder"] button')]);
  assert.equal(await page.inputValue('#offset-0'), '3');
});

test('the customer disputes an invoice on the payment page', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(PAY);
  assert.match(await page.textContent('#reference'), /^RF/);
  assert.equal(await page.textContent('#total'), euros('1234.56'));
  await check(page, 'payment-page');
  await page.fill('#reason', 'Jamais livré');
  await Promise.all([page.waitForURL('**?done=1'), page.click('form[action$="/dispute"] button')]);
  assert.match(await page.textContent('main'), /Merci/);
  await context.close();
});

test('another shop\'s owner gets 404 for this shop\'s customer', async () => {
  const context = await browser.newContext(phone);
  const page = await signUp(context, SETUP_OTHER, 'baker@example.fr', false);
  const answer = await page.goto(`${BASE}/app/customers/C1`);
  assert.equal(answer.status(), 404);
  await check(page, 'not-found');
  await context.close();
});

test('a form without its token is refused with 403', async () => {
  const answer = await owner.request.post(`${BASE}/app/customers/C1/note`, { form: { note: 'forged' }, maxRedirects: 0 });
  assert.equal(answer.status(), 403);
  assert.match(await answer.text(), /rechargez la page/);
  const forged = await ownerPage.goto(`${BASE}/app/customers/C1`);
  assert.doesNotMatch(await forged.text(), /forged/);
  await owner.close();
});
