// The share box: the link to this view and the HTML that embeds it, each with a Copy button.
// Values are set as text (input.value), never as markup: a link carries text a student typed.
// Copying: the Clipboard API where the page is a secure context (https or localhost); a class
// served over plain http on the hall's network is not one, so there the field's selection is
// copied with execCommand("copy"), which browsers still allow for a click.

const COPIED_MS = 1500;
const MAX_HEIGHT_PX = 120;  // about six lines; a longer link scrolls

async function copyText(field) {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(field.value);
      return true;
    } catch (error) {
      // Denied (a permission policy, an iframe without clipboard-write): fall back below.
    }
  }
  field.focus();
  field.select();
  try {
    return document.execCommand("copy");
  } catch (error) {
    return false;
  }
}

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
    button.onclick = async () => {
      const copied = await copyText(field);
      button.textContent = copied ? "Copied" : "Select and copy";
      setTimeout(() => (button.textContent = "Copy"), COPIED_MS);
    };
  }
  for (const field of [link, iframe]) {
    field.onfocus = () => field.select();  // one click selects it all, for Ctrl+C
  }
}
