import { launch } from '@sb/observability';
import { loadAlertingConfig } from './config';
import { alertingModule } from './alerting.module';

launch('alerting', loadAlertingConfig, alertingModule);
