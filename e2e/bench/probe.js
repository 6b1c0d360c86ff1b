// Benchmark probe, loaded first in the measured page (the widget's index.html copy, or the
// baseline): marks `b24-painted` once the first frame after the page reached
// data-state="ready" (content and theme applied) has been painted. requestAnimationFrame runs
// just before that frame's paint; a task queued from it runs after the paint.
(function () {
  var seen = false;
  function check() {
    if (seen || !document.querySelector('[data-state="ready"]')) return;
    seen = true;
    performance.mark("b24-ready");
    requestAnimationFrame(function () {
      setTimeout(function () { performance.mark("b24-painted"); }, 0);
    });
  }
  new MutationObserver(check).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"]
  });
})();
