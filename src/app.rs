//! The widget's root: theme and size plumbing around the current view of the payment.
//! The card form (issue 5) replaces the placeholder summary inside the same root.

use crate::config::WidgetConfig;
use crate::i18n::Key;
use crate::money::format_money;
use crate::portal::message::{field, PaymentParams};
use crate::portal::{Payment, PortalContext, PortalError};
use crate::resize::use_auto_resize;
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
        ctx.payment.with(|p| match p {
            Payment::Waiting => "waiting",
            Payment::Ready(_) => "ready",
            Payment::Failed(_) => "error",
        })
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
            {move || match ctx.payment.get() {
                Payment::Waiting => view! { <SummarySkeleton/> }.into_any(),
                Payment::Ready(params) => view! { <Summary params/> }.into_any(),
                Payment::Failed(error) => view! { <ErrorState error/> }.into_any(),
            }}
        </div>
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

/// Amount and payment number: the placeholder until the card form exists.
#[component]
fn Summary(params: PaymentParams) -> impl IntoView {
    let ctx = expect_context::<PortalContext>();
    let amount = params.amount;
    let payment_id = params.payment_id;
    let number = move || {
        ctx.fields
            .with(|f| f.non_empty(field::PAYMENT_NUMBER).map(str::to_owned))
            .unwrap_or_else(|| payment_id.to_string())
    };
    view! {
        <section class="b24pay-summary">
            <p class="b24pay-label">{move || ctx.text(Key::AmountToPay)}</p>
            <p class="b24pay-amount">{move || format_money(amount, ctx.locale.get())}</p>
            <p class="b24pay-number">
                {move || ctx.locale.get().format(Key::PaymentNumber, &[("number", &number())])}
            </p>
        </section>
    }
}

/// Same boxes as [`Summary`], so the iframe keeps its size when the data arrives. (No
/// `style` attributes anywhere: the companion's CSP, `style-src 'self'`, blocks them.)
#[component]
fn SummarySkeleton() -> impl IntoView {
    let ctx = expect_context::<PortalContext>();
    view! {
        <section
            class="b24pay-summary b24pay-skeleton"
            aria-busy="true"
            aria-label=move || ctx.text(Key::Loading)
        >
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
    }
}

#[component]
fn ErrorState(error: PortalError) -> impl IntoView {
    let ctx = expect_context::<PortalContext>();
    let reload = move |_| {
        // The portal posts its message again on every load of the iframe.
        let _ = window().location().reload();
    };
    view! {
        <div class="b24pay-error" role="alert" data-error-code=error.code()>
            <p class="b24pay-error-title">{move || ctx.text(Key::ErrorTitle)}</p>
            <p>{move || ctx.text(error.message_key())}</p>
            <p class="b24pay-muted">
                {move || ctx.locale.get().format(Key::ErrorCode, &[("code", error.code())])}
            </p>
            <button type="button" class="b24pay-button" on:click=reload>
                {move || ctx.text(Key::Reload)}
            </button>
        </div>
    }
}
