import { launch } from '@sb/observability';
import { agentWorkerModule } from './agent-worker.module';
import { loadWorkerConfig } from './config';

launch('agent-worker', loadWorkerConfig, agentWorkerModule);
