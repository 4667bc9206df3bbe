//! The `#[wasm_bindgen]` shell: it only translates. Events, the configuration
//! and the core's answers cross as JS objects (`wasm::object` reads events,
//! serde-wasm-bindgen writes answers, `wasm::answer` reads the configuration; the backend's answers
//! are parsed here, `JSON.parse` then `wasm::answer`, before the core sees
//! them), a task's attributes are read where they are
//! (`wasm::lookup`), and the commands that come out of the pure core are
//! carried out here (fetch, timers) or handed to the shim's host callbacks.
//!
//! Re-entrancy: the core is borrowed only while `handle` runs, never while a
//! command executes, so a host callback that calls back in cannot find it
//! borrowed. Host callbacks are imported with `catch`: a throwing callback is
//! logged, never unwound through wasm frames.

use crate::api::ControlAction;
use crate::backend_client::{Answer, Outcome};
use crate::conference::AcceptAnswer;
use crate::pause::{control_outcome, nothing_recorded, NoTarget};
use crate::session::{Command, Core, Event, FlexEvent, Level, Outgoing};
use crate::snapshot::TaskSnapshot;
use crate::status::Status;
use crate::vec_map::VecMap;
use crate::wasm::configuration::{read_custom_data, read_worker};
use crate::wasm::lookup::JsLookup;
use crate::wasm::object::JsObject;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The answer to `beforeAccept` when the core cannot decide: leave it.
fn untouched(why: &str) -> JsValue {
    to_js(&AcceptAnswer {
        conference_record: None,
        reason: format!("the task could not be read ({why})"),
    })
}

/// A core answer as a plain JS object; `None` fields as `null`.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .unwrap_or(JsValue::NULL)
}

/// A task snapshot of the shim, its attributes read in place.
fn read_task(task: &JsValue) -> Result<TaskSnapshot, String> {
    if !task.is_object() {
        return Err("not an object".into());
    }
    Ok(TaskSnapshot {
        attributes: JsLookup::member(task, "attributes"),
        ..TaskSnapshot::read(&JsObject(task.clone()))
    })
}

/// One event of the shim (see `event::FlexEvent`).
fn read_event(event: &JsValue) -> Result<FlexEvent, String> {
    FlexEvent::read(&JsObject(event.clone()), |task| {
        JsLookup::member(&task.0, "attributes")
    })
}

/// Backend requests that take longer are abandoned and retried.
const REQUEST_TIMEOUT_MS: u32 = 15_000;
/// How long a pause waits for a recording that is being started, and how
/// often it looks again.
const CONTROL_WAIT_MS: u32 = 30_000;
const CONTROL_POLL_MS: u32 = 100;

#[wasm_bindgen]
extern "C" {
    /// What the JS shim provides: the `host` object built in
    /// plugin-shim/src/feature/index.js.
    pub type Host;
    #[wasm_bindgen(method, catch)]
    fn log(this: &Host, level: &str, message: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn notify(this: &Host, id: &str, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = notifyAdmins)]
    fn notify_admins(this: &Host, id: &str, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn follow(this: &Host, task_sids: Vec<String>) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn token(this: &Host) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_request(request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = recordingStarted)]
    fn recording_started(
        this: &Host,
        task_sid: &str,
        call_sid: &str,
        recording_sid: &str,
        already_recording: bool,
    ) -> Result<(), JsValue>;
}

/// A one-shot timer that is cleared when dropped; gloo-timers stays behind it.
struct Timer(#[allow(dead_code)] gloo_timers::callback::Timeout);

impl Timer {
    fn start(ms: u64, f: impl FnOnce() + 'static) -> Timer {
        Timer(gloo_timers::callback::Timeout::new(
            ms.min(i32::MAX as u64) as u32,
            f,
        ))
    }
}

/// POSTs a form to the backend; every failure becomes an `Answer`, never an
/// error. gloo-net builds the request; the call to `fetch` is ours, because
/// gloo-net treats a rejection that is not an `Error` as a bug and panics
/// (and code that wraps `window.fetch` can reject with anything).
///
/// The deadline is an `AbortController` aborted by our own timer, not
/// `AbortSignal.timeout()`: that arrived in Chrome 103, Firefox 100 and
/// Safari 16, later than the browsers the plugin declares
/// (`plugin-shim/package.json` browserslist), where calling it would throw
/// and a missing deadline would leave a request pending forever.
/// `AbortController` and `setTimeout` exist in all of them.
async fn post_form(url: &str, form: String) -> Answer {
    let controller = match web_sys::AbortController::new() {
        Ok(c) => c,
        Err(e) => return Answer::Network(describe(&e)),
    };
    let signal = controller.signal();
    // Dropping the timer (when this function returns) clears it.
    let _deadline = Timer::start(u64::from(REQUEST_TIMEOUT_MS), move || controller.abort());
    let request = gloo_net::http::Request::post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .abort_signal(Some(&signal))
        .body(form);
    let request: web_sys::Request = match request {
        Ok(r) => r.into(),
        Err(e) => return Answer::Network(e.to_string()),
    };
    let promise = match fetch_request(&request) {
        Ok(p) => p,
        Err(e) => return Answer::Network(describe(&e)),
    };
    let response = match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(r) => r,
        Err(e) => return Answer::Network(describe(&e)),
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return Answer::Network("fetch answered something that is not a Response".into());
    };
    let status = response.status();
    let body = match response.text() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string()),
        Err(_) => None,
    };
    Answer::Http {
        status,
        body: body.as_deref().and_then(crate::wasm::answer::parse),
    }
}

