/** The mails of email verification and account reclaim (rendered like every notice, core/notices/templates.ts). */
import { render, safeLink, type RenderedMail } from './templates.js';

const PRODUCT = 'Tessera';

export function verifyEmailMail(p: { link: string; expiresInHours: number }): RenderedMail {
  return render(`Confirm your email address for ${PRODUCT}`, [
    `Someone (hopefully you) created a ${PRODUCT} account with this email address. Confirm that it is yours:`,
    { link: safeLink(p.link), label: 'Confirm my email address' },
    `The link works once and expires in ${p.expiresInHours} hours. If you did not create an account, ignore this message: nothing happens without the click.`,
  ]);
}

/** Sign-up with an address that has an account: the owner is told, and nobody else learns the address is taken. */
export function accountExistsMail(p: { signInLink: string; resetLink: string }): RenderedMail {
  return render(`You already have a ${PRODUCT} account`, [
    `Someone (hopefully you) tried to create a ${PRODUCT} account with this email address, but it already has one. No new account was created.`,
    { link: safeLink(p.signInLink), label: 'Sign in' },
    'Forgot your password? Choose a new one:',
    { link: safeLink(p.resetLink), label: 'Reset your password' },
    'If this was not you, you can ignore this message: your account has not changed.',
  ]);
}

/** A reset of a never-verified account: whatever was set up before the owner proved the mailbox is gone. */
export function accountReclaimedMail(p: { removed: string[]; signInLink: string }): RenderedMail {
  const removed = p.removed.length > 0 ? p.removed.map((r) => `- ${r}`).join('\n') : '- nothing besides the sessions';
  return render(`Your ${PRODUCT} account is yours again`, [
    `Your password was reset and your email address is now confirmed. The account had never been confirmed before, so anything set up on it until now may not have been you. We removed:\n${removed}\n- every signed-in session`,
    'Sign in with your new password, then set up two-factor authentication again if you want it.',
    { link: safeLink(p.signInLink), label: 'Sign in' },
  ]);
}
