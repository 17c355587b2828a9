import type { Alert } from '../../schemas/alert.js';
import type { PageStatus } from './page.js';

// Grouping for one destination. The first alert of a dedup key opens a group and waits
// `waitMs` for siblings; then one page goes out carrying their count. For `intervalMs` after
// that, further alerts with the key are held and sent as one follow-up page with their count
// (nothing is sent if none arrived), and the group closes after a quiet interval.
//
// Why a short wait rather than "page the first at once, summarise the rest": a detector
// raises sibling alerts within milliseconds of each other (one batch of events), so a wait of
// ~100 ms folds a burst into one page at a bounded, small latency cost, and responders get
// one page with the full count instead of a page plus an immediate "9 more".

export interface Item<T> {
  alert: Alert;
  ticket: T;
}

export interface Batch<T> {
  dedup_key: string;
  status: PageStatus;
  items: Item<T>[];
  /** 1 for the first page of a group, then 2, 3… for follow-ups. */
  sequence: number;
  /** Alerts in the group so far, this batch included. */
  total: number;
  first_seen: string;
}

interface Group<T> {
  status: PageStatus;
  items: Item<T>[];
  sequence: number;
  total: number;
  first_seen: string;
  timer: NodeJS.Timeout;
}

export class Grouper<T> {
  private readonly groups = new Map<string, Group<T>>();

  constructor(
    private readonly opts: { waitMs: number; intervalMs: number },
    private readonly emit: (batch: Batch<T>) => void,
  ) {}

  /** Alerts held (not yet handed to emit). */
  get held(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.items.length;
    return n;
  }

  /** `status` is the page's (an acknowledge or resolve follow-up groups apart from the page). */
  add(alert: Alert, ticket: T, status: PageStatus = alert.status): void {
    const key = `${status}\u0000${alert.dedup_key}`;
    const g = this.groups.get(key);
    if (g) {
      g.items.push({ alert, ticket });
      return;
    }
    const group: Group<T> = {
      status,
      items: [{ alert, ticket }],
      sequence: 0,
      total: 0,
      first_seen: alert.created_at,
      timer: setTimeout(() => this.fire(key), this.opts.waitMs),
    };
    this.groups.set(key, group);
  }

  private fire(key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    if (g.items.length === 0) {
      // A quiet interval: the group is over; the next alert with this key pages afresh.
      this.groups.delete(key);
      return;
    }
    const items = g.items;
    g.items = [];
    g.sequence += 1;
    g.total += items.length;
    const first = items[0]!.alert;
    this.emit({
      dedup_key: first.dedup_key,
      status: g.status,
      items,
      sequence: g.sequence,
      total: g.total,
      first_seen: g.first_seen,
    });
    if (this.opts.intervalMs > 0) g.timer = setTimeout(() => this.fire(key), this.opts.intervalMs);
    else this.groups.delete(key);
  }

  /** Emit everything held now (shutdown: finish in-flight work instead of waiting out windows). */
  flush(): void {
    for (const [key, g] of [...this.groups]) {
      clearTimeout(g.timer);
      this.fire(key);
      const after = this.groups.get(key);
      if (after) clearTimeout(after.timer);
      this.groups.delete(key);
    }
  }
}
