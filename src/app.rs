//! The widget's root: theme and size plumbing, the one live region, and the current view of
//! the payment — a skeleton of the form while the portal's message is on its way, the payment
//! UI once it has come, or an explanation when the portal's data cannot be used.

use crate::announce::{Announcer, LiveRegion};
use crate::config::WidgetConfig;
use crate::form::{skeleton::form_skeleton, Checkout, CheckoutView};
use crate::i18n::Key;
use crate::portal::message::{Fields, PaymentParams};
use crate::portal::{Payment, PortalContext, PortalError};
use crate::resize::use_auto_resize;
use b24pay_protocol::fields as field;
use leptos::either::EitherOf3;
use leptos::html::Div;
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
    let root = NodeRef::<Div>::new();
    use_auto_resize(root);
    Effect::new(move |_| {
        ctx.theme
            .with(|t| mirror_color_scheme(t.document_color_scheme()));
    });
    // Through the CSSOM, not a `style` attribute: the companion's CSP (`style-src 'self'`)
    // blocks inline style attributes, but not `style.cssText`.
    Effect::new(move |_| {
        let css = ctx.theme.with(|t| t.css_vars());
        if let Some(el) = root.get() {
            web_sys::HtmlElement::style(&el).set_css_text(&css);
        }
    });

    let state = move || {
        if !ctx.locale_ready.get() {
            return "waiting";
        }
        ctx.payment.with(|p| match p {
            Payment::Waiting => "waiting",
            Payment::Ready(_) => "ready",
            Payment::Failed(_) => "error",
        })
    };
    let view = move || {
        // The language comes with the portal's message (its `lang` field), like the payment.
        let locale = ctx.locale.get();
        provide_context(locale);
        match ctx.payment.get() {
            Payment::Waiting => EitherOf3::A(skeleton(ctx)),
            // Its words are on their way (see `i18n::catalogue`).
            _ if !ctx.locale_ready.get() => EitherOf3::A(skeleton(ctx)),
            Payment::Ready(params) => {
                let checkout = ctx.fields.with(|f| checkout(ctx, params, f));
                EitherOf3::B(view! { <CheckoutView checkout /> })
            }
            Payment::Failed(error) => EitherOf3::C(error_state(ctx, announcer, error)),
        }
    };
    view! {
        <div
            class="b24pay"
            node_ref=root
            lang=move || ctx.locale.get().tag()
            data-scheme=move || ctx.theme.with(|t| t.scheme_name())
            data-state=state
            data-ignored-messages=move || ctx.ignored_messages.get().to_string()
        >
            // In the page from the start, before anything it will announce.
            <LiveRegion announcer />
            {view}
        </div>
    }
}

/// The payment UI's input from the portal's message and the deployment.
fn checkout(ctx: PortalContext, params: PaymentParams, fields: &Fields) -> Checkout {
    Checkout {
        api_base: ctx.config.with_value(|c| c.api_base.clone()),
        payment_id: params.payment_id.to_string(),
        paysystem_id: params.paysystem_id.to_string(),
        amount: params.amount,
        return_url: params.return_url,
        holder: fields
            .non_empty(field::HOLDER)
            .is_some_and(|v| v.eq_ignore_ascii_case("y")),
        invoice_id: fields.non_empty(field::INVOICE_ID).map(str::to_owned),
        payment_number: fields
            .non_empty(field::PAYMENT_NUMBER)
            .map_or_else(|| params.payment_id.to_string(), str::to_owned),
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

/// The summary's and the card form's boxes at their final sizes, so the iframe does not jump
/// when the message arrives. (No `style` attributes anywhere: the companion's CSP,
/// `style-src 'self'`, blocks them.)
fn skeleton(ctx: PortalContext) -> impl IntoView {
    view! {
        <div class="b24pay-skeleton" aria-busy="true">
            <span class="b24-sr">{ctx.text(Key::Loading)}</span>
            <section class="b24pay-summary" aria-hidden="true">
                <p class="b24pay-label">
                    <span class="b24pay-bar b24pay-bar-label"></span>
                    "\u{a0}"
                </p>
                <p class="b24pay-amount">
                    <span class="b24pay-bar b24pay-bar-amount"></span>
                    "\u{a0}"
                </p>
                <p class="b24pay-number">
                    <span class="b24pay-bar b24pay-bar-number"></span>
                    "\u{a0}"
                </p>
            </section>
            {form_skeleton()}
        </div>
    }
}

/// The portal's data cannot be used: what happened, the code for the store's support, and a
/// reload (the portal posts its data again on every load of the frame). Read out through the
/// live region, like every other message.
fn error_state(ctx: PortalContext, announcer: Announcer, error: PortalError) -> impl IntoView {
    let title = ctx.text(Key::ErrorTitle);
    let message = ctx.text(error.message_key());
    announcer.say(format!("{title}. {message}"));
    let reload = move |_| {
        let _ = window().location().reload();
    };
    view! {
        <div class="b24pay-error" data-error-code=error.code()>
            <p class="b24pay-error-title">{title}</p>
            <p>{message}</p>
            <p class="b24pay-muted">
                {ctx.locale.get_untracked().format(Key::ErrorCode, &[("code", error.code())])}
            </p>
            <button type="button" class="b24pay-button" on:click=reload>
                {ctx.text(Key::Reload)}
            </button>
        </div>
    }
}
