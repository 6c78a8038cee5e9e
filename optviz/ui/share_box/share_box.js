// The share box: the link to this view and the HTML that embeds it, each with a Copy button.
// Values are set as text (input.value), never as markup: a link carries text a student typed.

// Whether the browser sizes a text field to its text itself (CSS `field-sizing: content`, with the
// stylesheet's max-height): then nothing here measures the page.
const SIZED_BY_CSS = CSS.supports("field-sizing", "content");

export default function ({ parentElement, data }) {
  const [link, iframe] = parentElement.querySelectorAll(".value");
  const box = parentElement.querySelector(".optviz-share");
  link.value = data.link;
  iframe.value = data.iframe;
  // Each field as tall as its text (the link wraps; the stylesheet's max-height caps it), again
  // whenever the box's width changes: a sidebar that was collapsed when the box was drawn (a phone)
  // has no width to measure yet. Where the browser does it (SIZED_BY_CSS), it does it within its
  // own layout; measuring here would lay the page out once more on every change of the link.
  const fit = () => {
    for (const field of [link, iframe]) {
      field.style.height = "auto";
      field.style.height = `${field.scrollHeight + 2}px`;
    }
  };
  if (!SIZED_BY_CSS) fit();
  if (!SIZED_BY_CSS && !box.resizeObserver) {
    let width = box.clientWidth;
    box.resizeObserver = new ResizeObserver(() => {
      // Only a new width matters (fit itself changes the height), and fitting in the next frame,
      // not inside the observer's callback, never makes it report again in the same frame.
      if (box.clientWidth !== width) {
        width = box.clientWidth;
        requestAnimationFrame(fit);
      }
    });
    box.resizeObserver.observe(box);
  }
  for (const button of parentElement.querySelectorAll(".copy")) {
    const field = button.previousElementSibling;
    copyButton(button, field, () => field.value);  // clipboard_kit.js
  }
  for (const field of [link, iframe]) {
    field.onfocus = () => field.select();  // one click selects it all, for Ctrl+C
  }
}
