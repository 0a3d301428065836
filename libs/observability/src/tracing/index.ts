export * from './traceparent';
export * from './service-tracer';
export * from './span-stream.exporter';
export * from './span-record';
export * from './trace-analysis';
