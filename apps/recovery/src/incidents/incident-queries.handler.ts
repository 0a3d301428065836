/** Reads of the incident log for the incidents API (the gateway's `GET /v1/incidents` and `/v1/incidents/:id`). */
import { type Incident, type IncidentList, type IncidentListRequest, NotFoundError } from '@sb/contracts';
import type { IncidentLog } from './incident-log';

export class IncidentQueriesHandler {
  constructor(private readonly log: Pick<IncidentLog, 'list' | 'get'>) {}

  async list(q: IncidentListRequest): Promise<IncidentList> {
    return { incidents: await this.log.list(q) };
  }

  async get(id: string): Promise<Incident> {
    const inc = await this.log.get(id);
    if (!inc) throw new NotFoundError(`Incident ${id} not found`);
    return inc;
  }
}
