/**
 * Routes of the conversations, repositories, optimizer, schedules, budgets, workers and
 * settings pages, spread into `routes` (routes.ts): each page its own lazily loaded chunk.
 */
import { lazy } from 'react';
import type { RouteDef } from './routes.ts';

export const otherPages: readonly RouteDef[] = [
  {
    path: '/conversations',
    page: lazy(() => import('./conversations/conversations-page.tsx')),
    nav: { label: 'Conversations', section: '/conversations' },
  },
  {
    path: '/conversations/:id',
    page: lazy(() => import('./conversations/conversation-page.tsx')),
  },
  {
    path: '/repos',
    page: lazy(() => import('./repos/repos-page.tsx')),
    nav: { label: 'Repositories', section: '/repos' },
  },
  { path: '/repos/:id', page: lazy(() => import('./repos/repo-page.tsx')) },
  {
    path: '/optimizer',
    page: lazy(() => import('./optimizer/optimizer-page.tsx')),
    nav: { label: 'Optimizer', section: '/optimizer' },
  },
  {
    path: '/optimizer/proposals/:id',
    page: lazy(() => import('./optimizer/proposal-page.tsx')),
  },
  {
    path: '/schedules',
    page: lazy(() => import('./schedules/schedules-page.tsx')),
    nav: { label: 'Schedules', section: '/schedules' },
  },
  {
    path: '/budgets',
    page: lazy(() => import('./budgets/budgets-page.tsx')),
    nav: { label: 'Budgets', section: '/budgets' },
  },
  {
    path: '/workers',
    page: lazy(() => import('./workers/workers-page.tsx')),
    nav: { label: 'Workers & queues', section: '/workers' },
  },
  {
    path: '/settings',
    page: lazy(() => import('./settings/settings-page.tsx')),
    nav: { label: 'Settings', section: '/settings' },
  },
];
