import type { Jobline } from '@jobline/core';
import type { Logger } from 'pino';
import type { ProducerConfig } from './config.js';
import type { ProducerMetrics } from './metrics.js';

/** What routes share: the library instance, config, logger and metrics. */
export interface ProducerState {
  jl: Jobline;
  config: ProducerConfig;
  logger: Logger;
  metrics: ProducerMetrics;
}
