//! The widget's one live region: errors and outcomes read out to screen-reader users.
//!
//! A live region only speaks about changes made after it is in the page, so [`LiveRegion`]
//! belongs in the app shell, rendered at mount before any message; everything else speaks
//! through [`Announcer::say`].

use leptos::prelude::*;

/// Sets the text of the live region. `Copy`; found with [`use_announcer`].
#[derive(Clone, Copy)]
pub struct Announcer(RwSignal<String>);

impl Announcer {
    /// Creates the announcer and makes it available to every component below.
    pub fn provide() -> Announcer {
        let announcer = Announcer(RwSignal::new(String::new()));
        provide_context(announcer);
        announcer
    }

    /// Reads `text` out. The same text twice in a row is read again: screen readers ignore
    /// a region whose text did not change, so the repeat differs by a trailing no-break space.
    pub fn say(&self, text: String) {
        self.0.update(|current| {
            let repeat = *current == text;
            *current = text;
            if repeat {
                current.push('\u{a0}');
            }
        });
    }

    pub fn text(&self) -> String {
        self.0.get()
    }
}

/// The announcer of the app shell; a silent one when there is none (a component mounted alone).
pub fn use_announcer() -> Announcer {
    use_context::<Announcer>().unwrap_or_else(|| Announcer(RwSignal::new(String::new())))
}

/// The live region itself: visually hidden, polite (it waits for the screen reader to finish
/// what it is reading), atomic (the whole message is read, not the changed part).
#[component]
pub fn LiveRegion(announcer: Announcer) -> impl IntoView {
    view! {
        <div id="b24-live" class="b24-sr" role="status" aria-live="polite" aria-atomic="true">
            {move || announcer.text()}
        </div>
    }
}
