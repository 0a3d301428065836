/** HTTP adapters for /v1/alerts, /v1/alert-rules, /v1/silences and /v1/escalation-policies. No logic here. */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import type { Principal } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { type AlertsQuery, AlertsService, ListAlertsQuerySchema } from './alerts.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1/alerts')
@ReadLimited()
export class AlertsHttpController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  /** `?state=pending|firing|resolved|acknowledged|silenced|inhibited&severity=&label=name=value&limit=` */
  @Get()
  @RequireScope('alerts:read')
  list(@Query(contract(ListAlertsQuerySchema)) query: AlertsQuery) {
    return this.alerts.listAlerts(query);
  }

  @Post('/:fingerprint/ack')
  @HttpCode(200)
  @RequireScope('alerts:write')
  ack(@CurrentPrincipal() principal: Principal, @Param('fingerprint') fp: string, @Body() body: unknown) {
    return this.alerts.ack(principal, fp, body);
  }
}

/** Rules and policies are platform configuration (admin); silences are an operator's tool (alerts:write). */
function crud(path: string, kind: 'rules' | 'silences' | 'policies') {
  const writer = kind === 'silences' ? 'alerts:write' : 'admin';

  @Controller(path)
  @ReadLimited()
  class CrudController {
    constructor(@Inject(AlertsService) readonly alerts: AlertsService) {}

    @Post()
    @HttpCode(201)
    @RequireScope(writer)
    create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
      return this.alerts.create(kind, principal, body);
    }

    @Get()
    @RequireScope('alerts:read')
    list() {
      return this.alerts.list(kind);
    }

    @Get('/:id')
    @RequireScope('alerts:read')
    get(@Param('id') id: string) {
      return this.alerts.get(kind, id);
    }

    /** Replaces the whole definition (same body as create). */
    @Put('/:id')
    @RequireScope(writer)
    replace(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
      return this.alerts.replace(kind, principal, id, body);
    }

    @Delete('/:id')
    @RequireScope(writer)
    remove(@Param('id') id: string) {
      return this.alerts.remove(kind, id);
    }
  }
  return CrudController;
}

export const AlertRulesHttpController = crud('/v1/alert-rules', 'rules');
export const SilencesHttpController = crud('/v1/silences', 'silences');
export const EscalationPoliciesHttpController = crud('/v1/escalation-policies', 'policies');
export const ALERT_CONTROLLERS = [AlertsHttpController, AlertRulesHttpController, SilencesHttpController, EscalationPoliciesHttpController];