/// A rejection's message, whatever was thrown.
pub(crate) fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "fetch failed".into())
}

struct Inner {
    core: RefCell<Core>,
    host: Host,
    timers: RefCell<VecMap<u64, Timer>>,
}

impl Inner {
    fn dispatch(self: &Rc<Self>, event: Event) {
        let commands = match self.core.try_borrow_mut() {
            Ok(mut core) => core.handle(event),
            Err(_) => return,
        };
        self.execute(commands);
    }

    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        let _ = self.host.log(level, message);
    }

    fn execute(self: &Rc<Self>, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Log { level, message } => self.log(level, &message),
                Command::Notify { id, text } => {
                    if self.host.notify(id, text).is_err() {
                        self.log(Level::Error, "the Flex notification could not be shown");
                    }
                }
                Command::NotifyAdmins { id, text } => {
                    if self.host.notify_admins(id, text).is_err() {
                        self.log(Level::Warn, "the administrators' notice could not be shown");
                    }
                }
                Command::Follow { task_sids } => {
                    let _ = self.host.follow(task_sids);
                }
                Command::RecordingStarted {
                    task_sid,
                    call_sid,
                    recording_sid,
                    already_recording,
                } => {
                    let _ = self.host.recording_started(
                        &task_sid,
                        &call_sid,
                        &recording_sid,
                        already_recording,
                    );
                }
                Command::SetTimer { id, ms } => {
                    let me = Rc::downgrade(self);
                    let timer = Timer::start(ms, move || {
                        if let Some(me) = me.upgrade() {
                            // Keep the fired timer alive until its callback returns.
                            let _fired = me.timers.borrow_mut().remove(&id);
                            me.dispatch(Event::Timer { id });
                        }
                    });
                    self.timers.borrow_mut().insert(id, timer);
                }
                Command::CancelTimer { id } => {
                    let cancelled = self.timers.borrow_mut().remove(&id);
                    drop(cancelled);
                }
                Command::Send { request, url, body } => {
                    let token = self
                        .host
                        .token()
                        .ok()
                        .and_then(|t| t.as_string())
                        .unwrap_or_default();
                    let form = match body {
                        Outgoing::Create(mut r) => {
                            r.token = token;
                            r.to_form()
                        }
                        Outgoing::Link(mut r) => {
                            r.token = token;
                            r.to_form()
                        }
                        Outgoing::Control { mut body, .. } => {
                            body.token = token;
                            body.to_form()
                        }
                        Outgoing::Authorize(mut r) => {
                            r.token = token;
                            r.to_form()
                        }
                    };
                    let me = Rc::downgrade(self);
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer = post_form(&url, form).await;
                        if let Some(me) = me.upgrade() {
                            me.dispatch(Event::Answer { request, answer });
                        }
                    });
                }
            }
        }
    }
}

/// The plugin core as the JS shim sees it.
#[wasm_bindgen]
pub struct Engine {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Engine {
    /// `custom_data` is Flex's configuration `custom_data` (the object); `seed`
    /// seeds the retry jitter; `worker` is `{attributes, roles}` (Flex's
    /// `manager.workerClient.attributes` and `manager.user.roles`), optional.
    #[wasm_bindgen(constructor)]
    pub fn new(
        custom_data: JsValue,
        worker_sid: &str,
        locale: &str,
        seed: f64,
        host: Host,
        worker: JsValue,
    ) -> Engine {
        let seed = if seed.is_finite() {
            (seed.abs() * 9_007_199_254_740_991.0) as u64
        } else {
            1
        };
        let custom_data = read_custom_data(&custom_data);
        let (attributes, roles, unreadable) = read_worker(&worker);
        let (core, mut commands) = Core::for_worker(
            custom_data.as_ref().map_err(String::clone),
            crate::session::Worker {
                attributes: attributes.as_ref(),
                roles: &roles,
            },
            worker_sid,
            locale,
            seed,
        );
        if let Some(e) = unreadable {
            commands.insert(
                0,
                Command::Log {
                    level: Level::Warn,
                    message: format!(
                        "this worker's config_overrides could not be read ({e}); custom_data applies as is"
                    ),
                },
            );
        }
        let inner = Rc::new(Inner {
            core: RefCell::new(core),
            host,
            timers: RefCell::new(VecMap::new()),
        });
        inner.execute(commands);
        Engine { inner }
    }

