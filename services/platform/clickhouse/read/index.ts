// The read layer: every query of the record, one repository per table (see run.ts).
export { AgentActivityRepository, type AgentMinuteRow } from './agent-activity.js';
export { AlertStatusRepository, type AlertStatusView } from './alert-status.js';
export { type AlertCursor, type AlertFilter, AlertsRepository, type StoredAlertRow } from './alerts.js';
export { DeliveriesRepository, type DeliveryAttemptRow, type DeliverySummaryRow } from './deliveries.js';
export { rowToEventInput, STORED_EVENT_COLUMNS } from './event-rebuild.js';
export { type EventCursor, type EventFilter, EventsRepository, type TouchedRow } from './events.js';
export { globToClickHouseRegex } from './glob-regex.js';
export { RiskSignalsRepository } from './risk-signals.js';
export { ALL_TENANTS, type ReadContext, type TenantArg } from './run.js';

import { AgentActivityRepository } from './agent-activity.js';
import { AlertStatusRepository } from './alert-status.js';
import { AlertsRepository } from './alerts.js';
import { DeliveriesRepository } from './deliveries.js';
import { EventsRepository } from './events.js';
import { RiskSignalsRepository } from './risk-signals.js';
import type { ReadContext } from './run.js';

export interface ReadLayer {
  events: EventsRepository;
  alerts: AlertsRepository;
  alertStatus: AlertStatusRepository;
  deliveries: DeliveriesRepository;
  activity: AgentActivityRepository;
  riskSignals: RiskSignalsRepository;
}

export function createReadLayer(ctx: ReadContext): ReadLayer {
  return {
    events: new EventsRepository(ctx),
    alerts: new AlertsRepository(ctx),
    alertStatus: new AlertStatusRepository(ctx),
    deliveries: new DeliveriesRepository(ctx),
    activity: new AgentActivityRepository(ctx),
    riskSignals: new RiskSignalsRepository(ctx),
  };
}
