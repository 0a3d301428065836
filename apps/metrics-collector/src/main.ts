import { launch } from '@sb/observability';
import { loadMetricsCollectorConfig } from './config';
import { metricsCollectorModule } from './metrics-collector.module';

launch('metrics-collector', loadMetricsCollectorConfig, metricsCollectorModule);
