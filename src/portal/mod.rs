//! Everything the widget knows from the portal, as one context the UI consumes.
//!
//! `loader.js` (a plain script in `<head>`) buffers `message` events from before the wasm
//! started; [`PortalContext::provide`] takes them over with `window.b24payTakeMessages` and
//! receives every later one through the same handler. Without the loader (a page that mounts
//! the widget itself) it listens directly.
//!
//! Only messages from the configured allowed origins are acted on; the rest are counted in
//! [`PortalContext::ignored_messages`] (also the root's `data-ignored-messages` attribute).

pub mod message;

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

    /// The catalogue key of the customer-facing explanation.
    pub fn message_key(self) -> Key {
        match self {
            PortalError::NoMessage => Key::ErrorNoMessage,
            PortalError::Params(ParamError::MissingSum | ParamError::InvalidSum(_)) => {
                Key::ErrorInvalidAmount
            }
            PortalError::Params(ParamError::MissingCurrency | ParamError::UnknownCurrency) => {
                Key::ErrorInvalidCurrency
            }
            PortalError::Params(_) => Key::ErrorInvalidPayment,
        }
    }
}

/// Where the payment stands as far as the portal is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payment {
    /// Waiting for the portal's message.
    Waiting,
    Ready(PaymentParams),
    Failed(PortalError),
}

/// The portal's state for the UI: `expect_context::<PortalContext>()`. Every signal changes
/// only when its value really changes, so a re-posted identical message re-renders nothing.
#[derive(Clone, Copy)]
pub struct PortalContext {
    pub payment: ReadSignal<Payment>,
    /// The handler's FIELDS from the accepted message.
    pub fields: ReadSignal<Fields>,
    /// Theme derived from `BX_COMPUTED_STYLE` (default when absent).
    pub theme: ReadSignal<Theme>,
    /// The origin of the accepted message; resize messages go only there once known.
    pub origin: ReadSignal<Option<Origin>>,
    /// The FIELD `lang` if it names a language we have, else the browser's, else English;
    /// changes only once that language's catalogue is loaded (or given up on).
    pub locale: ReadSignal<Locale>,
    /// False while the catalogue of the wanted language is on its way: the UI keeps its
    /// skeleton rather than show English and switch under the customer's fingers.
    pub locale_ready: ReadSignal<bool>,
    /// Messages not acted on: from origins not allowed, or not the portal's message.
    pub ignored_messages: ReadSignal<u32>,
    pub config: StoredValue<WidgetConfig>,
}

#[derive(Clone, Copy)]
struct Writers {
    payment: WriteSignal<Payment>,
    fields: WriteSignal<Fields>,
    theme: WriteSignal<Theme>,
    origin: WriteSignal<Option<Origin>>,
    locale: WriteSignal<Locale>,
    locale_ready: WriteSignal<bool>,
    /// The latest language asked for: a catalogue that arrives after another was asked for is
    /// not switched to.
    wanted: StoredValue<Locale>,
    ignored: WriteSignal<u32>,
}

/// Sets a signal only when the value differs, so subscribers do not re-run for nothing.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(
    read: ReadSignal<T>,
    write: WriteSignal<T>,
    value: T,
) {
    if read.with_untracked(|current| *current != value) {
        write.set(value);
    }
}

