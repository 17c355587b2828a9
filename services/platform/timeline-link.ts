// The one format of a task timeline link, as the detector puts it in every alert (`link`) and
// the query API serves it (GET /v1/tasks/:task, services/api/routes/tasks.ts):
//
//   <base>/v1/tasks/<task id, URL-encoded>?tenant=<tenant, URL-encoded>
//
// <base> is DETECTOR_LINK_BASE_URL, the API's public URL (e.g. https://trail.example.com). The
// tenant is a check, not a choice: the API answers only the tenant of the key presented, and a
// link naming another tenant is the same 404 as a task that does not exist.

export function timelineLink(baseUrl: string, tenant: string, taskId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/tasks/${encodeURIComponent(taskId)}?tenant=${encodeURIComponent(tenant)}`;
}
