// One simulated Flex instance as its own page in headless Chromium: the
// harness page (tests/harness/harness.html) imports flex-sim.js and loads the
// plugin bundle with a <script> tag, exactly the file a user deploys.

export class BrowserInstance {
  /**
   * @param {string} name
   * @param {object} opts
   * @param {import('playwright-core').BrowserContext} opts.context one per scenario (pages of one worker)
   * @param {string} opts.pageUrl the harness page URL
   * @param {string} opts.bundleUrl the bundle URL
   * @param {object} opts.flexOptions createFlex options
   * @param {(line: string) => void} opts.log
   */
  constructor(name, { context, pageUrl, bundleUrl, flexOptions, log }) {
    Object.assign(this, { name, context, pageUrl, bundleUrl, flexOptions, log });
    this.uncaught = [];
  }

  async start() {
    this.page = await this.context.newPage();
    this.page.on('console', (msg) => this.log(`[${this.name}] ${msg.type()}: ${msg.text()}`));
    this.page.on('pageerror', (err) => {
      this.uncaught.push(err);
      this.log(`[${this.name}] uncaught: ${err.stack || err.message}`);
    });
    this.page.on('requestfailed', (req) => this.log(`[${this.name}] request failed: ${req.method()} ${req.url()} ${req.failure() && req.failure().errorText}`));
    await this.page.goto(this.pageUrl);
    await this.page.waitForFunction(() => window.__harness !== undefined, null, { timeout: 10000 });
    try {
      await this.page.evaluate((opts) => window.__harness.setup(opts), { flexOptions: this.flexOptions, bundleUrl: this.bundleUrl });
    } catch (err) {
      throw new Error(`instance ${this.name}: ${err.message.split('\n')[0]}`);
    }
  }

  async call(method, ...args) {
    await this.page.evaluate(([m, a]) => window.__harness.call(m, a), [method, args]);
  }

  hasTask(taskSid) {
    return this.page.evaluate((t) => window.__harness.hasTask(t), taskSid);
  }

  notificationsShown() {
    return this.page.evaluate(() => window.__harness.notificationsShown());
  }

  idle() {
    return this.page.evaluate(() => window.__harness.idle());
  }

  status(taskSid) {
    return this.page.evaluate((t) => window.__harness.status(t), taskSid);
  }

  async dispose() {
    if (this.page) await this.page.close().catch(() => {});
  }
}
