/** HTTP adapters for /v1/alerts, /v1/alert-rules, /v1/silences and /v1/escalation-policies. No logic here. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { AlertsService } from './alerts.service';

@Controller('/v1/alerts')
export class AlertsHttpController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  /** `?state=pending|firing|resolved|acknowledged|silenced|inhibited&severity=&label=name=value&limit=` */
  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.alerts.listAlerts(auth, query);
  }

  @Post('/:fingerprint/ack')
  @HttpCode(200)
  ack(@Headers('authorization') auth: string | undefined, @Param('fingerprint') fp: string, @Body() body: unknown) {
    return this.alerts.ack(auth, fp, body);
  }
}

function crud(path: string, kind: 'rules' | 'silences' | 'policies') {
  @Controller(path)
  class CrudController {
    constructor(@Inject(AlertsService) readonly alerts: AlertsService) {}

    @Post()
    @HttpCode(201)
    create(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
      return this.alerts.create(kind, auth, body);
    }

    @Get()
    list(@Headers('authorization') auth: string | undefined) {
      return this.alerts.list(kind, auth);
    }

    @Get('/:id')
    get(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
      return this.alerts.get(kind, auth, id);
    }

    /** Replaces the whole definition (same body as create). */
    @Put('/:id')
    replace(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Body() body: unknown) {
      return this.alerts.replace(kind, auth, id, body);
    }

    @Delete('/:id')
    remove(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
      return this.alerts.remove(kind, auth, id);
    }
  }
  return CrudController;
}

export const AlertRulesHttpController = crud('/v1/alert-rules', 'rules');
export const SilencesHttpController = crud('/v1/silences', 'silences');
export const EscalationPoliciesHttpController = crud('/v1/escalation-policies', 'policies');
export const ALERT_CONTROLLERS = [AlertsHttpController, AlertRulesHttpController, SilencesHttpController, EscalationPoliciesHttpController];
