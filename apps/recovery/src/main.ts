import { launch } from '@sb/observability';
import { loadRecoveryConfig } from './config';
import { recoveryModule } from './recovery.module';

launch('recovery', loadRecoveryConfig, recoveryModule);
