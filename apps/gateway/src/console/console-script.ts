/**
 * The ops console's script (served as /console/console.js): the client parts in one strict
 * function, so nothing leaks into the page's globals but what uPlot itself defines. Renders
 * whatever the API returns with textContent only: alert annotations, task input and labels are
 * data, never markup. No eval, no inline handlers, nothing the CSP would refuse.
 */
import { ADMIN_JS } from './client/admin';
import { APP_JS } from './client/app';
import { CHARTS_JS } from './client/charts';
import { CORE_JS } from './client/core';
import { FLEET_JS } from './client/fleet';
import { OPS_JS } from './client/ops';
import { OVERVIEW_JS } from './client/overview';
import { TASK_DETAIL_JS } from './client/task-detail';
import { TASKS_JS } from './client/tasks';

export const CONSOLE_JS = ['(function () {', "'use strict';", CORE_JS, CHARTS_JS, OVERVIEW_JS, FLEET_JS, TASKS_JS, TASK_DETAIL_JS, OPS_JS, ADMIN_JS, APP_JS, '})();', ''].join('\n');
