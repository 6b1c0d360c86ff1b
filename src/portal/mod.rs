//! Everything the widget knows from the portal, as one context the UI consumes.
//!
//! `loader.js` (a plain script in `<head>`) buffers `message` events from before the wasm
//! started; [`PortalContext::provide`] takes them over with `window.b24payTakeMessages` and
//! receives every later one through the same handler. Without the loader (a page that mounts
//! the widget itself) it listens directly.
//!
//! Only messages from the configured allowed origins are acted on; the rest are counted
//! ([`PortalContext::ignored_messages`], also the root's `data-ignored-messages` attribute).
//! When nothing usable has arrived after [`WidgetConfig::wait_for_portal`], the widget says so
//! (`waiting.rs`; the console's diagnosis is `loader.js`'s).
//!
//! Opened on its own (not in a frame) with a sample message configured, the page is the
//! standalone preview: the sample is taken as the portal's message.

pub mod message;
mod waiting;

use crate::config::{Origin, WidgetConfig};
use crate::i18n::{catalogue, Key, Locale};
use crate::theme::Theme;
use b24pay_protocol::fields as field;
use leptos::prelude::*;
use message::{Fields, ParamError, PaymentParams, PortalMessage};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Why no payment can be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortalError {
    /// No message from an allowed origin arrived in time.
    NoMessage,
    /// The message came, but its payment parameters are unusable.
    Params(ParamError),
}

impl PortalError {
    /// Stable machine-readable code (shown to the customer for the store's support).
    pub fn code(self) -> &'static str {
        match self {
            PortalError::NoMessage => "no_portal_message",
            PortalError::Params(e) => e.code(),
        }
    }

    /// The catalogue keys of the customer-facing title and explanation.
    pub fn keys(self) -> (Key, Key) {
        let text = match self {
            PortalError::NoMessage => return (Key::WaitingTitle, Key::ErrorNoMessage),
            PortalError::Params(ParamError::MissingSum | ParamError::InvalidSum(_)) => {
                Key::ErrorInvalidAmount
            }
            PortalError::Params(ParamError::MissingCurrency | ParamError::UnknownCurrency) => {
                Key::ErrorInvalidCurrency
            }
            PortalError::Params(_) => Key::ErrorInvalidPayment,
        };
        (Key::ErrorTitle, text)
    }
}

/// Where the payment stands as far as the portal is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalState {
    /// Waiting for the portal's message.
    Waiting,
    Ready(PaymentParams),
    Failed(PortalError),
}

/// The portal's state for the UI (`PortalContext::provide` returns it and puts it in the
/// context; `use_context::<PortalContext>()`). Private signals with
/// read-only accessors: only the messages (and the language loading they start) change them,
/// and each only when its value really changes, so a re-posted identical message re-renders
/// nothing.
#[derive(Clone, Copy)]
pub struct PortalContext {
    state: RwSignal<PortalState>,
    fields: RwSignal<Fields>,
    theme: RwSignal<Theme>,
    origin: RwSignal<Option<Origin>>,
    locale: RwSignal<Locale>,
    locale_ready: RwSignal<bool>,
    ignored: RwSignal<u32>,
    /// The latest language asked for: a catalogue that arrives after another was asked for is
    /// not switched to.
    wanted: StoredValue<Locale>,
    config: StoredValue<WidgetConfig>,
    /// The page is the standalone preview (not framed, showing the configured sample).
    preview: bool,
}

/// Sets a signal only when the value differs, so subscribers do not re-run for nothing.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|current| *current != value) {
        signal.set(value);
    }
}

impl PortalContext {
    /// Creates the context, provides it to the component tree, and starts listening to the
    /// portal. Listening stops when the owning component is unmounted.
    pub fn provide(config: WidgetConfig) -> PortalContext {
        let sample = config.preview.clone().filter(|_| !is_framed());
        let ctx = PortalContext {
            state: RwSignal::new(PortalState::Waiting),
            fields: RwSignal::new(Fields::default()),
            theme: RwSignal::new(Theme::default()),
            origin: RwSignal::new(None),
            locale: RwSignal::new(Locale::En),
            locale_ready: RwSignal::new(true),
            ignored: RwSignal::new(0),
            wanted: StoredValue::new(Locale::En),
            preview: sample.is_some(),
            config: StoredValue::new(config),
        };
        ctx.want_locale(Locale::from_browser(None));
        provide_context(ctx);
        if let Some(message) = sample.and_then(|s| js_sys::JSON::parse(&s).ok()) {
            if let Some(message) = PortalMessage::parse(&message) {
                ctx.apply(message);
            }
        }
        listen(move |event| ctx.receive(&event));
        waiting::report_after(ctx, ctx.config.with_value(|c| c.wait_for_portal));
        ctx
    }

