/**
 * Account lifecycle on the pages: change of email, its confirmation, deletion behind a typed confirmation,
 * the admin's user creation, and the confirmation step every destructive admin button goes through.
 * pages.js hands in its helpers (the JSON client and the live-region messages).
 */

/** Forms of the lifecycle pages, keyed by `data-form`. */
export function lifecycleForms({ api, say, sayProblem }) {
  return {
    'change-email': async (form, f) => {
      const res = await api('POST', '/v1/email/change', { new_email: f.new_email });
      if (!res.ok) return sayProblem(form, res);
      form.reset();
      return say(form, `We sent a confirmation link to ${f.new_email.trim()}. The change happens when you open it.`, 'ok');
    },
    'confirm-email': async (form, f) => {
      const res = await api('POST', '/v1/email/change/confirm', { token: f.token });
      if (!res.ok) return sayProblem(form, res);
      form.querySelector('button')?.setAttribute('hidden', '');
      return say(form, 'Your email address is changed. Sign in with the new address from now on.', 'ok', { href: '/account', label: 'Go to your account' });
    },
    'delete-account': async (form, f) => {
      // typed confirmation: the account's own address, so a stray click or autofill never deletes it
      if (f.confirm.trim().toLowerCase() !== form.dataset.confirmValue) return say(form, 'Type your email address exactly to confirm.');
      const res = await api('DELETE', '/v1/me');
      if (!res.ok) return sayProblem(form, res);
      // the answer cleared the cookies and every session is revoked: nothing left to sign out
      return location.assign('/sign-in');
    },
    'admin-create-user': async (form, f) => {
      const res = await api('POST', '/v1/admin/users', { email: f.email, admin: f.admin === 'true' });
      if (!res.ok) return sayProblem(form, res);
      form.reset();
      return say(form, `Created ${res.body.email}; a link to choose a password is on its way.`, 'ok', { href: `/admin?user=${encodeURIComponent(res.body.id)}`, label: 'Open' });
    },
  };
}

/** The admin API call of a button: POST …/{id}/{action}, or DELETE …/{id}. */
async function runAdminAction(button, { api, sayProblem }) {
  const root = button.closest('section');
  const base = `/v1/admin/users/${encodeURIComponent(button.dataset.userId)}`;
  const res = button.dataset.method === 'DELETE' ? await api('DELETE', base) : await api('POST', `${base}/${button.dataset.adminAction}`);
  if (!res.ok) return sayProblem(root, res);
  return button.dataset.method === 'DELETE' ? location.assign('/admin') : location.reload();
}

/**
 * A destructive admin button first shows its question with Confirm and Cancel next to it; only Confirm
 * calls the API. Returns the promise of the call, or undefined when only the question was shown.
 */
export function adminClick(button, helpers) {
  if (!button.dataset.confirm) return helpers.busy(button, () => runAdminAction(button, helpers));
  const open = button.parentElement.parentElement.querySelector('.confirm-step');
  open?.remove();
  const step = document.createElement('div');
  step.className = 'confirm-step';
  step.setAttribute('role', 'alertdialog');
  step.setAttribute('aria-label', 'Confirm');
  const question = Object.assign(document.createElement('p'), { textContent: button.dataset.confirm });
  const yes = Object.assign(document.createElement('button'), { type: 'button', className: 'danger', textContent: `Yes, ${button.textContent.trim().toLowerCase()}` });
  yes.dataset.confirmYes = '';
  const no = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary', textContent: 'Cancel' });
  yes.addEventListener('click', () => void helpers.busy(yes, () => runAdminAction(button, helpers)));
  no.addEventListener('click', () => {
    step.remove();
    button.focus();
  });
  step.append(question, yes, no);
  button.parentElement.after(step);
  no.focus();
  return undefined;
}
