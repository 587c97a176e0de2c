/** The verdict of the authorization rules: allowed, or rejected with a sentence naming the rule that failed. */
export type AuthResult = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export const ALLOWED: AuthResult = Object.freeze({ allowed: true });

export function rejected(reason: string): AuthResult {
  return { allowed: false, reason };
}
