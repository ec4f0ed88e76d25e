/** The append-only security log. */

export interface EventRow {
  id: number;
  userId: string | null;
  sessionId: string | null;
  type: string;
  ip: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}
export type NewEvent = Omit<EventRow, 'id'>;

export interface EventStore {
  /** returns the new event's id; ids increase */
  appendEvent(ev: NewEvent): Promise<number>;
  /** newest first; `beforeId` pages backwards */
  listEvents(q: { userId?: string; type?: string; limit: number; beforeId?: number }): Promise<EventRow[]>;
}
