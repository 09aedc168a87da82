/**
 * API paths that do not take a user JWT because they authenticate otherwise (webhook
 * signatures, runner callback signatures). The one list the auth middleware consults.
 */
const PUBLIC_API_ROUTES: ReadonlyArray<{ method: string; pattern: RegExp }> = [];

export function isPublicApiPath(method: string, path: string): boolean {
  return PUBLIC_API_ROUTES.some((r) => r.method === method && r.pattern.test(path));
}
