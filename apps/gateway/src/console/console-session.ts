/**
 * What the console may show a key, decided here with the same rules the routes' guards apply
 * (scopeGrants through `allows`, the platform admin through `isAdmin`), so the page never
 * offers a view whose requests would be refused.
 */
import type { Principal, Scope } from '@sb/contracts';
import { allows, isAdmin } from '../auth/authenticator';

export interface ConsoleSession {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
  /** The platform admin: every tenant. */
  platformAdmin: boolean;
  can: {
    /** Charts, fleet, incidents (fleet:read). */
    fleet: boolean;
    alerts: boolean;
    /** Acknowledge alerts, create and expire silences (alerts:write). */
    alertsWrite: boolean;
    /** Search tasks and open them (tasks:read or tasks:submit). */
    tasks: boolean;
    submit: boolean;
    /** The live task feed (GET /v1/tasks/events: tasks:read). */
    liveTasks: boolean;
    deadLetters: boolean;
    redrive: boolean;
    /** Every tenant (platform admin). */
    tenants: boolean;
    /** API keys: every tenant's (admin) or its own tenant's (tenant:admin). */
    keys: boolean;
    /** Usage of its own tenant, or of any (admin). */
    usage: boolean;
  };
}

export function consoleSession(p: Principal): ConsoleSession {
  const any = (...scopes: Scope[]) => scopes.some((s) => allows(p, s));
  return {
    keyId: p.keyId,
    tenantId: p.tenantId,
    scopes: [...p.scopes],
    platformAdmin: isAdmin(p),
    can: {
      fleet: any('fleet:read'),
      alerts: any('alerts:read'),
      alertsWrite: any('alerts:write'),
      tasks: any('tasks:read', 'tasks:submit'),
      submit: any('tasks:submit'),
      liveTasks: any('tasks:read'),
      deadLetters: any('tasks:read', 'tasks:submit'),
      redrive: any('tasks:submit'),
      tenants: any('admin'),
      keys: any('admin', 'tenant:admin'),
      usage: any('admin', 'tenant:admin'),
    },
  };
}