    /// Whether the feature is on and correctly configured; when it is not, the
    /// shim need not forward anything.
    pub fn enabled(&self) -> bool {
        self.inner.core.try_borrow().is_ok_and(|c| c.is_enabled())
    }

    /// One Flex event, a plain object (see `event::FlexEvent`). Returns false
    /// when it could not be read; the reason is logged.
    pub fn handle(&self, event: JsValue) -> bool {
        match read_event(&event) {
            Ok(event) => {
                self.inner.dispatch(Event::Flex(event));
                true
            }
            Err(e) => {
                self.inner.log(
                    Level::Error,
                    &format!("ignored an unreadable event from the shim ({e})"),
                );
                false
            }
        }
    }

    /// `beforeAcceptTask` (method `conference`): the task as the shim's
    /// `taskAccepted` snapshot, answered at once with
    /// `{conferenceRecord: true|false|null, reason}` (see
    /// `conference::Decision`). `null`: leave `conferenceOptions` untouched.
    #[wasm_bindgen(js_name = beforeAccept)]
    pub fn before_accept(&self, task: JsValue) -> JsValue {
        let task = match read_task(&task) {
            Ok(t) => t,
            Err(e) => {
                self.inner.log(
                    Level::Error,
                    &format!("ignored an unreadable task from beforeAcceptTask ({e})"),
                );
                return untouched(&e);
            }
        };
        let answer = match self.inner.core.try_borrow_mut() {
            Ok(mut core) => core.before_accept(&task),
            Err(_) => return untouched("the recording core is busy"),
        };
        let (decision, commands) = answer;
        self.inner.execute(commands);
        to_js(&decision.answer())
    }

    /// No backend request, retry or deferred start pending.
    pub fn idle(&self) -> bool {
        self.inner
            .core
            .try_borrow()
            .map(|c| c.idle())
            .unwrap_or(false)
    }

    /// `{state, recordings, reason?}` of a task (see `status::Status`).
    pub fn status(&self, task_sid: &str) -> JsValue {
        let status = self
            .inner
            .core
            .try_borrow()
            .map(|c| c.status(task_sid))
            .unwrap_or_else(|_| Status::unknown());
        to_js(&status)
    }

    /// Milliseconds the shim may hold CompleteTask of `task_sid` (its
    /// `beforeCompleteTask` promise) while a request of the task is in
    /// flight; 0: do not hold.
    #[wasm_bindgen(js_name = completeHoldMs)]
    pub fn complete_hold_ms(&self, task_sid: &str) -> u32 {
        self.inner
            .core
            .try_borrow()
            .map(|c| u32::try_from(c.complete_hold_ms(task_sid)).unwrap_or(u32::MAX))
            .unwrap_or(0)
    }

    /// A backend request of the task has not been answered yet.
    #[wasm_bindgen(js_name = requestPending)]
    pub fn request_pending(&self, task_sid: &str) -> bool {
        self.inner
            .core
            .try_borrow()
            .is_ok_and(|c| c.request_pending(task_sid))
    }

    /// The tasks whose conference the shim forwards.
    pub fn followed(&self) -> Vec<String> {
        self.inner
            .core
            .try_borrow()
            .map(|c| c.followed().to_vec())
            .unwrap_or_default()
    }

