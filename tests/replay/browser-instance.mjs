// One simulated Flex instance as its own page in headless Chromium: the
// harness page (tests/harness/harness.html) imports flex-sim.js and loads the
// plugin bundle with a <script> tag, exactly the file a user deploys.

const EVAL_TIMEOUT_MS = 30000;

export class BrowserInstance {
  /**
   * @param {string} name
   * @param {object} opts
   * @param {import('playwright-core').BrowserContext} opts.context one per scenario (pages of one worker)
   * @param {string} opts.pageUrl the harness page URL
   * @param {string} opts.bundleUrl the bundle URL
   * @param {object} opts.flexOptions createFlex options
   * @param {(line: string) => void} opts.log
   * @param {boolean} [opts.plugin] false: Flex runs without the plugin (it failed to load)
   */
  constructor(name, { context, pageUrl, bundleUrl, flexOptions, log, plugin = true }) {
    Object.assign(this, { name, context, pageUrl, bundleUrl: plugin ? bundleUrl : null, flexOptions, log, plugin });
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
      await this._eval('setup', (json) => window.__harness.setup(JSON.parse(json)), JSON.stringify({ flexOptions: this.flexOptions, bundleUrl: this.bundleUrl }));
    } catch (err) {
      throw new Error(`instance ${this.name}: ${err.message.split('\n')[0]}`);
    }
  }

  async call(method, ...args) {
    // Arguments cross as JSON text, as in the Node instance: Playwright's own
    // argument serialisation never settles for values nested about 100 levels
    // deep (seen with playwright-core 1.65), and task attributes may be deeper.
    await this._eval(method, ([m, json]) => window.__harness.call(m, JSON.parse(json)), [method, JSON.stringify(args)]);
  }

  async invokeAction(name, payload) {
    return JSON.parse(await this._eval('invokeAction', ([n, json]) => window.__harness.invokeAction(n, json), [name, JSON.stringify(payload)]));
  }

  /** The AcceptTask action in this tab (flex-sim invokeAcceptTask): `{conferenceRecord}`. */
  invokeAcceptTask(spec) {
    return this._eval('invokeAcceptTask', (json) => window.__harness.invokeAcceptTask(JSON.parse(json)), JSON.stringify(spec));
  }

  hasTask(taskSid) {
    return this._eval('hasTask', (t) => window.__harness.hasTask(t), taskSid);
  }

  notificationsShown() {
    return this._eval('notificationsShown', () => window.__harness.notificationsShown());
  }

  idle() {
    return this._eval('idle', () => window.__harness.idle());
  }

  status(taskSid) {
    if (!this.plugin) return Promise.resolve(null);
    return this._eval('status', (t) => window.__harness.status(t), taskSid);
  }

  /** page.evaluate with a deadline: a page that never answers fails the scenario instead of stalling the run. */
  _eval(what, fn, arg) {
    let timer;
    return Promise.race([
      this.page.evaluate(fn, arg),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`instance ${this.name}: ${what} did not return within ${EVAL_TIMEOUT_MS} ms`)), EVAL_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async dispose() {
    if (this.page) await this.page.close().catch(() => {});
  }
}
