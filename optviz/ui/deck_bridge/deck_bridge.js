// The embedded view's side of a slide deck, mounted on every page opened with ?embed=true.
//
// 1. The keys a presenter's clicker sends reach the deck, even after a click inside the view
//    (a click moves the keyboard focus into the iframe, where the deck never sees a key):
//    - PageDown and PageUp always go to the deck (caught before the view's own handlers);
//    - Escape goes to the deck unless the view used it (closing a menu);
//    - → ← and Space go to the deck when nothing in the view has the focus; while the race chart
//      (or a slider) has it, they stay with the view.
//    A key sent to the deck also hands the keyboard focus back to it, and so does leaving the
//    slide: reveal.js unloads a lazy view whose slide is left, and a focus left in its emptied
//    iframe would swallow the clicker's next key.
//    Each key is posted to the page around twice: as reveal.js's postMessage API asks (the JSON
//    string {"method":"next"}; reveal.js listens by default) and as one generic message for any
//    other deck tool, {type: "optviz:key", key: "PageDown"}.
// 2. A Plotly animation (the convolution pages) pauses while its slide is hidden: reveal.js posts
//    "slide:stop" into an iframe whose slide is left. (The race chart watches its own slide.)
//
// The listeners are installed once per page: the component's function runs on every page run.

const REVEAL_METHODS = {
  PageDown: "next",
  PageUp: "prev",
  ArrowRight: "next",
  " ": "next",
  ArrowLeft: "prev",
  Escape: "toggleOverview",
};
const ALWAYS = new Set(["PageDown", "PageUp"]);
const WHEN_UNFOCUSED = new Set(["ArrowRight", "ArrowLeft", " "]);

function forward(key) {
  window.parent.postMessage(JSON.stringify({ method: REVEAL_METHODS[key] }), "*");
  window.parent.postMessage({ type: "optviz:key", key }, "*");
  handOverFocus();
}

function handOverFocus() {
  if (!document.hasFocus()) return;
  document.activeElement?.blur?.();
  window.parent.focus(); // allowed across origins: the deck's own key handling takes over
}

function nothingFocused(event) {
  const target = event.target;
  return target === document.body || target === document.documentElement || target === document;
}

function onKeyCaptured(event) {
  if (!ALWAYS.has(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  forward(event.key);
}

function onKeyUnhandled(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "Escape") {
    forward(event.key);
  } else if (WHEN_UNFOCUSED.has(event.key) && nothingFocused(event)) {
    event.preventDefault();
    forward(event.key);
  }
}

function pausePlotlyAnimations() {
  for (const button of document.querySelectorAll(".js-plotly-plot .updatemenu-button")) {
    if (button.textContent.includes("Pause")) {
      button.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  }
}

function onMessage(event) {
  if (event.source !== window.parent || event.data !== "slide:stop") return;
  pausePlotlyAnimations();
  handOverFocus();
}

export default function () {
  if (window.parent === window || window.optvizDeckBridge) return;
  window.optvizDeckBridge = true;
  window.addEventListener("keydown", onKeyCaptured, true);
  window.addEventListener("keydown", onKeyUnhandled);
  window.addEventListener("message", onMessage);
}
