export * from './ids';
export * from './transitions';
export * from './task-store';
export * from './task-infrastructure';
export * from './task-events';
export * from './tasks.module';
