// Flex's own Actions framework, from the published @twilio/flex-ui module
// (plugin-shim's devDependency), for the harness: the simulated Flex
// (flex-sim.js, option `actions`) can run hang-up and completion through it
// instead of its own emitter, so that the plugin's `before*` listeners are
// called with Flex's semantics (payload update functions, awaited
// before-listeners, error handling) rather than ours.
//
// How far it runs offline (@twilio/flex-ui 2.17.1, Node 20, jsdom), found
// for issue 9:
// - the module loads under jsdom once window, document, navigator,
//   localStorage, Audio, matchMedia, requestAnimationFrame and self exist;
//   at load it fetches https://assets.flex.twilio.com/assets/countries.json
//   and flagPositions.json: once loaded, this process's fetch refuses every
//   address but loopback (tests talk to loopback only);
// - registerAction / addListener / replaceAction / invokeAction run fully;
// - the built-in actions (AcceptTask, HangupCall, CompleteTask...) invoked
//   with `{ task }` run their payload update function (adding `sid`, and
//   `conferenceOptions` for AcceptTask) and their before/after listeners;
//   invoked with `{ sid }` only, the update function looks the task up in
//   Flex's store and fails ("FlexModule not initialized");
// - their own bodies: AcceptTask and HangupCall reject with "FlexModule not
//   initialized"; CompleteTask's calls `task.complete()` (TaskRouter), which
//   fails on a plain object, and Flex swallows that error. With Flex's store
//   (`new Manager(config, store)` over `FlexReducer` initialises FlexModule,
//   given a global `Handlebars`) they need Twilio's SDK objects: HangupCall
//   rejects with "no active call" (a Voice SDK call), AcceptTask with
//   "reservation for task not found" (TaskRouter). `Manager.create` stops at
//   `window.performance.mark` here (and would then fetch the Flex
//   configuration from Twilio). So the harness replaces the bodies with
//   `replaceAction`, as Flex documents for plugins, and the replacement
//   plays what the simulator plays.
import { createRequire } from 'node:module';
import path from 'node:path';
import { JSDOM } from 'jsdom';
import { REPO_ROOT } from './processes.mjs';

const requireFromShim = createRequire(path.join(REPO_ROOT, 'plugin-shim', 'package.json'));

let flexUi = null;
/** Requests Flex tried to make while loading (refused: tests talk to loopback only). */
const refused = [];

const isLoopback = (url) => {
  try {
    const { hostname } = new URL(String(url instanceof Request ? url.url : url));
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch {
    return false;
  }
};

/**
 * The browser globals Flex reads while loading and while running actions,
 * from one jsdom window. jsdom has no matchMedia: a query that never matches
 * stands for it.
 */
function installBrowserGlobals() {
  const dom = new JSDOM('<!doctype html><html><body><div id="container"></div></body></html>', {
    url: 'http://127.0.0.1/flex',
    pretendToBeVisual: true,
  });
  const { window } = dom;
  // jsdom plays no media. Flex plays a silent sound at load to unlock audio;
  // a browser refuses that before the user interacted with the page.
  window.HTMLMediaElement.prototype.play = () => Promise.reject(new window.DOMException('play() needs a user gesture', 'NotAllowedError'));
  window.HTMLMediaElement.prototype.pause = () => {};
  window.matchMedia = (query) => ({
    matches: false, media: String(query), onchange: null,
    addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false,
  });
  const set = (name, value) => Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  set('window', window);
  set('self', window);
  set('document', window.document);
  set('navigator', window.navigator);
  for (const name of ['localStorage', 'sessionStorage', 'Audio', 'matchMedia', 'requestAnimationFrame', 'cancelAnimationFrame',
    'HTMLElement', 'Element', 'Node', 'getComputedStyle']) {
    if (globalThis[name] === undefined) set(name, window[name]);
  }
}

/**
 * Load @twilio/flex-ui once per process (about 40 MB of heap and 1.5 s: it
 * is not loaded again per Flex instance; createFlexActions gives each its own
 * Actions).
 * @returns {any} the module (`Actions`, `VERSION`...)
 */
export function loadFlexUi() {
  if (flexUi) return flexUi;
  installBrowserGlobals();
  const realFetch = globalThis.fetch;
  const { MessageChannel } = globalThis;
  // React's scheduler (loaded with Flex) keeps a MessageChannel port open for
  // good, which keeps a Node process alive; without MessageChannel it takes
  // its documented fallback for environments without one (setTimeout).
  globalThis.MessageChannel = undefined;
  globalThis.fetch = (input, init) => {
    if (isLoopback(input)) return realFetch(input, init);
    refused.push(String(input instanceof Request ? input.url : input));
    return Promise.reject(new TypeError('Failed to fetch (tests talk to loopback only)'));
  };
  try {
    flexUi = requireFromShim('@twilio/flex-ui');
  } finally {
    globalThis.MessageChannel = MessageChannel;
  }
  return flexUi;
}

/** Non-loopback URLs Flex tried to fetch (refused). */
export function refusedRequests() {
  return refused.slice();
}

/**
 * A fresh Actions of Flex's own class (one per simulated Flex tab: listeners
 * of one tab do not hear another's actions), holding Flex's own built-in
 * actions with their payload update functions. The registry is read from
 * the module's `Actions` (its `actions` and `payloadUpdateFunctions` maps are
 * private in Flex's types) and registered again with the public registerAction.
 */
export function createFlexActions() {
  const { Actions } = loadFlexUi();
  const ActionsImpl = Object.getPrototypeOf(Actions).constructor;
  const actions = new ActionsImpl();
  for (const [name, body] of Actions.actions) actions.registerAction(name, body, Actions.payloadUpdateFunctions.get(name));
  return actions;
}
