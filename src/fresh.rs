//! [`Fresh`]: a view that is built anew, never patched. Wrapped around what a reactive closure
//! returns, it makes the closure replace its old content with a newly built one when it runs
//! again, instead of diffing the new view into the old DOM.
//!
//! Why: Leptos compiles, for every view a reactive closure can return, the code to rebuild it
//! in place (attribute by attribute, child by child), and every customer downloads that code.
//! The widget's switching views — the payment's screens, the challenge in place of the card
//! fields, a notice, a field's error — are replaced wholesale anyway (a new screen has new
//! content), so that code bought nothing; without it the wasm is measurably smaller (see
//! BENCHMARKS.md). What is lost is only what a wholesale replacement loses by nature: DOM
//! state inside the replaced subtree, which these subtrees do not keep (their inputs' values
//! live in signals).

use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

/// `view` rebuilt from scratch whenever its reactive parent runs again.
pub struct Fresh<V>(pub V);

impl<V: Render> Render for Fresh<V> {
    type State = V::State;

    fn build(self) -> V::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut V::State) {
        let mut new = self.0.build();
        state.insert_before_this(&mut new);
        state.unmount();
        *state = new;
    }
}

impl<V: AddAnyAttr> AddAnyAttr for Fresh<V> {
    type Output<A: Attribute> = Fresh<V::Output<A>>;

    fn add_any_attr<A: Attribute>(self, attr: A) -> Self::Output<A>
    where
        Self::Output<A>: RenderHtml,
    {
        Fresh(self.0.add_any_attr(attr))
    }
}

// Server rendering and hydration, which this client-side app never does: only to satisfy
// `IntoView`, delegated to the wrapped view.
impl<V: RenderHtml> RenderHtml for Fresh<V> {
    type AsyncOutput = Fresh<V::AsyncOutput>;
    type Owned = Fresh<V::Owned>;

    const MIN_LENGTH: usize = V::MIN_LENGTH;

    fn dry_resolve(&mut self) {
        self.0.dry_resolve();
    }

    async fn resolve(self) -> Self::AsyncOutput {
        Fresh(self.0.resolve().await)
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0
            .to_html_with_buf(buf, position, escape, mark_branches, extra_attrs);
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        self.0.hydrate::<FROM_SERVER>(cursor, position)
    }

    fn into_owned(self) -> Self::Owned {
        Fresh(self.0.into_owned())
    }
}
