//! One browser walking the widget through its states on the store page, shooting and
//! measuring each.

use super::{set_width, CURRENCY, SETTLE, SUM, UI};
use b24pay_e2e::browser::Browser;
use b24pay_e2e::cards;
use b24pay_e2e::stack::Stack;
use b24pay_e2e::{say, wait};
use fantoccini::Locator;
use serde_json::{json, Value};
use std::cell::Cell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Whether the widget has settled, evaluated in its frame: the portal sized the frame to the
/// content (no scrollbars), and no finite animation or transition is running.
const SETTLED: &str = "
const r = document.querySelector('.b24-app');
if (!r) return null;
const d = document.documentElement;
const h = r.getBoundingClientRect().height;
const sized = Math.abs(innerHeight - h) <= 1 && innerWidth === d.clientWidth
    && innerHeight === d.clientHeight && d.scrollHeight <= d.clientHeight
    && d.scrollWidth <= d.clientWidth;
const moving = document.getAnimations().some(a => a.playState === 'running'
    && a.effect && a.effect.getTiming().iterations !== Infinity);
return sized && !moving;";

/// What the shot's report line says about the widget, evaluated in its frame.
const MEASURE: &str = "
const r = document.querySelector('.b24-app');
const d = document.documentElement;
const pay = document.querySelector('form.b24-form button[type=submit]');
const flagged = [];
for (const e of r.querySelectorAll('*')) {
  const b = e.getBoundingClientRect();
  if (!b.width || e.classList.contains('b24-sr')) continue;
  if (b.right > d.clientWidth + 0.5 || b.left < -0.5) flagged.push([e, 'outside the frame']);
  else if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
    flagged.push([e, e.tagName === 'INPUT' ? 'clips its text' : 'overflows its box']);
}
// Only the innermost culprits: an ancestor overflows because its descendant does.
const over = flagged
  .filter(([e]) => !flagged.some(([o]) => o !== e && e.contains(o)))
  .map(([e, what]) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className.trim()
          ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' ' + what);
if (innerWidth !== d.clientWidth || innerHeight !== d.clientHeight)
  over.push('SCROLLBARS in the frame');
return {frame: innerWidth + 'x' + innerHeight, content: Math.round(r.getBoundingClientRect().height),
        scroll: d.scrollWidth + 'x' + d.scrollHeight, lang: r.getAttribute('lang'),
        scheme: r.dataset.scheme, pay: pay ? pay.innerText.trim() : null,
        focus: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null,
        over};";

pub(super) struct Shooter {
    pub stack: Stack,
    pub browser: Browser,
    pub out: PathBuf,
    pub report: String,
}

impl Shooter {
    /// Opens a new payment's store page and waits for the card form; leaves the driver in the
    /// widget's frame.
    async fn open(&self, theme: &str, lang: &str) {
        let id = self.stack.order(SUM, CURRENCY);
        self.browser.goto(&self.stack.pay_page(id, theme)).await;
        self.browser.enter_widget().await;
        self.browser
            .wait_js(
                "the card form",
                UI,
                "const r = document.querySelector('.b24-app');
                 return !!(r && r.dataset.state === 'ready' && document.getElementById('b24-number'));",
            )
            .await;
        let want = lang.to_string();
        let spoken = wait::try_until(Duration::from_secs(5), || {
            let want = want.clone();
            async move {
                let seen = self
                    .browser
                    .eval(
                        "const r = document.querySelector('.b24-app');
                         return [r.getAttribute('lang'), /[\\u0400-\\u04ff]/.test(r.innerText)];",
                        vec![],
                    )
                    .await;
                let cyrillic = seen[1].as_bool().unwrap_or(false);
                if seen[0] == json!(want) && cyrillic == (want == "ru") {
                    Ok(())
                } else {
                    Err(seen)
                }
            }
        })
        .await;
        if let Err(seen) = spoken {
            say(format!(
                "shots: the widget does not speak {lang} (lang, cyrillic): {seen}"
            ));
        }
    }

    /// Waits (in the frame) until the state stops moving, three polls in a row; `false` when it
    /// did not within [`SETTLE`].
    async fn settle(&self) -> bool {
        let calm = Cell::new(0);
        wait::try_until(SETTLE, || async {
            let ok = self
                .browser
                .client
                .execute(SETTLED, vec![])
                .await
                .is_ok_and(|v| v == json!(true));
            calm.set(if ok { calm.get() + 1 } else { 0 });
            if calm.get() >= 3 {
                Ok(())
            } else {
                Err(())
            }
        })
        .await
        .is_ok()
    }

