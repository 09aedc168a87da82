/**
 * API paths that do not take a user JWT because they authenticate otherwise (webhook
 * signatures, runner callback signatures). The one list the auth middleware consults.
 */
const PUBLIC_API_ROUTES: ReadonlyArray<{ method: string; pattern: RegExp }> = [
  // Webhook ingest: X-Platform-* or Standard Webhooks signature (SPEC §6.4, §6.10 week11 alias).
  { method: "POST", pattern: /^\/v1\/program\/(?:week11\/)?webhook\/ingest$/ },
  // Runner reports: Standard Webhooks signature with RUNNER_SHARED_SECRETS (src/builds/runner.routes.ts).
  { method: "POST", pattern: /^\/v1\/runner\/callback$/ },
  // Development token for the dashboard (src/dev): 404 unless ENVIRONMENT=development.
  { method: "GET", pattern: /^\/v1\/dev\/token$/ },
  { method: "POST", pattern: /^\/v1\/dev\/token$/ },
];

export function isPublicApiPath(method: string, path: string): boolean {
  return PUBLIC_API_ROUTES.some((r) => r.method === method && r.pattern.test(path));
}
