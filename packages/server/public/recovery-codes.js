/**
 * The authenticator app's enrolment outcome on /account and the recovery codes that come with it (and with
 * regenerated ones): the page turns to "On" at once, and the codes are offered for copying and download.
 * pages.js hands in `say` (the live-region messages).
 */
const $ = (sel, root = document) => root.querySelector(sel);

const codesOf = () => [...document.querySelectorAll('[data-recovery-codes] [data-codes] li')].map((li) => li.textContent.trim());

export function showRecoveryCodes(codes) {
  const box = $('[data-recovery-codes]');
  $('[data-codes]', box).replaceChildren(...codes.map((c) => Object.assign(document.createElement('li'), { textContent: c })));
  $('[data-status]', box).replaceChildren();
  const left = $('[data-recovery-left]');
  if (left) left.textContent = String(codes.length);
  box.hidden = false;
  box.focus();
}

/** Verification succeeded: swap the "Off" block for the server-rendered "On" one (its <template>). */
export function totpTurnedOn() {
  const block = $('[data-totp="off"]');
  const on = block && $('template[data-totp-on]', block);
  if (!on) return;
  block.replaceChildren(on.content.cloneNode(true));
  block.dataset.totp = 'on';
}

/** When the clipboard API is refused (permissions, an older browser): select the codes for Ctrl+C. */
function selectCodes(list) {
  const range = document.createRange();
  range.selectNodeContents(list);
  const sel = getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  return copied;
}

function codesFile(codes) {
  const email = $('[data-email]')?.textContent.trim();
  return [
    `Tessera recovery codes${email ? ` for ${email}` : ''}`,
    `Saved ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Each code works once.`,
    '',
    ...codes,
    '',
  ].join('\n');
}

/** Button handlers, keyed by `data-action`. */
export function recoveryActions({ say }) {
  return {
    'copy-codes': async (b) => {
      const box = b.closest('[data-recovery-codes]');
      try {
        await navigator.clipboard.writeText(codesOf().join('\n'));
        return say(box, 'Copied the recovery codes.', 'ok');
      } catch {
        return selectCodes($('[data-codes]', box))
          ? say(box, 'Copied the recovery codes.', 'ok')
          : say(box, 'The codes are selected: press Ctrl+C (⌘C on a Mac) to copy them.', 'ok');
      }
    },
    'download-codes': async (b) => {
      // a blob: URL of our own page; an <a download> saves it without navigating (no CSP source needed)
      const url = URL.createObjectURL(new Blob([codesFile(codesOf())], { type: 'text/plain' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: 'tessera-recovery-codes.txt' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      return say(b.closest('[data-recovery-codes]'), 'Downloaded tessera-recovery-codes.txt.', 'ok');
    },
  };
}
