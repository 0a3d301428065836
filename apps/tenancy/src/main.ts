import { launch } from '@sb/observability';
import { loadTenancyConfig } from './config';
import { tenancyModule } from './tenancy.module';

launch('tenancy', loadTenancyConfig, tenancyModule);
