import type { Severity } from '../../../schemas/alert.js';
import type { AlertStatusRecord } from '../../../schemas/alert-status.js';
import type { Page } from '../page.js';

const ICON: Record<Severity, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':information_source:',
};

// Slack caps a section's text at 3000 characters and a message at 50 blocks.
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
// Slack's mrkdwn treats &, < and > as control characters.
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A follow-up's first section: who changed the status, when, and their reason. */
function changeSection(c: AlertStatusRecord): Record<string, unknown> {
  const verb = c.type === 'alert.resolved' ? 'Resolved' : 'Acknowledged';
  const who = `${verb} by \`${esc(c.by.key_id)}\` (${c.by.role}) at ${c.at}`;
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(`*${who}*\n>${esc(c.reason).replace(/\n/g, '\n>')}`, 2900) },
  };
}

/** Incoming-webhook message: `text` is the notification fallback, blocks carry the evidence. */
export function slackBody(page: Page): Record<string, unknown> {
  const a = page.alert;
  const prefix = page.status === 'firing' ? '' : `${page.status.toUpperCase()}: `;
  const countNote = page.count > 1 ? ` (×${page.count})` : '';
  const headline = `${prefix}[${a.severity.toUpperCase()}] ${a.title}${countNote}`;
  const fields = [
    `*Rule*\n\`${esc(a.rule_id)}\``,
    `*Severity*\n${a.severity}`,
    `*Tenant*\n${esc(a.tenant)}`,
    `*Agent*\n${esc(a.agent_id)}`,
    `*Task*\n${esc(a.task_id)}`,
    `*Alerts in group*\n${page.total}`,
  ];
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${ICON[a.severity]} ${headline}`, 150) } },
    ...(page.change ? [changeSection(page.change)] : []),
    { type: 'section', text: { type: 'mrkdwn', text: clip(esc(a.explanation), 2900) } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(`Evidence: ${a.evidence.map((e) => `\`${esc(e)}\``).join(', ')}`, 2900),
        },
      ],
    },
  ];
  if (page.link) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open task timeline' }, url: page.link },
      ],
    });
  }
  return { text: clip(headline, 3000), blocks };
}
