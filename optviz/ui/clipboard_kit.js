// Shared by optviz's components with a Copy button (optviz/ui/components.py puts this before their
// own JS).
//
// Copying: the Clipboard API where the page is a secure context (https or localhost); a class
// served over plain http on the hall's network is not one, so there the shown text is selected and
// copied with execCommand("copy"), which browsers still allow for a click.

const COPIED_MS = 1500;

// Copy `text`, shown in `element` (a textarea or any element holding the text); true if copied.
async function copyText(text, element) {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // Denied (a permission policy, an iframe without clipboard-write): fall back below.
    }
  }
  if (element.select) {
    element.focus();
    element.select();
  } else {
    const range = document.createRange();
    range.selectNodeContents(element);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  try {
    return document.execCommand("copy");
  } catch (error) {
    return false;
  }
}

// Make `button` copy what `read()` returns, shown in `element`, and say whether it did.
function copyButton(button, element, read) {
  button.onclick = async () => {
    const copied = await copyText(read(), element);
    button.textContent = copied ? "Copied" : "Select and copy";
    setTimeout(() => (button.textContent = "Copy"), COPIED_MS);
  };
}
