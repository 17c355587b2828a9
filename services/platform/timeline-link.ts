// The one format of a task timeline link, as the detector puts it in every alert (`link`) and
// the query API serves it (GET /v1/tasks/:task, services/api/routes/tasks.ts):
//
//   <base>/v1/tasks/<task id, URL-encoded>?tenant=<tenant, URL-encoded>
//
// <base> is DETECTOR_LINK_BASE_URL, the API's public URL (e.g. https://trail.example.com). The
// tenant is a check, not a choice: the API answers only the tenant of the key presented, and a
// link naming another tenant is the same 404 as a task that does not exist.
//
// The same task in the web console (services/api/console/, its hash route #/tasks/<task>) is
//
//   <base>/console/#/tasks/<task id, URL-encoded>?tenant=<tenant, URL-encoded>
//
// where `?tenant=` means what it means on the API (the console passes it on as that check). A
// browser following the alert link is sent there (routes/tasks.ts); the demo prints it.

const trimmed = (baseUrl: string) => baseUrl.replace(/\/+$/, '');

export function timelineLink(baseUrl: string, tenant: string, taskId: string): string {
  return `${trimmed(baseUrl)}/v1/tasks/${encodeURIComponent(taskId)}?tenant=${encodeURIComponent(tenant)}`;
}

/** The console's page of a task; with an empty base, a path of the API's own origin. */
export function consoleTaskLink(baseUrl: string, tenant: string | undefined, taskId: string): string {
  const check = tenant === undefined ? '' : `?tenant=${encodeURIComponent(tenant)}`;
  return `${trimmed(baseUrl)}/console/#/tasks/${encodeURIComponent(taskId)}${check}`;
}
