// The share box: the link to this view and the HTML that embeds it, each with a Copy button.
// Values are set as text (input.value), never as markup: a link carries text a student typed.

const MAX_HEIGHT_PX = 120;  // about six lines; a longer link scrolls

export default function ({ parentElement, data }) {
  const [link, iframe] = parentElement.querySelectorAll(".value");
  const box = parentElement.querySelector(".optviz-share");
  link.value = data.link;
  iframe.value = data.iframe;
  // Each field as tall as its text (the link wraps), again whenever the box's width changes: a
  // sidebar that was collapsed when the box was drawn (a phone) has no width to measure yet.
  const fit = () => {
    for (const field of [link, iframe]) {
      field.style.height = "auto";
      field.style.height = `${Math.min(field.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
    }
  };
  fit();
  if (!box.resizeObserver) {
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