    /// Settles, measures, and writes `{name}.png` (the store's payment card); back in the frame
    /// afterwards.
    async fn shoot(&mut self, name: &str, page_too: bool) {
        let settled = self.settle().await;
        let m = self.browser.eval(MEASURE, vec![]).await;
        self.browser.leave_widget().await;
        let page = self
            .browser
            .eval(
                "const f = document.getElementById('rest-payment-frame');
                 return {page: innerWidth + '/' + document.documentElement.scrollWidth,
                         frame_style: f.style.height};",
                vec![],
            )
            .await;
        let card = self
            .browser
            .client
            .find(Locator::Css("section.card.payment"))
            .await
            .expect("the store's payment card");
        let png = card.screenshot().await.expect("element screenshot");
        let path = self.out.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write PNG");
        if page_too {
            let png = self.browser.screenshot().await;
            std::fs::write(self.out.join(format!("{name}-page.png")), png).expect("write PNG");
        }
        let mut line = format!(
            "{name}: frame {} (content {}, scroll {}, portal height {}), page width/scroll {}, \
             lang {}, scheme {}, focus {}, pay {:?}",
            m["frame"].as_str().unwrap_or("?"),
            m["content"],
            m["scroll"].as_str().unwrap_or("?"),
            page["frame_style"].as_str().unwrap_or("?"),
            page["page"].as_str().unwrap_or("?"),
            m["lang"],
            m["scheme"],
            m["focus"],
            m["pay"].as_str().unwrap_or("-"),
        );
        if !settled {
            line.push_str(" | NOT SETTLED (frame not sized to content, or still animating)");
        }
        if let Some(over) = m["over"].as_array().filter(|o| !o.is_empty()) {
            let _ = write!(line, " | OVERFLOW: {}", Value::Array(over.clone()));
        }
        say(format!("shots: {}", path.display()));
        self.report.push_str(&line);
        self.report.push('\n');
        self.browser.enter_widget().await;
    }

    async fn fill(&self, fields: &[(&str, &str)]) {
        for (id, text) in fields {
            self.browser
                .client
                .find(Locator::Id(id))
                .await
                .unwrap_or_else(|e| panic!("field #{id}: {e}"))
                .send_keys(text)
                .await
                .expect("typing");
        }
    }

    async fn click(&self, css: &str) {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn pay(&self) {
        self.click("form.b24-form button[type=submit]").await;
    }

    /// Every state for one language, theme and width.
    pub(super) async fn combination(&mut self, lang: &str, theme: &str, width: u32) {
        let prefix = format!("{lang}-{theme}-{width}");
        set_width(&self.browser, width).await;

        // Ready, then inline errors, then a decline, on one payment.
        self.open(theme, lang).await;
        self.shoot(&format!("{prefix}-ready"), true).await;
        self.pay().await;
        self.browser
            .wait_js(
                "the inline field errors",
                UI,
                "return document.querySelectorAll('.b24-field-error').length > 0;",
            )
            .await;
        self.shoot(&format!("{prefix}-errors"), false).await;
        self.fill(&[
            ("b24-number", cards::DECLINED),
            ("b24-expiry", "1234"),
            ("b24-cvc", "123"),
        ])
        .await;
        self.pay().await;
        self.browser
            .wait_js(
                "the decline notice",
                UI,
                "const n = document.querySelector('.b24-notice');
                 return !!(n && n.innerText.trim());",
            )
            .await;
        self.shoot(&format!("{prefix}-declined"), false).await;

        // The challenge step.
        self.open(theme, lang).await;
        self.fill(&[
            ("b24-number", cards::CHALLENGE),
            ("b24-expiry", "1234"),
            ("b24-cvc", "123"),
        ])
        .await;
        self.pay().await;
        wait::until("the challenge code field", UI, || async {
            self.browser.client.find(Locator::Id("b24-code")).await
        })
        .await;
        self.shoot(&format!("{prefix}-challenge"), false).await;

        // Typing (focus ring, brand), then success.
        self.open(theme, lang).await;
        self.fill(&[("b24-number", cards::APPROVED)]).await;
        self.shoot(&format!("{prefix}-typing"), false).await;
        self.fill(&[("b24-expiry", "1234"), ("b24-cvc", "123")])
            .await;
        self.pay().await;
        self.browser
            .wait_js(
                "the success screen",
                UI,
                "const o = document.querySelector('.b24-outcome');
                 return !!(o && o.querySelector('.b24-ok'));",
            )
            .await;
        self.shoot(&format!("{prefix}-success"), false).await;
    }
}
