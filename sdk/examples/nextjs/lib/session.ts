/**
 * Replace with your app's authentication, e.g. Auth.js `const session = await auth()`,
 * Clerk `await currentUser()`, or your own cookie session lookup. It must
 * return the user your server has authenticated — never trust ids sent by the browser.
 */
export interface SignedInUser {
  readonly id: string;
  readonly email?: string;
  readonly name?: string;
}

export async function getSignedInUser(_request: Request): Promise<SignedInUser | undefined> {
  throw new Error("lib/session.ts: wire getSignedInUser to your authentication");
}