impl PortalContext {
    /// Creates the context, provides it to the component tree, and starts listening to the
    /// portal. Listening stops when the owning component is unmounted.
    pub fn provide(config: WidgetConfig) -> PortalContext {
        let wait = config.wait_for_portal;
        let (payment, set_payment) = signal(Payment::Waiting);
        let (fields, set_fields) = signal(Fields::default());
        let (theme, set_theme) = signal(Theme::default());
        let (origin, set_origin) = signal(None::<Origin>);
        let (locale, set_locale) = signal(Locale::En);
        let (locale_ready, set_locale_ready) = signal(true);
        let (ignored_messages, set_ignored) = signal(0u32);
        let ctx = PortalContext {
            payment,
            fields,
            theme,
            origin,
            locale,
            locale_ready,
            ignored_messages,
            config: StoredValue::new(config),
        };
        let writers = Writers {
            payment: set_payment,
            fields: set_fields,
            theme: set_theme,
            origin: set_origin,
            locale: set_locale,
            locale_ready: set_locale_ready,
            wanted: StoredValue::new(Locale::En),
            ignored: set_ignored,
        };
        ctx.want_locale(writers, Locale::from_browser(None));
        provide_context(ctx);
        listen(move |event| ctx.receive(writers, &event));

        let timeout = set_timeout_with_handle(
            move || {
                if payment.with_untracked(|p| *p == Payment::Waiting) {
                    set_payment.set(Payment::Failed(PortalError::NoMessage));
                }
            },
            wait,
        )
        .ok();
        on_cleanup(move || {
            if let Some(handle) = timeout {
                handle.clear();
            }
        });
        ctx
    }

    fn receive(self, w: Writers, event: &web_sys::MessageEvent) {
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
            w.ignored.update(|n| *n = n.saturating_add(1));
            return;
        };
        // The event's origin is one of the configured ones, so it parses.
        let origin = Origin::parse(&event_origin).ok();
        set_if_changed(self.origin, w.origin, origin);
        let forced = message.fields.non_empty(field::LANG);
        self.want_locale(w, Locale::from_browser(forced));
        set_if_changed(self.theme, w.theme, message.theme);
        set_if_changed(self.fields, w.fields, message.fields);
        let payment = match message.params {
            Ok(params) => Payment::Ready(params),
            Err(e) => Payment::Failed(PortalError::Params(e)),
        };
        set_if_changed(self.payment, w.payment, payment);
    }

    /// Switches to `wanted` now if its texts are here, else once its catalogue has loaded;
    /// if it cannot be loaded, the language stays what it was (English at first).
    fn want_locale(self, w: Writers, wanted: Locale) {
        w.wanted.set_value(wanted);
        if catalogue::is_loaded(wanted) {
            set_if_changed(self.locale, w.locale, wanted);
            set_if_changed(self.locale_ready, w.locale_ready, true);
            return;
        }
        set_if_changed(self.locale_ready, w.locale_ready, false);
        leptos::task::spawn_local(async move {
            let loaded = catalogue::load(wanted).await.is_ok();
            // The owner may be gone (unmounted), and a later wish wins over this one.
            if w.wanted.try_get_value() != Some(wanted) {
                return;
            }
            if loaded {
                set_if_changed(self.locale, w.locale, wanted);
            }
            set_if_changed(self.locale_ready, w.locale_ready, true);
        });
    }

    /// `Some` once the portal's parameters are valid.
    pub fn params(&self) -> Option<PaymentParams> {
        self.payment.with(|p| match p {
            Payment::Ready(params) => Some(params.clone()),
            _ => None,
        })
    }

    /// The text for `key` in the current language (reactive).
    pub fn text(&self, key: Key) -> &'static str {
        self.locale.get().text(key)
    }
}

/// Delivers every `message` event to `handler`: first those `loader.js` buffered, then the
/// rest as they come. Stops on cleanup of the current owner.
fn listen(handler: impl Fn(web_sys::MessageEvent) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let take = js_sys::Reflect::get(&window, &JsValue::from_str("b24payTakeMessages"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(take) = take else {
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
            if let Ok(take) =
                js_sys::Reflect::get(&window, &JsValue::from_str("b24payTakeMessages"))
            {
                if let Ok(take) = take.dyn_into::<js_sys::Function>() {
                    let _ = take.call1(&window, &JsValue::NULL);
                }
            }
        }
    });
    // Kept alive (callable from JS) exactly as long as the owner.
    StoredValue::new_local(closure);
}