    /// Pauses, resumes, toggles or reads (`action`: `pause`, `resume`,
    /// `toggle`, `state`) the recordings of a task. Resolves with
    /// `{state, recordings, paused, resumed}` once Twilio has the new state;
    /// rejects with an `Error` whose message says why (nothing recording,
    /// not this worker's task, Twilio's refusal). A toggle reads the state
    /// first and the core says which it is (`ControlState::toggled`).
    pub fn control(&self, task_sid: &str, action: &str) -> js_sys::Promise {
        let (first, toggle) = match action {
            "pause" => (ControlAction::Pause, false),
            "resume" => (ControlAction::Resume, false),
            "state" => (ControlAction::State, false),
            "toggle" => (ControlAction::State, true),
            other => {
                return js_sys::Promise::reject(&js_sys::Error::new(&format!(
                    "unknown recording action \"{other}\""
                )))
            }
        };
        let me = Rc::downgrade(&self.inner);
        let task_sid = task_sid.to_string();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut state = control_round(&me, &task_sid, first).await?;
            if toggle {
                state = control_round(&me, &task_sid, state.toggled()).await?;
            }
            Ok(to_js(&state.answer()))
        })
    }

    /// What the Pause/Resume button and indicators need (see
    /// `PauseConfig::ui`), texts in `locale`; `null` when
    /// `features.pause_recording` is invalid.
    #[wasm_bindgen(js_name = pauseUi)]
    pub fn pause_ui(&self, locale: &str) -> JsValue {
        self.inner
            .core
            .try_borrow()
            .ok()
            .and_then(|c| c.pause_config().map(|p| to_js(&p.ui(locale))))
            .unwrap_or(JsValue::NULL)
    }

    /// Ends all timers; the engine does nothing afterwards.
    pub fn dispose(&self) {
        self.inner.timers.borrow_mut().clear();
    }
}

/// One control request of a task: built by the core (waiting a little for
/// a recording being started), sent, and its answer told to the core.
async fn control_round(
    me: &std::rc::Weak<Inner>,
    task_sid: &str,
    action: ControlAction,
) -> Result<crate::pause::ControlState, JsValue> {
    let mut waited = 0;
    let request = loop {
        let Some(inner) = me.upgrade() else {
            return Err(js_sys::Error::new("the plugin was stopped").into());
        };
        let (pending, request) = match inner.core.try_borrow() {
            Ok(core) => (
                core.control_pending(task_sid),
                core.control_request(task_sid, action),
            ),
            Err(_) => (true, Err("the recording core is busy; try again".into())),
        };
        if !pending || waited >= CONTROL_WAIT_MS {
            break request.map(|r| (r, inner.host.token()));
        }
        drop(inner);
        gloo_timers::future::TimeoutFuture::new(CONTROL_POLL_MS).await;
        waited += CONTROL_POLL_MS;
    };
    let ((url, mut body), token) = match request {
        Ok(r) => r,
        Err(reason) => {
            let nothing = reason == NoTarget::NothingRecording.reason(task_sid);
            return Err(control_error(&reason, nothing));
        }
    };
    body.token = token.ok().and_then(|t| t.as_string()).unwrap_or_default();
    let answer = post_form(&url, body.to_form()).await;
    match control_outcome(&answer) {
        Outcome::Done(state) => {
            if let Some(me) = me.upgrade() {
                if let Ok(mut core) = me.core.try_borrow_mut() {
                    core.remember_control(task_sid, action, &state);
                }
                let (task_sid, paused) = (task_sid.to_string(), state.paused());
                me.dispatch(Event::Flex(match action {
                    ControlAction::State => FlexEvent::StateRead { task_sid, paused },
                    // A resume done ends this instance's pause even when a
                    // recording it did not pause stays paused.
                    ControlAction::Resume => FlexEvent::PauseState {
                        task_sid,
                        paused: false,
                    },
                    ControlAction::Pause => FlexEvent::PauseState { task_sid, paused },
                }));
            }
            Ok(state)
        }
        Outcome::Retry(why) | Outcome::Fail(why) | Outcome::Refused(why) => {
            // The recording ended meanwhile (another tab's hang-up): the
            // action says so; not a warning.
            let nothing = nothing_recorded(&answer);
            let level = if nothing { Level::Debug } else { Level::Warn };
            if let Some(me) = me.upgrade() {
                me.log(
                    level,
                    &format!(
                        "could not {} the recording of {task_sid}: {why}",
                        action.as_str()
                    ),
                );
            }
            Err(control_error(&why, nothing))
        }
    }
}

// dlmalloc, Rust's default on wasm32, is several kilobytes of the download;
// the core allocates little and runs on one thread, which this small
// free-list allocator is made for.
#[global_allocator]
// SAFETY: wasm32 without threads: there is only ever one thread.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The `name` of the Error an action rejects with when nothing is being
/// recorded (any more) where it would act, as after a hang-up seen first in
/// another tab: expected, so the shim logs it at debug.
const NOTHING_RECORDED_ERROR: &str = "NothingRecordedError";

fn control_error(message: &str, nothing_recorded: bool) -> JsValue {
    let error = js_sys::Error::new(message);
    if nothing_recorded {
        error.set_name(NOTHING_RECORDED_ERROR);
    }
    error.into()
}
