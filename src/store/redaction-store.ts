/**
 * Redactions in the graph: the event each stored m.room.redaction names, recorded with the batch that stores it
 * and open until it can be decided; the open ones a room can decide now; and the decisions (the label Redacted
 * on a target, (redaction)-[:REDACTS]->(target)). Which redaction applies is decided in src/core/redaction-rules.ts.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { loadCypher } from './cypher-files';
import { type Graph, readTx, rows, writeTx } from './neo4j';

const QUERIES = loadCypher(['redactions-record', 'redactions-open-load', 'redactions-apply']);

/** A stored m.room.redaction and the event it names. */
export interface RedactionRecord {
  readonly event_id: string;
  /** The redaction as stored (only a redaction stored with exactly this PDU is recorded). */
  readonly pdu: string;
  readonly redacts: string;
}

/** An open redaction whose verdict is known and whose target is stored. */
export interface OpenRedaction {
  readonly redaction_id: string;
  readonly sender: string;
  readonly auth_events: readonly string[];
  readonly state_before: string;
  readonly rejected: boolean;
  readonly target_id: string;
  readonly target_room_id: string;
  readonly target_sender: string;
  readonly target_type: string;
}

export interface RedactionDecision {
  readonly redaction_id: string;
  readonly target_id: string;
  /** 'applied', or why not. */
  readonly outcome: string;
}

/** Records redactions inside the caller's transaction (the one storing them). */
export async function recordRedactions(tx: ManagedTransaction, redactions: readonly RedactionRecord[]): Promise<void> {
  if (redactions.length > 0) await tx.run(QUERIES['redactions-record'], { redactions });
}

export class RedactionStore {
  constructor(private readonly graph: Graph) {}

  /** The room's open redactions that can be decided now. */
  open(roomId: string): Promise<OpenRedaction[]> {
    return readTx(this.graph, (tx) => rows<OpenRedaction & Record<string, unknown>>(tx, QUERIES['redactions-open-load'], { room_id: roomId }));
  }

  /** Closes the decided redactions, applying those whose outcome is 'applied'. */
  async close(decisions: readonly RedactionDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await writeTx(this.graph, async (tx) => void (await tx.run(QUERIES['redactions-apply'], { decisions })));
  }
}