    fn receive(self, event: &web_sys::MessageEvent) {
        // Our own size messages come back when the widget is not framed (tests, or a page
        // opened directly): parent === window. They are not the portal's and not counted.
        let own_window = web_sys::window().map(JsValue::from);
        if let (Some(source), Some(own)) = (event.source(), own_window) {
            if JsValue::from(source) == own {
                return;
            }
        }
        let event_origin = event.origin();
        let allowed = self.config.with_value(|c| c.is_allowed(&event_origin));
        let parsed = if allowed {
            PortalMessage::parse(&event.data())
        } else {
            None
        };
        let Some(message) = parsed else {
            self.ignored.update(|n| *n = n.saturating_add(1));
            return;
        };
        // The event's origin is one of the configured ones, so it parses.
        set_if_changed(self.origin, Origin::parse(&event_origin).ok());
        self.apply(message);
    }

    /// Takes a portal message: language, theme, FIELDS, then the payment.
    fn apply(self, message: PortalMessage) {
        let forced = message.fields.non_empty(field::LANG);
        self.want_locale(Locale::from_browser(forced));
        set_if_changed(self.theme, message.theme);
        set_if_changed(self.fields, message.fields);
        let state = match message.params {
            Ok(params) => PortalState::Ready(params),
            Err(e) => PortalState::Failed(PortalError::Params(e)),
        };
        set_if_changed(self.state, state);
    }

    /// Switches to `wanted` now if its texts are here, else once its catalogue has loaded;
    /// if it cannot be loaded, the language stays what it was (English at first).
    fn want_locale(self, wanted: Locale) {
        self.wanted.set_value(wanted);
        if catalogue::is_loaded(wanted) {
            set_if_changed(self.locale, wanted);
            set_if_changed(self.locale_ready, true);
            return;
        }
        set_if_changed(self.locale_ready, false);
        leptos::task::spawn_local(async move {
            let loaded = catalogue::load(wanted).await.is_ok();
            // The owner may be gone (unmounted), and a later wish wins over this one.
            if self.wanted.try_get_value() != Some(wanted) {
                return;
            }
            if loaded {
                set_if_changed(self.locale, wanted);
            }
            set_if_changed(self.locale_ready, true);
        });
    }

    /// Where the payment stands (tracked).
    pub fn state(&self) -> PortalState {
        self.state.get()
    }

    /// Reads the handler's FIELDS from the accepted message (tracked).
    pub fn with_fields<R>(&self, f: impl FnOnce(&Fields) -> R) -> R {
        self.fields.with(f)
    }

    /// Reads the theme derived from `BX_COMPUTED_STYLE`, default when absent (tracked).
    pub fn with_theme<R>(&self, f: impl FnOnce(&Theme) -> R) -> R {
        self.theme.with(f)
    }

    /// The origin of the accepted message, untracked; `None` once the widget is gone (a frame
    /// requested before unmounting can still run). Size messages go only there once known.
    pub fn origin_untracked(&self) -> Option<Option<Origin>> {
        self.origin.try_get_untracked()
    }

    /// The FIELD `lang` if it names a language we have, else the browser's, else English;
    /// changes only once that language's catalogue is loaded (or given up on). Tracked.
    pub fn locale(&self) -> Locale {
        self.locale.get()
    }

    /// False while the catalogue of the wanted language is on its way: the UI keeps its
    /// skeleton rather than show English and switch under the customer's fingers. Tracked.
    pub fn locale_ready(&self) -> bool {
        self.locale_ready.get()
    }

    /// Messages not acted on: from origins not allowed, or not the portal's message. Tracked.
    pub fn ignored_messages(&self) -> u32 {
        self.ignored.get()
    }

    pub fn config(&self) -> StoredValue<WidgetConfig> {
        self.config
    }

    /// The page is the standalone preview.
    pub fn is_preview(&self) -> bool {
        self.preview
    }

    /// The text for `key` in the current language (reactive).
    pub fn text(&self, key: Key) -> &'static str {
        self.locale().text(key)
    }
}

/// Whether the page is in a frame (the portal's iframe), not opened on its own.
pub fn is_framed() -> bool {
    web_sys::window().is_some_and(|w| {
        let own = JsValue::from(&w);
        w.top().ok().flatten().map(JsValue::from) != Some(own)
    })
}

/// Delivers every `message` event to `handler`: first those `loader.js` buffered, then the
/// rest as they come. Stops on cleanup of the current owner.
fn listen(handler: impl Fn(web_sys::MessageEvent) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(take) = take_messages(&window) else {
        let handle = window_event_listener_untyped("message", move |event| {
            handler(event.unchecked_into());
        });
        on_cleanup(move || handle.remove());
        return;
    };
    let closure = Closure::<dyn Fn(web_sys::MessageEvent)>::new(handler);
    let _ = take.call1(&window, closure.as_ref());
    on_cleanup(|| {
        // Back to buffering; the closure is dropped with the owner right after.
        if let Some(window) = web_sys::window() {
            if let Some(take) = take_messages(&window) {
                let _ = take.call1(&window, &JsValue::NULL);
            }
        }
    });
    // Kept alive (callable from JS) exactly as long as the owner.
    StoredValue::new_local(closure);
}

/// `loader.js`'s `b24payTakeMessages`, when the page has the loader.
fn take_messages(window: &web_sys::Window) -> Option<js_sys::Function> {
    js_sys::Reflect::get(window, &JsValue::from_str("b24payTakeMessages"))
        .ok()?
        .dyn_into()
        .ok()
}
