/**
 * Test ids of the dashboard (`data-testid`), one constant shared by web/ and the browser
 * tests in test/dashboard/, so a renamed id breaks the build, not a test at run time.
 * Plain data: the dashboard imports it at run time (it must never pull in zod).
 */
import { inboxTestIds } from './test-ids-inbox.js';
import { pageTestIds } from './test-ids-pages.js';

export const testIds = {
  ...pageTestIds,
  ...inboxTestIds,
  app: {
    nav: 'app-nav',
    navLink: 'app-nav-link',
    main: 'app-main',
    themeSelect: 'app-theme',
    logout: 'app-logout',
    streamState: 'app-stream-state',
    /** The live feed's state in the shell (data-state, data-polling). */
    liveState: 'app-live-state',
    notifyToggle: 'app-notify',
  },
  login: {
    form: 'login-form',
    token: 'login-token',
    submit: 'login-submit',
    error: 'login-error',
  },
  runs: {
    list: 'runs-list',
    row: 'runs-row',
    status: 'runs-status',
    filterStatus: 'runs-filter-status',
    filterAgent: 'runs-filter-agent',
    filterRepo: 'runs-filter-repo',
    filterConversation: 'runs-filter-conversation',
    filterSchedule: 'runs-filter-schedule',
    filterSince: 'runs-filter-since',
    empty: 'runs-empty',
    newRun: 'runs-new',
    newCommand: 'runs-new-command',
    newSubmit: 'runs-new-submit',
    more: 'runs-more',
  },
  run: {
    page: 'run-page',
    status: 'run-status',
    tab: 'run-tab',
    pause: 'run-pause',
    resume: 'run-resume',
    interrupt: 'run-interrupt',
    cancel: 'run-cancel',
    confirm: 'run-confirm',
    confirmYes: 'run-confirm-yes',
    followUp: 'run-follow-up',
    followUpSend: 'run-follow-up-send',
    error: 'run-error',
  },
  log: {
    view: 'log-view',
    row: 'log-row',
    wrap: 'log-wrap',
    search: 'log-search',
    searchResult: 'log-search-result',
    copy: 'log-copy',
    download: 'log-download',
    jumpToLive: 'log-jump-live',
    count: 'log-count',
  },
  events: {
    list: 'events-list',
    row: 'events-row',
    toggle: 'events-toggle',
    payload: 'events-payload',
  },
  diff: {
    view: 'diff-view',
    file: 'diff-file',
    fileToggle: 'diff-file-toggle',
    empty: 'diff-empty',
  },
} as const;

export type TestIds = typeof testIds;
