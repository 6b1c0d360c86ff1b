//! The widget's root: theme and size plumbing, the one live region, and the current view of
//! the payment — nothing while the portal's message is on its way (the page's static
//! skeleton, `boot.rs`, stands in), the payment UI once it has come, or an explanation when
//! the portal's data cannot be used or has not come.

use crate::announce::{Announcer, LiveRegion};
use crate::boot;
use crate::config::WidgetConfig;
use crate::form::outcome::{outcome, Exit};
use crate::form::{Checkout, CheckoutView};
use crate::fresh::Fresh;
use crate::i18n::Key;
use crate::portal::message::{Fields, PaymentParams};
use crate::portal::{PortalContext, PortalError, PortalState};
use crate::resize::use_auto_resize;
use b24pay_protocol::fields as field;
use b24pay_protocol::money::digits;
use leptos::either::EitherOf3;
use leptos::html::Main;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The widget as deployed: configuration from the page's `<meta>` tags.
#[component]
pub fn App() -> impl IntoView {
    view! { <Widget config=WidgetConfig::from_document()/> }
}

/// The widget with explicit configuration (tests, other hosts).
#[component]
pub fn Widget(config: WidgetConfig) -> impl IntoView {
    let ctx = PortalContext::provide(config);
    let announcer = Announcer::provide();
    let root = NodeRef::<Main>::new();
    use_auto_resize(ctx, root);
    reflect_on_page(ctx, root);
    let view = move || {
        // The language comes with the portal's message (its `lang` field), like the payment.
        let locale = ctx.locale();
        provide_context(locale);
        let heading = move || view! { <h1 class="b24-sr">{locale.text(Key::PageTitle)}</h1> };
        let preview = move || {
            ctx.is_preview()
                .then(|| view! { <p class="b24-preview">{locale.text(Key::PreviewNotice)}</p> })
        };
        Fresh(match ctx.state() {
            // Its words are on their way (see `i18n::catalogue`).
            _ if !ctx.locale_ready() => EitherOf3::A(heading()),
            PortalState::Waiting => EitherOf3::A(heading()),
            PortalState::Ready(params) => {
                let checkout = ctx.with_fields(|f| checkout(ctx, params, f));
                EitherOf3::B(view! { {heading()} {preview()} <CheckoutView checkout /> })
            }
            PortalState::Failed(error) => EitherOf3::C(view! {
                {heading()} {preview()} {error_state(ctx, error)}
            }),
        })
    };
    view! {
        <main class="b24-app" node_ref=root data-state="waiting">
            // In the page from the start, before anything it will announce.
            <LiveRegion announcer />
            {view}
        </main>
    }
}

/// What the root element and the document show of the widget's state, kept up to date by
/// one effect (one reactive binding per attribute would each cost the wasm its own code):
/// the root's `data-state`, `data-scheme`, `data-ignored-messages` and `lang`, the store's look
/// as custom properties (through the CSSOM: the companion's CSP, `style-src 'self'`, blocks
/// `style` attributes but not `style.cssText`), the document's language, title and colour
/// scheme; and the page's static skeleton goes as soon as there is something to show, in the
/// same frame as that content.
fn reflect_on_page(ctx: PortalContext, root: NodeRef<Main>) {
    Effect::new(move |_| {
        let state = match ctx.state() {
            _ if !ctx.locale_ready() => "waiting",
            PortalState::Waiting => "waiting",
            PortalState::Ready(_) => "ready",
            PortalState::Failed(_) => "error",
        };
        let locale = ctx.locale();
        let (css, scheme) = ctx.with_theme(|t| {
            mirror_color_scheme(t.document_color_scheme());
            (t.css_vars(), t.scheme_name())
        });
        let document = document();
        document.set_title(locale.text(Key::PageTitle));
        if let Some(html) = document.document_element() {
            let _ = html.set_attribute("lang", locale.tag());
        }
        if state != "waiting" {
            boot::remove();
        }
        let Some(el) = root.get() else { return };
        let ignored = digits(ctx.ignored_messages().into());
        for (name, value) in [
            ("data-state", state),
            ("data-scheme", scheme),
            ("lang", locale.tag()),
            ("data-ignored-messages", &ignored),
        ] {
            let _ = el.set_attribute(name, value);
        }
        web_sys::HtmlElement::style(&el).set_css_text(&css);
    });
}

/// The payment UI's input from the portal's message and the deployment.
fn checkout(ctx: PortalContext, params: PaymentParams, fields: &Fields) -> Checkout {
    Checkout {
        api_base: ctx.config().with_value(|c| c.api_base.clone()),
        payment_id: digits(params.payment_id),
        paysystem_id: digits(params.paysystem_id),
        amount: params.amount,
        return_url: params.return_url,
        holder: fields
            .non_empty(field::HOLDER)
            .is_some_and(|v| v.eq_ignore_ascii_case("y")),
        invoice_id: fields.non_empty(field::INVOICE_ID).map(str::to_owned),
        payment_number: fields
            .non_empty(field::PAYMENT_NUMBER)
            .map_or_else(|| digits(params.payment_id), str::to_owned),
        test_mode: fields
            .non_empty(field::MODE)
            .is_some_and(|v| v.eq_ignore_ascii_case("test")),
    }
}

/// Sets the page's `color-scheme` to the store's, so the browser keeps the iframe transparent
/// over the store's page; back to the stylesheet's (`light dark`) without one.
fn mirror_color_scheme(scheme: Option<&str>) {
    let Some(html) = document()
        .document_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let style = html.style();
    let _ = match scheme {
        Some(value) => style.set_property("color-scheme", value),
        None => style.remove_property("color-scheme").map(|_| ()),
    };
}

/// The portal's data cannot be used, or has not come: what happened, the code for the store's
/// support, and a reload (the portal posts its data again on every load of the frame), as a
/// final screen read out through the live region like every other.
fn error_state(ctx: PortalContext, error: PortalError) -> impl IntoView {
    let locale = untrack(|| ctx.locale());
    let (title, text) = error.keys();
    outcome(
        None,
        locale.text(title).to_owned(),
        Some(locale.text(text).to_owned()),
        Some(error.code()),
        Exit::Reload,
    )
}
