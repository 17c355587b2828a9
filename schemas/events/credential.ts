import { z } from 'zod';
import { Id, ShortText, Timestamp } from '../common.js';
import { Adjusted } from './adjustment.js';

export const CredentialIssued = z.strictObject({
  credential_id: Id,
  /** e.g. `oauth_token`, `aws_sts`, `api_key`, `github_app`. */
  kind: z.string().min(1).max(64),
  /** Provider scopes/permissions the credential carries. */
  scopes: z.array(ShortText).max(128).default([]),
  /** Task the credential was issued for; defaults to the event's task. */
  issued_for_task: Id.optional(),
  issuer: ShortText.optional(),
  expires_at: Timestamp,
  adjusted: Adjusted.optional(),
});

export const CredentialRevoked = z.strictObject({
  credential_id: Id,
  reason: ShortText.optional(),
  adjusted: Adjusted.optional(),
});
